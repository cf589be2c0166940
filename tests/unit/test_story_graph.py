"""The story graph writes once, then runs only the prompters that were asked for."""

from __future__ import annotations

import pytest

from kidstory.models import AgeGroup, ScenePrompt, StoryText
from kidstory.providers.base import Medium, StoryBrief
from kidstory.providers.errors import ContentRefused
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.story_graph import build_story_graph, run_story_graph

BRIEF = StoryBrief(prompt="A fox who loves the sea", age_group=AgeGroup("6-8"), min_pages=3)


class CountingWriter(OfflineTextProvider):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write_story(self, brief: StoryBrief) -> StoryText:
        self.calls.append("story")
        return super().write_story(brief)

    def plan_scenes(
        self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
    ) -> list[ScenePrompt]:
        self.calls.append(medium)
        return super().plan_scenes(brief, story, medium, count)


@pytest.mark.parametrize(
    ("images", "videos", "expected"),
    [(3, 0, {"image"}), (0, 2, {"video"}), (2, 2, {"image", "video"}), (0, 0, set())],
)
def test_only_the_wanted_prompters_run(images: int, videos: int, expected: set[str]) -> None:
    writer = CountingWriter()

    state = run_story_graph(
        build_story_graph(writer), BRIEF, image_count=images, video_count=videos
    )

    assert writer.calls[0] == "story" and writer.calls.count("story") == 1
    assert set(writer.calls[1:]) == expected
    assert len(state.get("image_scenes", [])) == images
    assert len(state.get("video_scenes", [])) == videos


class PlansWithTheStory(CountingWriter):
    """A writer whose answer carries the scenes it was asked for."""

    def write_story(self, brief: StoryBrief) -> StoryText:
        story = super().write_story(brief)
        story.scene_plan = {
            medium: [
                ScenePrompt(scene_description=f"{medium} {n}", prompt=f"{medium} {n}")
                for n in range(brief.scenes)
            ]
            for medium in ("image", "video")
        }
        return story


def test_scenes_planned_with_the_story_need_no_second_call() -> None:
    writer = PlansWithTheStory()
    brief = StoryBrief(
        prompt="A fox who loves the sea", age_group=AgeGroup("6-8"), min_pages=3, scenes=3
    )

    state = run_story_graph(build_story_graph(writer), brief, image_count=3, video_count=3)

    assert writer.calls == ["story"]
    assert [scene.prompt for scene in state["image_scenes"]] == ["image 0", "image 1", "image 2"]
    assert [scene.prompt for scene in state["video_scenes"]] == ["video 0", "video 1", "video 2"]


def test_a_plan_with_the_story_that_does_not_fit_is_asked_for_again() -> None:
    writer = PlansWithTheStory()
    brief = StoryBrief(
        prompt="A fox who loves the sea", age_group=AgeGroup("6-8"), min_pages=3, scenes=2
    )

    state = run_story_graph(build_story_graph(writer), brief, image_count=3, video_count=0)

    assert writer.calls == ["story", "image"]
    assert len(state["image_scenes"]) == 3


def test_a_prompter_that_returns_too_few_scenes_is_an_error() -> None:
    class ShortWriter(OfflineTextProvider):
        def plan_scenes(
            self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
        ) -> list[ScenePrompt]:
            return super().plan_scenes(brief, story, medium, count)[:-1]

    with pytest.raises(ValueError, match="expected 3 image_scenes, got 2"):
        run_story_graph(build_story_graph(ShortWriter()), BRIEF, image_count=3, video_count=0)


class UnsafeFirstDraft(CountingWriter):
    """Writes something unsuitable until told why, then a proper story."""

    def write_story(self, brief: StoryBrief) -> StoryText:
        story = super().write_story(brief)
        if brief.revision_notes is None:
            return story.model_copy(update={"pages": [*story.pages[:-1], "Then he killed it."]})
        return story


class AlwaysUnsafe(CountingWriter):
    def write_story(self, brief: StoryBrief) -> StoryText:
        story = super().write_story(brief)
        return story.model_copy(update={"title": "The Bloody Night"})


def test_an_unsafe_draft_is_sent_back_with_the_reason_and_rewritten() -> None:
    writer = UnsafeFirstDraft()

    state = run_story_graph(build_story_graph(writer), BRIEF, image_count=1, video_count=0)

    assert writer.calls.count("story") == 2
    assert "killed" not in state["story"].content
    assert state["brief"].revision_notes is None
    assert state["readability"].fits_age_group


def test_a_story_that_stays_unsafe_is_refused_after_bounded_drafts() -> None:
    writer = AlwaysUnsafe()

    with pytest.raises(ContentRefused, match=r"after 3 drafts \(title: It mentions violence"):
        run_story_graph(build_story_graph(writer), BRIEF, image_count=1, video_count=0)

    assert writer.calls.count("story") == 3
