"""The web reader (functions/api/reader, at /reader/) in a real browser: Debian's chromium,
driven by Playwright, against the local stack. A reader writes an idea, watches the progress bar
fill, reads the story page by page with the buttons and the arrow keys, and sees every picture.

The browser is the system's (`make browser` installs it with apt-get); Playwright never downloads
one. Set READER_SCREENSHOT=docs/reader.png (`make reader-screenshot`) to refresh the README's
screenshot of the story view.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from infra.local.api_server import ApiServer, free_port
from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.config.load import get_settings
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

READER_DIR = Path(__file__).resolve().parents[2] / "functions" / "api" / "reader"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1000, "height": 700}
PHONE = {"width": 390, "height": 844}
IDEA = "A brave little mouse looks for a magic cheese in the big old barn"
ALL_IMAGES_LOADED = "[...document.images].every(image => image.complete && image.naturalWidth > 0)"
READER_SCREENSHOT = os.environ.get("READER_SCREENSHOT")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's chromium is not installed ({CHROMIUM} is missing): run `make browser`, "
            "which installs it with apt-get. The reader's tests need a real browser.",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: run `make setup`", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def reader_key(local_stack: LocalStack) -> str:
    """A client key of these tests' own: their stories and limits are apart from other tests'."""
    key, token = issue_key("web reader tests")
    story_table().put_api_key(key)
    return token


@pytest.fixture(scope="module")
def client(base_url: str, reader_key: str) -> ApiClient:
    """The API as the reader's key sees it."""
    return ApiClient(base_url, key=reader_key)


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh browser profile (no stored key) on the reader; fails on any script error."""
    context = browser.new_context(viewport=DESKTOP, base_url=base_url)
    opened = context.new_page()
    script_errors: list[str] = []
    opened.on("pageerror", lambda error: script_errors.append(str(error)))
    opened.goto("/reader/")
    opened.wait_for_selector("body[data-ready=true]")
    yield opened
    context.close()
    assert not script_errors, script_errors


def write_idea(
    page: Any,
    prompt: str,
    *,
    key: str | None,
    illustrations: str = "3",
    videos: bool = False,
    narration: bool = False,
) -> None:
    if key is not None:
        page.get_by_label("API key").fill(key)
    page.get_by_label("Your story idea").fill(prompt)
    page.get_by_label("Age group").select_option("6-8")
    page.get_by_label("Number of pictures").fill(illustrations)
    page.get_by_label("Make short videos too").set_checked(videos)
    page.get_by_label("Read it aloud").set_checked(narration)
    page.get_by_role("button", name="Make my story").click()


def message(page: Any) -> str:
    alert = page.locator("#form-message")
    alert.wait_for(state="visible")
    return str(alert.inner_text())


def record_progress(page: Any) -> None:
    page.evaluate(
        """() => {
        window.progressSeen = [];
        const bar = document.getElementById("progress-bar");
        new MutationObserver(() => window.progressSeen.push({
            value: bar.value, now: bar.getAttribute("aria-valuenow"), stage: bar.dataset.stage,
            text: document.getElementById("progress-text").textContent,
        })).observe(bar, {attributes: true});
    }"""
    )


def finished_story(page: Any, timeout: float = 120_000) -> None:
    """Wait until the reader shows the story complete: its text comes first, its pictures as
    they are drawn."""
    page.locator('#story-view[data-complete="true"]').wait_for(state="visible", timeout=timeout)


def opened_story(page: Any, client: ApiClient) -> tuple[str, dict[str, Any]]:
    """The id of the story the reader shows (from its address), and the story as the API has it."""
    found = re.search(r"story=([^&]+)", page.url)
    assert found, page.url
    response = client.story(found.group(1))
    assert response.status_code == 200, response.text
    return found.group(1), dict(response.json())


def wait_until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Wait until `expression` is true in the page. Evaluated from outside the page, since
    the reader's Content-Security-Policy forbids eval, which Playwright's
    wait_for_function uses inside it."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


def shown_page(page: Any) -> dict[str, Any]:
    """What the reader shows now, once every picture on it has loaded."""
    wait_until(page, ALL_IMAGES_LOADED)
    shown: dict[str, Any] = page.evaluate(
        """() => ({
        counter: document.getElementById("page-counter").textContent,
        text: document.getElementById("page-text").textContent,
        images: [...document.querySelectorAll("#story-view img")].map(image => ({
            src: image.src, alt: image.alt, width: image.naturalWidth,
        })),
        videos: [...document.querySelectorAll("#story-view video")].map(video => ({
            src: video.src, controls: video.controls, label: video.getAttribute("aria-label"),
        })),
    })"""
    )
    return shown


def test_a_story_is_written_watched_and_read_page_by_page(
    page: Any, client: ApiClient, reader_key: str, tmp_path: Path
) -> None:
    record_progress(page)
    write_idea(page, IDEA, key=reader_key)

    # the progress bar fills up to done, while the story opens as soon as its text is written
    finished_story(page)
    seen = page.evaluate("window.progressSeen")
    values = [entry["value"] for entry in seen]
    assert len(seen) >= 2 and values == sorted(values), seen
    assert seen[-1] == {
        "value": 100,
        "now": "100",
        "stage": "done",
        "text": "Done! Your story is ready.",
    }

    story_id, story = opened_story(page, client)
    pages = story["pages"]
    assert len(pages) >= 3
    assert page.get_by_role("heading", level=2, name=story["title"]).is_visible()
    notice = page.locator("#story-notice")
    assert notice.is_visible() and notice.inner_text() == story["notice"]

    # every page, turned alternately with the Next button and the right arrow key
    shown = []
    for number in range(1, len(pages) + 1):
        shown.append(shown_page(page))
        assert shown[-1]["counter"] == f"Page {number} of {len(pages)}"
        assert shown[-1]["text"] == pages[number - 1]
        if number == len(pages):
            break
        if number % 2:
            page.get_by_role("button", name="Next").click()
        else:
            page.keyboard.press("ArrowRight")

    # the last page stays the last; the left arrow key and Previous go back
    next_button = page.get_by_role("button", name="Next")
    assert next_button.get_attribute("aria-disabled") == "true"
    next_button.click(force=True)
    page.keyboard.press("ArrowRight")
    assert page.locator("#page-counter").inner_text() == f"Page {len(pages)} of {len(pages)}"
    page.keyboard.press("ArrowLeft")
    assert page.locator("#page-counter").inner_text() == f"Page {len(pages) - 1} of {len(pages)}"
    page.get_by_role("button", name="Previous").click()
    assert page.locator("#page-counter").inner_text() == f"Page {len(pages) - 2} of {len(pages)}"

    # every picture was shown, loaded, with its scene as alt text
    images = [image for on_page in shown for image in on_page["images"]]
    assert all(image["width"] > 0 for image in images), images
    assert sorted(image["src"] for image in images) == sorted(
        image["image_url"] for image in story["images"]
    )
    scenes = {image["image_url"]: image["scene_description"] for image in story["images"]}
    for image in images:
        assert image["alt"].strip() and image["alt"] == scenes[image["src"]], image
    assert story["videos"] == [] and all(on_page["videos"] == [] for on_page in shown)

    # the story view, for the README, at a laptop's size
    while page.locator("#page-counter").inner_text() != f"Page 1 of {len(pages)}":
        page.keyboard.press("ArrowLeft")
    wait_until(page, ALL_IMAGES_LOADED)
    page.locator("#story-progress").wait_for(state="hidden")  # "Done!" has been said
    page.evaluate("document.activeElement.blur()")
    screenshot = Path(READER_SCREENSHOT) if READER_SCREENSHOT else tmp_path / "reader.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000

    # on a phone: one column, nothing wider than the screen, large type
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    font_size = page.locator("#page-text").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font_size >= 20
    page.set_viewport_size(DESKTOP)

    # back to the list of the caller's stories, and open it again from there
    page.get_by_role("button", name="All stories").click()
    listed = page.locator(f'#story-list button[data-story-id="{story_id}"]')
    assert listed.inner_text().startswith(story["title"])
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    listed.click()
    page.locator("#story-view").wait_for(state="visible")
    assert page.locator("#page-counter").inner_text() == f"Page 1 of {len(pages)}"


@pytest.fixture
def pictures_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Semaphore]:
    """The offline illustrator draws a picture only when the test lets one through (release()).

    OFFLINE_IMAGE_SECONDS cannot slow one test: the stack's functions run in this process and
    build their providers once, from the settings read when the package's stack started."""
    from kidstory.providers.offline import OfflineImageProvider

    gate = threading.Semaphore(0)
    original = OfflineImageProvider.generate_image

    def held(self: OfflineImageProvider, spec: Any) -> Any:
        gate.acquire(timeout=120)
        return original(self, spec)

    monkeypatch.setattr(OfflineImageProvider, "generate_image", held)
    yield gate
    gate.release(100)  # whatever still waits goes on


def every_page(page: Any) -> list[dict[str, Any]]:
    """Each page of the story shown, from the first: its text, its loaded pictures, and the
    places of pictures still to come. Ends on the first page."""
    while not page.locator("#page-counter").inner_text().startswith("Page 1 of"):
        page.keyboard.press("ArrowLeft")
    total = int(page.locator("#page-counter").inner_text().rsplit(" ", 1)[1])
    pages = []
    for number in range(1, total + 1):
        shown = shown_page(page)
        shown["coming"] = page.locator("#page-media .media-coming").all_inner_texts()
        pages.append(shown)
        if number < total:
            page.keyboard.press("ArrowRight")
    while not page.locator("#page-counter").inner_text().startswith("Page 1 of"):
        page.keyboard.press("ArrowLeft")
    return pages


def pictures_seen(page: Any, images: int, coming: int, timeout: float = 30.0) -> list[Any]:
    """Walk the story until the reader shows `images` pictures and `coming` places for more."""
    deadline = time.monotonic() + timeout
    while True:
        pages = every_page(page)
        seen = (
            sum(len(shown["images"]) for shown in pages),
            sum(len(shown["coming"]) for shown in pages),
        )
        if seen == (images, coming):
            return pages
        assert time.monotonic() < deadline, (seen, pages)
        time.sleep(0.3)


def test_the_text_is_read_while_the_pictures_are_still_being_drawn(
    page: Any, client: ApiClient, reader_key: str, pictures_held: threading.Semaphore
) -> None:
    record_progress(page)
    write_idea(page, "A little fox builds a snow castle with her friends", key=reader_key)

    # the text as soon as it is written: no picture drawn yet, a place kept for each
    page.locator("#story-view").wait_for(state="visible", timeout=60_000)
    found = re.search(r"job=([^&]+)", page.url)
    assert found, page.url
    job = client.job(found.group(1))
    assert job["status"] == "processing" and job["story_id"], job
    partial = client.http.get(f"/api/v1/stories/{job['story_id']}", params={"partial": "true"})
    assert partial.status_code == 200, partial.text
    story = partial.json()
    assert story["complete"] is False and story["images"] == []
    assert page.locator("#story-view").get_attribute("data-complete") == "false"
    assert page.get_by_role("heading", level=2, name=story["title"]).is_visible()
    wait_until(
        page,
        "document.getElementById('story-progress-text').textContent.includes('0 of 3 pictures')",
    )
    pages = pictures_seen(page, images=0, coming=3)
    assert [shown["text"] for shown in pages] == story["pages"]
    assert pages[0]["coming"] == ["Picture 1 is being drawn…"]
    assert page.locator("#page-text").is_visible()
    bar = page.locator("#story-progress-bar")
    assert bar.is_visible() and 25 <= int(bar.get_attribute("value") or 0) < 95
    assert page.locator("#progress-bar").get_attribute("value") == bar.get_attribute("value")

    # one picture drawn: it is filled in, the other two still to come
    pictures_held.release()
    wait_until(
        page,
        "document.getElementById('story-progress-text').textContent.includes('1 of 3 pictures')",
    )
    pages = pictures_seen(page, images=1, coming=2)
    assert page.locator("#story-view").get_attribute("data-complete") == "false"
    assert "job=" in page.url

    # the rest drawn while the reader stays on a page still waiting for its picture: it comes
    # in there, without a page turn or a move of the focus
    waiting_page = next(n for n, shown in enumerate(pages, start=1) if shown["coming"])
    while not page.locator("#page-counter").inner_text().startswith(f"Page {waiting_page} of"):
        page.keyboard.press("ArrowRight")
    counter = page.locator("#page-counter").inner_text()
    focused = page.evaluate("document.activeElement.id")
    pictures_held.release(2)
    finished_story(page, timeout=60_000)
    wait_until(page, "document.querySelectorAll('#page-media .media-coming').length === 0")
    wait_until(page, ALL_IMAGES_LOADED)
    assert page.locator("#page-media img").count() >= 1
    assert page.locator("#page-counter").inner_text() == counter
    assert page.evaluate("document.activeElement.id") == focused
    assert page.locator("#story-progress-text").inner_text() == "Done! Your story is ready."
    page.locator("#story-progress").wait_for(state="hidden")

    # complete: every picture in its place, and the address is the story's
    _, story = opened_story(page, client)
    assert story["complete"] is True
    pages = pictures_seen(page, images=3, coming=0)
    shown_images = [image for shown in pages for image in shown["images"]]
    assert sorted(image["src"] for image in shown_images) == sorted(
        image["image_url"] for image in story["images"]
    )
    assert all(image["width"] > 0 for image in shown_images)
    values = [entry["value"] for entry in page.evaluate("window.progressSeen")]
    assert values == sorted(values) and values[-1] == 100, values


def test_a_story_that_cannot_be_finished_keeps_its_text_and_says_why(
    page: Any, reader_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kidstory.providers.errors import ContentRefused
    from kidstory.providers.offline import OfflineImageProvider

    drawing = threading.Event()

    def refused(self: OfflineImageProvider, spec: Any) -> Any:
        drawing.wait(timeout=120)
        raise ContentRefused("the image model refused this scene")

    monkeypatch.setattr(OfflineImageProvider, "generate_image", refused)
    try:
        write_idea(page, "A sleepy owl looks for the moon", key=reader_key, illustrations="1")
        page.locator("#story-view").wait_for(state="visible", timeout=60_000)
        wait_until(page, "document.querySelectorAll('#page-media .media-coming').length === 1")
        text = page.locator("#page-text").inner_text()
        assert text
    finally:
        drawing.set()

    alert = page.locator("#story-job-message")
    alert.wait_for(state="visible", timeout=60_000)
    assert alert.get_attribute("role") == "alert"
    said = alert.inner_text()
    assert said.startswith("Sorry, this story could not be finished: ")
    assert "the image model refused this scene" in said
    assert page.locator("#page-text").inner_text() == text
    missing = page.locator("#page-media .media-coming")
    assert missing.inner_text() == "Picture 1 could not be made."
    assert page.locator("#story-view").get_attribute("data-complete") == "false"
    if int(page.locator("#page-counter").inner_text().rsplit(" ", 1)[1]) > 1:
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")
        assert missing.inner_text() == "Picture 1 could not be made."


def test_each_clip_plays_on_its_page_with_controls(
    page: Any, client: ApiClient, reader_key: str
) -> None:
    write_idea(
        page,
        "A kind turtle swims to the coral reef",
        key=reader_key,
        illustrations="2",
        videos=True,
    )
    finished_story(page)
    _, story = opened_story(page, client)
    assert len(story["videos"]) == 2

    clips = []
    for _ in story["pages"]:
        clips += shown_page(page)["videos"]
        page.keyboard.press("ArrowRight")
    assert sorted(clip["src"] for clip in clips) == sorted(
        video["video_url"] for video in story["videos"]
    )
    scenes = {video["video_url"]: video["scene_description"] for video in story["videos"]}
    for clip in clips:
        assert clip["controls"] and clip["label"] == f"Video: {scenes[clip['src']]}", clip

    # the browser can play them: the last page's clip has its length and picture
    assert page.locator("#story-view video").count() == 1
    wait_until(
        page, "[...document.querySelectorAll('#story-view video')].every(v => v.readyState >= 1)"
    )
    (duration, width) = page.locator("#story-view video").first.evaluate(
        "video => [video.duration, video.videoWidth]"
    )
    assert duration > 0 and width > 0


def test_a_refused_idea_shows_the_reason(page: Any, client: ApiClient, reader_key: str) -> None:
    idea = "a story about blood"
    refused = client.generate(prompt=idea, age_group="6-8", num_illustrations=3)
    assert refused.status_code == 422
    (issue,) = refused.json()["detail"]
    assert issue["type"] == "content_policy"

    write_idea(page, idea, key=reader_key)

    assert message(page) == "Please look at the message under “Your story idea”."
    reason = page.locator("#prompt-error").inner_text()
    assert reason == f"We can't make a children's story from this idea: {issue['msg']}"
    idea_field = page.get_by_label("Your story idea")
    assert idea_field.get_attribute("aria-invalid") == "true"
    assert "prompt-error" in str(idea_field.get_attribute("aria-describedby"))
    assert page.evaluate("document.activeElement.id") == "prompt"
    assert page.locator("#progress-section").is_hidden()


def test_a_missing_or_wrong_key_and_a_wrong_field_are_said_in_words(
    page: Any, reader_key: str
) -> None:
    write_idea(page, IDEA, key=None)
    assert "needs an API key" in message(page)

    write_idea(page, IDEA, key="not-a-key")
    assert "did not accept this API key" in message(page)

    write_idea(page, IDEA, key=reader_key, illustrations="11")
    assert message(page) == "Please look at the message under “Number of pictures”."
    assert (
        page.locator("#illustrations-error").inner_text()
        == "Number of pictures: please choose a number from 1 to 10."
    )
    assert page.get_by_label("Number of pictures").get_attribute("aria-invalid") == "true"
    assert page.locator("#progress-section").is_hidden()


def test_over_the_limit_says_when_to_try_again(page: Any, base_url: str) -> None:
    key, token = issue_key("reader over its limit", rate_limit_per_minute=4)
    story_table().put_api_key(key)
    if time.time() % 60 > 45:  # both requests must fall in one minute's window
        time.sleep(60 - time.time() % 60)
    spent = ApiClient(base_url, key=token).generate(
        prompt="A quiet snail", age_group="3-5", num_illustrations=3
    )  # the minute's 4 units
    assert spent.status_code == 202

    write_idea(page, IDEA, key=token)  # 4 more units

    said = message(page)
    assert "many stories in a short time" in said
    assert "per-minute limit of 4 units" in said
    assert re.search(r"try again in about \d+ seconds?\.$", said), said


def test_a_story_costing_more_than_the_limit_holds_is_explained_at_its_field(
    page: Any,
) -> None:
    key, token = issue_key("reader with a small limit", rate_limit_per_minute=2)
    story_table().put_api_key(key)

    write_idea(page, IDEA, key=token)  # costs 4 units: the story and 3 pictures

    assert "Number of pictures" in message(page)
    said = page.locator("#illustrations-error").inner_text()
    assert "costs 4 units, more than your per-minute limit of 2" in said
    assert page.get_by_label("Number of pictures").get_attribute("aria-invalid") == "true"


def test_every_control_is_labelled_and_reachable_with_the_tab_key(page: Any) -> None:
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select, textarea, progress')]"
        ".filter(field => field.labels.length === 0).map(field => field.id)"
    )
    assert unlabelled == []
    assert page.locator("h1").count() == 1
    for landmark in ("banner", "main", "contentinfo"):
        assert page.get_by_role(landmark).count() == 1

    reached: list[str] = []  # once round the page
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        if focused in reached:
            break
        reached.append(focused)
    expected = ["prompt", "age-group", "illustrations", "videos", "narration", "api-key", "submit"]
    assert [id_ for id_ in reached if id_ in expected] == expected, reached
    assert {"forget-key", "refresh-list"} <= set(reached), reached

    page.keyboard.press("Shift+Tab")
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.boxShadow]; })()"
    )
    assert ring[0] != "none" or ring[1] != "none", ring


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def reader_elsewhere(local_stack: LocalStack, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The reader as CloudFront serves it: its files on an origin of their own, with a
    config.json naming the API, which allows that origin (CORS). Yields (reader URL, API URL)."""
    site_port = free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    settings = get_settings().model_copy(update={"cors_origins": site_origin})
    server = ApiServer(local_stack.serve_api(create_app(settings))).start()
    folder = tmp_path / "site" / "reader"
    shutil.copytree(READER_DIR, folder, ignore=shutil.ignore_patterns("config.json"))
    (folder / "config.json").write_text(json.dumps({"api": f"{server.url}/"}))
    handler = partial(QuietFiles, directory=str(tmp_path / "site"))
    site = ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"{site_origin}/reader/", server.url
    site.shutdown()
    server.stop()


def test_served_from_elsewhere_the_reader_finds_the_api_in_config_json(
    page: Any, reader_elsewhere: tuple[str, str], client: ApiClient, reader_key: str
) -> None:
    reader_url, api_url = reader_elsewhere
    page.goto(reader_url)
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#api-origin").inner_text() == f"Story server: {api_url}/"

    write_idea(page, "A sleepy owl counts the stars", key=reader_key, illustrations="1")
    finished_story(page)
    _, story = opened_story(page, client)
    (image,) = shown_page(page)["images"]
    assert image["src"].startswith(api_url) and image["width"] > 0
    assert page.locator("#page-counter").inner_text() == f"Page 1 of {len(story['pages'])}"

    # ?api= names another API: the key typed for this one is not offered to it
    page.goto(f"{reader_url}?api=http://127.0.0.1:9/other/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#api-origin").inner_text() == "Story server: http://127.0.0.1:9/other/"
    assert page.get_by_label("API key").input_value() == ""
    page.goto(reader_url)
    page.wait_for_selector("body[data-ready=true]")
    assert page.get_by_label("API key").input_value() == reader_key


def test_a_narrated_story_asked_for_in_the_form_is_read_along(
    page: Any, client: ApiClient, reader_key: str
) -> None:
    """The whole way: the form asks for narration, the local stack reads every page with the
    offline narrator, and in the reader, at a known point of a page's audio, the word lit is
    the one the story's timings give."""
    write_idea(page, "A little owl hums a song to the moon", key=reader_key, narration=True)
    finished_story(page)
    _, story = opened_story(page, client)
    first = story["narration"]["pages"][0]
    assert story["narration"]["offline"] is True
    assert page.locator("#narration-notice").inner_text().startswith("Offline narration")

    audio = "document.getElementById('narration-audio')"
    wait_until(page, f"{audio}.readyState >= 1")
    for word in (first["words"][0], first["words"][len(first["words"]) // 2]):
        middle = (word["start_ms"] + word["end_ms"]) / 2000
        lit = page.evaluate(  # once seeked, and the reader has drawn a frame since
            """(seconds) => new Promise(resolve => {
                const audio = document.getElementById("narration-audio");
                audio.addEventListener("seeked", () => requestAnimationFrame(() => resolve(
                    [...document.querySelectorAll("#page-text .spoken")].map(s => s.textContent)
                )), {once: true});
                audio.currentTime = seconds;
            })""",
            middle,
        )
        assert lit == [word["text"]], (middle, word)
    button = page.get_by_role("button", name="Read aloud")
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    wait_until(page, f"{audio}.currentTime > 0.2")
    button.click()
    assert button.get_attribute("aria-pressed") == "false"


def test_a_pages_picture_is_redrawn_from_the_reader_on_the_stack(
    page: Any, client: ApiClient, reader_key: str
) -> None:
    write_idea(page, IDEA, key=reader_key, illustrations="1")
    finished_story(page)
    story_id, story = opened_story(page, client)
    drawn = story["images"][0]
    assert page.evaluate("document.getElementById('page-counter').textContent").startswith(
        "Page 1 of"
    )

    page.get_by_role("button", name="Redraw picture").click()
    page.get_by_role("button", name="Redraw the picture").click()

    # the page change is a job of the stack's; the reader shows the new picture once it is done
    wait_until(
        page,
        "document.querySelector('#page-media img') !== null && "
        f"!document.querySelector('#page-media img').src.includes('{drawn['id']}')",
        60,
    )
    changed = client.story(story_id).json()
    assert changed["page_versions"][0] == 2
    assert changed["images"][0]["id"] != drawn["id"]
    assert changed["pages"] == story["pages"]
    shown = page.locator("#page-media img").get_attribute("src") or ""
    assert changed["images"][0]["id"] in shown
