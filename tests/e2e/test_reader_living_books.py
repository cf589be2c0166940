"""Living books in the web reader, in a real browser (Debian's chromium, driven by Playwright): a
page's picture redrawn and its text edited, a sequel and a version asked for and opened, the
links between a story's versions and a series' books, a page's earlier versions, and a story in a
right-to-left language written so.

The API is played here with Playwright's `page.route`, as docs/api.md gives its answers (page
changes, sequels, versions and the jobs that make them): what is tested is the reader. A job
can be held while it runs, so that what the reader shows meanwhile is looked at, not raced.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kidstory.models import RIGHT_TO_LEFT
from tests.e2e.test_reader import DESKTOP, READER_DIR, wait_until
from tests.e2e.test_reader_read_along import browser, reader_site

__all__ = ["browser", "reader_site"]  # the fixtures, shared

STORY = "7a0e8400-e29b-41d4-a716-446655440001"
SEQUEL = "7a0e8400-e29b-41d4-a716-446655440002"
ARABIC = "7a0e8400-e29b-41d4-a716-446655440003"
SPANISH = "7a0e8400-e29b-41d4-a716-446655440004"
JOB = "8b0e8400-e29b-41d4-a716-44665544000{}"
PAGES = [
    "Milo the mouse woke up early. He could smell cheese!",
    "He ran across the yard to the old red barn.",
    "There it was, the magic cheese. The end.",
]
ARABIC_PAGES = ["استيقظ ميلو الفأر باكرا.", "ركض إلى الحظيرة الحمراء.", "وجد الجبن السحري."]
MEDIA = "https://media.example.test"
# a 1x1 PNG: every picture the same bytes, told apart by its address
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SHOWN_TEXT = "document.getElementById('page-text').textContent"
COUNTER = "document.getElementById('page-counter').textContent"


def image(order: int, version: int = 1) -> dict[str, Any]:
    return {
        "id": f"image-{order}-v{version}",
        "image_url": f"{MEDIA}/{order}-v{version}.png",
        "prompt_used": "a mouse",
        "scene_description": f"Milo on page {order + 1} (version {version})",
        "display_order": order,
    }


def story(
    story_id: str = STORY,
    *,
    title: str = "Milo and the Magic Cheese",
    pages: list[str] | None = None,
    language: str = "en",
    age_group: str = "6-8",
    parent_id: str | None = None,
    series_id: str | None = None,
) -> dict[str, Any]:
    pages = pages or list(PAGES)
    return {
        "id": story_id,
        "title": title,
        "content": "\n\n".join(pages),
        "age_group": age_group,
        "prompt": "A mouse looks for a magic cheese",
        "created_at": "2026-12-01T09:00:00Z",
        "images": [image(order) for order in range(3)],
        "videos": [],
        "job_id": JOB.format(0),
        "pages": pages,
        "character": {"name": "Milo", "species": "mouse", "look": "a small brown mouse"},
        "readability": None,
        "offline": True,
        "notice": None,
        "complete": True,
        "narration": None,
        "language": language,
        "series_id": series_id,
        "parent_id": parent_id,
        "sequels": [],
        "versions": [],
        "page_versions": [1, 1, 1],
    }


def related(of: dict[str, Any], relation: str) -> dict[str, Any]:
    keys = ("id", "title", "language", "age_group", "created_at")
    return {key: of[key] for key in keys} | {"relation": relation}


def job(
    job_id: str, status: str, stage: str, story_id: str | None, images: int = 0
) -> dict[str, Any]:
    done = images if status == "completed" else 0
    return {
        "job_id": job_id,
        "status": status,
        "story_id": story_id,
        "error": None,
        "created_at": "2026-12-01T09:00:00Z",
        "updated_at": "2026-12-01T09:00:01Z",
        "progress": {
            "stage": stage,
            "images_done": done,
            "images_total": images,
            "videos_done": 0,
            "videos_total": 0,
        },
    }


@dataclass
class Job:
    """A job as the API tells it: running while it is held, then completed; `then` is what it
    makes, done as it completes."""

    running: dict[str, Any]
    completed: dict[str, Any]
    then: Callable[[], None] = lambda: None
    release: threading.Event = field(default_factory=threading.Event)
    looks: int = 0


@dataclass
class Asked:
    method: str
    path: str
    body: Any


class FakeApi:
    """The API's answers to the reader, from the stories and jobs held here. `answers` sets what
    a page change, sequel or version request is answered with (a job started, or a refusal)."""

    def __init__(self) -> None:
        self.stories: dict[str, dict[str, Any]] = {STORY: story()}
        self.jobs: dict[str, Job] = {}
        self.page_versions: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.answers: dict[str, Callable[[Any], tuple[int, Any]]] = {}
        self.asked: list[Asked] = []

    def start(self, job_id: str, made: Job) -> tuple[int, Any]:
        self.jobs[job_id] = made
        return 202, {"job_id": job_id, "status": "pending", "message": "Accepted"}

    def handle(self, route: Any) -> None:
        request = route.request
        path = request.url.split("?")[0].split("/api/v1/stories", 1)[1]
        body = json.loads(request.post_data) if request.post_data else None
        self.asked.append(Asked(request.method, path, body))
        status, answer = self.answer(request.method, path, body)
        route.fulfill(status=status, json=answer)

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "":
            return 200, {"stories": [], "total": 0}
        found = re.fullmatch(r"/jobs/([^/]+)", path)
        if method == "GET" and found:
            running = self.jobs[found.group(1)]
            running.looks += 1
            if not running.release.is_set():
                return 200, running.running
            running.then()
            running.then = lambda: None
            return 200, running.completed
        found = re.fullmatch(r"/([^/]+)/pages/(\d+)/versions", path)
        if method == "GET" and found:
            return 200, {
                "story_id": found.group(1),
                "page": int(found.group(2)),
                "current_version": len(self.page_versions[(found.group(1), int(found.group(2)))]),
                "versions": self.page_versions[(found.group(1), int(found.group(2)))],
            }
        found = re.fullmatch(r"/([^/]+)", path)
        if method == "GET" and found:
            if found.group(1) in self.stories:
                return 200, self.stories[found.group(1)]
            return 404, {"detail": f"Story {found.group(1)} not found"}
        for pattern, kind in (
            (r"POST /[^/]+/pages/\d+/regenerate", "regenerate"),
            (r"PATCH /[^/]+/pages/\d+", "edit"),
            (r"POST /[^/]+/sequel", "sequel"),
            (r"POST /[^/]+/versions", "version"),
            (r"POST /generate", "generate"),
        ):
            if re.fullmatch(pattern, f"{method} {path}"):
                return self.answers[kind](body)
        return 404, {"detail": "Not found"}

    def asked_for(self, method: str, ending: str) -> list[Asked]:
        return [one for one in self.asked if one.method == method and one.path.endswith(ending)]


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def open_reader(browser: Any, reader_site: str, api: FakeApi) -> Iterator[Callable[[str], Any]]:
    """Opens the reader at a place (`#story=...`) against the fake API; fails on any script
    error."""
    contexts: list[Any] = []
    script_errors: list[str] = []

    def opening(place: str) -> Any:
        context = browser.new_context(viewport=DESKTOP)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        page.route("**/api/v1/**", api.handle)
        page.route(f"{MEDIA}/**", lambda route: route.fulfill(body=PNG, content_type="image/png"))
        page.goto(f"{reader_site}/reader/{place}")
        page.wait_for_selector("body[data-ready=true]")
        return page

    yield opening
    for job_ in api.jobs.values():
        job_.release.set()
    for context in contexts:
        context.close()
    assert not script_errors, script_errors


def reading(open_reader: Callable[[str], Any], page_number: int = 1) -> Any:
    page = open_reader(f"#story={STORY}&page={page_number}")
    page.locator("#story-view").wait_for(state="visible")
    wait_until(page, f"{COUNTER} === 'Page {page_number} of 3'", timeout=10)
    return page


def pictures_shown(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#page-media img", "images => images.map(i => i.src)"))


def test_a_pages_text_is_edited_and_shown_with_its_earlier_version(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    new_text = "He hopped all the way to the old red barn."
    changed = job(JOB.format(1), "processing", "writing", STORY)

    def edited() -> None:
        api.stories[STORY]["pages"][1] = new_text
        api.stories[STORY]["page_versions"] = [1, 2, 1]
        api.page_versions[(STORY, 2)] = [
            {
                "version": 1,
                "current": False,
                "change": "written",
                "job_id": JOB.format(0),
                "created_at": "2026-12-01T09:00:00Z",
                "text": PAGES[1],
                "image": image(1),
                "narration": None,
            },
            {
                "version": 2,
                "current": True,
                "change": "edited",
                "job_id": JOB.format(1),
                "created_at": "2026-12-01T10:00:00Z",
                "text": new_text,
                "image": image(1),
                "narration": None,
            },
        ]

    api.answers["edit"] = lambda body: api.start(
        JOB.format(1),
        Job(changed, job(JOB.format(1), "completed", "done", STORY), then=edited),
    )
    page = reading(open_reader, 2)
    assert page.locator("#history-toggle").is_hidden()  # a page as first written

    toggle = page.get_by_role("button", name="Edit text")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    text_box = page.get_by_label("The page's text")
    assert text_box.input_value() == PAGES[1]
    assert page.evaluate("document.activeElement.id") == "edit-text"
    text_box.fill(new_text)
    page.get_by_role("button", name="Save the text").click()

    # the change is followed with the story's progress bar; no other change meanwhile
    wait_until(page, "document.getElementById('story-view').dataset.changing === 'true'", 10)
    assert page.locator("#story-progress").is_visible()
    assert page.locator("#story-progress-text").inner_text() == "Writing the story…"
    assert page.locator("#redraw-toggle").get_attribute("aria-disabled") == "true"
    assert page.locator("#edit-form").is_hidden()
    assert page.evaluate(SHOWN_TEXT) == PAGES[1]

    api.jobs[JOB.format(1)].release.set()
    wait_until(page, f"{SHOWN_TEXT} === {json.dumps(new_text)}", timeout=10)
    assert page.locator("#story-progress-text").inner_text() == "Done! The page is changed."
    assert page.evaluate(COUNTER) == "Page 2 of 3"
    (patched,) = api.asked_for("PATCH", f"/{STORY}/pages/2")
    assert patched.body == {"text": new_text}
    wait_until(page, "!document.getElementById('story-view').dataset.changing", 5)
    assert page.locator("#redraw-toggle").get_attribute("aria-disabled") is None

    # its earlier version stays readable
    assert page.locator("#page-version").inner_text() == "This page is at version 2."
    history = page.get_by_role("button", name="Earlier versions")
    history.click()
    assert history.get_attribute("aria-expanded") == "true"
    texts = page.locator("#page-history-list .page-version-text")
    texts.nth(1).wait_for()
    assert texts.all_inner_texts() == [PAGES[1], new_text]
    items = page.locator("#page-history-list > li")
    assert items.nth(1).get_attribute("aria-current") == "true"
    assert items.nth(0).get_attribute("aria-current") is None
    assert "edited" in items.nth(1).locator(".page-version-head").inner_text()

    # the other pages are as they were
    page.get_by_role("button", name="Next").click()
    assert page.evaluate(SHOWN_TEXT) == PAGES[2]
    assert page.locator("#history-toggle").is_hidden()


def test_an_edit_refused_by_moderation_says_why_next_to_the_text(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    reason = "The text mentions a weapon"
    refusal = [{"type": "content_policy", "loc": ["body", "text"], "msg": reason}]
    api.answers["edit"] = lambda body: (422, {"detail": refusal})
    page = reading(open_reader, 1)

    page.get_by_role("button", name="Edit text").click()
    page.get_by_label("The page's text").fill("Milo found a sword.")
    page.get_by_role("button", name="Save the text").click()

    said = page.locator("#edit-text-error")
    said.wait_for(state="visible")
    assert said.inner_text() == f"We can't use this text in a children's story: {reason}"
    text_box = page.get_by_label("The page's text")
    assert text_box.get_attribute("aria-invalid") == "true"
    assert "edit-text-error" in (text_box.get_attribute("aria-describedby") or "")
    assert page.evaluate("document.activeElement.id") == "edit-text"
    assert text_box.input_value() == "Milo found a sword."
    assert page.evaluate(SHOWN_TEXT) == PAGES[0]
    assert not [one for one in api.asked if one.path.startswith("/jobs/")]


def test_a_picture_is_redrawn_and_only_its_page_changes(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    def redrawn() -> None:
        api.stories[STORY]["images"][1] = image(1, version=2)
        api.stories[STORY]["page_versions"] = [1, 2, 1]

    running = job(JOB.format(2), "processing", "illustrating", STORY, images=1)
    api.answers["regenerate"] = lambda body: api.start(
        JOB.format(2),
        Job(running, job(JOB.format(2), "completed", "done", STORY, images=1), then=redrawn),
    )
    page = reading(open_reader, 1)
    assert pictures_shown(page) == [f"{MEDIA}/0-v1.png"]
    page.keyboard.press("ArrowRight")
    assert pictures_shown(page) == [f"{MEDIA}/1-v1.png"]

    page.get_by_role("button", name="Redraw picture").click()
    page.get_by_label("What should be different? (optional)").fill("Make the barn door open")
    page.get_by_role("button", name="Redraw the picture").click()

    wait_until(page, "document.getElementById('story-view').dataset.changing === 'true'", 10)
    wait_until(
        page,
        "document.getElementById('story-progress-text').textContent"
        " === 'Drawing the pictures: 0 of 1 pictures'",
        10,
    )
    assert page.evaluate("document.getElementById('story-progress-bar').dataset.stage") == (
        "illustrating"
    )
    api.jobs[JOB.format(2)].release.set()
    wait_until(page, f"document.querySelector('#page-media img').src === '{MEDIA}/1-v2.png'", 10)

    (asked,) = api.asked_for("POST", f"/{STORY}/pages/2/regenerate")
    assert asked.body == {"picture": True, "text": False, "instructions": "Make the barn door open"}
    assert page.evaluate(COUNTER) == "Page 2 of 3"
    assert page.evaluate(SHOWN_TEXT) == PAGES[1]
    assert page.locator("#page-media img").get_attribute("alt") == "Milo on page 2 (version 2)"
    page.keyboard.press("ArrowLeft")
    assert pictures_shown(page) == [f"{MEDIA}/0-v1.png"]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert pictures_shown(page) == [f"{MEDIA}/2-v1.png"]


def test_a_change_while_another_is_made_is_refused_in_words(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    still = "The story is still being changed: try again when that change is done."
    api.answers["regenerate"] = lambda body: (409, {"detail": still})
    page = reading(open_reader, 3)

    page.get_by_role("button", name="Redraw picture").click()
    page.get_by_role("button", name="Redraw the picture").click()

    said = page.locator("#redraw-message")
    said.wait_for(state="visible")
    assert said.inner_text() == still
    assert page.locator("#redraw-form").is_visible()
    assert api.asked_for("POST", "/regenerate")[0].body == {"picture": True, "text": False}


def test_a_sequel_is_asked_for_opened_and_linked_both_ways(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    sequel = story(
        SEQUEL, title="Milo at the Seaside", age_group="3-5", parent_id=STORY, series_id=STORY
    ) | {"job_id": JOB.format(3)}

    def asked_for_sequel(body: Any) -> tuple[int, Any]:
        # its text is written at once, its pictures are drawn while the job is held: the reader
        # opens it before its parent lists it (the API lists complete sequels only)
        api.stories[SEQUEL] = sequel | {"images": [], "complete": False}
        return api.start(
            JOB.format(3),
            Job(
                job(JOB.format(3), "processing", "illustrating", SEQUEL, images=3),
                job(JOB.format(3), "completed", "done", SEQUEL, images=3),
                then=written,
            ),
        )

    def written() -> None:
        api.stories[SEQUEL] = sequel
        api.stories[STORY]["series_id"] = STORY
        api.stories[STORY]["sequels"] = [related(sequel, "sequel")]

    api.answers["sequel"] = asked_for_sequel
    page = reading(open_reader)
    assert page.locator("#story-family").is_hidden()  # a story on its own

    page.get_by_role("button", name="Write a sequel").click()
    assert page.evaluate("document.activeElement.id") == "sequel-prompt"
    page.get_by_label("What happens next?").fill("Milo goes to the seaside")
    page.locator("#sequel-age").select_option("3-5")
    page.get_by_role("button", name="Write the sequel").click()

    # followed like a new story, opened as soon as its text is written, its tools once complete
    wait_until(page, "document.getElementById('story-title').textContent === 'Milo at the Seaside'")
    assert f"job={JOB.format(3)}" in page.url
    assert page.locator('#story-view[data-complete="false"]').is_visible()
    assert page.locator("#story-more").is_hidden() and page.locator("#page-tools").is_hidden()
    api.jobs[JOB.format(3)].release.set()
    page.locator('#story-view[data-complete="true"]').wait_for()
    assert f"story={SEQUEL}" in page.url
    (asked,) = api.asked_for("POST", f"/{STORY}/sequel")
    assert asked.body == {"prompt": "Milo goes to the seaside", "age_group": "3-5"}

    series = page.get_by_role("list", name="Books in this series")
    series.get_by_role("link").wait_for()
    assert series.locator("li").all_inner_texts() == [
        "Before this: Milo and the Magic Cheese (English, ages 6-8)",
        "This book: Milo at the Seaside (English, ages 3-5)",
    ]
    assert series.locator("[aria-current=page]").inner_text().startswith("This book")
    series.get_by_role("link").click()

    wait_until(
        page, "document.getElementById('story-title').textContent === 'Milo and the Magic Cheese'"
    )
    series = page.get_by_role("list", name="Books in this series")
    series.get_by_role("link").wait_for()
    assert (
        series.get_by_role("link").inner_text() == "Next: Milo at the Seaside (English, ages 3-5)"
    )
    assert page.locator("#family-versions").is_hidden()


def test_a_version_in_arabic_is_written_right_to_left_beside_its_original(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    arabic = story(
        ARABIC, title="ميلو والجبن السحري", pages=ARABIC_PAGES, language="ar", parent_id=STORY
    )

    def written() -> None:
        api.stories[ARABIC] = arabic
        api.stories[STORY]["versions"] = [related(arabic, "version")]

    api.answers["version"] = lambda body: api.start(
        JOB.format(4),
        Job(
            job(JOB.format(4), "processing", "writing", None),
            job(JOB.format(4), "completed", "done", ARABIC),
            then=written,
        ),
    )
    page = reading(open_reader)
    assert page.evaluate(
        "[document.getElementById('page-text').lang, document.getElementById('page-text').dir]"
    ) == ["en", "ltr"]

    page.get_by_role("button", name="Make a version").click()
    page.get_by_role("button", name="Make the version").click()  # nothing changed yet
    assert page.locator("#version-message").inner_text() == (
        "Choose another language or another age group for the version."
    )
    assert not api.asked_for("POST", "/versions")
    page.get_by_label("Language", exact=True).fill("ar")
    page.get_by_role("button", name="Make the version").click()
    wait_until(page, "location.hash.includes('job=')", 10)
    api.jobs[JOB.format(4)].release.set()
    wait_until(page, f"{SHOWN_TEXT} === {json.dumps(ARABIC_PAGES[0])}")

    (asked,) = api.asked_for("POST", f"/{STORY}/versions")
    assert asked.body == {"language": "ar"}
    for element in ("page-text", "story-title"):
        assert page.evaluate(
            f"[document.getElementById('{element}').lang, document.getElementById('{element}').dir]"
        ) == ["ar", "rtl"]
    assert (
        page.evaluate("getComputedStyle(document.getElementById('page-text')).direction") == "rtl"
    )
    assert page.evaluate("document.documentElement.dir") == ""  # the page around it stays as it is
    assert "Arabic" in page.locator("#story-meta").inner_text()

    versions = page.get_by_role("list", name="Versions of this story")
    versions.get_by_role("link").wait_for()
    assert versions.locator("li").all_inner_texts() == [
        "The original: Milo and the Magic Cheese (English, ages 6-8)",
        f"A version: {arabic['title']} (Arabic, ages 6-8)",
    ]
    assert versions.locator(".family-title").nth(1).get_attribute("dir") == "rtl"
    assert page.locator("#family-series").is_hidden()  # a version is not a sequel
    versions.get_by_role("link", name="The original").click()

    wait_until(page, f"{SHOWN_TEXT} === {json.dumps(PAGES[0])}")
    assert page.evaluate(
        "[document.getElementById('page-text').lang, document.getElementById('page-text').dir]"
    ) == ["en", "ltr"]
    versions = page.get_by_role("list", name="Versions of this story")
    versions.get_by_role("link").wait_for()
    assert versions.get_by_role("link").inner_text().startswith("A version: ")


def test_the_new_story_form_asks_for_the_language_given(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    spanish = story(SPANISH, title="Milo y el queso mágico", language="es")
    api.answers["generate"] = lambda body: api.start(
        JOB.format(5),
        Job(
            job(JOB.format(5), "processing", "writing", None),
            job(JOB.format(5), "completed", "done", SPANISH),
            then=lambda: api.stories.update({SPANISH: spanish}),
        ),
    )
    page = open_reader("")
    assert page.get_by_label("Story language").input_value() == "en"
    page.get_by_label("Your story idea").fill("Un ratón busca un queso mágico")
    page.get_by_label("Story language").fill("es")
    page.get_by_role("button", name="Make my story").click()
    wait_until(page, "location.hash.includes('job=')", 10)
    api.jobs[JOB.format(5)].release.set()
    wait_until(
        page, "document.getElementById('story-title').textContent === 'Milo y el queso mágico'"
    )

    (asked,) = api.asked_for("POST", "/generate")
    assert asked.body["language"] == "es"
    assert page.evaluate("document.getElementById('page-text').lang") == "es"


def test_a_language_the_api_refuses_is_said_under_its_field(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    refusal = [
        {
            "type": "string_pattern_mismatch",
            "loc": ["body", "language"],
            "msg": "String should match pattern",
        }
    ]
    api.answers["generate"] = lambda body: (422, {"detail": refusal})
    page = open_reader("")
    page.get_by_label("Your story idea").fill("A mouse looks for cheese")
    page.get_by_label("Story language").fill("english please")
    page.get_by_role("button", name="Make my story").click()

    said = page.locator("#language-error")
    said.wait_for(state="visible")
    assert (
        said.inner_text() == "Story language: please give a language code, such as en, es or pt-BR."
    )
    assert page.get_by_label("Story language").get_attribute("aria-invalid") == "true"


def test_a_version_the_api_refuses_is_explained_at_the_field_at_fault(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    refusal = [
        {
            "type": "string_pattern_mismatch",
            "loc": ["body", "language"],
            "msg": "String should match pattern",
        }
    ]
    api.answers["version"] = lambda body: (422, {"detail": refusal})
    page = reading(open_reader)

    page.get_by_role("button", name="Make a version").click()
    page.get_by_label("Language", exact=True).fill("Spanish please")
    page.get_by_role("button", name="Make the version").click()

    said = page.locator("#version-language-error")
    said.wait_for(state="visible")
    assert said.inner_text() == "Language: please give a language code, such as en, es or pt-BR."
    assert page.locator("#version-message").inner_text() == (
        "Please look at the message under “Language”."
    )
    assert page.evaluate("document.activeElement.id") == "version-language"
    assert "job=" not in page.url


def test_the_story_tools_are_labelled_and_worked_with_the_keyboard(
    open_reader: Callable[[str], Any], api: FakeApi
) -> None:
    page = reading(open_reader)
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('#story-view input, #story-view select,"
        " #story-view textarea, #story-view progress')]"
        ".filter(field => field.labels.length === 0).map(field => field.id)"
    )
    assert unlabelled == []
    for toggle in ("redraw-toggle", "edit-toggle", "sequel-toggle", "version-toggle"):
        controls = page.locator(f"#{toggle}").get_attribute("aria-controls")
        assert page.locator(f"#{controls}").count() == 1
        assert page.locator(f"#{toggle}").get_attribute("aria-expanded") == "false"

    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        if focused == "edit-toggle":
            break
        reached.append(focused)
    assert "redraw-toggle" in reached
    page.keyboard.press("Enter")
    assert page.locator("#edit-form").is_visible()
    assert page.evaluate("document.activeElement.id") == "edit-text"
    page.keyboard.press("ArrowRight")  # in the text: the page is not turned
    assert page.evaluate(COUNTER) == "Page 1 of 3"
    page.keyboard.press("Escape")
    assert page.locator("#edit-form").is_hidden()
    assert page.evaluate("document.activeElement.id") == "edit-toggle"
    assert page.locator("#edit-toggle").get_attribute("aria-expanded") == "false"

    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "sequel-toggle":
            break
    page.keyboard.press("Space")
    assert page.locator("#sequel-form").is_visible()
    assert page.evaluate("document.activeElement.id") == "sequel-prompt"


def test_the_reader_writes_right_to_left_the_languages_the_api_names() -> None:
    script = (READER_DIR / "reader.js").read_text()
    found = re.search(r"const RIGHT_TO_LEFT = new Set\(\[([^\]]*)\]\)", script)
    assert found, "RIGHT_TO_LEFT not found in reader.js"
    assert set(re.findall(r'"([a-z]+)"', found.group(1))) == set(RIGHT_TO_LEFT)
