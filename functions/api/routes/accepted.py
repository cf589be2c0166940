"""What every request that starts a job shares: its Idempotency-Key header, and its 202 answer
(said again, with Idempotent-Replayed, for a repeated key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from kidstory.contract import GenerateResponse
from kidstory.library import Submitted
from kidstory.observability import logger

IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        description="Repeat a request safely: the same key returns the same job",
    ),
]


def accepted(submitted: Submitted, response: Response, what: str) -> GenerateResponse:
    """The 202 answer for a job `what` ("Story generation", "Page edit"...) started, or
    started before under the same Idempotency-Key."""
    job = submitted.job
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        message = f"{what} was already started for this Idempotency-Key."
    else:
        logger.info("job accepted", extra={"job_id": job.job_id, "kind": job.kind.value})
        message = f"{what} started. Use the job_id to check status."
    return GenerateResponse(job_id=job.job_id, status=job.status, message=message)
