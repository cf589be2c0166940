"""What a model-backed writer is asked for a story in another language, a sequel and a version,
and which answers it accepts: a sequel's hero is the parent's word for word whatever the model
answers; a version has exactly its parent's pages."""

from __future__ import annotations

import pytest

from kidstory.models import AgeGroup, Character, StoryText
from kidstory.providers.base import StoryBrief, VersionBrief
from kidstory.providers.errors import ProviderError
from kidstory.providers.prompts import writer_question
from kidstory.providers.version_prompts import RetoldStory, version_question
from tests.unit.providers.test_providers_structured_text import (
    IDEA,
    LOOK,
    STYLE,
    ScriptedModel,
    written,
)

HERO = Character(name="Milo", species="mouse", look=LOOK)
PAGES = ("Milo finds a map.", "Milo climbs the hill.", "Milo shares the cheese.")


def version_brief(language: str = "es", ages: str = "6-8") -> VersionBrief:
    return VersionBrief(
        title="Milo and the Moon Cheese",
        pages=PAGES,
        character=HERO,
        art_style=STYLE,
        from_language="en",
        language=language,
        from_age_group=AgeGroup.EARLY_READER,
        age_group=AgeGroup(ages),
    )


def retold(pages: int) -> str:
    return RetoldStory(
        title="Milo y el queso de la luna",
        pages=[f"Milo, página {number}." for number in range(1, pages + 1)],
    ).model_dump_json()


def test_an_english_story_is_asked_for_as_before_and_another_language_by_name() -> None:
    english = writer_question(StoryBrief(prompt=IDEA, age_group=AgeGroup.EARLY_READER, min_pages=3))
    spanish = writer_question(
        StoryBrief(prompt=IDEA, age_group=AgeGroup.EARLY_READER, min_pages=3, language="es")
    )
    unnamed = writer_question(
        StoryBrief(prompt=IDEA, age_group=AgeGroup.EARLY_READER, min_pages=3, language="tlh")
    )

    assert "BCP 47" not in english.instructions
    assert 'every page in Spanish (BCP 47 "es")' in spanish.instructions
    assert "character sheet and the art_style in English" in spanish.instructions
    assert 'the language with BCP 47 tag "tlh"' in unnamed.instructions
    assert spanish.request == english.request


def test_a_sequels_writer_is_told_the_hero_the_style_and_the_story_so_far() -> None:
    sequel = StoryBrief(
        prompt="Milo visits the sea",
        age_group=AgeGroup.EARLY_READER,
        min_pages=3,
        character=HERO,
        art_style=STYLE,
        previously='In "Milo and the Moon Cheese": Milo finds a map.',
    )

    question = writer_question(sequel)

    assert f"- character.look: {LOOK}" in question.instructions
    assert f"- art_style: {STYLE}" in question.instructions
    assert '<previously>\nIn "Milo and the Moon Cheese": Milo finds a map.\n</previously>' in (
        question.request
    )


def test_a_sequels_hero_and_style_are_the_parents_whatever_the_model_answers() -> None:
    other = Character(name="Milo", species="mouse", look="a mouse in a green hat")
    sequel = StoryBrief(
        prompt="Milo visits the sea",
        age_group=AgeGroup.EARLY_READER,
        min_pages=3,
        character=other,
        art_style="crayon drawing",
    )

    story = ScriptedModel(written(8)).write_story(sequel)

    assert story.character == other and story.art_style == "crayon drawing"


def test_a_version_question_gives_every_page_and_asks_for_exactly_as_many() -> None:
    translation = version_question(version_brief("es", "6-8"))
    relevel = version_question(version_brief("en", "3-5"))
    both = version_question(version_brief("fr", "9-12"))

    assert translation.instructions.startswith("You translate picture-book stories into Spanish")
    assert relevel.instructions.startswith("You retell picture-book stories for children aged 3")
    assert both.instructions.startswith("You translate picture-book stories into French")
    assert "give exactly 3 pages" in translation.instructions
    assert "keep the hero's name as it is (Milo)" in translation.instructions
    assert "1. Milo finds a map.\n2. Milo climbs the hill.\n3. Milo shares the cheese." in (
        translation.request
    )


def test_a_version_with_another_number_of_pages_is_asked_again_with_the_reason() -> None:
    model = ScriptedModel(retold(2), retold(3))

    version = model.write_version(version_brief())

    assert version == StoryText(
        title="Milo y el queso de la luna",
        pages=["Milo, página 1.", "Milo, página 2.", "Milo, página 3."],
        character=HERO,
        art_style=STYLE,
    )
    assert "the story has 2 pages; it needs exactly 3" in model.questions[1].request


def test_a_version_that_never_has_its_pages_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="it needs exactly 3"):
        ScriptedModel(retold(4), retold(4)).write_version(version_brief())
