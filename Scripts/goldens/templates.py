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


class GenerationTracker(jinja2.ext.Extension):
    """transformers' AssistantTracker: `{% generation %}...{% endgeneration %}` renders its body
    and records where that text lands in the output (code point offsets)."""
    tags = {"generation"}

    def __init__(self, environment):
        super().__init__(environment)
        self.blocks = None
        self.spans = None

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation", []), [], [], body).set_lineno(lineno)

    def _generation(self, caller):
        rv = caller()
        if self.spans is not None:
            start = len("".join(self.blocks))
            self.spans.append((start, start + len(rv)))
        return rv


def render_tracked(env, template, context):
    tracker = next(e for e in env.extensions.values() if isinstance(e, GenerationTracker))
    tracker.blocks, tracker.spans = [], []
    try:
        for block in template.generate(**context):
            tracker.blocks.append(block)
        return "".join(tracker.blocks), list(tracker.spans)
    finally:
        tracker.blocks, tracker.spans = None, None


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols, GenerationTracker])
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


PIECES = ["Hello", "  leading", "trailing  ", "\n\nnewlines\n", "tab\there", "ünï", "你好世界", "🦙🚀", "'quote'", "\"dq\"",
          "back\\slash", "<tool_response>x</tool_response>", "{{ not a tag }}", "{% nor this %}", "</s>", "<|im_end|>", "a\r\nb", ""]


def random_conversations(seed, count):
    """Seeded conversations mixing roles, think blocks, tool calls and odd content."""
    import random
    rng = random.Random(seed)
    convs = []
    for k in range(count):
        messages = []
        if rng.random() < 0.5:
            messages.append(system(rng.choice(PIECES) + " system"))
        turns = rng.randint(1, 4)
        for turn in range(turns):
            messages.append(user(" ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3)))))
            last = turn == turns - 1
            if last and rng.random() < 0.5:
                break
            r = rng.random()
            if r < 0.25:
                text = "<think>\n" + rng.choice(PIECES) + "\n</think>\n\n" + rng.choice(PIECES)
                messages.append(assistant(text))
            elif r < 0.4:
                call = {"id": "abcdefghi", "type": "function",
                        "function": {"name": "lookup", "arguments": {"word": rng.choice(PIECES), "limit": rng.randint(1, 9)}}}
                messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
                messages.append({"role": "tool", "content": rng.choice(PIECES) or "ok", "tool_call_id": "abcdefghi"})
                messages.append(assistant(rng.choice(PIECES)))
            else:
                messages.append(assistant(" ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3)))))
        gen = messages[-1]["role"] != "assistant" or rng.random() < 0.3
        extra = {}
        if rng.random() < 0.2:
            extra["enable_thinking"] = rng.random() < 0.5
        if rng.random() < 0.3:
            extra["date_string"] = "29 Feb 2028"
        uses_tools = rng.random() < 0.3
        convs.append((f"random_{k}", messages, gen, uses_tools, extra))
    return convs


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
        convs = CONVERSATIONS + random_conversations(seed=sum(map(ord, key)), count=30)
        cases = [render_case(template, *conv, info["bos"], info["eos"]) for conv in convs]
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
    spans = []   # trained text: each reply with the chat_sep / suffix after it
    for i, m in enumerate(rest):
        if m["role"] == "user":
            out += prompt.replace("{{QUERY}}", m["content"])
        elif m["role"] == "tool":
            out += (tool_prompt or prompt).replace("{{QUERY}}", m["content"])
        elif m["role"] == "assistant":
            start = len(out)
            out += m["content"] + (suffix if i == len(rest) - 1 else chat_sep).replace("<EOS>", eos)
            spans.append([start, len(out)])
    return out, spans


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
    out = {"note": "expected text assembled from ms-swift's template layouts, not rendered by jinja; "
                   "spans: [start, end) code point offsets of each assistant reply plus its chat_sep/suffix", "eos_token": eos,
           "templates": {}}
    for name, layout in SWIFT_LAYOUTS.items():
        out["templates"][name] = []
        for cname, msgs in conversations:
            text, spans = swift_assemble(layout, msgs, eos)
            out["templates"][name].append({"name": cname, "messages": msgs, "expected": text, "spans": spans})
    path = FIXTURES / "builtin.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(SWIFT_LAYOUTS)} templates x {len(conversations)} conversations")


# Small templates, one feature each, rendered by the same jinja2 environment (features.json).
FEATURE_CONTEXT = {
    "name": "World", "n": 7, "x": 2.5, "flag": True, "nothing": None, "empty": "", "zero": 0,
    "items": [3, 1, 2], "words": ["b", "A", "c", "a"], "text": "  Hello, World!  ",
    "users": [{"name": "ann", "age": 31, "admin": True}, {"name": "bob", "age": 25, "admin": False},
              {"name": "cy", "age": 40}],
    "d": {"z": 1, "a": {"deep": [10, 20]}, "m": "x"},
    "nested": [[1, 2], [3, 4]],
    "uni": "größe 你好 🦙",
}

FEATURES = [
    ("print", "Hello {{ name }}!"),
    ("comment", "a{# hidden #}b"),
    ("ws_minus_both", "a  {{- ' b ' -}}  c"),
    ("ws_block_minus", "x\n  {%- if true -%}\n  y\n  {%- endif -%}\n  z"),
    ("trim_blocks", "{% if true %}\nline\n{% endif %}\nafter"),
    ("lstrip_blocks", "start\n    {% if true %}\n    inside\n    {% endif %}\nend"),
    ("lstrip_plus", "start\n    {%+ if true %}x{% endif %}"),
    ("plus_keeps_newline", "{% if true +%}\nx{% endif %}"),
    ("raw_block", "{% raw %}{{ not interpreted }} {% if %}{% endraw %}|{%- raw -%}  spaced  {%- endraw %}|"),
    ("loop_changed", "{% for u in users %}{% if loop.changed(u.admin) %}[{{ u.admin }}]{% endif %}{{ u.name }}{% endfor %}"),
    ("comment_lines", "a\n  {# note #}\nb"),
    ("trailing_newline", "text\n"),
    ("crlf", "a\r\nb\r\n{% if true %}\r\nc{% endif %}"),
    ("for_loop_vars", "{% for i in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"),
    ("for_prev_next", "{% for i in items %}[{{ loop.previtem }}|{{ i }}|{{ loop.nextitem }}]{% endfor %}"),
    ("for_else", "{% for i in [] %}x{% else %}empty{% endfor %}"),
    ("for_filter", "{% for u in users if u.age > 30 %}{{ loop.index }}/{{ loop.length }}:{{ u.name }} {% endfor %}"),
    ("for_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
    ("for_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"),
    ("for_dict_keys", "{% for k in d %}{{ k }}{% endfor %}"),
    ("for_string", "{% for c in 'abc' %}{{ c }}-{% endfor %}"),
    ("for_nested_loop", "{% for row in nested %}{% for c in row %}{{ loop.index }}{{ c }}{% endfor %}|{% endfor %}"),
    ("for_reverse_slice", "{% for i in items[::-1] %}{{ i }}{% endfor %}"),
    ("for_scope", "{% set v = 'out' %}{% for i in items %}{% set v = i %}{% endfor %}{{ v }}"),
    ("if_elif_else", "{% for i in [1, 2, 3] %}{% if i == 1 %}one{% elif i == 2 %}two{% else %}many{% endif %} {% endfor %}"),
    ("set_expr", "{% set a = n * 2 + 1 %}{{ a }}"),
    ("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}"),
    ("set_block", "{% set body %}Dear {{ name }},{% endset %}[{{ body }}]"),
    ("set_block_filter", "{% set body | upper %}shout {{ name }}{% endset %}{{ body }}"),
    ("namespace", "{% set ns = namespace(count=0, seen=false) %}{% for i in items %}{% set ns.count = ns.count + i %}{% endfor %}{{ ns.count }} {{ ns.seen }}"),
    ("macro", "{% macro greet(who, punct='!') %}Hi {{ who }}{{ punct }}{% endmacro %}{{ greet(name) }} {{ greet('you', punct='?') }}"),
    ("call_star_args", "{% macro m(a, b, c='C') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{% set fs = [m] %}{{ fs[0](*[1, 2]) }} {{ m(**{'a': 'x', 'b': 'y', 'c': 'z'}) }} {{ m(1, *[2]) }}"),
    ("macro_varargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}"),
    ("call_block", "{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}inside {{ name }}{% endcall %}"),
    ("call_block_sees_loop", "{% macro box(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% for u in users %}{% call box('b') %}{{ u.name }}{{ loop.index }}{% endcall %}{% endfor %}"),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each(items) %}[{{ v }}]{% endcall %}"),
    ("macro_sees_top_level", "{% set top = 'T' %}{% macro m() %}{{ top }}{{ name }}{% endmacro %}{% for i in [1] %}{% set local = 'L' %}{{ m() }}{% endfor %}"),
    ("macro_recursion", "{% macro fact(k) %}{% if k <= 1 %}1{% else %}{{ k * (fact(k - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }}"),
    ("filter_block", "{% filter upper %}quiet {{ name }}{% endfilter %}"),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 10 - 4 - 3 }} {{ 'a' ~ 2 * 3 }}"),
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** -1 }} {{ 4 / 2 }} {{ x * 2 }} {{ n + x }} {{ 7.5 // 2 }}"),
    ("bool_logic", "{{ true and false }} {{ true or false }} {{ not true }} {{ none or 'fallback' }} {{ 0 and 'x' }} {{ 'a' and 'b' }}"),
    ("compare", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ n >= 7 }} {{ n != 7 }} {{ [1, 2] == [1, 2] }} {{ 1 == 1.0 }} {{ true == 1 }}"),
    ("in_ops", "{{ 'ell' in 'hello' }} {{ 2 in items }} {{ 'z' in d }} {{ 'q' not in d }} {{ 5 not in items }}"),
    ("conditional_expr", "{{ 'yes' if flag else 'no' }} {{ 'a' if nothing else 'b' }} [{{ 'only' if false }}]"),
    ("literals", "{{ 'it\\'s' }} {{ \"tab\\tquote\\\"\" }} {{ 1_000 }} {{ 1.5e3 }} {{ [1, 'two', none, true] }} {{ {'k': 'v', 'n': 1} }} {{ (1, 2) }} {{ (1,) }} {{ True }} {{ None }}"),
    ("string_escapes", "{{ 'a\\nb' }}|{{ '\\u00e9\\x41' }}|{{ 'back\\\\slash' }}|{{ 'keep\\q' }}"),
    ("subscripts", "{{ items[0] }} {{ items[-1] }} {{ d['a']['deep'][1] }} {{ d.a.deep.0 }} {{ nested[1][0] }} {{ uni[0] }} {{ uni[-1] }}"),
    ("slices", "{{ items[1:] }} {{ items[:2] }} {{ items[::2] }} {{ items[::-1] }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[-2:] }} {{ items[5:] }} {{ 'abcdef'[::-2] }}"),
    ("undefined", "[{{ missing }}] [{{ d.nope }}] {{ missing is defined }} {{ missing is undefined }} {{ d.z is defined }} {{ missing | default('dflt') }} {{ missing | length }} {{ not missing }}"),
    ("undefined_concat", "{{ missing ~ 'x' }} {{ d.nope | default('none-here') }}"),
    ("default_boolean", "{{ empty | default('e', true) }} {{ empty | d('e') }} {{ zero | default(5, boolean=true) }}"),
    ("tests", "{{ 'a' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ d is mapping }} {{ items is iterable }} {{ 'x' is iterable }} {{ items is sequence }} {{ nothing is none }} {{ flag is boolean }} {{ flag is true }} {{ false is false }}"),
    ("tests_numeric", "{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 2 is equalto 2 }} {{ n is integer }} {{ x is float }} {{ 3 is gt 2 }}"),
    ("is_not", "{{ nothing is not none }} {{ name is not string }} {{ missing is not defined }}"),
    ("filter_trim_case", "[{{ text | trim }}] {{ name | upper }} {{ name | lower }} {{ 'hello wORLD-foo' | title }} {{ 'hELLO' | capitalize }}"),
    ("filter_replace_join", "{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ words | join(', ') }} {{ users | join('/', attribute='name') }}"),
    ("filter_length", "{{ items | length }} {{ uni | length }} {{ d | count }} {{ 'abc' | length }}"),
    ("filter_first_last", "{{ items | first }} {{ items | last }} {{ 'xyz' | first }} {{ words | list }} {{ 'ab' | list }}"),
    ("filter_conversions", "{{ '42' | int + 1 }} {{ '3.5' | float }} {{ 'x' | int }} {{ 3.9 | int }} {{ 5 | float }} {{ 12 | string }} {{ -3 | abs }} {{ nothing | string }}"),
    ("filter_round", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.567 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ 3 | round }}"),
    ("filter_items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}"),
    ("filter_select", "{{ users | selectattr('admin') | map(attribute='name') | join(',') }} {{ users | rejectattr('admin') | map(attribute='name') | list }} {{ users | selectattr('age', 'gt', 30) | map(attribute='name') | list }} {{ users | selectattr('name', 'equalto', 'bob') | list | length }}"),
    ("filter_select_plain", "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ [0, 1, '', 'a'] | select | list }}"),
    ("filter_map", "{{ words | map('upper') | join }} {{ users | map(attribute='age') | sum }} {{ users | map(attribute='admin', default='?') | list }}"),
    ("filter_unique_sort", "{{ words | unique | list }} {{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ items | sort(reverse=true) }} {{ users | sort(attribute='age') | map(attribute='name') | join }}"),
    ("filter_reverse", "{{ items | reverse | list }} {{ 'abc' | reverse }}"),
    ("filter_misc", "{{ '<b>&' | safe }} {{ '<b>\"&\\'' | escape }} {{ 'one two  three' | wordcount }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ d | dictsort }}"),
    ("filter_indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'x\\n\\ny' | indent(width=3, blank=true) }}"),
    ("filter_format", "{{ '%s is %d' | format('n', 7) }} {{ '%s-%s' % ('a', 'b') }}"),
    ("tojson", "{{ d | tojson }} {{ users[0] | tojson }} {{ 'é\"\\n' | tojson }} {{ [1, 2.5, none, true] | tojson }} {{ {} | tojson }} {{ [] | tojson }}"),
    ("tojson_indent", "{{ d | tojson(indent=4) }}\n{{ users[:1] | tojson(indent=2) }}"),
    ("tojson_sort", "{{ {'b': 1, 'a': {'d': 1, 'c': 2}} | tojson(sort_keys=true) }} {{ (1, 2) | tojson }}"),
    ("tojson_options", "{{ uni | tojson(ensure_ascii=true) }} {{ d | tojson(separators=(',', ':')) }} {{ 'ctl\x01\x7f' | tojson }}"),
    ("str_methods", "[{{ text.strip() }}] [{{ text.lstrip() }}] [{{ text.rstrip() }}] {{ 'xxhixx'.strip('x') }} {{ '\\n\\nhi\\n'.lstrip('\\n') }} {{ 'Hi'.upper() }} {{ 'Hi'.lower() }} {{ 'hello world'.title() }} {{ 'they\\'re'.title() }}"),
    ("str_split", "{{ 'a,b,,c'.split(',') }} {{ '  a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ 'a-b-c'.rsplit('-', 1) }}"),
    ("str_predicates", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'hello'.replace('l', 'L') }}"),
    ("str_format", "{{ '{} and {}'.format('a', 'b') }} {{ '{1}{0}'.format('x', 'y') }} {{ '{n}!'.format(n=5) }} {{ '{{literal}}'.format() }} {{ ', '.join(['a', 'b']) }}"),
    ("dict_methods", "{{ d.get('m') }} {{ d.get('nope', 'fallback') }} {{ d.get('nope') }} {{ d.keys() | list }} {{ d.values() | list | length }} {% for k, v in d.items() %}{{ k }}{% endfor %}"),
    ("list_methods", "{{ items.index(2) }} {{ [1, 1, 2].count(1) }}"),
    ("range", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}"),
    ("string_concat_ops", "{{ 'ab' * 3 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ 'n=' ~ n ~ '/' ~ x }}"),
    ("unicode_ops", "{{ uni | upper }} {{ uni | length }} {{ uni[::-1] }} {{ uni.split(' ') }} {{ uni | tojson }}"),
    ("loop_cycle", "{% for i in items %}{{ loop.cycle('a', 'b') }}{% endfor %}"),
    ("inner_loop_var", "{% for r in nested %}{% for c in r %}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}"),
    ("previtem_message_pattern", "{% for u in users %}{% if not loop.first and loop.previtem.admin %}(after admin){% endif %}{{ u.name }} {% endfor %}"),
    ("raise_in_branch", "{% if false %}{{ raise_exception('never') }}{% endif %}fine"),
    ("raise", "before{{ raise_exception('Custom failure: ' ~ n) }}after"),
    ("none_print", "{{ none }} {{ nothing }} {{ [none] }}"),
    ("float_print", "{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-7 }} {{ 100.0 / 3 }} {{ 2.0 ** 0.5 }}"),
]


def feature_goldens(env):
    cases = []
    for name, source in FEATURES:
        case = {"name": name, "source": source}
        try:
            case["expected"] = env.from_string(source).render(**FEATURE_CONTEXT)
        except RaisedByTemplate as e:
            case["error"] = {"raised": True, "message": str(e)}
        except Exception as e:
            case["error"] = {"raised": False, "message": f"{type(e).__name__}: {e}"}
        cases.append(case)
    path = FIXTURES / "features.json"
    path.write_text(json.dumps({"context": FEATURE_CONTEXT, "cases": cases}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    errors = [c["name"] for c in cases if "error" in c]
    print(f"{path.relative_to(ROOT)}: {len(cases)} cases, errors in {errors}")


def generation_goldens(env):
    """Templates with {% generation %} blocks (SmolLM3, LFM2.5-VL from the huggingface.js inputs):
    output text and the assistant spans, over the standard conversations (generation.json)."""
    inputs = json.loads((SOURCES / "huggingface_js_e2e.json").read_text(encoding="utf-8"))
    out = {"note": "spans are [start, end) code point offsets into expected", "templates": []}
    for name in ["HuggingFaceTB/SmolLM3-3B", "LiquidAI/LFM2.5-VL-450M"]:
        source = inputs[name]["source"]
        template = env.from_string(source)
        cases = []
        for cname, messages, gen, uses_tools, extra in CONVERSATIONS:
            context = {"messages": messages, "tools": TOOLS if uses_tools else None, "add_generation_prompt": gen,
                       "bos_token": "", "eos_token": "<|im_end|>"}
            context.update(extra)
            case = {"name": cname, "context": context}
            try:
                case["expected"], case["spans"] = render_tracked(env, template, context)
            except Exception as e:
                case["error"] = {"raised": isinstance(e, RaisedByTemplate), "message": str(e)}
            cases.append(case)
        out["templates"].append({"template": name, "source": source, "cases": cases})
    path = FIXTURES / "generation.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: " + ", ".join(
        f"{t['template']}: {sum(1 for c in t['cases'] if c.get('spans'))} cases with spans" for t in out["templates"]))


def huggingface_js_goldens(env):
    """The 53 chat templates (and their example data) of huggingface.js's jinja end-to-end test,
    re-rendered here with the HF-configured jinja2 (hf_js_e2e.json)."""
    inputs = json.loads((SOURCES / "huggingface_js_e2e.json").read_text(encoding="utf-8"))
    cases = []
    for name, item in inputs.items():
        case = {"name": name, "source": item["source"], "context": item["data"]}
        try:
            case["expected"] = env.from_string(item["source"]).render(**item["data"])
        except RaisedByTemplate as e:
            case["error"] = {"raised": True, "message": str(e)}
        except Exception as e:
            case["error"] = {"raised": False, "message": f"{type(e).__name__}: {e}"}
        cases.append(case)
    path = FIXTURES / "hf_js_e2e.json"
    path.write_text(json.dumps({"cases": cases}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(cases)} templates, errors in {[c['name'] for c in cases if 'error' in c]}")


def main():
    print(f"jinja2 {jinja2.__version__}")
    real_templates(make_env())
    feature_goldens(make_env())
    huggingface_js_goldens(make_env())
    generation_goldens(make_env())
    builtin_templates()


if __name__ == "__main__":
    main()
