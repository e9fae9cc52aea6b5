#!/usr/bin/env python3
"""Golden files for the chat template interpreter (Tests/Fixtures/templates/).

Renders each real chat template in Tests/Fixtures/templates/sources/ with Python jinja2 set up
the way Hugging Face transformers renders `chat_template` (ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, HF's `tojson` filter, `raise_exception` and
`strftime_now` globals) over a fixed set of conversations, and writes one JSON file per
template with the source, each context and the expected output (or the expected error).

It also writes builtin.json: the expected text of the engine's built-in templates, assembled
directly from ms-swift's template layout (prefix, system_prefix, prompt, chat_sep, suffix)
rather than through jinja, so the Swift test checks the built-in jinja sources against
ms-swift's own rules.

Needs only the system python3 (Jinja2 3.1.x). Run: python3 Scripts/goldens/templates.py
"""
import datetime
import json
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures" / "templates"
SOURCES = FIXTURES / "sources"


class RaisedByTemplate(jinja2.exceptions.TemplateError):
    """What raise_exception() raises (HF raises TemplateError; a subclass lets us tell it apart)."""


def raise_exception(message):
    raise RaisedByTemplate(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' chat-template tojson: no HTML escaping, keys in their given order.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.datetime.now().strftime(fmt)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


SYSTEM = "You are a concise assistant."

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city and country, e.g. Paris, France"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["location"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look up a word — in any language (日本語 too)",
            "parameters": {"type": "object", "properties": {"word": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["word"]},
        },
    },
]

TOOL_CALL = {
    "id": "call12345",
    "type": "function",
    "function": {"name": "get_current_weather", "arguments": {"location": "Paris, France", "unit": "celsius"}},
}


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


def system(text):
    return {"role": "system", "content": text}


# (name, messages, add_generation_prompt, uses tools, extra context)
CONVERSATIONS = [
    ("system_user_gen", [system(SYSTEM), user("What is 2+2?")], True, False, {}),
    ("user_only_gen", [user("Hello!")], True, False, {}),
    ("user_only_no_gen", [user("Hello!")], False, False, {}),
    ("multi_turn_gen", [system(SYSTEM), user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")], True, False, {}),
    ("multi_turn_done", [user("Hi"), assistant("Hello!"), user("Bye"), assistant("Goodbye.")], False, False, {}),
    ("unicode", [user("Ünïcödé ✓ 你好 🦙 \"double\" 'single' back\\slash\ttab"), assistant("Grüße — 😀\nnew line"), user("Noch einmal?")], True, False, {}),
    ("whitespace", [system("  padded system  \n"), user("  padded user  \n"), assistant("\n answer with spaces  "), user("\tagain ")], True, False, {}),
    ("tools_call", [system(SYSTEM), user("What's the weather in Paris?"),
                    {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
                    {"role": "tool", "content": "{\"temperature\": 22, \"unit\": \"celsius\"}", "tool_call_id": "call12345", "name": "get_current_weather"}],
     True, True, {}),
    ("tools_no_system", [user("Weather in Oslo?")], True, True, {}),
    ("tools_two_results", [user("Compare Paris and Oslo."),
                           {"role": "assistant", "content": "Let me check.", "tool_calls": [TOOL_CALL, TOOL_CALL]},
                           {"role": "tool", "content": "22", "tool_call_id": "call12345"},
                           {"role": "tool", "content": "7", "tool_call_id": "call12345"}],
     True, True, {}),
    ("think_history", [user("What is 3*3?"), assistant("<think>\nThree threes.\n</think>\n\nNine."),
                       user("And 4*4?"), assistant("<think>\nFour fours.\n</think>\n\nSixteen.")], False, False, {}),
    ("think_gen", [user("What is 3*3?"), assistant("<think>\nThree threes.\n</think>\n\nNine."), user("And 4*4?")], True, False, {}),
    ("think_disabled", [user("Quick: 5+5?")], True, False, {"enable_thinking": False}),
    ("reasoning_field", [user("Why?"), {"role": "assistant", "content": "Because.", "reasoning_content": "Let me think about why."}], False, False, {}),
    ("roles_not_alternating", [user("one"), user("two")], True, False, {}),
    ("date_given", [system(SYSTEM), user("What day is it?")], True, False, {"date_string": "01 Dec 2026"}),
]

TEMPLATES = {
    "smollm2": {"bos": "<|im_start|>", "eos": "<|im_end|>",
                "from": "GGUF metadata key tokenizer.chat_template of HuggingFaceTB/SmolLM2-135M-Instruct (SmolLM2-135M-Instruct.Q4_1.gguf)"},
    "qwen2_5": {"bos": "", "eos": "<|im_end|>",
                "from": "Qwen/Qwen2.5-7B-Instruct chat_template, as quoted in huggingface/huggingface.js packages/jinja/test/e2e.test.js"},
    "qwen3": {"bos": "", "eos": "<|im_end|>",
              "from": "Qwen/Qwen3-0.6B chat_template, as quoted in huggingface/huggingface.js packages/jinja/test/e2e.test.js"},
    "llama3_1": {"bos": "<|begin_of_text|>", "eos": "<|eot_id|>",
                 "from": "meta-llama/Llama-3.1-8B-Instruct chat_template, as quoted in huggingface/huggingface.js packages/jinja/test/e2e.test.js"},
    "llama3_2": {"bos": "<|begin_of_text|>", "eos": "<|eot_id|>",
                 "from": "meta-llama/Llama-3.2-1B-Instruct chat_template, as copied into public GitHub code (the same text in several repositories)"},
    "mistral_v0_3": {"bos": "<s>", "eos": "</s>",
                     "from": "mistralai/Mistral-7B-Instruct-v0.3 chat_template (tool-calling revision), as quoted in huggingface/huggingface.js packages/jinja/test/e2e.test.js"},
    "mistral_nemo": {"bos": "<s>", "eos": "</s>",
                     "from": "mistralai/Mistral-Nemo-Instruct-2407 chat_template, as quoted in huggingface/huggingface.js packages/jinja/test/e2e.test.js"},
    "mixtral_v0_1": {"bos": "<s>", "eos": "</s>",
                     "from": "mistralai/Mixtral-8x7B-Instruct-v0.1 chat_template, as quoted in huggingface/huggingface.js packages/jinja/test/e2e.test.js"},
}


def render_case(template, name, messages, gen, uses_tools, extra, bos, eos):
    context = {"messages": messages, "tools": TOOLS if uses_tools else None, "add_generation_prompt": gen,
               "bos_token": bos, "eos_token": eos}
    context.update(extra)
    case = {"name": name, "context": context}
    try:
        case["expected"] = template.render(**context)
    except RaisedByTemplate as e:
        case["error"] = {"raised": True, "message": str(e)}
    except Exception as e:  # any other jinja2 failure: the Swift side must fail too
        case["error"] = {"raised": False, "message": f"{type(e).__name__}: {e}"}
    return case


def real_templates(env):
    for key, info in TEMPLATES.items():
        source = (SOURCES / f"{key}.jinja").read_text(encoding="utf-8")
        template = env.from_string(source)
        cases = [render_case(template, *conv, info["bos"], info["eos"]) for conv in CONVERSATIONS]
        out = {"template": key, "source_file": f"sources/{key}.jinja", "source_origin": info["from"],
               "source": source, "cases": cases}
        path = FIXTURES / f"{key}.json"
        path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        ok = sum(1 for c in cases if "expected" in c)
        print(f"{path.relative_to(ROOT)}: {ok} rendered, {len(cases) - ok} errors")


# ms-swift template layouts (swift/llm/template/template/{llm,utils,qwen,llama}.py):
# (prefix, system_prefix, prompt, chat_sep, suffix, tool_prompt, default_system); "<EOS>" is the tokenizer's EOS.
CHATML = ("", "<|im_start|>system\n{{SYSTEM}}<|im_end|>\n", "<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n",
          "<|im_end|>\n", "<|im_end|>\n", None)
LLAMA3_ASSISTANT = "<|start_header_id|>assistant<|end_header_id|>\n\n"
SWIFT_LAYOUTS = {
    "default": ("", "{{SYSTEM}}\n\n", "### Human:\n{{QUERY}}\n\n### Assistant:\n", "\n\n", "<EOS>", None, "You are a helpful assistant."),
    "chatml": CHATML + (None,),
    "qwen": CHATML + ("You are a helpful assistant.",),
    "qwen2_5": CHATML + ("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",),
    "llama3": ("<|begin_of_text|>", "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{{SYSTEM}}<|eot_id|>",
               "<|start_header_id|>user<|end_header_id|>\n\n{{QUERY}}<|eot_id|>" + LLAMA3_ASSISTANT, "<|eot_id|>", "<|eot_id|>",
               "<|start_header_id|>tool<|end_header_id|>\n\n{{QUERY}}<|eot_id|>" + LLAMA3_ASSISTANT, None),
}


def swift_assemble(layout, messages, eos):
    prefix, system_prefix, prompt, chat_sep, suffix, tool_prompt, default_system = layout
    if messages and messages[0]["role"] == "system":
        system_text, rest = messages[0]["content"], messages[1:]
    else:
        system_text, rest = default_system, messages
    out = system_prefix.replace("{{SYSTEM}}", system_text) if system_text else prefix
    for i, m in enumerate(rest):
        if m["role"] == "user":
            out += prompt.replace("{{QUERY}}", m["content"])
        elif m["role"] == "tool":
            out += (tool_prompt or prompt).replace("{{QUERY}}", m["content"])
        elif m["role"] == "assistant":
            out += m["content"] + (suffix if i == len(rest) - 1 else chat_sep).replace("<EOS>", eos)
    return out


def builtin_templates():
    conversations = [
        ("system_user", [system(SYSTEM), user("What is 2+2?")]),
        ("user_only", [user("Hello!")]),
        ("empty_system", [system(""), user("Hello!")]),
        ("multi_turn", [system(SYSTEM), user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")]),
        ("finished", [user("Hi"), assistant("Hello!"), user("Bye"), assistant("Goodbye.")]),
        ("unicode", [user("Ünïcödé ✓ 你好 🦙 'single' back\\slash"), assistant("Grüße — 😀")]),
        ("tool_turn", [user("Weather?"), assistant("Calling the tool."), {"role": "tool", "content": "22 C"}]),
    ]
    eos = "</s>"
    out = {"note": "expected text assembled from ms-swift's template layouts, not rendered by jinja", "eos_token": eos,
           "templates": {}}
    for name, layout in SWIFT_LAYOUTS.items():
        out["templates"][name] = [{"name": cname, "messages": msgs, "expected": swift_assemble(layout, msgs, eos)}
                                  for cname, msgs in conversations]
    path = FIXTURES / "builtin.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(SWIFT_LAYOUTS)} templates x {len(conversations)} conversations")


def main():
    print(f"jinja2 {jinja2.__version__}")
    real_templates(make_env())
    builtin_templates()


if __name__ == "__main__":
    main()
