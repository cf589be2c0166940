"""The payloads that pass between the StoryWorkflow's states (ids only: text and media live in
DynamoDB and S3), and the errors a step reads from them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from kidstory.job_cost import JobCost
from kidstory.models import Asset, AssetKind, Job, JobKind, JobStatus

if TYPE_CHECKING:
    from kidstory.store.jobs import Jobs

# The error of the workflow's final Fail state, reached only after story.failed was published.
STORY_FAILED_ERROR = "StoryFailed"


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class JobRef(Payload):
    job_id: str


class AssetRef(Payload):
    job_id: str
    story_id: str
    asset_id: str
    kind: AssetKind
    display_order: int
    pending: bool = Field(
        default=False, description="Redone by a page change (job_id) that has not finished"
    )

    @classmethod
    def of(cls, asset: Asset) -> AssetRef:
        """What a media step is given to make `asset` (a page change's redone one included)."""
        return cls(
            job_id=asset.job_id,
            story_id=asset.story_id,
            asset_id=asset.asset_id,
            kind=asset.kind,
            display_order=asset.display_order,
            pending=asset.pending,
        )

    @property
    def pending_job(self) -> str | None:
        """The page change whose redone asset this is (Stories.get_asset), if it is one."""
        return self.job_id if self.pending else None


class StoryDraft(Payload):
    job_id: str
    story_id: str
    images: list[AssetRef]
    videos: list[AssetRef]
    narration: list[AssetRef] = Field(default_factory=list, description="One per page read aloud")


class VideoPoll(AssetRef):
    operation_id: str
    checks: int = 0
    done: bool = False
    poll_after_seconds: int = 0


class CaughtError(Payload):
    """What a Catch puts at its result path: the error's name and its cause."""

    Error: str
    Cause: str | None = None


class MediaResult(AssetRef):
    failure: CaughtError | None = None


class AssembleInput(Payload):
    job_id: str
    story_id: str
    media: list[list[MediaResult]]


class MarkFailedInput(Payload):
    job_id: str
    error: CaughtError


class JobOutcome(Payload):
    job_id: str
    story_id: str | None
    status: JobStatus
    error: str | None = None
    cost: JobCost | None = Field(default=None, description="The job's ledger, summed")
    kind: JobKind = Field(
        default=JobKind.STORY,
        description="What the job made: a page change is announced as story.updated",
    )


class ExecutionEnded(Payload):
    """The detail of Step Functions' "Execution Status Change" event."""

    name: str = Field(description="The execution name: the job id")
    status: str
    error: str | None = None
    cause: str | None = None


class JobNotFound(Exception):
    """The execution names a job that does not exist."""


def require_job(jobs: Jobs, job_id: str) -> Job:
    """The job a payload names (JobNotFound when there is none)."""
    job = jobs.get_job(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist")
    return job


def describe_failure(caught: CaughtError) -> str:
    """A readable sentence from a caught error (a Lambda error's cause is JSON)."""
    message = caught.Cause or ""
    try:
        parsed = json.loads(message)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict):
        message = str(parsed.get("errorMessage") or "")
    message = message.strip() or "no details were given"
    return f"{caught.Error}: {message}"
