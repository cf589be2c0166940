"""The offline writer gives a readable story that follows the idea and fits the age group."""

from __future__ import annotations

from kidstory.models import AgeGroup
from kidstory.providers.base import StoryBrief
from kidstory.providers.offline_text import OfflineTextProvider

IDEA = "A brave little mouse goes on an adventure to find a magical cheese"


def _brief(age: str = "6-8", min_pages: int = 1, prompt: str = IDEA) -> StoryBrief:
    return StoryBrief(prompt=prompt, age_group=AgeGroup(age), min_pages=min_pages)


def test_story_follows_the_idea() -> None:
    story = OfflineTextProvider().write_story(_brief())

    assert story.character.species == "mouse"
    assert "brave" in story.title.lower()
    assert "find a magical cheese" in story.content
    assert story.pages[-1].endswith("The End.")


def test_same_idea_gives_the_same_story_and_another_idea_another() -> None:
    writer = OfflineTextProvider()

    assert writer.write_story(_brief()) == writer.write_story(_brief())
    other = writer.write_story(_brief(prompt="A shy dragon wants to learn to dance"))
    assert other.character.species == "dragon"
    assert other.content != writer.write_story(_brief()).content


def test_older_readers_get_longer_stories() -> None:
    writer = OfflineTextProvider()
    stories = [writer.write_story(_brief(age)) for age in ("3-5", "6-8", "9-12")]

    assert [len(story.pages) for story in stories] == [6, 7, 8]
    words = [len(story.content.split()) for story in stories]
    assert words[0] < words[1] < words[2]
    assert all(len(story.content.split()) / len(story.pages) < 60 for story in stories)


def test_there_is_a_page_for_every_illustration() -> None:
    story = OfflineTextProvider().write_story(_brief("3-5", min_pages=10))

    assert len(story.pages) == 10
    assert len(set(story.pages)) == 10


def test_every_scene_carries_the_same_character_sheet() -> None:
    writer = OfflineTextProvider()
    story = writer.write_story(_brief())

    scenes = writer.plan_scenes(_brief(), story, "image", 4)

    assert len(scenes) == 4
    assert all(story.character.look in scene.prompt for scene in scenes)
    assert all(story.art_style in scene.prompt for scene in scenes)
    assert scenes[0].scene_description.startswith("Once upon a time")
    assert len({scene.scene_description for scene in scenes}) == 4
