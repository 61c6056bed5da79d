"""Who a name is: the checks a student's name must pass, and the student id it gives. Pure.

A workshop may be anywhere, so a name may be written in any script: "Ada Lovelace", "Иван Петров",
"李雷", "محمد". The id names the student's task queue `W.<id>`, so it is short lowercase ASCII:

- A name whose letters are all Latin gives its slug, as it always did: lowercase ASCII letters
  and digits with single dashes ("Ada Lovelace" -> `ada-lovelace`, "Zoë" -> `zoe`). Case, accents,
  spaces and punctuation do not matter: "ada  LOVELACE" is the same student.
- Any other name is transliterated to ASCII (anyascii) and gets a suffix from a hash of the name
  itself (normalised and case-folded, letters and digits only): "李雷" -> `li-lei-<suffix>`. So
  "李雷" and "黎雷", both "li lei" in ASCII, stay two students, and a name always gives one id.
- The id is at most `MAX_ID_CHARS` characters: a longer slug is cut and gets the suffix too.
- The suffix is a digit and 7 letters a-z or digits 2-7. A Latin name whose slug would end in a
  word of that shape gets a suffix as well, so that no Latin name can take a hashed id; so does
  a name whose slug is one of the grader's own names (`RESERVED`: "Results" would otherwise
  have its tasks dealt into `W.results`, and "Grader" would be answered in the chat as the grader).

A name that mixes scripts ("Аda Lovelace" with a Cyrillic А) could pass for someone else's on the
leaderboard: it is refused, unless the mix is one that Unicode's UTS #39 "highly restrictive"
level allows (Latin with Han and Japanese kana, with Han and Bopomofo, or with Han and Hangul).
Digits, spaces and punctuation (the Common and Inherited scripts) go with any script.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import unicodedata

from anyascii import anyascii
from fontTools import unicodedata as scripts

MAX_NAME_CHARS = 40  # as typed (NFC), so that the name fits the store's String(64)
MAX_ID_CHARS = 48  # the store's slug columns are String(64); queue names are W.<id>
SUFFIX_CHARS = 8
MAX_SLUG_CHARS = MAX_ID_CHARS - 1 - SUFFIX_CHARS
SUFFIX_SHAPE = re.compile(r"[0-9][a-z2-7]{7}")
# W.<id> must not be one of the grader's queues or exchanges, and no student may be the grader in the chat
RESERVED = frozenset({"results", "rejected", "events", "progress", "lobby", "grader"})

NEUTRAL = {"Zyyy", "Zinh"}  # Common and Inherited: digits, punctuation, combining marks
LATIN = "Latn"
ALLOWED_MIXES = (  # UTS #39 "highly restrictive": besides a single script, only these
    frozenset({"Latn", "Hani", "Hira", "Kana"}),  # Japanese
    frozenset({"Latn", "Hani", "Bopo"}),  # Chinese with Bopomofo
    frozenset({"Latn", "Hani", "Hang"}),  # Korean
)
SYLLABIC = {"Hani", "Hang"}  # one character is one syllable: anyascii gives "LiLei" for "李雷"


class BadName(ValueError):
    """The name can never identify a student; `str()` says why, for the student."""


@functools.lru_cache(maxsize=65536)
def clean_name(name: str) -> str:
    """The name as shown and stored: trimmed, in NFC. Raises `BadName` with a sentence.

    Cached, like `student_id`: both run for every answer."""
    name = unicodedata.normalize("NFC", name).strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise BadName(f'"name" must be 1 to {MAX_NAME_CHARS} characters after trimming spaces; it has {len(name)}')
    folded = unicodedata.normalize("NFKC", name)  # ideographic and other spaces become plain ones
    if not folded.isprintable():
        raise BadName('"name" may contain only printable characters (no line breaks, tabs or control codes)')
    if not any(char.isalnum() for char in folded):
        raise BadName('"name" needs at least one letter or digit (in any script)')
    _check_scripts(folded)
    return name


@functools.lru_cache(maxsize=65536)
def student_id(name: str) -> str:
    """The id of the student called `name` (see the module's docstring). Raises `BadName`.

    `student_id("Ada Lovelace") == "ada-lovelace"`; `student_id("李雷")` is `li-lei-` and a suffix.
    """
    words = _words(clean_name(name))
    key = " ".join(words)
    plain = all(_is_plain(char) for char in key)
    slug = _slug(key)
    if (plain and slug and len(slug) <= MAX_ID_CHARS and slug not in RESERVED
            and not SUFFIX_SHAPE.fullmatch(slug.rsplit("-", 1)[-1])):
        return slug
    suffix = _suffix(slug if plain else key)  # Latin names stay one student however they are typed
    cut = slug[:MAX_SLUG_CHARS].rstrip("-")
    return f"{cut}-{suffix}" if cut else suffix


def _words(name: str) -> list[str]:
    """The name's runs of letters, marks and digits, normalised and case-folded (NFKC_Casefold)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    words, word = [], []
    for char in folded:
        if unicodedata.category(char)[0] in "LMN":
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def _is_plain(char: str) -> bool:
    """Whether `char` keeps a name Latin: ASCII, a Latin letter, a mark, or a Common non-digit."""
    if char.isascii() or char == " ":
        return True
    script = scripts.script(char)
    return script in (LATIN, "Zinh") or (script == "Zyyy" and not char.isnumeric())


def _slug(key: str) -> str:
    """`key` in ASCII: lowercase letters and digits, single dashes between words and syllables."""
    parts = []
    for char in key:
        ascii_char = anyascii(char)
        parts.append(f" {ascii_char} " if scripts.script(char) in SYLLABIC else ascii_char)
    return "-".join(re.findall(r"[a-z0-9]+", "".join(parts).lower()))


def _suffix(key: str) -> str:
    """A digit and 7 characters of base32 from the SHA-256 of `key`: about 38 bits."""
    digest = hashlib.sha256(key.encode()).digest()
    return str(digest[0] % 10) + base64.b32encode(digest[1:6]).decode().lower()[:SUFFIX_CHARS - 1]


def _check_scripts(name: str) -> None:
    """`BadName` if the letters of `name` mix scripts beyond what UTS #39 "highly restrictive" allows."""
    sets, seen = [], {}
    for char in name:
        if unicodedata.category(char)[0] not in "LMN":
            continue
        extensions = set(scripts.script_extension(char)) - NEUTRAL
        if not extensions:
            continue
        sets.append(extensions)
        script = scripts.script(char)
        label = scripts.script_name(script if script not in NEUTRAL else min(extensions))
        seen.setdefault(label, [])
        if char not in seen[label]:
            seen[label].append(char)
    if not sets or set.intersection(*sets) or any(all(s & mix for s in sets) for mix in ALLOWED_MIXES):
        return
    found = " and ".join(f"{label} ({', '.join(chars[:3])}{', …' if len(chars) > 3 else ''})"
                         for label, chars in sorted(seen.items(), key=lambda item: len(item[1])))
    raise BadName(f'"name" mixes letters of the scripts {found}, and a name that mixes scripts can look like '
                  "someone else's: write all its letters in one script")
