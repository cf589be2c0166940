"""The offline provider's versions of a story, deterministic and without a model: re-levelled
by splitting or joining sentences, and "translated" only by a label. It cannot translate: a
story asked for in another language keeps its text, and its title and every page say so."""

from __future__ import annotations

import re

from kidstory.models import AgeGroup, StoryText
from kidstory.providers.languages import is_english

AGE_ORDER = (AgeGroup.PRESCHOOL, AgeGroup.EARLY_READER, AgeGroup.MIDDLE_GRADE)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'A-Z])")
# Where a long sentence may be cut into two for younger readers.
_JOINS = re.compile(r"(?:,\s+and\s+|;\s+|,\s+but\s+|,\s+so\s+|\s+and then\s+)")
# Words that begin a sentence and may be lower-cased inside a joined one (never a name).
_STARTERS = frozenset(
    {"a", "an", "and", "as", "at", "every", "it", "on", "one", "so", "soon", "suddenly"}
    | {"that", "the", "then", "there", "they", "this", "we", "when", "she", "he"}
)


def offline_label(language: str) -> str:
    """The mark an offline story in another language than English carries."""
    return f"[{language} · offline, not translated]"


def mark_untranslated(story: StoryText, language: str) -> StoryText:
    """The offline writer's story for a language other than English: its text is English and
    stays so, with the title and every page marked (nothing claims to be a translation)."""
    if is_english(language):
        return story
    label = offline_label(language)
    return story.model_copy(
        update={
            "title": f"{story.title} {label}"[:200],
            "pages": [f"{label} {_unmarked(page)}" for page in story.pages],
            "written_in": "en",
        }
    )


_LABEL = r"\[[^\]]* · offline, not translated\]"


def _unmarked(page: str) -> str:
    """A page without an earlier offline label (a version of an offline version)."""
    return re.sub(rf"^{_LABEL} ", "", page)


def unmarked(title: str, pages: list[str]) -> tuple[str, list[str]]:
    """A story's title and pages without the labels of an earlier offline version."""
    return re.sub(rf" {_LABEL}$", "", title), [_unmarked(page) for page in pages]


def relevel(pages: list[str], from_ages: AgeGroup, to_ages: AgeGroup) -> list[str]:
    """The same pages for other readers: for younger ones, long sentences cut where they join
    two clauses; for older ones, short sentences joined in pairs. Page for page, nothing
    added or left out."""
    step = AGE_ORDER.index(to_ages) - AGE_ORDER.index(from_ages)
    if step < 0:
        return [" ".join(_split(sentence) for sentence in _sentences(page)) for page in pages]
    if step > 0:
        return [_joined(_sentences(page)) for page in pages]
    return list(pages)


def _sentences(page: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(page.strip()) if part]


def _split(sentence: str) -> str:
    parts = [part.strip() for part in _JOINS.split(sentence) if part.strip()]
    if len(parts) == 1:
        return sentence
    end = sentence[-1] if sentence[-1] in ".!?" else "."
    cut = []
    for part in parts:
        part = part.rstrip(".!?,;")
        cut.append(part[:1].upper() + part[1:] + ".")
    cut[-1] = cut[-1][:-1] + end
    return " ".join(cut)


def _joined(sentences: list[str]) -> str:
    joined: list[str] = []
    for index in range(0, len(sentences), 2):
        pair = sentences[index : index + 2]
        if len(pair) == 2 and pair[0].endswith(".") and pair[1][:1].isalpha():
            first, second = pair[0][:-1], pair[1]
            word = second.split(" ", 1)[0]
            if word.lower() in _STARTERS:
                second = second[:1].lower() + second[1:]
            joined.append(f"{first}, and {second}")
        else:
            joined.extend(pair)
    return " ".join(joined)
