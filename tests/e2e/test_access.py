"""Keys, ownership, idempotency and limits, as clients see them."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.models import utc_now
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

IDEA = {"prompt": "A gentle giraffe learns to whistle", "age_group": "3-5", "num_illustrations": 1}


def _key(name: str, **limits: int) -> str:
    key, token = issue_key(name, **limits)
    story_table().put_api_key(key)
    return token


@pytest.fixture
def alice(base_url: str, local_stack: LocalStack) -> ApiClient:
    return ApiClient(base_url, key=_key("Alice's reading app"))


@pytest.fixture
def bob(base_url: str, local_stack: LocalStack) -> ApiClient:
    return ApiClient(base_url, key=_key("Bob's school"))


def _story(client: ApiClient) -> dict:
    accepted = client.generate(**IDEA)
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    return job


def test_a_key_sees_only_its_own_jobs_and_stories(alice: ApiClient, bob: ApiClient) -> None:
    job = _story(alice)

    assert bob.http.get(f"/api/v1/stories/jobs/{job['job_id']}").status_code == 404
    assert bob.story(job["story_id"]).status_code == 404
    assert bob.story(job["job_id"]).status_code == 404
    assert bob.http.get("/api/v1/stories").json() == {"stories": [], "total": 0}
    listed = alice.http.get("/api/v1/stories").json()
    assert [story["id"] for story in listed["stories"]] == [job["story_id"]]
    assert alice.story(job["story_id"]).status_code == 200


def _altered(signature: str) -> str:
    """The signature with its last two characters changed (whatever they were)."""
    ending = "BA" if signature.endswith("AA") else "AA"
    return signature[:-2] + ending


def test_media_goes_to_its_owner_and_to_holders_of_its_signed_link(
    alice: ApiClient, bob: ApiClient, base_url: str
) -> None:
    job = _story(alice)
    link = alice.story(job["story_id"]).json()["images"][0]["image_url"]
    bare = urlsplit(link)._replace(query="").geturl()
    nobody = httpx.Client()

    # the story's link works without a key (a browser's <img> sends none) ...
    fetched = nobody.get(link)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    # ... the bare path only with the owner's key
    assert alice.http.get(bare).status_code == 200
    assert bob.http.get(bare).status_code == 404
    assert nobody.get(bare).status_code == 401
    # a link is for its own file, and cannot be altered or extended
    query = dict(parse_qsl(urlsplit(link).query))
    tampered = {
        "signature": query | {"signature": _altered(query["signature"])},
        "expires": query | {"expires": str(int(query["expires"]) + 3600)},
    }
    for what, changed in tampered.items():
        assert bob.http.get(bare, params=changed).status_code == 404, what
    assert bob.http.get(bare, params={"expires": "²", "signature": "é"}).status_code == 404
    other = _story(bob)
    bobs = bob.story(other["story_id"]).json()["images"][0]["image_url"]
    with_alices_signature = urlsplit(bobs)._replace(query=urlencode(query)).geturl()
    assert alice.http.get(with_alices_signature).status_code == 404


def test_an_expired_media_link_is_refused(
    alice: ApiClient, bob: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _story(alice)
    link = alice.story(job["story_id"]).json()["images"][0]["image_url"]
    expires = int(dict(parse_qsl(urlsplit(link).query))["expires"])

    monkeypatch.setattr(time, "time", lambda: expires + 1.0)

    assert bob.http.get(link).status_code == 404
    assert alice.http.get(link).status_code == 200  # the owner's key still opens it


def test_a_revoked_key_is_refused(base_url: str, local_stack: LocalStack) -> None:
    key, token = issue_key("short-lived")
    story_table().put_api_key(key)
    client = ApiClient(base_url, key=token)
    assert client.http.get("/api/v1/stories").status_code == 200

    story_table().revoke_api_key(key.key_id, utc_now())

    assert client.http.get("/api/v1/stories").status_code == 401


def test_a_forged_secret_is_refused(alice: ApiClient, base_url: str) -> None:
    token = alice.http.headers["Authorization"].removeprefix("Bearer ")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    assert ApiClient(base_url, key=forged).http.get("/api/v1/stories").status_code == 401


def test_a_repeated_request_with_an_idempotency_key_gets_the_same_job(
    alice: ApiClient, local_stack: LocalStack
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}

    first = alice.http.post("/api/v1/stories/generate", json=IDEA, headers=headers)
    again = alice.http.post("/api/v1/stories/generate", json=IDEA, headers=headers)

    assert first.status_code == again.status_code == 202
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.headers["idempotent-replayed"] == "true"
    alice.wait_for(first.json()["job_id"])


def test_an_idempotency_key_reused_with_another_body_gets_422(alice: ApiClient) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = alice.http.post("/api/v1/stories/generate", json=IDEA, headers=headers)

    other = alice.http.post(
        "/api/v1/stories/generate", json=IDEA | {"age_group": "9-12"}, headers=headers
    )

    assert other.status_code == 422
    assert "different request body" in other.json()["detail"]
    alice.wait_for(first.json()["job_id"])


def test_ten_requests_at_once_with_one_key_make_one_job_and_one_execution(
    alice: ApiClient, local_stack: LocalStack
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda _: alice.http.post("/api/v1/stories/generate", json=IDEA, headers=headers),
                range(10),
            )
        )

    assert [answer.status_code for answer in answers] == [202] * 10
    job_ids = {answer.json()["job_id"] for answer in answers}
    assert len(job_ids) == 1
    (job_id,) = job_ids
    alice.wait_for(job_id)
    executions = local_stack.client("stepfunctions").list_executions(
        stateMachineArn=local_stack.state_machine_arn
    )["executions"]
    assert [e["name"] for e in executions].count(job_id) == 1


def test_over_the_rate_limit_gets_429_with_retry_after(base_url: str) -> None:
    client = ApiClient(base_url, key=_key("tiny", rate_limit_per_minute=3))
    if time.time() % 60 > 50:  # both requests must fall in one minute's window
        time.sleep(60 - time.time() % 60)

    first = client.generate(**IDEA)  # costs 2 units: the story and one picture
    second = client.generate(**IDEA)

    assert first.status_code == 202
    assert second.status_code == 429
    assert 1 <= int(second.headers["retry-after"]) <= 60
    assert "per-minute limit of 3 units" in second.json()["detail"]
    client.wait_for(first.json()["job_id"])


def test_a_request_costing_more_than_a_limit_holds_gets_422_not_a_429(base_url: str) -> None:
    """Waiting cannot make it fit, so a Retry-After would only send the client waiting."""
    for key in (_key("frugal", daily_quota=10), _key("brisk", rate_limit_per_minute=5)):
        client = ApiClient(base_url, key=key)
        before = client.http.get("/api/v1/stories").json()["total"]

        refused = client.generate(**IDEA | {"num_illustrations": 3, "generate_videos": True})

        assert refused.status_code == 422
        assert "retry-after" not in refused.headers
        [issue] = refused.json()["detail"]
        assert issue["type"] == "cost_limit"
        assert issue["loc"] == ["body", "num_illustrations"]
        assert "costs 16 units" in issue["msg"]
        assert client.http.get("/api/v1/stories").json()["total"] == before
        assert client.generate(**IDEA).status_code == 202  # nothing was charged for it
