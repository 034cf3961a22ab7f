#!/usr/bin/env python3
"""Writes the tokenizer fixtures under fixtures/tokenizers/ with Hugging Face `tokenizers`.

Pinned: tokenizers==0.22.2, transformers==4.57.6 (only to cross-check `tokenizer(text)`).
Needs the real all-MiniLM-L6-v2 at .cache/minilm/model (tools/fetch-minilm.sh).
Rerun:  python3 tools/make_tokenizer_fixtures.py && python3 tools/update_manifest.py

Outputs (all deterministic for the pinned versions):
- bpe-small/{vocab.json,merges.txt,tokenizer.json}: a GPT-2 style byte-level BPE (vocab 1000) trained here on
  TRAINING_TEXT, because no pretrained GPT-2 tokenizer can be fetched. GPT-2's own settings: ByteLevel
  pre-tokenizer without prefix space, ByteLevel post-processor (adds nothing), special token <|endoftext|>.
- bpe-small-prefix/tokenizer.json: the same with `add_prefix_space: true`.
- bpe-small-added/tokenizer.json, wordpiece-added/tokenizer.json (lowercasing): with added tokens using lstrip,
  rstrip, single_word and normalized matching.
- wordpiece-cased/{vocab.txt,tokenizer.json,tokenizer_config.json}: a small cased WordPiece built by rule (no
  lowercasing, no accent stripping).
- expected_ids.json: `encode(text).ids` (special tokens added, no padding or truncation) for every text in
  TEXTS and every tokenizer above plus MiniLM, checked here against transformers' `tokenizer(text)` from both
  file sources (tokenizer.json, and vocab.txt / vocab.json + merges.txt).
- unicode_classes.json: how `tokenizers` classifies every code point (BertNormalizer clean-up, accent
  stripping, lowercasing, BERT punctuation and whitespace, the \\s \\p{L} \\p{N} classes of the GPT-2
  regex, and the word characters that stop a single_word added token), so the Swift tests can check the
  Unicode tables code point by code point.
"""
import json
import os
import shutil
import tempfile

from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, processors, decoders, trainers
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer, ByteLevel
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "fixtures", "tokenizers")
MINILM = os.path.join(HERE, "..", ".cache", "minilm", "model")

TRAINING_TEXT = """
The quick brown fox jumps over the lazy dog. A recurrent memory transformer keeps a few memory tokens and passes
them from one segment to the next, so that a long document can be read piece by piece. Converting checkpoints
between safetensors, NumPy archives, HDF5 files and PyTorch pickles should keep every tensor name and value.
It's the model's job; they're sure we've seen it, I'll say what you'd think and I'm done. Don't panic!
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 1000 2024 3.14159 1,000,000 12:30 2024-01-01 0x1F 1e-10 $100.00.
Punctuation runs!!! Really??? Yes... (maybe) [brackets] {braces} <angles> "quotes" 'single' `back` #hash @at
Héllo wörld, ça va? Naïve café, résumé, façade, Ångström, smörgåsbord, jalapeño, crème brûlée, über, Straße.
Español: ¿Dónde está la biblioteca? Français : où est la bibliothèque ? Deutsch: Wo ist die Bibliothek?
Русский текст: Привет, мир! Как дела? Ελληνικά: Καλημέρα κόσμε. Türkçe: İstanbul ılık.
中文字符测试：你好，世界！机器学习和自然语言处理。日本語のテキスト、ひらがなとカタカナ。한국어 텍스트입니다.
مرحبا بالعالم! هذا نص عربي. שלום עולם. हिन्दी भाषा। ภาษาไทย.
Emoji: 😀 😃 🥰 👍🏽 👨‍👩‍👧‍👦 ❤️ 🏳️‍🌈 🚀 ✨ — dashes – and bullets • and ellipses … and © ® ™ ° ± × ÷.
Whitespace:	tabs	and    runs of spaces
and newlines

and blank lines. def tokenize(text: str) -> list[int]: return [ord(c) for c in text if c != ' ']
for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } // C code; x = y ** 2 + z / 3 - w % 4;
https://example.com/path?query=1&b=2#fragment user@example.com C:\\Windows\\System32 /usr/local/bin
""" * 3

TEXTS = [
    "",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Héllo Wörld, ÀÉÎÕÜ çà et là — naïve café résumé Ångström",
    "中文字符测试：你好，世界！",
    "日本語のテキストとカタカナ、ひらがな。",
    "한국어 텍스트입니다",
    "مرحبا بالعالم! هذا نص عربي مع تشكيل: مَرْحَبًا",
    "Ελληνικά: Καλημέρα κόσμε, ΟΔΥΣΣΕΥΣ ς σ",
    "Русский текст: Привет, мир! Ёлка",
    "!!!???...,,,;;;::: ((([[[{{{}}}]]]))) --- ___ *** &&& @@@ ### $$$ %%% ^^^ ~~~ ``` ||| \\\\ ///",
    "a    b\t\tc\n\nd\r\ne \u00a0 f\u2003g\u3000h\u2028i\u0085j\u000bk\u000cl",
    "   leading and trailing spaces   ",
    "\n\n\n",
    " \t \n ",
    "word   ",
    "word\n",
    "  \n  x",
    "two  spaces, three   spaces,\n\nparagraph\t\tindent  \u3000\u3000wide",
    "emoji 😀😃🥰 🫠 👍🏽 👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 ❤️ family",
    "control\u0000chars\u0001here\u0007and\u001b[31mansi\u007f\u0085\u200b\u200e\ufeff\ufffd end",
    "I like [MASK] and [CLS] tokens [SEP] in text [mask] [UNK][PAD]the[MASK]is",
    "Hello<|endoftext|>world <|endoftext|> again<|endoftext|>",
    "<|endoftext|>",
    "I'm can't won't they're we've he'll she'd it's IT'S Don'T 'tis y'all 's's ''s",
    "1234567890 3.14159 1,000,000 2024-01-01 0x1F 1e10 ½ ² ٣ ④ Ⅻ ٠١٢٣",
    "a" * 150,
    "x" * 100,
    "x" * 101,
    "é" * 100,
    "supercalifragilisticexpialidocious" * 4,
    "https://example.com/path?query=1&b=2#frag user@example.com",
    "CamelCaseWords and snake_case_words and kebab-case-words",
    "Mixed: español, français, Deutsch (ß), Türkçe (İı), Tiếng Việt",
    "Zalgo: Z\u0337\u0322\u031ba\u0338l\u0336g\u0335o\u0334 \u0337t\u0338e\u0336x\u0335t",
    "\u0301\u0302 combining marks alone",
    "ﬁ ligature ﬀ \u212b \u2126 \u212a \uf900 \U0002f800",
    "tab\tseparated\tvalues\nline two",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐛𝐨𝐥𝐝 math letters",
    "हिन्दी हिंदी भाषा",
    "ไทย ภาษาไทย",
    "unaffable unbelievable anticonstitutionnellement",
    "\u0378 unassigned \U000e0001 tag \U0010fffd private \ue000",
    "$100.00 €50 £30 ¥1000 ₹500",
    "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text]\n",
    "fill <mask> here,<mask>and   <mask> [WORD] x[WORD]y ([WORD]) zz   after zz\tend",
    "Hello World HELLO WORLD hello world ÉCOLE école École",
    "[WORD]² [WORD]_ [WORD]\u0353 ٠[WORD] \u20dd[WORD] Ⅰ[WORD] -[WORD]- \u200d[WORD]",
    "Recurrent memory transformers read long documents segment by segment, carrying memory tokens across.",
]


def dump(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def train_bpe(folder):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = ByteLevel(add_prefix_space=False)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1000, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(TRAINING_TEXT.splitlines(keepends=True), trainer=trainer)
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    tok.model.save(folder)  # vocab.json + merges.txt
    return tok


def build_wordpiece(folder):
    """A cased WordPiece vocabulary built by rule (the WordPiece trainer's ties are not deterministic): the
    specials, every character of TRAINING_TEXT alone and as ##continuation, the 250 most frequent words, and the
    next 250 split in two halves (word start + ##rest)."""
    normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    words = [w for w, _ in BertPreTokenizer().pre_tokenize_str(normalizer.normalize_str(TRAINING_TEXT))]
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    chars = sorted(set("".join(words)))
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars] + ranked[:250]
    for w in ranked[250:500]:
        if len(w) >= 4:
            tokens += [w[: len(w) // 2], "##" + w[len(w) // 2:]]
    vocab = {}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = BertPreTokenizer()
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    tok.model.save(folder)  # vocab.txt
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "strip_accents": False, "tokenize_chinese_chars": True}, f)
    return tok


def with_added_tokens(source, folder, lowercase=None):
    """`source` plus added tokens that exercise lstrip, rstrip, single_word and normalized matching."""
    tok = Tokenizer.from_file(os.path.join(source, "tokenizer.json"))
    if lowercase is not None:
        tok.normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=lowercase)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True)])
    tok.add_tokens([AddedToken("[WORD]", single_word=True), AddedToken("zz", rstrip=True, normalized=False),
                    AddedToken("Hello World", normalized=True), AddedToken("ÉCOLE", normalized=False)])
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    return tok


def ids_of(tok):
    tok.no_padding()
    tok.no_truncation()
    return [tok.encode(t).ids for t in TEXTS]


def check_transformers(folder, expected, files):
    """`tokenizer(text)` from tokenizer.json and from the vocabulary files alone must give the same ids."""
    if os.path.exists(os.path.join(folder, "config.json")):
        fast = transformers.AutoTokenizer.from_pretrained(folder)
    else:
        fast = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
    assert [fast(t)["input_ids"] for t in TEXTS] == expected, folder
    with tempfile.TemporaryDirectory() as tmp:
        for name in files:
            shutil.copy(os.path.join(folder, name), tmp)
        if "vocab.txt" in files:
            with open(os.path.join(folder, "tokenizer_config.json")) as f:
                config = json.load(f)
            slow_files = transformers.BertTokenizerFast(vocab_file=os.path.join(tmp, "vocab.txt"),
                                                       do_lower_case=config.get("do_lower_case", True),
                                                       strip_accents=config.get("strip_accents"))
        else:
            slow_files = transformers.GPT2TokenizerFast(vocab_file=os.path.join(tmp, "vocab.json"),
                                                       merges_file=os.path.join(tmp, "merges.txt"))
        got = [slow_files(t)["input_ids"] for t in TEXTS]
        for t, a, b in zip(TEXTS, got, expected):
            assert a == b, (folder, t, a, b)


def ranges(flags):
    out, start = [], None
    for cp, flag in enumerate(flags):
        if flag and start is None:
            start = cp
        if not flag and start is not None:
            out.append([start, cp - 1])
            start = None
    if start is not None:
        out.append([start, len(flags) - 1])
    return out


def unicode_classes(single_word_tokenizer):
    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    bert_pre = BertPreTokenizer()
    byte_pre = ByteLevel(add_prefix_space=False, use_regex=True)
    n = 0x110000
    removed, bert_space, bert_punct, letter, number, space, word = ([False] * n for _ in range(7))
    word_id = single_word_tokenizer.token_to_id("[WORD]")
    stripped, lowered = {}, {}
    for cp in range(n):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        r = clean.normalize_str(c)
        removed[cp] = r == ""
        bert_space[cp] = r == " "
        s = strip.normalize_str(c)
        if s != c:
            stripped[cp] = s
        lo = lower.normalize_str(c)
        if lo != c:
            lowered[cp] = lo
        pieces = bert_pre.pre_tokenize_str("a" + c + "a")
        bert_punct[cp] = len(pieces) == 3
        letter[cp] = len(byte_pre.pre_tokenize_str("a" + c)) == 1
        number[cp] = len(byte_pre.pre_tokenize_str("1" + c)) == 1
        # "a" + c, "1" + c, "\t" + c stay one piece exactly when c is \p{L}, \p{N}, \s.
        space[cp] = len(byte_pre.pre_tokenize_str("\t" + c)) == 1
        # A single_word added token right after c is refused exactly when c is a word character (\w).
        word[cp] = word_id not in single_word_tokenizer.encode(c + "[WORD]").ids
    # Hangul syllables decompose algorithmically (Unicode 3.12); check that here and leave the 11,172 out.
    for cp in range(0xAC00, 0xD7A4):
        index = cp - 0xAC00
        jamo = chr(0x1100 + index // 588) + chr(0x1161 + index % 588 // 28) + (chr(0x11A7 + index % 28) if index % 28 else "")
        assert stripped.pop(cp) == jamo, hex(cp)
    return {
        "bert_removed": ranges(removed),
        "bert_whitespace": ranges(bert_space),
        "bert_punctuation": ranges(bert_punct),
        "bert_strip_accents_except_hangul_syllables": [[cp, s] for cp, s in sorted(stripped.items())],
        "bert_lowercase": [[cp, s] for cp, s in sorted(lowered.items())],
        "regex_letter": ranges(letter),
        "regex_number": ranges(number),
        "regex_whitespace": ranges(space),
        "added_token_word_character": ranges(word),
    }


def main():
    os.makedirs(ROOT, exist_ok=True)
    bpe = train_bpe(os.path.join(ROOT, "bpe-small"))
    with open(os.path.join(ROOT, "bpe-small", "tokenizer.json")) as f:
        prefixed = json.load(f)
    prefixed["pre_tokenizer"]["add_prefix_space"] = True
    os.makedirs(os.path.join(ROOT, "bpe-small-prefix"), exist_ok=True)
    dump(prefixed, os.path.join(ROOT, "bpe-small-prefix", "tokenizer.json"))
    wordpiece = build_wordpiece(os.path.join(ROOT, "wordpiece-cased"))
    bpe_added = with_added_tokens(os.path.join(ROOT, "bpe-small"), os.path.join(ROOT, "bpe-small-added"))
    wordpiece_added = with_added_tokens(os.path.join(ROOT, "wordpiece-cased"), os.path.join(ROOT, "wordpiece-added"),
                                        lowercase=True)

    minilm = Tokenizer.from_file(os.path.join(MINILM, "tokenizer.json"))
    expected = {
        "texts": TEXTS,
        "tokenizers": {
            "minilm": ids_of(minilm),
            "bpe-small": ids_of(bpe),
            "bpe-small-prefix": ids_of(Tokenizer.from_file(os.path.join(ROOT, "bpe-small-prefix", "tokenizer.json"))),
            "wordpiece-cased": ids_of(wordpiece),
            "bpe-small-added": ids_of(bpe_added),
            "wordpiece-added": ids_of(wordpiece_added),
        },
    }
    check_transformers(MINILM, expected["tokenizers"]["minilm"], ["vocab.txt", "tokenizer_config.json"])
    check_transformers(os.path.join(ROOT, "bpe-small"), expected["tokenizers"]["bpe-small"], ["vocab.json", "merges.txt"])
    check_transformers(os.path.join(ROOT, "wordpiece-cased"), expected["tokenizers"]["wordpiece-cased"],
                       ["vocab.txt", "tokenizer_config.json"])
    dump(expected, os.path.join(ROOT, "expected_ids.json"))
    with open(os.path.join(ROOT, "unicode_classes.json"), "w", encoding="utf-8") as f:
        json.dump(unicode_classes(bpe_added), f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
