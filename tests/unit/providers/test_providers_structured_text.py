"""What every model-backed writer does: asks per age group, keeps the character sheet in every
scene prompt, and asks again (a bounded number of times) when an answer cannot be used."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from kidstory.models import AgeGroup, Character, StoryText
from kidstory.providers.base import StoryBrief
from kidstory.providers.errors import ProviderError
from kidstory.providers.prompts import (
    PlannedScene,
    Question,
    ScenePlan,
    WrittenStory,
    scene_question,
    writer_question,
)
from kidstory.providers.structured_text import (
    AnswerT,
    StructuredTextProvider,
    retry_after_seconds,
    self_contained_schema,
)

IDEA = "A brave little mouse goes on an adventure to find a magical cheese"
LOOK = "a small grey mouse with round pink ears, wearing a red scarf and blue boots"
STYLE = "soft watercolour, warm morning light, pastel palette"


def brief(age: str = "6-8", min_pages: int = 3) -> StoryBrief:
    return StoryBrief(prompt=IDEA, age_group=AgeGroup(age), min_pages=min_pages)


def written(pages: int) -> str:
    return WrittenStory(
        title="Milo and the Moon Cheese",
        pages=[f"Page {number} of Milo's adventure." for number in range(1, pages + 1)],
        character=Character(name="Milo", species="mouse", look=LOOK),
        art_style=STYLE,
    ).model_dump_json()


def plan(*pages: int) -> str:
    return ScenePlan(
        scenes=[
            PlannedScene(
                page=page,
                scene_description=f"Milo on page {page}.",
                visual=f"Milo in the meadow, scene {page}.",
            )
            for page in pages
        ]
    ).model_dump_json()


class ScriptedModel(StructuredTextProvider[None]):
    """Answers with the given JSON texts in turn, recording every question."""

    name = "scripted"

    def __init__(self, *answers: str, repair_attempts: int = 1) -> None:
        super().__init__(
            "scripted-1", client=None, timeout_seconds=1, repair_attempts=repair_attempts
        )
        self.answers = list(answers)
        self.questions: list[Question] = []

    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        self.questions.append(question)
        return answer_type.model_validate_json(self.answers.pop(0))


def test_each_age_group_is_asked_for_its_own_kind_of_story() -> None:
    young, old = writer_question(brief("3-5", 1)), writer_question(brief("9-12", 1))

    assert "aged 3 to 5" in young.instructions
    assert "6 to 10 pages" in young.request
    assert "aged 9 to 12" in old.instructions
    assert "10 to 14 pages" in old.request
    assert "no violence" in young.instructions
    assert f"<idea>\n{IDEA}\n</idea>" in young.request


def test_the_story_has_a_page_for_every_illustration() -> None:
    assert "10 to 10 pages" in writer_question(brief("3-5", min_pages=10)).request


def test_a_story_too_short_for_its_illustrations_is_asked_for_again() -> None:
    model = ScriptedModel(written(pages=3), written(pages=8))

    story = model.write_story(brief(min_pages=3))

    assert len(story.pages) == 8
    assert story.character.look == LOOK
    assert story.art_style == STYLE
    assert len(model.questions) == 2
    assert "the story has 3 pages; it needs at least 8" in model.questions[1].request
    assert model.questions[1].request.startswith(model.questions[0].request)


def test_every_scene_prompt_carries_the_character_sheet_and_style_unchanged() -> None:
    story = StoryText.model_validate_json(written(pages=8))
    model = ScriptedModel(plan(8, 1, 4))

    scenes = model.plan_scenes(brief(), story, "image", 3)

    assert [scene.scene_description for scene in scenes] == [
        "Milo on page 1.",
        "Milo on page 4.",
        "Milo on page 8.",
    ]
    assert all(LOOK in scene.prompt and STYLE in scene.prompt for scene in scenes)
    assert "Plan exactly 3 still illustrations" in model.questions[0].request
    assert "8. Page 8 of Milo's adventure." in model.questions[0].request


def test_video_scenes_ask_for_gentle_movement() -> None:
    story = StoryText.model_validate_json(written(pages=8))

    question = scene_question(brief(), story, "video", 2)
    scenes = ScriptedModel(plan(2, 6)).plan_scenes(brief(), story, "video", 2)

    assert "animated clips" in question.request
    assert all("slow camera move" in scene.prompt and LOOK in scene.prompt for scene in scenes)


def test_an_answer_still_unusable_after_the_repairs_fails_for_good() -> None:
    story = StoryText.model_validate_json(written(pages=8))
    model = ScriptedModel(plan(1, 2), plan(1, 2), plan(1, 2), repair_attempts=2)

    with pytest.raises(ProviderError, match="no usable answer in 3 tries") as failure:
        model.plan_scenes(brief(), story, "image", 3)

    assert not failure.value.retryable
    assert len(model.questions) == 3
    assert "there are 2 scenes; exactly 3 are needed" in model.questions[-1].request


def test_a_scene_on_a_page_that_does_not_exist_is_asked_for_again() -> None:
    story = StoryText.model_validate_json(written(pages=8))
    model = ScriptedModel(plan(1, 9), plan(1, 8))

    scenes = model.plan_scenes(brief(), story, "image", 2)

    assert len(scenes) == 2
    assert "page 9 does not exist" in model.questions[1].request


def test_malformed_json_is_described_to_the_model() -> None:
    model = ScriptedModel('{"title": "Milo', written(pages=8))

    model.write_story(brief())

    assert "Invalid JSON" in model.questions[1].request


def test_retry_after_is_read_in_seconds_milliseconds_or_as_a_date() -> None:
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)

    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert 50 < (retry_after_seconds({"retry-after": in_a_minute}) or 0) <= 60
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_the_self_contained_schema_has_no_references() -> None:
    schema = self_contained_schema(WrittenStory)

    assert "$ref" not in json.dumps(schema)
    assert "$defs" not in schema
    assert schema["properties"]["character"]["required"] == ["name", "species", "look"]


def with_scenes(pages: int, *scene_pages: int) -> str:
    answer = json.loads(written(pages))
    answer["scenes"] = json.loads(plan(*scene_pages))["scenes"]
    return json.dumps(answer)


def test_the_writer_plans_the_scenes_with_the_story_in_one_call() -> None:
    model = ScriptedModel(with_scenes(8, 6, 1, 4))
    asked = StoryBrief(prompt=IDEA, age_group=AgeGroup("6-8"), min_pages=3, scenes=3)

    story = model.write_story(asked)

    assert len(model.questions) == 1
    assert "Also plan exactly 3 scenes" in model.questions[0].request
    for medium in ("image", "video"):
        scenes = story.scene_plan[medium]
        assert [scene.scene_description for scene in scenes] == [
            "Milo on page 1.",
            "Milo on page 4.",
            "Milo on page 6.",
        ]
        assert all(LOOK in scene.prompt and STYLE in scene.prompt for scene in scenes)


def test_an_unusable_plan_with_the_story_costs_no_second_draft() -> None:
    model = ScriptedModel(with_scenes(8, 1, 12, 4))  # page 12 does not exist
    asked = StoryBrief(prompt=IDEA, age_group=AgeGroup("6-8"), min_pages=3, scenes=3)

    story = model.write_story(asked)

    assert len(model.questions) == 1
    assert story.scene_plan == {}  # the prompters plan the scenes instead
    assert len(story.pages) == 8


def test_a_story_without_pictures_asks_for_no_scenes() -> None:
    model = ScriptedModel(written(8))

    model.write_story(brief())

    assert "Also plan exactly" not in model.questions[0].request
