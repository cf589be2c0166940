"""The `kidstory` client against a scripted API behind urllib: how it rides out a busy or briefly
unreachable API while it follows a job, where it connects, and the links it prints."""

from __future__ import annotations

import http.client
import io
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kidstory.clients.cli import Api, KeyStaysHome, main

API = "https://api.example.test/dev"
JOB = "3cb28b83-0000-4000-8000-000000000001"
STORY = "7d1e2f30-0000-4000-8000-000000000002"


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def job(status: str, stage: str) -> Answer:
    progress = {
        "stage": stage,
        "images_done": 1,
        "images_total": 1,
        "videos_done": 0,
        "videos_total": 0,
    }
    written = status == "completed" or stage not in ("queued", "writing")  # as the API says
    body = {"job_id": JOB, "status": status, "story_id": STORY if written else None}
    return Answer(body=body | {"progress": progress})


STORY_ANSWER = Answer(
    body={
        "id": STORY,
        "title": "The Brave Mouse",
        "content": "Once upon a time...",
        "pages": ["Once upon a time..."],
        "images": [{"display_order": 0, "image_url": "https://media.example.test/1.png"}],
        "videos": [],
    }
)


class Reply(urllib.response.addinfourl):
    """A response as urllib's HTTP handler makes it (with the reason, `msg`)."""

    def __init__(self, answer: Answer, url: str) -> None:
        headers = http.client.HTTPMessage()
        for name, value in answer.headers.items():
            headers[name] = value
        body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        super().__init__(io.BytesIO(body), headers, url, answer.status)
        self.msg = http.client.responses[answer.status]


class ScriptedApi(urllib.request.BaseHandler):
    """Answers each path with its answers in turn; an exception is raised as a
    broken connection would raise it. Every request is kept."""

    handler_order = 100  # before urllib's own HTTP handlers

    def __init__(self, answers: Mapping[str, Sequence[Answer | Exception]]) -> None:
        self.answers = {path: list(replies) for path, replies in answers.items()}
        self.requests: list[urllib.request.Request] = []

    def http_open(self, request: urllib.request.Request) -> Reply:
        return self.https_open(request)

    def https_open(self, request: urllib.request.Request) -> Reply:
        self.requests.append(request)
        url = urllib.parse.urlsplit(request.full_url)
        answer = self.answers[url.path].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Reply(answer, request.full_url)

    def paths(self) -> list[str]:
        return [urllib.parse.urlsplit(request.full_url).path for request in self.requests]


@dataclass
class Run:
    code: int
    out: str
    err: str
    waits: list[float]
    urls: list[str]


@pytest.fixture(autouse=True)
def no_connection_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KIDSTORY_API_URL", "KIDSTORY_API_KEY", "KIDSTORY_READER_URL"):
        monkeypatch.delenv(name, raising=False)


def run(api: ScriptedApi, capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    waits: list[float] = []
    urls: list[str] = []

    def connect(url: str, key: str | None) -> Api:
        urls.append(url)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), KeyStaysHome(), api)
        return Api(url, key, opener=opener, sleep=waits.append)

    out = io.StringIO()
    code = main(list(argv), out=out, connect=connect)
    return Run(code, out.getvalue(), capsys.readouterr().err, waits, urls)


def generate(api: ScriptedApi, capsys: pytest.CaptureFixture[str]) -> Run:
    return run(api, capsys, "--url", API, "generate", "A brave mouse", "--interval", "0")


def busy_api(*job_answers: Answer | Exception) -> ScriptedApi:
    return ScriptedApi(
        {
            "/dev/api/v1/stories/generate": [Answer(202, {"job_id": JOB})],
            f"/dev/api/v1/stories/jobs/{JOB}": list(job_answers),
            f"/dev/api/v1/stories/{STORY}": [STORY_ANSWER],
        }
    )


def test_generate_waits_out_a_busy_or_unreachable_api_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = busy_api(
        job("processing", "writing"),
        Answer(503, {"detail": "The story workshop is busy"}, {"Retry-After": "2"}),
        Answer(429, {"detail": "Too many requests"}, {"Retry-After": "1"}),
        urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
        TimeoutError("timed out"),
        Answer(502, {"message": "Internal server error"}),
        Answer(504, {"message": "Endpoint request timed out"}),
        job("completed", "done"),
    )

    result = generate(api, capsys)

    assert result.code == 0, result.err
    # Retry-After when the API says, else waits doubling from 1 s, at most 30 s
    assert result.waits == [2, 1, 4, 8, 16, 30]
    assert "kidstory: 503: The story workshop is busy; trying again in 2 s (try 2 of 8)" in (
        result.err
    )
    assert "cannot reach https://api.example.test/dev ([Errno 111] Connection refused)" in (
        result.err
    )
    assert "504: Endpoint request timed out; trying again in 30 s (try 7 of 8)" in result.err
    assert "no answer from https://api.example.test/dev (timed out)" in result.err
    assert result.err.count("trying again") == 6
    assert "] done: 1 of 1 pictures" in result.out
    assert "[page 1] Once upon a time..." in result.out
    assert f"story {STORY}: {API}/api/v1/stories/{STORY}" in result.out


def test_asking_for_the_story_is_retried_with_one_idempotency_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A request that reached the API but whose answer was lost is sent again under the same
    key, so the API answers with the job it made rather than making a second story."""
    api = busy_api(job("completed", "done"))
    api.answers["/dev/api/v1/stories/generate"] = [
        Answer(502, {"message": "Internal server error"}),
        TimeoutError("timed out"),
        Answer(202, {"job_id": JOB}),
    ]

    result = generate(api, capsys)

    assert result.code == 0, result.err
    asked = [request for request in api.requests if request.full_url.endswith("/generate")]
    keys = {request.get_header("Idempotency-key") for request in asked}
    assert len(asked) == 3 and len(keys) == 1 and None not in keys
    assert result.waits[:2] == [1, 2]


def test_an_api_that_does_not_resolve_is_not_asked_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = busy_api()
    unknown = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    api.answers["/dev/api/v1/stories/generate"] = [urllib.error.URLError(unknown)]

    result = generate(api, capsys)

    assert result.code == 2 and result.waits == []
    assert "cannot reach https://api.example.test/dev" in result.err


def test_a_refused_story_request_is_not_sent_again(capsys: pytest.CaptureFixture[str]) -> None:
    api = busy_api()
    api.answers["/dev/api/v1/stories/generate"] = [
        Answer(422, {"detail": [{"loc": ["body", "prompt"], "msg": "too violent"}]})
    ]

    result = generate(api, capsys)

    assert result.code != 0 and api.paths() == ["/dev/api/v1/stories/generate"]


def test_a_key_whose_story_was_deleted_is_said_and_not_sent_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = busy_api()
    gone = "The story made for this Idempotency-Key (job x) was deleted."
    api.answers["/dev/api/v1/stories/generate"] = [Answer(410, {"detail": gone})]

    result = generate(api, capsys)

    assert result.code != 0 and api.paths() == ["/dev/api/v1/stories/generate"]
    assert "was deleted" in result.err


def test_failures_in_a_row_are_counted_afresh_after_an_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    busy = Answer(503, {"detail": "busy"})
    api = busy_api(
        *[busy] * 7,
        job("processing", "writing"),
        *[busy] * 7,
        job("completed", "done"),
    )

    result = generate(api, capsys)

    assert result.code == 0, result.err
    assert result.waits == [1, 2, 4, 8, 16, 30, 30] * 2


def test_a_retry_after_of_up_to_a_minute_is_waited(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = busy_api(
        Answer(429, {"detail": "slow down"}, {"Retry-After": "60"}),
        Answer(503, {"detail": "busy"}, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        job("completed", "done"),
    )

    result = generate(api, capsys)

    assert result.code == 0, result.err
    assert result.waits == [60, 0]


@pytest.mark.parametrize("retry_after", ["19800", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_used_up_quota_is_not_waited_for(
    capsys: pytest.CaptureFixture[str], retry_after: str
) -> None:
    """A daily quota frees up in hours: say when, rather than keep the terminal waiting."""
    api = busy_api()
    api.answers["/dev/api/v1/stories/generate"] = [
        Answer(429, {"detail": "Over the daily limit of 2000 units"}, {"Retry-After": retry_after})
    ]

    result = generate(api, capsys)

    assert result.code == 2 and result.waits == []
    assert "Over the daily limit of 2000 units (try again in " in result.err
    if retry_after == "19800":
        assert "(try again in 5 h 30 min)" in result.err


def test_generate_gives_up_after_eight_failures_in_a_row_and_tells_how_to_check_later(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = busy_api(*[Answer(503, {"detail": "The story workshop is busy"})] * 8)

    result = generate(api, capsys)

    assert result.code == 2
    assert len(result.waits) == 7
    assert api.paths().count(f"/dev/api/v1/stories/jobs/{JOB}") == 8
    last_line = result.err.strip().splitlines()[-1]
    assert last_line == (
        "kidstory: 503: The story workshop is busy; gave up after 8 tries in a row. "
        f"Job {JOB} may still finish: check on it later with "
        f"`kidstory show {JOB} --url {API}`"
    )


@pytest.mark.parametrize(
    ("status", "detail"), [(401, "Invalid API key"), (404, "Job not found"), (422, "bad id")]
)
def test_refusals_while_following_fail_at_once(
    capsys: pytest.CaptureFixture[str], status: int, detail: str
) -> None:
    api = busy_api(job("processing", "writing"), Answer(status, {"detail": detail}))

    result = generate(api, capsys)

    assert result.code == 2
    assert result.waits == []
    assert result.err == f"kidstory: {status}: {detail}\n"


def test_connection_options_work_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = f"/dev/api/v1/stories/{STORY}"
    api = ScriptedApi({path: [STORY_ANSWER, STORY_ANSWER]})

    before = run(api, capsys, "--url", API, "--key", "sk-one", "show", STORY)
    after = run(api, capsys, "show", STORY, "--url", API, "--key", "sk-two")

    assert before.code == after.code == 0
    assert [request.full_url for request in api.requests] == [f"https://api.example.test{path}"] * 2
    keys = [request.get_header("Authorization") for request in api.requests]
    assert keys == ["Bearer sk-one", "Bearer sk-two"]


def test_the_local_stack_is_the_default_and_the_environment_overrides_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ScriptedApi({"/api/v1/stories": [Answer(body={"stories": [], "total": 0})]})
    assert run(api, capsys, "list").urls == ["http://127.0.0.1:8000"]
    assert api.requests[0].get_header("Authorization") is None

    monkeypatch.setenv("KIDSTORY_API_URL", API)
    monkeypatch.setenv("KIDSTORY_API_KEY", "sk-env")
    api = ScriptedApi({"/dev/api/v1/stories": [Answer(body={"stories": [], "total": 0})]})
    assert run(api, capsys, "list").urls == [API]
    assert api.requests[0].get_header("Authorization") == "Bearer sk-env"

    api = ScriptedApi({"/api/v1/stories": [Answer(body={"stories": [], "total": 0})]})
    assert run(api, capsys, "list", "--url", "http://127.0.0.1:9000").urls == [
        "http://127.0.0.1:9000"
    ]


def test_the_story_is_linked_in_the_web_reader_only_where_its_address_is_known(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def shown(*argv: str) -> str:
        api = ScriptedApi({path: [STORY_ANSWER] for path in (local, deployed)})
        return run(api, capsys, "show", STORY, *argv).out

    local, deployed = f"/api/v1/stories/{STORY}", f"/dev/api/v1/stories/{STORY}"

    assert f"read it: http://127.0.0.1:8000/reader/#story={STORY}\n" in shown()
    assert "read it:" not in shown("--url", API)  # its reader is elsewhere (CloudFront)
    reader = "https://d111111abcdef8.cloudfront.net/reader/"
    assert f"read it: {reader}#story={STORY}\n" in shown("--url", API, "--reader", reader)
    monkeypatch.setenv("KIDSTORY_READER_URL", reader)
    assert f"read it: {reader}#story={STORY}\n" in shown("--url", API)


def test_help_names_the_environment_and_the_default_api(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    printed = capsys.readouterr().out

    for said in ("KIDSTORY_API_URL", "KIDSTORY_API_KEY", "KIDSTORY_READER_URL"):
        assert said in printed
    assert "http://127.0.0.1:8000" in printed


def test_export_saves_the_books_following_the_cdn_link_without_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signed = "https://cdn.example.test/stories/book.epub?Signature=abc"
    api = ScriptedApi(
        {
            f"/dev/api/v1/stories/{STORY}/book.epub": [Answer(307, b"", {"Location": signed})],
            "/stories/book.epub": [Answer(200, b"PK\x03\x04 an epub")],
            f"/dev/api/v1/stories/{STORY}/book.pdf": [Answer(200, b"%PDF-1.7 a book")],
        }
    )
    epub, pdf = tmp_path / "story.epub", tmp_path / "story.pdf"

    done = run(
        api,
        capsys,
        "--url",
        API,
        "--key",
        "ks_k_s",
        "export",
        STORY,
        "--epub",
        str(epub),
        "--pdf",
        str(pdf),
        "--screen",
    )

    assert done.code == 0, done.err
    assert epub.read_bytes() == b"PK\x03\x04 an epub"
    assert pdf.read_bytes() == b"%PDF-1.7 a book"
    asked, followed, printed = api.requests
    assert asked.get_header("Authorization") == "Bearer ks_k_s"
    assert followed.full_url == signed
    assert followed.get_header("Authorization") is None  # the key stays with the API
    assert printed.full_url.endswith("/book.pdf?variant=screen")
    assert f"saved {epub}" in done.out and f"saved {pdf}" in done.out
    assert not list(tmp_path.glob("*.part"))


def test_export_of_a_missing_book_fails_and_leaves_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = Answer(404, {"detail": f"Story {STORY} not found"})
    api = ScriptedApi({f"/dev/api/v1/stories/{STORY}/book.epub": [missing]})
    epub = tmp_path / "story.epub"

    done = run(api, capsys, "--url", API, "export", STORY, "--epub", str(epub))

    assert done.code == 2
    assert "not found" in done.err
    assert list(tmp_path.iterdir()) == []


def test_export_says_where_to_save(capsys: pytest.CaptureFixture[str]) -> None:
    done = run(ScriptedApi({}), capsys, "--url", API, "export", STORY)

    assert done.code == 2
    assert "--epub FILE" in done.err


def test_generate_shows_the_text_as_soon_as_it_is_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    partial = Answer(body=STORY_ANSWER.body | {"images": [], "complete": False})
    api = ScriptedApi(
        {
            "/dev/api/v1/stories/generate": [Answer(202, {"job_id": JOB})],
            f"/dev/api/v1/stories/jobs/{JOB}": [
                job("processing", "writing"),
                job("processing", "illustrating"),
                job("processing", "illustrating"),
                job("completed", "done"),
            ],
            f"/dev/api/v1/stories/{STORY}": [partial, STORY_ANSWER],
        }
    )

    result = generate(api, capsys)

    assert result.code == 0, result.err
    reads = [r.full_url for r in api.requests if r.full_url.endswith(STORY) or "?" in r.full_url]
    assert reads[0].endswith(f"/{STORY}?partial=true")
    out = result.out
    assert out.count("[page 1] Once upon a time...") == 1  # told once, early
    assert out.index("[page 1]") < out.index("] done")  # before the pictures were all made
    assert out.index("] done") < out.index("picture 1: https://media.example.test/1.png")
