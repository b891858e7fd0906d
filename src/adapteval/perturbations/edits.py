"""Label-preserving text edits behind the built-in perturbations.

Each edit is ``(text, rng, rate=...) -> str``. ``rate`` is the fraction of candidate
units edited (letters, words, names, numbers, ...), rounded, with at least one edit
when ``rate > 0`` and a candidate exists; ``rate=0`` returns the text unchanged, and
so does a text without candidates (including the empty string). In the spirit of
behavioural testing (Ribeiro et al., "Beyond Accuracy: Behavioral Testing of NLP
Models with CheckList", ACL 2020), edits aim to keep the label: negations are never
dropped or moved and synonyms are sentiment-neutral.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

import numpy as np

from adapteval.perturbations.lexicon import (
    CONTRACTIONS,
    EXPAND_ONLY,
    FIRST_NAMES,
    GENDER_WORD_ONE_WAY,
    GENDER_WORD_PAIRS,
    GENDERED_NAME_PAIRS,
    HER_OBJECT_BEFORE,
    KEY_NEIGHBOURS,
    NEGATIONS,
    SYNONYMS,
)

_NAME_KEYS = {name.lower(): name for name in FIRST_NAMES}
_GENDER_WORDS = {
    **{a: b for a, b in GENDER_WORD_PAIRS}, **{b: a for a, b in GENDER_WORD_PAIRS},
    **GENDER_WORD_ONE_WAY,
}
_GENDER_NAMES = {
    **{m.lower(): f for m, f in GENDERED_NAME_PAIRS}, **{f.lower(): m for m, f in GENDERED_NAME_PAIRS},
}
_NEXT_WORD = re.compile(r"\s+([^\W\d_]+)")
_APOSTROPHES = "'\u2019"
_WORD = re.compile(r"[^\W\d_]+")
_AFFIXES = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def _pick(rng: np.random.Generator, n: int, rate: float, cap: int | None = None) -> list[int]:
    """``round(rate * n)`` sorted distinct indices below ``n``: at least 1, at most cap."""
    k = 0 if n == 0 or rate <= 0 else min(n, max(1, int(rate * n + 0.5)))
    k = k if cap is None else min(k, cap)
    if k <= 0:
        return []
    return sorted(int(i) for i in rng.choice(n, size=k, replace=False))


def _match_case(src: str, repl: str) -> str:
    """``repl`` with the capitalisation pattern of ``src`` (ALL CAPS or Initial)."""
    if sum(c.isalpha() for c in src) > 1 and src.isupper():
        return repl.upper()
    if src[:1].isupper():
        return repl[:1].upper() + repl[1:]
    return repl


def is_negation(token: str) -> bool:
    """True for negation words ("not", "never", "no", ...) and "n't" contractions."""
    core = re.sub(r"^[^\w']+|[^\w']+$", "", token.lower().replace("\u2019", "'"))
    core = core.strip("'")
    return core in NEGATIONS or core.endswith("n't")


def _affixes(token: str) -> tuple[str, str, str]:
    """Leading punctuation, core and trailing punctuation of a token."""
    m = _AFFIXES.fullmatch(token)
    return (m[1], m[2], m[3]) if m else ("", token, "")


# -- characters ------------------------------------------------------------------------


def typos(text: str, rng: np.random.Generator, rate: float = 0.05) -> str:
    """Keyboard typos on a fraction of letters: QWERTY-neighbour substitution,
    deletion, insertion of a neighbouring key, or transposition with the next letter."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    chars = list(text)
    for j in reversed(_pick(rng, len(letters), rate)):
        i = letters[j]
        c = chars[i]
        near = KEY_NEIGHBOURS.get(c.lower(), "")
        op = int(rng.integers(4))
        swappable = i + 1 < len(chars) and chars[i + 1].isalpha() and chars[i + 1] != c
        if op == 3 and swappable:
            chars[i], chars[i + 1] = chars[i + 1], c
        elif op == 2 and near:
            chars.insert(i + 1, _match_case(c, near[int(rng.integers(len(near)))]))
        elif op in (0, 3) and near:
            chars[i] = _match_case(c, near[int(rng.integers(len(near)))])
        else:
            del chars[i]
    return "".join(chars)


def lowercase(text: str, rng: np.random.Generator) -> str:
    """The whole text in lower case."""
    return text.lower()


def uppercase(text: str, rng: np.random.Generator) -> str:
    """The whole text in upper case."""
    return text.upper()


def random_case(text: str, rng: np.random.Generator, rate: float = 0.1) -> str:
    """Flip the case of a fraction of the cased letters."""
    cased = [i for i, c in enumerate(text) if c.swapcase() != c]
    chars = list(text)
    for i in _pick(rng, len(cased), rate):
        chars[cased[i]] = chars[cased[i]].swapcase()
    return "".join(chars)


def drop_punctuation(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """Remove a share of the punctuation marks (Unicode category P*), all by default."""
    marks = [i for i, c in enumerate(text) if unicodedata.category(c).startswith("P")]
    gone = {marks[j] for j in _pick(rng, len(marks), rate)}
    return "".join(c for i, c in enumerate(text) if i not in gone)


# -- words -----------------------------------------------------------------------------


def _parts(text: str) -> tuple[list[str], list[int]]:
    """Split into alternating words and whitespace runs; also the word positions."""
    parts = re.split(r"(\s+)", text)
    return parts, [w for w in range(0, len(parts), 2) if parts[w]]


def drop_words(text: str, rng: np.random.Generator, rate: float = 0.1) -> str:
    """Delete a fraction of the words, never a negation and never the last word left."""
    parts, words = _parts(text)
    free = [w for w in words if not is_negation(parts[w])]
    for j in reversed(_pick(rng, len(free), rate, cap=len(words) - 1)):
        w = free[j]
        if w + 1 < len(parts):
            del parts[w : w + 2]  # the word and the whitespace after it
        else:
            del parts[w - 1 : w + 1]  # the last word and the whitespace before it
    return "".join(parts)


def swap_words(text: str, rng: np.random.Generator, rate: float = 0.1) -> str:
    """Swap a fraction of neighbouring word pairs, leaving punctuation and negations
    in place."""
    parts, words = _parts(text)
    pairs = [
        (a, b)
        for a, b in itertools.pairwise(words)
        if not (is_negation(parts[a]) or is_negation(parts[b]))
        and _affixes(parts[a])[1]
        and _affixes(parts[b])[1]
    ]
    for j in _pick(rng, len(pairs), rate):
        a, b = pairs[j]
        (pa, ca, sa), (pb, cb, sb) = _affixes(parts[a]), _affixes(parts[b])
        parts[a], parts[b] = pa + cb + sa, pb + ca + sb
    return "".join(parts)


def extra_whitespace(text: str, rng: np.random.Generator, rate: float = 0.2) -> str:
    """Add one to three spaces at a fraction of the word boundaries (ends included)."""
    parts, words = _parts(text)
    if not words:
        return text
    # Slots: before the first word, after each word.
    slots = [words[0]] + [w + 1 for w in words]
    extra = {slots[j]: " " * int(rng.integers(1, 4)) for j in _pick(rng, len(slots), rate)}
    out = []
    for i, part in enumerate(parts + [""]):
        out.append(extra.get(i, "") + part)
    return "".join(out)


# -- lexical substitutions -------------------------------------------------------------


def swap_names(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """Replace capitalised first names from a list spanning genders and cultures by
    other names from it, consistently within the text and keeping the case."""
    found: list[str] = []
    for m in _WORD.finditer(text):
        key = m[0].lower()
        if m[0][0].isupper() and key in _NAME_KEYS and key not in found:
            found.append(key)
    mapping = {}
    for j in _pick(rng, len(found), rate):
        others = [n for n in FIRST_NAMES if n.lower() != found[j]]
        mapping[found[j]] = others[int(rng.integers(len(others)))]

    def sub(m: re.Match[str]) -> str:
        new = mapping.get(m[0].lower())
        return _match_case(m[0], new) if new and m[0][0].isupper() else m[0]

    return _WORD.sub(sub, text) if mapping else text


def change_numbers(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """Replace a fraction of the digit runs by different ones of the same length."""
    runs = list(re.finditer(r"\d+", text))
    out, pos = [], 0
    for j in _pick(rng, len(runs), rate):
        m = runs[j]
        digits = [int(d) for d in rng.integers(0, 10, size=len(m[0]))]
        if len(digits) > 1 and digits[0] == 0:
            digits[0] = int(rng.integers(1, 10))
        new = "".join(map(str, digits))
        if new == m[0]:
            new = new[:-1] + str((int(new[-1]) + int(rng.integers(1, 10))) % 10)
        out += [text[pos : m.start()], new]
        pos = m.end()
    return "".join(out) + text[pos:]


def _substitute(
    text: str,
    rng: np.random.Generator,
    rate: float,
    pattern: re.Pattern[str],
    table: dict[str, tuple[str, ...]],
) -> str:
    hits = [m for m in pattern.finditer(text) if _key(m[0]) in table]
    out, pos = [], 0
    for j in _pick(rng, len(hits), rate):
        m = hits[j]
        options = table[_key(m[0])]
        new = options[int(rng.integers(len(options)))]
        out += [text[pos : m.start()], _match_case(m[0], new)]
        pos = m.end()
    return "".join(out) + text[pos:]


def _key(token: str) -> str:
    return re.sub(r"\s+", " ", token.lower().replace("\u2019", "'"))


def swap_synonyms(text: str, rng: np.random.Generator, rate: float = 0.5) -> str:
    """Replace a fraction of the words in a small sentiment-neutral synonym table."""
    return _substitute(text, rng, rate, _WORD, SYNONYMS)


# An "'s" contraction stands for "has" before these words, so it is not expanded.
_HAS_NEXT = r"(?!\s+(?:been|got|gotten|had)\b)"


def _alternation(forms: list[str], guard_s: bool = False) -> re.Pattern[str]:
    """Whole-word, case-insensitive pattern matching any of ``forms`` (longest first),
    with either apostrophe and any whitespace between words."""
    alts = []
    for form in sorted(forms, key=len, reverse=True):
        alt = re.escape(form).replace("'", f"[{_APOSTROPHES}]").replace(r"\ ", r"\s+")
        alts.append(alt + r"\b" + (_HAS_NEXT if guard_s and form.endswith("'s") else ""))
    return re.compile(r"\b(?:" + "|".join(alts) + ")", re.IGNORECASE)


_SHORT = _alternation(list(CONTRACTIONS), guard_s=True)
_SHORT_TABLE = {k: (v,) for k, v in CONTRACTIONS.items()}
_LONG_TABLE = {v: (k,) for k, v in CONTRACTIONS.items() if k not in EXPAND_ONLY}
# Only contract before another word: "That is what it is." keeps its last "it is".
_LONG = re.compile(_alternation(list(_LONG_TABLE)).pattern + r"(?=\s+\w)", re.IGNORECASE)


def expand_contractions(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """Expand a fraction of the contractions ("didn't" -> "did not")."""
    return _substitute(text, rng, rate, _SHORT, _SHORT_TABLE)


def add_contractions(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """Contract a fraction of the contractible phrases ("it is" -> "it's")."""
    return _substitute(text, rng, rate, _LONG, _LONG_TABLE)


def _her_counterpart(text: str, end: int) -> str:
    """"his" when "her" is a possessive (a noun phrase follows), else "him"."""
    m = _NEXT_WORD.match(text, end)
    return "his" if m and m[1].lower() not in HER_OBJECT_BEFORE else "him"


def swap_gender(text: str, rng: np.random.Generator, rate: float = 1.0) -> str:
    """Swap a fraction of the gendered words (he/she, his/her, man/woman, ...) and
    capitalised gendered first names (John/Mary, ...) for their counterparts, keeping
    the case. All of them by default: a counterfactual twin of the text."""
    hits = [
        m for m in _WORD.finditer(text)
        if m[0].lower() in _GENDER_WORDS or m[0].lower() == "her"
        or (m[0][0].isupper() and m[0].lower() in _GENDER_NAMES)
    ]
    out, pos = [], 0
    for j in _pick(rng, len(hits), rate):
        m = hits[j]
        key = m[0].lower()
        if key == "her":
            new = _her_counterpart(text, m.end())
        else:
            new = _GENDER_WORDS.get(key) or _GENDER_NAMES[key]
        out += [text[pos : m.start()], _match_case(m[0], new)]
        pos = m.end()
    return "".join(out) + text[pos:]
