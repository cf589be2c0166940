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


# Measures made for a language other than English, by its primary subtag. Spanish: Fernández
# Huerta's reading ease (1959, Flesch's formula refitted to Spanish), syllables counted with
# Spanish hyphenation (pyphen's es dictionary).
SPANISH = "es"
MEASURED_LANGUAGES = ("en", SPANISH)


def readability_for(text: str, age_group: AgeGroup, language: str) -> Readability | None:
    """How hard `text`, in `language`, is to read, against its age group's band: English by
    Flesch-Kincaid (`measure`), Spanish by Fernández Huerta, whose score is turned into the
    school grade of its published table, so that the same bands apply; None for a language we
    have no measure for (the English formulas count English syllables and do not apply)."""
    primary = language.partition("-")[0].lower()
    if primary == "en":
        return measure(text, age_group)
    if primary == SPANISH:
        return _fernandez_huerta(text, age_group)
    return None


def grade_for_fernandez_huerta(ease: float) -> float:
    """The school grade Fernández Huerta's table gives a score (90-100: 4th grade, 80-90: 5th,
    70-80: 6th, 60-70: 7th-8th, 50-60: pre-university), read as a line through those points:
    grade 4 at 90, one grade more for every 10 points less (never below 0)."""
    return round(max(0.0, 4 + (90 - ease) / 10), 1)


def _fernandez_huerta(text: str, age_group: AgeGroup) -> Readability:
    from textstat.backend import metrics  # loaded by WriteStory only; language passed, no state

    band = BANDS[age_group]
    ease = round(float(metrics.fernandez_huerta(text, SPANISH)), 1)
    grade = grade_for_fernandez_huerta(ease)
    per_sentence = round(float(metrics.words_per_sentence(text)), 1)
    return Readability(
        grade_level=grade,
        words_per_sentence=per_sentence,
        reading_ease=ease,
        band_max_grade=band.max_grade,
        band_max_words_per_sentence=band.max_words_per_sentence,
        fits_age_group=band.min_grade <= grade <= band.max_grade
        and per_sentence <= band.max_words_per_sentence,
        formula="fernandez-huerta",
    )
