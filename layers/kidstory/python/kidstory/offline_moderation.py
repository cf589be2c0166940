"""How the offline moderator reads an idea or a page: it undoes the usual ways of hiding a word
(case, accents, Cyrillic and Greek lookalike letters, punctuation, leetspeak such as "k!ll" or
"s3x", letters spaced out as "s e x" or split as "sui cide"), sets aside benign phrases ("killer
whale"), then looks for the phrases of every category (kidstory.safety_rules) and, after them,
for their words; what makes a phrase count or not must stand near it. The first finding names
the category and the words that were found. Standard library only, compiled at first use."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from kidstory.safety_rules import BENIGN, CATEGORIES, WORD_ORDER, Category, word_forms

_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "i",
        "€": "e",
    }
)
# Cyrillic and Greek letters drawn like Latin ones ("sex" spelled with Cyrillic dze, ie and ha
# looks the same): read as the Latin letter they pass for, before accents are folded away.
_LOOKALIKES = str.maketrans(
    "аеорсухѕіјкмтвнАВЕКМНОРСТУХЅІЈαοριτυνκΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxsijkmtbhABEKMHOPCTYXSIJaopituvkABEZHIKMNOPTYX",
)
# A leet character counts as a letter only between letters, or next to one in a word that
# holds other letters ("k!ll", "$ex", "b0mb"); never in a number with its unit ("3d", "10yo").
_LEET_IN_WORD = re.compile(
    r"(?<=[a-z])[013457@$!|€]+(?=[a-z])|(?<=[a-z])[013457@$|€]+(?=\b)|"
    r"(?<![\w@$!|€])[@$|€5]+(?=[a-z])"
)
_NUMBER_WITH_UNIT = re.compile(r"^\d+(?:st|nd|rd|th|s|yo|y|yr|yrs|d|am|pm|k|m|km|cm|kg|g|x)$")
_TOKEN = re.compile(r"\S+")
_APOSTROPHES = re.compile(r"['\u2018\u2019`]")
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")
_REPEATED = re.compile(r"([a-wyz])\1{2,}")
_SPACED_LETTERS = re.compile(r"\b(?:[a-z] ){2,}[a-z]\b")
_GAP = "."
_EXCERPT_CHARS = 60


@dataclass(frozen=True)
class Finding:
    """What made an idea unsuitable: its category, and the words of it that were found."""

    category: Category
    found: str
    by_phrase: bool


def normalised(text: str) -> str:
    """`text` as the rules read it: lower case letters and digits, one space between words."""
    latin = text.translate(_LOOKALIKES)
    folded = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode("ascii")
    lowered = folded.lower().replace("+", " plus ")
    lowered = _APOSTROPHES.sub("", lowered)
    lowered = _TOKEN.sub(_undo_leet, lowered)
    words = _NOT_A_WORD.sub(" ", lowered).strip()
    words = _REPEATED.sub(r"\1", words)
    return _SPACED_LETTERS.sub(_joined_letters, words)


def _joined_letters(found: re.Match[str]) -> str:
    """Letters spaced out ("s e x") as the word they spell; a leading "a" or "i" of four or more
    stays a word of its own ("a s e x" is "a sex")."""
    letters = found.group(0).split(" ")
    if len(letters) >= 4 and letters[0] in ("a", "i"):
        return f"{letters[0]} {''.join(letters[1:])}"
    return "".join(letters)


def _undo_leet(token: re.Match[str]) -> str:
    word = token.group(0)
    bare = word.strip('.,;:?!"()[]{}')
    if not re.search(r"[a-z]", bare) or _NUMBER_WITH_UNIT.match(bare):
        return word
    return _LEET_IN_WORD.sub(lambda found: found.group(0).translate(_LEET), word)


@dataclass(frozen=True)
class _Phrase:
    category: Category
    pattern: re.Pattern[str]
    requires: re.Pattern[str] | None
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class _Rules:
    benign: re.Pattern[str]
    phrases: tuple[_Phrase, ...]
    words: tuple[tuple[Category, frozenset[str]], ...]
    longest_word: int
    joinable: frozenset[str]


def _bounded(pattern: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + pattern + r")\b")


@cache
def _rules() -> _Rules:
    phrases = tuple(
        _Phrase(
            category,
            _bounded(intent.pattern),
            _bounded(intent.requires) if intent.requires else None,
            _bounded(intent.unless) if intent.unless else None,
        )
        for category in CATEGORIES
        for intent in category.intents
    )
    by_name = {category.name: category for category in CATEGORIES}
    words = tuple(
        (by_name[name], frozenset().union(*(word_forms(word) for word in by_name[name].words)))
        for name in WORD_ORDER
        if by_name[name].words
    )
    longest = max(word.count(" ") + 1 for category in CATEGORIES for word in category.words)
    joinable = frozenset(
        word
        for category in CATEGORIES
        for word in category.words
        if " " not in word and len(word) >= 5
    )
    return _Rules(_bounded("|".join(BENIGN)), phrases, words, longest, joinable)


def _with_split_words_joined(text: str, joinable: frozenset[str]) -> str:
    """`text`, and after it any word of the rules that it splits in two ("sui cide")."""
    words = text.split(" ")
    joined = [first + then for first, then in itertools.pairwise(words) if first + then in joinable]
    return " . ".join([text, *joined]) if joined else text


def first_finding(text: str) -> Finding | None:
    """The first thing in `text` that makes it unsuitable for a child, or None."""
    rules = _rules()
    read = _with_split_words_joined(normalised(text), rules.joinable)
    read = rules.benign.sub(_GAP, read)
    for phrase in rules.phrases:
        for found in phrase.pattern.finditer(read):
            if (phrase.requires is None or phrase.requires.search(_around(read, found, 12))) and (
                phrase.unless is None or not phrase.unless.search(_around(read, found, 5))
            ):
                return Finding(phrase.category, _excerpt(found.group(0)), by_phrase=True)
    tokens = read.split(" ")
    for category, words in rules.words:
        for start in range(len(tokens)):
            for length in range(1, rules.longest_word + 1):
                candidate = " ".join(tokens[start : start + length])
                if candidate in words:
                    return Finding(category, candidate, by_phrase=False)
    return None


def _around(read: str, found: re.Match[str], words: int) -> str:
    """The finding and `words` words either side: a sign that makes it count (12 words: its
    clause or the next) or that excuses it (5: "shoots his sister with a water gun") must stand
    there; a harmless word elsewhere in the text excuses nothing."""
    before = read[: found.start()].split(" ")[-words:]
    after = read[found.end() :].split(" ")[:words]
    return " ".join([*before, found.group(0), *after])


def _excerpt(found: str) -> str:
    if len(found) <= _EXCERPT_CHARS:
        return found
    return found[: _EXCERPT_CHARS - 3].rsplit(" ", 1)[0] + "..."
