"""The API fuzzed from its own OpenAPI schema (schemathesis), as an unknown client would call it:
whatever it is sent, it never answers 5xx, and every answer is one the schema documents (status
code, content type, headers and body)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

MIN_REQUESTS = 1000
EXAMPLES_PER_OPERATION = 150
# Each accepted request starts a real workflow on the emulated stack (up to 10 pictures and 10
# clips): fewer of those.
GENERATE = "POST /api/v1/stories/generate"
ESTIMATE = "POST /api/v1/stories/estimate"  # the same body: the same reasons to refuse it
# A sequel or a version of the fuzzer's story starts a workflow too; a version that changes
# nothing, and a sequel's refused prompt, are refused with 422 and a reason, by design.
SEQUEL = "POST /api/v1/stories/{story_id}/sequel"
VERSIONS = "POST /api/v1/stories/{story_id}/versions"
# A page change of the story to find: schema-valid ones are refused by design too (instructions
# or a text refused with a reason, nothing to redraw on the page, a page the story does not
# have, another change of the story running).
PAGE_CHANGES = (
    "POST /api/v1/stories/{story_id}/pages/{page}/regenerate",
    "PATCH /api/v1/stories/{story_id}/pages/{page}",
)
EXAMPLES = {GENERATE: 20, SEQUEL: 20, VERSIONS: 20} | {name: 30 for name in PAGE_CHANGES}
# Bodies drawn among the generated ones, with the fuzzer's story: most generated versions change
# nothing (422), and each operation must be seen to succeed.
KNOWN_BODIES = {VERSIONS: [{"language": "es"}, {"age_group": "9-12"}]}
STARTS_JOBS = (GENERATE, SEQUEL, VERSIONS, *PAGE_CHANGES)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
# schemathesis' checks, all but one: the API reads input leniently, as pydantic does
# (`?offset=0.0` is 0, of a repeated parameter the last counts, unknown ones are ignored), which
# negative_data_rejection would report. Every answer to invalid input is still checked.
CONFIG = {
    "checks": {"negative_data_rejection": {"enabled": False}},
    # Some schema-valid ideas are refused with 422 and a reason, by design: an unsuitable or
    # blank prompt, a webhook that is not HTTP(S), an Idempotency-Key reused with another body,
    # a cost cap below the estimate.
    "operations": [
        {
            "include-name": name,
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 401, 422, 429]}},
        }
        for name in (GENERATE, ESTIMATE)
    ]
    + [
        {
            "include-name": name,
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 404, 409, 422, 429]}
            },
        }
        for name in (SEQUEL, VERSIONS, *PAGE_CHANGES)
    ],
}
# Loopback port 9 (discard), where nothing listens here: the local stack accepts private
# webhook targets, so a fuzzed job's webhook is tried (and fails) without leaving the machine.
HARMLESS_WEBHOOK_HOST = "127.0.0.1:9"


def _key_for_the_fuzzer() -> str:
    """Its own key, with limits it cannot reach: other tests' callers keep their budgets."""
    key, token = issue_key("fuzzer", rate_limit_per_minute=1_000_000, daily_quota=100_000_000)
    story_table().put_api_key(key)
    return token


def _story_to_find(client: ApiClient) -> dict[str, str]:
    """Ids and media paths of one real story of the fuzzer's (with a webhook), so that fuzzing
    reaches the answers for things that exist, not only 404s."""
    accepted = client.generate(
        prompt="A sleepy owl counts the stars",
        age_group="3-5",
        num_illustrations=1,
        generate_videos=True,
        narration=True,
        webhook_url=f"https://{HARMLESS_WEBHOOK_HOST}/hook",
    )
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    story = client.story(job["story_id"]).json()
    return {
        "job_id": job["job_id"],
        "story_id": job["story_id"],
        "image": _media_path(story["images"][0]["image_url"], "images"),
        "video": _media_path(story["videos"][0]["video_url"], "videos"),
        "audio": _media_path(story["narration"]["pages"][0]["audio_url"], "audio"),
    }


def _media_path(url: str, kind: str) -> str:
    """The {file_path} of one of this API's media URLs."""
    return urlsplit(url).path.removeprefix(f"/api/v1/stories/{kind}/")


def _known(operation: schemathesis.APIOperation, found: dict[str, str]) -> list[dict[str, str]]:
    """Path parameters naming things that exist, for the operations that take them."""
    if operation.path.endswith("{job_id}"):
        return [{"job_id": found["job_id"]}]
    if "{story_id}" in operation.path:
        return [{"story_id": found["story_id"]}, {"story_id": found["job_id"]}]
    if "/images/" in operation.path:
        return [{"file_path": found["image"]}]
    if "/videos/" in operation.path:
        return [{"file_path": found["video"]}]
    if "/audio/" in operation.path:
        return [{"file_path": found["audio"]}]
    return []


def _without_reachable_webhook(case: schemathesis.Case) -> None:
    """Moves a webhook the API would accept to a host that never resolves, keeping its scheme,
    path and query."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("webhook_url"), str):
        return
    try:
        url = TypeAdapter(AnyHttpUrl).validate_python(body["webhook_url"])
    except ValidationError:
        return  # refused by the API with 422 as well: it never calls it
    query = f"?{url.query}" if url.query else ""
    body["webhook_url"] = f"{url.scheme}://{HARMLESS_WEBHOOK_HOST}{url.path or '/'}{query}"


def _webhook_queue_drained(stack: LocalStack, timeout: float = 60) -> None:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName="WebhookQueue")["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout
    while True:
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if all(count == "0" for count in counts.values()):
            return
        assert time.monotonic() < deadline, f"the webhook queue did not drain: {counts}"
        time.sleep(0.2)


class Fuzzer:
    """Sends generated requests for one operation after another, counting what was sent."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.sent = 0
        self.statuses: dict[str, Counter[int]] = {}
        self.accepted_jobs: list[tuple[str, str]] = []
        self.session = requests.Session()
        self.session.hooks["response"].append(self._count)

    def _count(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.sent += 1

    def fuzz(self, operation: schemathesis.APIOperation, known: list[dict[str, str]]) -> str:
        """The failures found for the operation, as schemathesis reports them ("" if none)."""
        label = operation.label
        statuses = self.statuses.setdefault(label, Counter())
        strategy = st.one_of(
            *(operation.as_strategy(mode) for mode in MODES),
            *(operation.as_strategy(path_parameters=params) for params in known),
            *(
                operation.as_strategy(path_parameters=params, body=body)
                for params in known
                for body in KNOWN_BODIES.get(label, [])
            ),
        )

        @settings(
            max_examples=EXAMPLES.get(label, EXAMPLES_PER_OPERATION),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def send(case: schemathesis.Case) -> None:
            _without_reachable_webhook(case)
            response = case.call_and_validate(
                base_url=self.base_url,
                session=self.session,
                headers={"Authorization": f"Bearer {self.token}"},
            )
            statuses[response.status_code] += 1
            if label in STARTS_JOBS and response.status_code == 202:
                self.accepted_jobs.append((label, response.json()["job_id"]))

        try:
            send()
        except (Exception, BaseExceptionGroup) as failure:  # FailureGroup: a BaseExceptionGroup
            return f"{label}:\n{failure}"
        return ""


# The stack runs in this process: its threads use `random` while Hypothesis draws, which Hypothesis
# takes for a strategy doing so.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
def test_no_generated_request_gets_an_undocumented_answer_or_a_5xx(
    base_url: str, local_stack: LocalStack
) -> None:
    token = _key_for_the_fuzzer()
    client = ApiClient(base_url, key=token)
    found = _story_to_find(client)
    schema = schemathesis.openapi.from_url(
        f"{base_url}/openapi.json", config=schemathesis.Config.from_dict(CONFIG)
    )
    operations = [operation for methods in schema.values() for operation in methods.values()]
    # Deleting comes last, so that the story to find is still there for the others.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    fuzzer = Fuzzer(base_url, token)

    failures = [fuzzer.fuzz(operation, _known(operation, found)) for operation in operations]

    fuzzer.session.close()
    answers = "\n".join(f"{label}: {dict(seen)}" for label, seen in fuzzer.statuses.items())
    print(f"\n{fuzzer.sent} generated requests sent; answers by status code:\n{answers}")
    assert not any(failures), "\n\n".join(failure for failure in failures if failure)
    assert fuzzer.sent >= MIN_REQUESTS, answers
    for label, seen in fuzzer.statuses.items():
        assert any(200 <= status < 300 for status in seen), f"{label} never succeeded: {seen}"
    # Every job the fuzzer started ends, and none, nor its webhook, is left running into the tests
    # after this one.
    for label, job_id in fuzzer.accepted_jobs:
        if label in PAGE_CHANGES and client.http.get(f"/api/v1/stories/jobs/{job_id}").is_error:
            # a page change's job goes with its story, which the fuzzer may have deleted once
            # the change had ended (a story with a change running cannot be deleted: 409)
            assert client.story(found["story_id"]).status_code == 404
            continue
        assert client.wait_for(job_id)["status"] in ("completed", "failed")
    _webhook_queue_drained(local_stack)
