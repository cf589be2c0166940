"""The offline writer's sequels and versions: deterministic, page for page, and honest about
what it cannot do (it never claims to have translated)."""

from __future__ import annotations

from kidstory.models import AgeGroup
from kidstory.providers.base import StoryBrief, VersionBrief
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.providers.offline_versions import mark_untranslated, relevel
from kidstory.readability import measure

IDEA = "A curious fox looks for the biggest pumpkin in the garden"
LABEL = "[es · offline, not translated]"


def parent(ages: AgeGroup = AgeGroup.EARLY_READER) -> VersionBrief:
    story = OfflineTextProvider().write_story(StoryBrief(prompt=IDEA, age_group=ages, min_pages=3))
    return VersionBrief(
        title=story.title,
        pages=tuple(story.pages),
        character=story.character,
        art_style=story.art_style,
        from_language="en",
        language="en",
        from_age_group=ages,
        age_group=ages,
    )


def test_younger_readers_get_the_same_pages_with_shorter_sentences() -> None:
    older = parent(AgeGroup.MIDDLE_GRADE)
    younger = OfflineTextProvider().write_version(
        VersionBrief(**{**older.__dict__, "age_group": AgeGroup.PRESCHOOL})
    )

    assert len(younger.pages) == len(older.pages)
    before = measure("\n\n".join(older.pages), AgeGroup.PRESCHOOL)
    after = measure(younger.content, AgeGroup.PRESCHOOL)
    assert after.words_per_sentence < before.words_per_sentence
    assert younger.character == older.character and younger.art_style == older.art_style


def test_relevelling_splits_joined_clauses_and_joins_short_sentences() -> None:
    page = ["Pip laughed and twirled, and the bird cheered. Soon it was night."]

    assert relevel(page, AgeGroup.MIDDLE_GRADE, AgeGroup.PRESCHOOL) == [
        "Pip laughed and twirled. The bird cheered. Soon it was night."
    ]
    assert relevel(
        ["Pip laughed. Soon it was night."], AgeGroup.PRESCHOOL, AgeGroup.MIDDLE_GRADE
    ) == ["Pip laughed, and soon it was night."]
    assert relevel(page, AgeGroup.EARLY_READER, AgeGroup.EARLY_READER) == page


def test_an_offline_version_in_another_language_says_on_every_page_it_is_not_translated() -> None:
    asked = VersionBrief(**{**parent().__dict__, "language": "es"})

    version = OfflineTextProvider().write_version(asked)

    assert version.title == f"{asked.title} {LABEL}"
    assert version.pages == [f"{LABEL} {page}" for page in asked.pages]
    again = OfflineTextProvider().write_version(
        VersionBrief(
            **{
                **asked.__dict__,
                "title": version.title,
                "pages": tuple(version.pages),
                "from_language": "es",
                "language": "en",
            }
        )
    )
    assert again.title == asked.title and again.pages == list(asked.pages)  # labels removed


def test_an_english_story_is_never_marked() -> None:
    story = OfflineTextProvider().write_story(
        StoryBrief(prompt=IDEA, age_group=AgeGroup.PRESCHOOL, min_pages=1, language="en-GB")
    )
    assert mark_untranslated(story, "en-GB") == story
    assert "offline" not in story.title


def test_an_offline_sequel_brings_back_the_same_hero() -> None:
    first = OfflineTextProvider().write_story(
        StoryBrief(prompt=IDEA, age_group=AgeGroup.EARLY_READER, min_pages=1)
    )
    sequel = OfflineTextProvider().write_story(
        StoryBrief(
            prompt="An owl loses a kite by the river",
            age_group=AgeGroup.EARLY_READER,
            min_pages=1,
            character=first.character,
            art_style=first.art_style,
            previously="In the garden, the fox found a pumpkin.",
        )
    )

    assert sequel.character == first.character and sequel.art_style == first.art_style
    assert sequel.pages[0].startswith(f"Do you remember {first.character.name}, ")
    assert "owl" not in sequel.title.lower()
