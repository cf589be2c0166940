"""Readability in the story's language: English by Flesch-Kincaid, Spanish by Fernández
Huerta (a measure made for Spanish), any other language honestly not measured."""

from __future__ import annotations

import pytest

from kidstory.models import AgeGroup
from kidstory.readability import grade_for_fernandez_huerta, readability_for

SPANISH_EASY = (
    "Pip es un zorro. Pip tiene una bufanda roja. Un día, Pip busca una calabaza. "
    "Su amigo el pájaro canta. Juntos la encuentran. ¡Qué alegría!"
)
SPANISH_HARD = (
    "La extraordinaria perseverancia demostrada por los intrépidos exploradores, "
    "particularmente durante las interminables expediciones invernales, constituyó "
    "indudablemente una manifestación incuestionable de responsabilidad colectiva."
)


def test_spanish_is_measured_with_fernandez_huerta_against_the_same_bands() -> None:
    easy = readability_for(SPANISH_EASY, AgeGroup.PRESCHOOL, "es")
    hard = readability_for(SPANISH_HARD, AgeGroup.PRESCHOOL, "es-MX")

    assert easy is not None and hard is not None
    assert easy.formula == hard.formula == "fernandez-huerta"
    assert easy.fits_age_group and not hard.fits_age_group
    assert easy.reading_ease > 90 > hard.reading_ease
    assert easy.band_max_grade == 4.5


@pytest.mark.parametrize(("ease", "grade"), [(95, 3.5), (90, 4.0), (75, 5.5), (60, 7.0)])
def test_a_fernandez_huerta_score_reads_as_the_grade_of_its_table(
    ease: float, grade: float
) -> None:
    assert grade_for_fernandez_huerta(ease) == grade


@pytest.mark.parametrize("language", ["fr", "de", "ar", "zh-Hant"])
def test_a_language_without_a_measure_made_for_it_is_not_measured(language: str) -> None:
    assert (
        readability_for("Il était une fois un petit renard.", AgeGroup.PRESCHOOL, language) is None
    )


def test_english_is_measured_as_before() -> None:
    english = readability_for("The fox has a red scarf. It is happy.", AgeGroup.PRESCHOOL, "en-GB")
    assert english is not None and english.formula == "flesch-kincaid"
