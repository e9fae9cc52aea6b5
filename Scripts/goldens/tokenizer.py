#!/usr/bin/env python3
"""Make the tokenizer golden files under Tests/Fixtures/tokenizer/.

Run with the reference venv:  /root/.cache/tune/refvenv/bin/python Scripts/goldens/tokenizer.py
It installs its reference libraries into that venv when they are missing (llama-cpp-python is
expected to be there already), and reads the SmolLM2 GGUF from the modelscope cache.

Outputs (see Tests/Fixtures/tokenizer/README.md):
  corpus/*.txt, corpus/edge_cases.json   inputs
  smollm2_llamacpp.json                  llama.cpp ids on the real SmolLM2 GGUF vocabulary
  smollm2/tokenizer.json (+config)       tokenizer.json transformers builds from that GGUF
  smollm2_hf.json                        HF `tokenizers` ids on that tokenizer.json
  llama3_style/tokenizer.json, qwen2_style/tokenizer.json   tiny BPEs trained with those regexes
  llama3_style_hf.json, qwen2_style_hf.json                 their ids and pre-tokenizer pieces
"""
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer")
CORPUS = os.path.join(OUT, "corpus")
MODEL = os.path.join(
    os.environ.get("MODELSCOPE_CACHE", os.path.expanduser("~/.cache/modelscope/hub")),
    "models/HuggingFaceTB/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
LICENSES = ["Apache-2.0", "BSD", "Artistic", "MPL-2.0", "GPL-3"]


def ensure(modules_to_packages):
    missing = []
    for mod, pkg in modules_to_packages:
        try:
            __import__(mod)
        except ImportError:
            missing.append(pkg)
    if missing:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + missing)


ensure([("tokenizers", "tokenizers"), ("transformers", "transformers"), ("gguf", "gguf"),
        ("torch", "torch"), ("sentencepiece", "sentencepiece")])
import llama_cpp  # noqa: E402  (built into the venv separately)
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_RE = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_RE = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

EDGE_CASES = [
    "", " ", "  ", "\n", "\n\n\n", "\r\n", " \r\n \r\n", "\t", "\t\tx", "x\t\t", "a  b   c    d",
    "trailing spaces   ", "   leading", "line1\nline2\n\n  indented\n\ttabbed\n", " \n x", "\n \n\n  \t\n",
    "0", "12", "123", "1234", "12345", "1234567890123", "3.14159 2,718 -42 1e10 0x1F 007",
    "\u0663\u0664\u0665 \u0661\u0662", "\u2460\u2461\u2462 \u216b \u00bd x\u00b2", " 42 a1b22c333d4444",
    "\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 family",
    "\U0001F3F3\ufe0f\u200d\U0001F308", "\u2764\ufe0f ok", "\U0001F1EF\U0001F1F5\U0001F1FA\U0001F1F8",
    "\U0001F642" * 40,
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059\u3002",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "e\u0301 caf\u00e9 cafe\u0301", "Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307",
    "\u0301abc", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01",
    "it's I'LL we've they'RE don't 'S 's 'll o'clock rock'n'roll", "'''", "''s", " 'd", "'", "x'M",
    "<|im_start|>user\nHello<|im_end|>\n", "text<|endoftext|>more", "<|im_start|><|im_end|>",
    "<|im_start", "<|im_end|><|im_end|>", "<repo_name>x<file_sep>y", " <|im_end|> ", "<|im_start|>assistant\n",
    "\\xff\\xfe", "\ufffd", "\u0000 nul", "\u200bzero width\ufeff", "\u00a0nbsp\u2003em\u3000ideographic",
    "\u0085nel", "a\u2028b\u2029c", "\u001c\u001f\u007f", "<0x41>", "\u0120hello \u010a\u0120",
    "a" * 60, "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Hello, world! How's it going?", "...!!!???", "foo.bar(baz)[0] = {'a': 1};",
    "email@example.com https://example.org/path?q=1&r=2", "$100 + 50% = ~ ^ | <>",
    "\u00a1Hola! \u00bfQu\u00e9 tal?", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "\u041a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430 \u0442\u0435\u043a\u0441\u0442",
    "\u01c4 \u01c5 \u01c6", " !x", "!!x", "\n\nword", "  \n\nword", " .\n\n", "a.\r\n\r\nb",
    "def f(x):\n    return x * 2\n\n\nprint(f(21))\n",
    "'Sup 'LLama we'REady I'Ve x'Dz 'tis 'Mm", "2024-12-01 10:00:00 1,000,000.00 v1.2.3",
    "A\r\n\r\n  B \r\r\n\t\nC", "x \n\n y  \t z\t\t\n",
    "ZZqqZZ and ZZqqZZ, ZZqqZZ.",
]

# Added to the llama3_style vocabulary after training: whole-word tokens that no merge forms, so
# that ignore_merges (whole word taken from the vocabulary first) changes the ids.
UNMERGEABLE = ["ZZqqZZ", "\u0120ZZqqZZ"]

# Texts for which llama.cpp is also asked with special=False (parseSpecial off).
NO_SPECIAL = ["<|im_start|>user\nHello<|im_end|>\n", "text<|endoftext|>more", "<repo_name>x<file_sep>y"]


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def inputs():
    os.makedirs(CORPUS, exist_ok=True)
    for name in LICENSES:
        shutil.copyfile(os.path.join("/usr/share/common-licenses", name), os.path.join(CORPUS, name + ".txt"))
    with open(os.path.join(CORPUS, "edge_cases.json"), "w", encoding="utf-8") as f:
        json.dump(EDGE_CASES, f, ensure_ascii=True, indent=0)
        f.write("\n")
    cases = []
    for name in LICENSES:
        with open(os.path.join(CORPUS, name + ".txt"), encoding="utf-8") as f:
            cases.append({"name": "corpus/" + name + ".txt", "text": f.read()})
    for i, t in enumerate(EDGE_CASES):
        cases.append({"name": "edge_cases[%d]" % i, "text": t})
    return cases


def strip_text(case):
    # Corpus texts are read by the tests from corpus/; edge-case texts are stored inline.
    out = {"name": case["name"]}
    if not case["name"].startswith("corpus/"):
        out["text"] = case["text"]
    return out


def vocab_facts(llm):
    """llama.cpp's own view of the vocabulary: which ids end generation, which are control."""
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    n = llama_cpp.llama_vocab_n_tokens(vocab)
    return {"eog_ids": [i for i in range(n) if llama_cpp.llama_vocab_is_eog(vocab, i)],
            "control_ids": [i for i in range(n) if llama_cpp.llama_vocab_is_control(vocab, i)],
            "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab))}


def llama_cpp_goldens(cases):
    llm = llama_cpp.Llama(model_path=MODEL, vocab_only=True, verbose=False)
    res = []
    for c in cases:
        ids = llm.tokenize(c["text"].encode("utf-8"), add_bos=True, special=True)
        res.append(dict(strip_text(c), parseSpecial=True, ids=ids))
    for t in NO_SPECIAL:
        ids = llm.tokenize(t.encode("utf-8"), add_bos=True, special=False)
        res.append({"name": "no_special", "text": t, "parseSpecial": False, "ids": ids})
    write_json(os.path.join(OUT, "smollm2_llamacpp.json"),
               {"reference": "llama-cpp-python %s, Llama(vocab_only=True).tokenize(add_bos=True, special=...)" % llama_cpp.__version__,
                "model": os.path.basename(MODEL), **vocab_facts(llm), "cases": res})


def hf_tokenizer_from_gguf():
    from transformers import AutoTokenizer
    tmp = "/tmp/tune_tokenizer_goldens"
    os.makedirs(tmp, exist_ok=True)
    link = os.path.join(tmp, "model.gguf")
    if not os.path.exists(link):
        os.symlink(MODEL, link)
    tok = AutoTokenizer.from_pretrained(tmp, gguf_file="model.gguf")
    tok.save_pretrained(os.path.join(tmp, "saved"))
    d = os.path.join(OUT, "smollm2")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(tmp, "saved", "tokenizer.json"), encoding="utf-8") as f:
        write_json(os.path.join(d, "tokenizer.json"), json.load(f))  # minified
    shutil.copyfile(os.path.join(tmp, "saved", "tokenizer_config.json"), os.path.join(d, "tokenizer_config.json"))
    return os.path.join(d, "tokenizer.json")


def hf_goldens(path, cases, out_name, with_pieces):
    tok = Tokenizer.from_file(path)
    res = []
    for c in cases:
        enc = tok.encode(c["text"], add_special_tokens=True)
        item = dict(strip_text(c), ids=enc.ids)
        if with_pieces and tok.pre_tokenizer is not None:
            normalized = tok.normalizer.normalize_str(c["text"]) if tok.normalizer is not None else c["text"]
            item["pieces"] = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str(normalized)]
        res.append(item)
    write_json(os.path.join(OUT, out_name),
               {"reference": "tokenizers %s, Tokenizer.from_file(...).encode(text, add_special_tokens=True)" % tokenizers.__version__,
                "tokenizer": os.path.relpath(path, OUT), "cases": res})


def train_tiny(regex, name, texts, specials, nfc, bos, string_merges):
    tok = Tokenizer(models.BPE(ignore_merges=(name == "llama3_style")))
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1200, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single=bos + " $A", special_tokens=[(bos, tok.token_to_id(bos))])
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    j = json.loads(tok.to_str())
    if name == "llama3_style":
        for t in UNMERGEABLE:
            j["model"]["vocab"][t] = max(j["model"]["vocab"].values()) + 1
    if string_merges:
        j["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    write_json(path, j)
    return path


HANDMADE_TEXTS = [
    "abc", "abcd ab abc", "xyzw", "xy yzw", "a <mask> b", "a<mask>b", "  <mask>  c", "abc<s>abc</s>",
    "hello world", " leading space", "", "yzwxy",
]


def handmade():
    """A hand-made tokenizer.json for the features the trained ones do not reach: ignore_merges
    with a vocabulary token no merge forms, leftmost-longest matching of overlapping added tokens
    (special and not), lstrip/rstrip, ByteLevel add_prefix_space, a BOS + EOS template."""
    from tokenizers import AddedToken
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    for extra in ["ab", "abc", "Ġa", "Ġab"]:
        vocab[extra] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("a", "b"), ("Ġ", "a"), ("Ġa", "b")], ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_tokens([AddedToken("xy", special=False, normalized=False)])
    tok.add_special_tokens([AddedToken("yzw", special=True, normalized=False),
                            AddedToken("<mask>", special=True, lstrip=True, rstrip=True, normalized=False),
                            AddedToken("<s>", special=True, normalized=False), AddedToken("</s>", special=True, normalized=False)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    d = os.path.join(OUT, "handmade")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    write_json(path, json.loads(tok.to_str()))
    tok = Tokenizer.from_file(path)
    cases = [{"name": "handmade[%d]" % i, "text": t, "ids": tok.encode(t, add_special_tokens=True).ids}
             for i, t in enumerate(HANDMADE_TEXTS)]
    write_json(os.path.join(OUT, "handmade_hf.json"),
               {"reference": "tokenizers %s, Tokenizer.from_file(...).encode(text, add_special_tokens=True)" % tokenizers.__version__,
                "tokenizer": "handmade/tokenizer.json", "cases": cases})


def tiny_gguf(tokjson, pre, name, bos, eos):
    """A GGUF holding only metadata: the tiny trained vocabulary as GGUF tokenizer keys (types 1
    normal, 3 control for special added tokens, 4 user-defined for other added tokens) and the
    minimum llama hyper-parameters llama.cpp's vocab-only load reads. No add_bos_token key, so
    llama.cpp's default for the pre-tokenizer applies."""
    from gguf import GGUFWriter
    with open(tokjson, encoding="utf-8") as f:
        j = json.load(f)
    vocab = j["model"]["vocab"]
    n = max(vocab.values()) + 1
    toks = [None] * n
    for k, v in vocab.items():
        toks[v] = k
    types = [1] * n
    for a in j["added_tokens"]:
        toks[a["id"]] = a["content"]
        types[a["id"]] = 3 if a["special"] else 4
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    path = os.path.join(OUT, name)
    w = GGUFWriter(path, arch="llama")
    w.add_context_length(2048)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(16)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_merges(merges)
    if bos is not None:
        w.add_bos_token_id(bos)
    w.add_eos_token_id(eos)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def tiny_llama_cpp_goldens(path, cases, out_name):
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    keep = [c for c in cases if not c["name"].startswith("corpus/") or c["name"] in ("corpus/Apache-2.0.txt", "corpus/BSD.txt")]
    res = [dict(strip_text(c), parseSpecial=True, ids=llm.tokenize(c["text"].encode("utf-8"), add_bos=True, special=True))
           for c in keep]
    write_json(os.path.join(OUT, out_name),
               {"reference": "llama-cpp-python %s, Llama(vocab_only=True).tokenize(add_bos=True, special=True)" % llama_cpp.__version__,
                "model": os.path.basename(path), **vocab_facts(llm), "cases": res})


def unicode_classes():
    """How HF's regex engine classes every assigned code point (Python's unicodedata decides what
    is assigned; private use is left out): the GPT-2 regex keeps "a"+c+"a" whole for a letter,
    "1"+c+"1" for a number, "!"+c+"!" for anything else, and splits all three for whitespace.
    Stored as [first, last, class] ranges of consecutive code points with one class."""
    import unicodedata
    split = pre_tokenizers.Split(pattern=Regex(GPT2_RE), behavior="isolated")
    ranges = []
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)) in ("Co", "Cn", "Cs"):
            continue
        c = chr(cp)
        k = next((cls for w, cls in (("a", "L"), ("1", "N"), ("!", "O")) if len(split.pre_tokenize_str(w + c + w)) == 1), "W")
        if ranges and ranges[-1][1] == cp - 1 and ranges[-1][2] == k:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, k])
    write_json(os.path.join(OUT, "unicode_classes_hf.json"),
               {"reference": "tokenizers %s GPT-2 regex; assigned per Python %s unicodedata %s" % (
                   tokenizers.__version__, sys.version.split()[0], unicodedata.unidata_version),
                "ranges": ranges})


def main():
    unicode_classes()
    handmade()
    cases = inputs()
    llama_cpp_goldens(cases)
    hf_goldens(hf_tokenizer_from_gguf(), cases, "smollm2_hf.json", with_pieces=False)
    texts = [c["text"] for c in cases]
    p = train_tiny(LLAMA3_RE, "llama3_style", texts, ["<|begin_of_text|>", "<|end_of_text|>"], False, "<|begin_of_text|>", False)
    hf_goldens(p, cases, "llama3_style_hf.json", with_pieces=True)
    p = train_tiny(QWEN2_RE, "qwen2_style", texts, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], True, None, True)
    hf_goldens(p, cases, "qwen2_style_hf.json", with_pieces=True)
    g = tiny_gguf(os.path.join(OUT, "llama3_style", "tokenizer.json"), "llama-bpe", "llama3_style.gguf", 0, 1)
    tiny_llama_cpp_goldens(g, cases, "llama3_style_llamacpp.json")
    # The Qwen2 GGUF takes the llama3_style vocabulary: it has multi-digit tokens and tokens no
    # merge forms, so single-digit splitting and the absence of ignore_merges both show in the ids.
    g = tiny_gguf(os.path.join(OUT, "llama3_style", "tokenizer.json"), "qwen2", "qwen2_style.gguf", None, 1)
    tiny_llama_cpp_goldens(g, cases, "qwen2_style_llamacpp.json")
    # The GPT-2 regex alone (ByteLevel use_regex) on the SmolLM2 tokenizer.json, pieces only.
    tok = Tokenizer.from_file(os.path.join(OUT, "smollm2", "tokenizer.json"))
    write_json(os.path.join(OUT, "gpt2_pieces_hf.json"),
               {"reference": "tokenizers %s, ByteLevel(use_regex=True).pre_tokenize_str" % tokenizers.__version__,
                "cases": [dict(strip_text(c), pieces=[p for p, _ in tok.pre_tokenizer.pre_tokenize_str(c["text"])]) for c in cases]})
    print("versions: llama-cpp-python", llama_cpp.__version__, "tokenizers", tokenizers.__version__,
          "transformers", transformers.__version__)


if __name__ == "__main__":
    main()
