"""Readability in the story's language: English by Flesch-Kincaid, Spanish by Fernández
Huerta (a measure made for Spanish), any other language honestly not measured."""

from __future__ import annotations

import pytest

from kidstory.models import AgeGroup, StoryText
from kidstory.providers.base import StoryBrief
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.readability import grade_for_fernandez_huerta, readability_for
from kidstory.story_graph import build_story_graph, run_story_graph

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


class LongFrenchWriter(OfflineTextProvider):
    """Writes one long French sentence a page: far outside every band by English counts."""

    def __init__(self) -> None:
        super().__init__()
        self.drafts = 0

    def write_story(self, brief: StoryBrief) -> StoryText:
        self.drafts += 1
        story = super().write_story(brief)
        long = (
            "Le petit renard courageux, qui habitait depuis toujours au bord de la mer "
            "étincelante, décida finalement de partir à la recherche du trésor légendaire."
        )
        return story.model_copy(update={"pages": [long] * len(story.pages), "written_in": None})


@pytest.mark.parametrize(("language", "drafts"), [("fr", 1), ("en", 3)])
def test_a_story_in_a_language_without_a_measure_is_not_sent_back_for_its_level(
    language: str, drafts: int
) -> None:
    writer = LongFrenchWriter()
    brief = StoryBrief(
        prompt="A fox by the sea", age_group=AgeGroup.PRESCHOOL, min_pages=1, language=language
    )

    state = run_story_graph(build_story_graph(writer), brief, image_count=0, video_count=0)

    assert writer.drafts == drafts  # English figures send it back twice; French ones do not exist
    assert (state["readability"] is None) == (language == "fr")
