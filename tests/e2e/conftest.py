"""The whole stack on emulated AWS, driven through its HTTP API as a client would."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from infra.local.api_server import ApiServer
from infra.local.emulator import LocalStack
from infra.local.synth import synthesize
from kidstory.config.load import get_settings

API_KEY = "e2e-secret-key"
MAX_REQUEST_SIZE_MB = "1"


def _clear_process_caches() -> None:
    from kidstory import wiring
    from kidstory.config import load

    load.get_settings.cache_clear()
    for cached in (
        wiring.story_table,
        wiring.jobs,
        wiring.stories,
        wiring.webhook_secrets,
        wiring.media_store,
        wiring.story_events,
        wiring.story_writing,
        wiring.pictures,
        wiring.clips,
        wiring.narration,
        wiring.books,
        wiring.outcomes,
        wiring.ledger,
        wiring.page_versions,
        wiring.page_changes,
    ):
        cached.cache_clear()


@pytest.fixture(scope="package")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's template, synthesized for the local stage."""
    return synthesize(tmp_path_factory.mktemp("cdk-out"))


@pytest.fixture(scope="package")
def local_stack(template: Path) -> Iterator[LocalStack]:
    saved = dict(os.environ)
    _clear_process_caches()
    stack = LocalStack(
        template,
        environment={
            "API_KEY": API_KEY,
            "MAX_REQUEST_SIZE_MB": MAX_REQUEST_SIZE_MB,
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            "WEBHOOK_RETRY_DELAYS": "1,1,1,1,1",
        },
    ).start()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        _clear_process_caches()


@pytest.fixture(scope="package")
def base_url(local_stack: LocalStack) -> Iterator[str]:
    server = ApiServer(local_stack.serve_api(create_app(get_settings()))).start()
    yield server.url
    server.stop()


class ApiClient:
    """A client of the public API, as in the README's curl examples."""

    def __init__(self, base_url: str, key: str | None = API_KEY) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    def generate(self, **body: Any) -> httpx.Response:
        return self.http.post("/api/v1/stories/generate", json=body)

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/stories/jobs/{job_id}")
        response.raise_for_status()
        return dict(response.json())

    def wait_for(self, job_id: str, timeout: float = 120) -> dict[str, Any]:
        """Poll the job until it is completed or failed."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in ("completed", "failed"):
                return job
            assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
            time.sleep(0.2)

    def story(self, story_id: str) -> httpx.Response:
        return self.http.get(f"/api/v1/stories/{story_id}")


@pytest.fixture(scope="package")
def client(base_url: str) -> ApiClient:
    return ApiClient(base_url)
