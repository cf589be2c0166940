"""The LangGraph graph run by WriteStory: the writer, a reviewer that checks every page for
child safety and the text for readability (sending a draft back a bounded number of times, and
refusing a story that stays unsafe), then the image and video prompters in parallel (a prompter
whose medium was not asked for is skipped; one takes the scenes the writer planned with the
story, and asks for a plan only when there is none that fits), then fan-in."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from kidstory.models import ScenePrompt, StoryText
from kidstory.providers.base import Medium, StoryBrief, TextProvider
from kidstory.providers.errors import ContentRefused
from kidstory.readability import Readability, advice, readability_for
from kidstory.safety import OfflineModerator, TextModerator
from kidstory.story_budget import MAX_REVISIONS


class StoryGraphState(TypedDict, total=False):
    brief: StoryBrief
    image_count: int
    video_count: int
    story: StoryText
    drafts: int
    readability: Readability | None  # None: the story's language has no measure
    unsafe: str | None
    image_scenes: list[ScenePrompt]
    video_scenes: list[ScenePrompt]


def build_story_graph(
    writer: TextProvider,
    moderator: TextModerator | None = None,
    max_revisions: int = MAX_REVISIONS,
) -> Any:
    """Compile the graph once per process; invoke it once per story."""
    checker = moderator or OfflineModerator()

    def story_writer(state: StoryGraphState) -> StoryGraphState:
        return {"story": writer.write_story(state["brief"]), "drafts": state.get("drafts", 0) + 1}

    def story_reviewer(state: StoryGraphState) -> StoryGraphState:
        story, brief = state["story"], state["brief"]
        unsafe = next(
            (
                f"page {number}: {verdict.reason}" if number else f"title: {verdict.reason}"
                for number, text in enumerate([story.title, *story.pages])
                if not (verdict := checker.check(text)).allowed
            ),
            None,
        )
        readability = readability_for(
            story.content, brief.age_group, story.written_in or brief.language
        )
        notes = unsafe or (advice(readability, brief.age_group) if readability else None)
        if unsafe and state["drafts"] > max_revisions:
            raise ContentRefused(
                f"The story was refused by the safety review after {state['drafts']} drafts "
                f"({unsafe})"
            )
        return {
            "readability": readability,
            "unsafe": unsafe,
            "brief": replace(brief, revision_notes=notes),
        }

    def after_review(state: StoryGraphState) -> list[str]:
        readability = state["readability"]
        needs_revision = state.get("unsafe") or (readability and not readability.fits_age_group)
        if needs_revision and state["drafts"] <= max_revisions:
            return ["story_writer"]
        return prompters_wanted(state)

    def scenes_for(state: StoryGraphState, medium: Medium, count: int) -> list[ScenePrompt]:
        """The scenes the writer planned with the story, or, when it gave none that fit, a
        plan asked of it now."""
        planned = state["story"].scene_plan.get(medium, [])
        if len(planned) == count:
            return planned
        return writer.plan_scenes(state["brief"], state["story"], medium, count)

    def image_prompter(state: StoryGraphState) -> StoryGraphState:
        return {"image_scenes": scenes_for(state, "image", state["image_count"])}

    def video_prompter(state: StoryGraphState) -> StoryGraphState:
        return {"video_scenes": scenes_for(state, "video", state["video_count"])}

    def prompters_wanted(state: StoryGraphState) -> list[str]:
        wanted = [
            name
            for name, count in (
                ("image_prompter", state.get("image_count", 0)),
                ("video_prompter", state.get("video_count", 0)),
            )
            if count > 0
        ]
        return wanted or ["fan_in"]

    def fan_in(state: StoryGraphState) -> StoryGraphState:
        planned = {
            "image_scenes": (len(state.get("image_scenes", [])), state.get("image_count", 0)),
            "video_scenes": (len(state.get("video_scenes", [])), state.get("video_count", 0)),
        }
        for key, (got, wanted) in planned.items():
            if got != wanted:
                raise ValueError(f"expected {wanted} {key}, got {got}")
        return {}

    graph = StateGraph(StoryGraphState)
    graph.add_node("story_writer", story_writer)
    graph.add_node("story_reviewer", story_reviewer)
    graph.add_node("image_prompter", image_prompter)
    graph.add_node("video_prompter", video_prompter)
    graph.add_node("fan_in", fan_in, defer=True)
    graph.add_edge(START, "story_writer")
    graph.add_edge("story_writer", "story_reviewer")
    graph.add_conditional_edges(
        "story_reviewer",
        after_review,
        ["story_writer", "image_prompter", "video_prompter", "fan_in"],
    )
    graph.add_edge("image_prompter", "fan_in")
    graph.add_edge("video_prompter", "fan_in")
    graph.add_edge("fan_in", END)
    return graph.compile()


def run_story_graph(
    graph: Any, brief: StoryBrief, *, image_count: int, video_count: int
) -> StoryGraphState:
    state: StoryGraphState = graph.invoke(
        {"brief": brief, "image_count": image_count, "video_count": video_count}
    )
    return state
