"""Readability: how hard a story is to read, and whether that fits the age group."""

from __future__ import annotations

from dataclasses import dataclass

from kidstory.models import AgeGroup, Readability


@dataclass(frozen=True)
class Band:
    """What fits an age group: at most this Flesch-Kincaid grade level and sentence length
    (and, for older readers, at least this grade, so the story is not babyish)."""

    max_grade: float
    max_words_per_sentence: float
    min_grade: float = 0.0


# Picture books are read aloud to the youngest, so their band is wider than their own reading.
BANDS = {
    AgeGroup.PRESCHOOL: Band(max_grade=4.5, max_words_per_sentence=12),
    AgeGroup.EARLY_READER: Band(max_grade=6.0, max_words_per_sentence=16),
    AgeGroup.MIDDLE_GRADE: Band(max_grade=9.0, max_words_per_sentence=22, min_grade=2.5),
}


def measure(text: str, age_group: AgeGroup) -> Readability:
    import textstat  # loaded by WriteStory only

    band = BANDS[age_group]
    grade = round(float(textstat.flesch_kincaid_grade(text)), 1)
    per_sentence = round(float(textstat.words_per_sentence(text)), 1)
    return Readability(
        grade_level=grade,
        words_per_sentence=per_sentence,
        reading_ease=round(float(textstat.flesch_reading_ease(text)), 1),
        band_max_grade=band.max_grade,
        band_max_words_per_sentence=band.max_words_per_sentence,
        fits_age_group=band.min_grade <= grade <= band.max_grade
        and per_sentence <= band.max_words_per_sentence,
    )


def advice(readability: Readability, age_group: AgeGroup) -> str | None:
    """What a writer should change for the story to fit its age group, or None."""
    if readability.fits_age_group:
        return None
    band = BANDS[age_group]
    if readability.grade_level > band.max_grade:
        return (
            f"It reads at grade {readability.grade_level}, too hard for ages {age_group.value} "
            f"(at most {band.max_grade}): use shorter words and sentences."
        )
    if readability.words_per_sentence > band.max_words_per_sentence:
        return (
            f"Its sentences have {readability.words_per_sentence} words on average; for ages "
            f"{age_group.value} keep them under {band.max_words_per_sentence:g}."
        )
    return (
        f"It reads at grade {readability.grade_level}, too simple for ages {age_group.value}: "
        "use richer words and longer sentences."
    )
