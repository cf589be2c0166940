"""Ideas, pages and pictures are checked before anything is made or published."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from kidstory.models import AgeGroup
from kidstory.providers.base import StoryBrief
from kidstory.providers.offline_media import draw_illustration
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.readability import BANDS, advice, measure
from kidstory.safety import OfflineModerator, check_picture


@pytest.mark.parametrize(
    ("idea", "category"),
    [
        ("A story where the wolf kills the grandmother", "violence"),
        ("Pirates shoot each other with guns", "violence"),
        ("A naked princess", "sexual"),
        ("The bunny thinks about suicide", "self_harm"),
        ("Grandpa gets drunk on whiskey", "drugs"),
        ("A zombie apocalypse at school", "horror"),
    ],
)
def test_unsuitable_ideas_are_refused_with_a_reason_a_parent_can_read(
    idea: str, category: str
) -> None:
    verdict = OfflineModerator().check(idea)

    assert not verdict.allowed
    assert verdict.category == category
    assert (
        verdict.reason is not None and "does not belong in a story for children" in verdict.reason
    )


@pytest.mark.parametrize(
    "idea",
    [
        "A brave little mouse goes on an adventure to find a magical cheese",
        "A dragon learns a new skill",  # "skill" is not "kill"
        "The knight and the dragon become friends after a big argument",
        "A robot visits the therapist owl",  # "therapist" is not "rapist"
        "Shooting stars over the sea",
    ],
)
def test_ordinary_ideas_pass(idea: str) -> None:
    assert OfflineModerator().check(idea).allowed


def test_offline_pictures_pass_and_broken_or_blank_ones_do_not() -> None:
    assert check_picture(draw_illustration("A fox", palette_seed="Fern"), "image/png").allowed
    blank = io.BytesIO()
    Image.new("RGB", (512, 512), (255, 255, 255)).save(blank, format="PNG")

    assert check_picture(blank.getvalue(), "image/png").category == "blank_image"
    assert check_picture(b"not an image", "image/png").category == "broken_image"
    assert "not image/jpeg" in (check_picture(blank.getvalue(), "image/jpeg").reason or "")


@pytest.mark.parametrize("age", list(AgeGroup))
def test_offline_stories_fit_their_age_band(age: AgeGroup) -> None:
    story = OfflineTextProvider().write_story(StoryBrief("A shy otter", age, 10))

    readability = measure(story.content, age)

    assert readability.fits_age_group, readability
    assert advice(readability, age) is None
    assert readability.band_max_grade == BANDS[age].max_grade


def test_a_hard_text_is_sent_back_with_advice() -> None:
    text = (
        "Notwithstanding considerable institutional apprehension, the extraordinarily "
        "conscientious administrator systematically reorganized the interdepartmental "
        "communication infrastructure, substantially ameliorating organizational effectiveness."
    )

    readability = measure(text, AgeGroup.PRESCHOOL)

    assert not readability.fits_age_group
    assert "too hard for ages 3-5" in (advice(readability, AgeGroup.PRESCHOOL) or "")


@pytest.mark.parametrize(
    ("idea", "category"),
    [
        ("a story about \u0455\u0435\u0445 for kids", "sexual"),  # Cyrillic letters drawn as Latin
        ("a story about s\u0435x for kids", "sexual"),
        ("the boy shoots his sister and then they look at pictures", "violence"),
    ],
)
def test_lookalike_letters_and_a_harmless_word_elsewhere_do_not_excuse_an_idea(
    idea: str, category: str
) -> None:
    verdict = OfflineModerator().check(idea)

    assert (verdict.allowed, verdict.category) == (False, category)


def test_ideas_in_other_scripts_are_read_as_they_are() -> None:
    assert OfflineModerator().check("Маша и медведь: a bear and a girl have a picnic").allowed
