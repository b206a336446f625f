"""Names typed in Latin letters, as Russian passports spell them (the ICAO Doc 9303 table of the order
of the MVD of Russia No. 889), read back into Cyrillic for the registry's search.

The passport table loses letters (ь is dropped; и and й, е, ё and э share a spelling; ъ is "ie"),
so a Latin word has one likely Cyrillic reading (``latin_to_cyrillic``: what the typo-tolerant
surname search looks for) and a pattern of every Cyrillic spelling that gives it
(``latin_pattern``: how the first name and patronymic are matched exactly). The older spellings
people still type (y for й, ya, yu, yo, j, x) are read too."""

from __future__ import annotations

import re

LATIN_WORD = re.compile(r"^[a-z'\-]*[a-z][a-z'\-]*$")

# Latin token -> its Cyrillic spellings, the likely one first. Longest tokens are tried first.
TOKENS: dict[str, tuple[str, ...]] = {
    "shch": ("щ", "шч"),
    "sch": ("щ", "сч"),
    "zh": ("ж", "зх"),
    "kh": ("х", "кх"),
    "ts": ("ц", "тс"),
    "tz": ("ц",),
    "ch": ("ч",),
    "sh": ("ш", "сх"),
    "iu": ("ю", "иу", "йу"),
    "ia": ("я", "иа", "йа"),
    "ie": ("ие", "ъ", "йе"),
    "yu": ("ю",),
    "ya": ("я",),
    "yo": ("е", "йо"),  # ё is searched as е (registry.selectors.search_key)
    "ye": ("е", "ье", "ъе"),
    "a": ("а",),
    "b": ("б",),
    "c": ("к", "ц"),
    "d": ("д",),
    "e": ("е", "э"),
    "f": ("ф",),
    "g": ("г",),
    "h": ("х",),
    "i": ("и", "й"),
    "j": ("й", "дж"),
    "k": ("к",),
    "l": ("л",),
    "m": ("м",),
    "n": ("н",),
    "o": ("о",),
    "p": ("п",),
    "q": ("к",),
    "r": ("р",),
    "s": ("с",),
    "t": ("т",),
    "u": ("у",),
    "v": ("в",),
    "w": ("в",),
    "x": ("кс",),
    "y": ("ы", "й"),
    "z": ("з",),
    "-": ("-",),
    "'": ("",),
}
_LONGEST = max(len(token) for token in TOKENS)
_VOWELS = set("aeiouy")


def is_latin(word: str) -> bool:
    return bool(LATIN_WORD.match(word))


def tokens(word: str) -> list[str]:
    """The word cut into the table's tokens, longest first from the left."""
    result, i = [], 0
    while i < len(word):
        for size in range(min(_LONGEST, len(word) - i), 0, -1):
            if word[i : i + size] in TOKENS:
                result.append(word[i : i + size])
                i += size
                break
        else:
            i += 1  # not a letter of the table: left out
    return result


def latin_to_cyrillic(word: str) -> str:
    """The likely Cyrillic reading of a Latin word: i and y after a vowel, before a consonant or at
    the end, are й (Sergei, Mikhailov, Dmitrii, Sergey); otherwise the first spelling of each token."""
    parts = tokens(word)
    out = []
    for n, token in enumerate(parts):
        after_vowel = n > 0 and parts[n - 1][-1] in _VOWELS
        before = parts[n + 1] if n + 1 < len(parts) else ""
        before_consonant = not before or before[0] not in _VOWELS
        if token in ("i", "y") and after_vowel and before_consonant:
            out.append("й")
        else:
            out.append(TOKENS[token][0])
    return "".join(out)


def latin_pattern(word: str) -> str:
    """A regular expression (PostgreSQL's and Python's alike) of every Cyrillic spelling that the
    passport table writes as ``word``, a dropped soft or hard sign allowed after each letter."""
    parts = []
    for token in tokens(word):
        spellings = TOKENS[token]
        choice = spellings[0] if len(spellings) == 1 else "(?:" + "|".join(spellings) + ")"
        parts.append(choice + ("" if token in ("-", "'") else "[ьъ]?"))
    return "".join(parts)
