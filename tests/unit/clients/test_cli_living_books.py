"""`kidstory regenerate`, `edit`, `sequel` and `version` (and `generate --language`) against a
scripted API behind urllib: what each asks for, and what it shows while and after it follows
the job."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.clients.test_cli import API, JOB, STORY, Answer, ScriptedApi, run

PAGES = ["Milo woke up.", "Milo ran to the barn.", "Milo found the cheese."]
SEQUEL = "8e2f3a41-0000-4000-8000-000000000003"
BASE = "/dev/api/v1/stories"


def story(**changes: Any) -> dict[str, Any]:
    body = {
        "id": STORY,
        "title": "Milo and the Cheese",
        "content": "\n\n".join(PAGES),
        "pages": PAGES,
        "age_group": "6-8",
        "language": "en",
        "images": [
            {"display_order": 0, "image_url": "https://media.example.test/1.png"},
            {"display_order": 1, "image_url": "https://media.example.test/2-v2.png"},
            {"display_order": 2, "image_url": "https://media.example.test/3.png"},
        ],
        "videos": [],
        "page_versions": [1, 2, 1],
        "sequels": [],
        "versions": [],
        "parent_id": None,
    }
    return body | changes


def page_job(status: str, stage: str, done: int) -> Answer:
    """A page job: its story_id is the story changed, from the start."""
    progress = {"stage": stage, "images_done": done, "images_total": 1}
    return Answer(body={"job_id": JOB, "status": status, "story_id": STORY, "progress": progress})


def story_job(status: str, stage: str, story_id: str | None) -> Answer:
    progress = {"stage": stage, "images_done": 0, "images_total": 0}
    return Answer(
        body={"job_id": JOB, "status": status, "story_id": story_id, "progress": progress}
    )


def sent(api: ScriptedApi, path: str) -> list[Any]:
    return [request for request in api.requests if request.full_url.endswith(path)]


def body_of(request: Any) -> Any:
    return json.loads(request.data)


def page_change_api(path: str, accepted: list[Answer | Exception]) -> ScriptedApi:
    return ScriptedApi(
        {
            path: accepted,
            f"{BASE}/jobs/{JOB}": [
                page_job("processing", "illustrating", 0),
                page_job("completed", "done", 1),
            ],
            f"{BASE}/{STORY}": [Answer(body=story())],
        }
    )


def test_regenerate_redraws_one_page_and_shows_it_as_it_is_now(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"{BASE}/{STORY}/pages/2/regenerate"
    api = page_change_api(path, [Answer(202, {"job_id": JOB})])

    result = run(
        api,
        capsys,
        "--url",
        API,
        "regenerate",
        STORY,
        "--page",
        "2",
        "--instructions",
        "Make the barn red",
        "--interval",
        "0",
    )

    assert result.code == 0, result.err
    (asked,) = sent(api, path)
    assert asked.get_method() == "POST"
    assert body_of(asked) == {"picture": True, "text": False, "instructions": "Make the barn red"}
    assert asked.get_header("Idempotency-key")
    # the same progress bar as generate's
    assert "] illustrating: 0 of 1 pictures\n" in result.out
    assert "] done: 1 of 1 pictures\n" in result.out
    # then the page as it is now: its version, its text and its own picture only
    assert "Milo and the Cheese: page 2 of 3, version 2\n\nMilo ran to the barn.\n" in result.out
    assert "picture 2: https://media.example.test/2-v2.png" in result.out
    assert "1.png" not in result.out and "3.png" not in result.out
    assert f"story {STORY}: {API}/api/v1/stories/{STORY}" in result.out


def test_regenerate_with_text_only_keeps_the_picture(capsys: pytest.CaptureFixture[str]) -> None:
    path = f"{BASE}/{STORY}/pages/3/regenerate"
    api = page_change_api(path, [Answer(202, {"job_id": JOB})])

    result = run(
        api,
        capsys,
        "--url",
        API,
        "regenerate",
        STORY,
        "--page",
        "3",
        "--no-picture",
        "--text",
        "--interval",
        "0",
    )

    assert result.code == 0, result.err
    assert body_of(sent(api, path)[0]) == {"picture": False, "text": True}


def test_regenerate_with_nothing_to_redo_asks_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    api = ScriptedApi({})

    result = run(api, capsys, "--url", API, "regenerate", STORY, "--page", "1", "--no-picture")

    assert result.code == 2 and api.requests == []
    assert "nothing to redo" in result.err


def test_a_page_change_asked_again_after_a_lost_answer_keeps_its_idempotency_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"{BASE}/{STORY}/pages/2/regenerate"
    api = page_change_api(
        path,
        [Answer(503, {"detail": "busy"}), TimeoutError("timed out"), Answer(202, {"job_id": JOB})],
    )

    result = run(api, capsys, "--url", API, "regenerate", STORY, "--page", "2", "--interval", "0")

    assert result.code == 0, result.err
    keys = {request.get_header("Idempotency-key") for request in sent(api, path)}
    assert len(sent(api, path)) == 3 and len(keys) == 1 and None not in keys
    assert result.waits[:2] == [1, 2]


def test_a_page_still_changing_is_said_and_not_asked_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"{BASE}/{STORY}/pages/2/regenerate"
    still = "Story is still being changed: try again when job 1234 has finished"
    api = page_change_api(path, [Answer(409, {"detail": still})])

    result = run(api, capsys, "--url", API, "regenerate", STORY, "--page", "2")

    assert result.code == 2 and len(api.requests) == 1
    assert result.err == f"kidstory: 409: {still}\n"


def test_edit_sends_the_text_and_shows_the_page_changed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"{BASE}/{STORY}/pages/2"
    api = page_change_api(path, [Answer(202, {"job_id": JOB})])

    result = run(
        api,
        capsys,
        "--url",
        API,
        "edit",
        STORY,
        "--page",
        "2",
        "--text",
        "Milo ran to the barn.",
        "--reader",
        "https://reader.example.test/reader/",
        "--interval",
        "0",
    )

    assert result.code == 0, result.err
    (asked,) = sent(api, path)
    assert asked.get_method() == "PATCH"
    assert body_of(asked) == {"text": "Milo ran to the barn."}
    assert asked.get_header("Idempotency-key")
    assert "page 2 of 3, version 2\n\nMilo ran to the barn.\n" in result.out
    # the reader's link opens the story at the page changed
    assert f"read it: https://reader.example.test/reader/#story={STORY}&page=2\n" in result.out
    assert result.out.index("] done") < result.out.index("page 2 of 3")


def test_an_edit_refused_by_moderation_says_why_and_follows_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"/api/v1/stories/{STORY}/pages/1"
    reason = "mentions weapons"
    refused = {"detail": [{"type": "content_policy", "loc": ["body", "text"], "msg": reason}]}
    api = ScriptedApi({path: [Answer(422, refused)]})

    result = run(api, capsys, "edit", STORY, "--page", "1", "--text", "Milo found a sword.")

    assert result.code == 2 and len(api.requests) == 1
    assert result.err == f"kidstory: 422: text: {reason}\n"
    assert "job" not in result.out


def test_a_sequel_asks_only_for_what_is_given_and_shows_the_new_story(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"{BASE}/{STORY}/sequel"
    new = story(
        id=SEQUEL,
        title="Milo at the Seaside",
        pages=["Milo saw the sea."],
        images=[],
        parent_id=STORY,
        page_versions=[1],
    )
    api = ScriptedApi(
        {
            path: [Answer(202, {"job_id": JOB})],
            f"{BASE}/jobs/{JOB}": [
                story_job("processing", "writing", None),
                story_job("processing", "illustrating", SEQUEL),
                story_job("completed", "done", SEQUEL),
            ],
            f"{BASE}/{SEQUEL}": [Answer(body=new | {"complete": False}), Answer(body=new)],
        }
    )

    result = run(
        api,
        capsys,
        "--url",
        API,
        "sequel",
        STORY,
        "Milo goes to the seaside",
        "--age",
        "3-5",
        "--no-videos",
        "--interval",
        "0",
    )

    assert result.code == 0, result.err
    (asked,) = sent(api, path)
    assert body_of(asked) == {
        "prompt": "Milo goes to the seaside",
        "age_group": "3-5",
        "generate_videos": False,
    }
    assert asked.get_header("Idempotency-key")
    out = result.out
    assert out.count("[page 1] Milo saw the sea.") == 1
    assert out.index("[page 1]") < out.index("] done")  # the text as soon as it is written
    assert f"made from story {STORY}" in out
    assert f"story {SEQUEL}: {API}/api/v1/stories/{SEQUEL}" in out


def test_a_version_asks_for_the_language_and_level_and_shows_its_family(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"{BASE}/{STORY}/versions"
    spanish = story(
        id=SEQUEL, title="Milo y el queso", language="es", age_group="3-5", parent_id=STORY
    )
    api = ScriptedApi(
        {
            path: [Answer(202, {"job_id": JOB})],
            f"{BASE}/jobs/{JOB}": [story_job("completed", "done", SEQUEL)],
            f"{BASE}/{SEQUEL}": [Answer(body=spanish)],
        }
    )

    result = run(api, capsys, "--url", API, "version", STORY, "--language", "es", "--age", "3-5")

    assert result.code == 0, result.err
    assert body_of(sent(api, path)[0]) == {"language": "es", "age_group": "3-5"}
    assert "language: es\n" in result.out
    assert f"made from story {STORY}" in result.out


def test_a_version_that_changes_nothing_asks_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    api = ScriptedApi({})

    result = run(api, capsys, "--url", API, "version", STORY)

    assert result.code == 2 and api.requests == []
    assert "--language and/or --age" in result.err


def test_show_lists_a_storys_sequels_and_versions(capsys: pytest.CaptureFixture[str]) -> None:
    related = {
        "id": SEQUEL,
        "title": "Milo y el queso",
        "relation": "version",
        "language": "es",
        "age_group": "3-5",
        "created_at": "2026-12-01T09:00:00Z",
    }
    api = ScriptedApi({f"{BASE}/{STORY}": [Answer(body=story(versions=[related]))]})

    result = run(api, capsys, "--url", API, "show", STORY)

    assert result.code == 0, result.err
    assert "\nversions:\n" in result.out
    assert f"  {SEQUEL}  es    ages 3-5   Milo y el queso\n" in result.out
    assert "sequels:" not in result.out


def test_generate_asks_for_the_language_given(capsys: pytest.CaptureFixture[str]) -> None:
    api = ScriptedApi(
        {
            f"{BASE}/generate": [Answer(202, {"job_id": JOB})],
            f"{BASE}/jobs/{JOB}": [story_job("completed", "done", STORY)],
            f"{BASE}/{STORY}": [Answer(body=story(language="ar"))],
        }
    )

    result = run(api, capsys, "--url", API, "generate", "A brave mouse", "--language", "ar")

    assert result.code == 0, result.err
    assert body_of(sent(api, "/generate")[0])["language"] == "ar"
    assert "language: ar\n" in result.out
