"""How a job ends: Assemble (every asset checked, the story finished), MarkFailed (a failure
caught by the state machine) and EndOrphanedJob (an execution that stopped without either)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kidstory import observability
from kidstory.access import job_cost
from kidstory.job_cost import JobCost
from kidstory.ledger import Ledger
from kidstory.media_store import MediaStore
from kidstory.models import Asset, AssetKind, AssetStatus, Job, JobStatus, Stage, Story, utc_now
from kidstory.steps.page_changes import PageChanges
from kidstory.steps.payloads import (
    STORY_FAILED_ERROR,
    AssembleInput,
    CaughtError,
    ExecutionEnded,
    JobNotFound,
    JobOutcome,
    MarkFailedInput,
    describe_failure,
    require_job,
)
from kidstory.store.jobs import JobAlreadyEnded, Jobs
from kidstory.store.spend import month_of, spend_update
from kidstory.store.stories import Stories


class Outcomes:
    """The steps that end a job; a job that has already ended keeps its outcome. A job that
    ends gets its cost from its ledger, counted in its owner's month (by `clock`) in the same
    write."""

    def __init__(
        self,
        jobs: Jobs,
        stories: Stories,
        media: MediaStore,
        *,
        ledger: Ledger | None = None,
        clock: Callable[[], datetime] = utc_now,
        page_changes: PageChanges | None = None,
    ) -> None:
        self._jobs = jobs
        self._stories = stories
        self._media = media
        self._ledger = ledger
        self._clock = clock
        self._page_changes = page_changes

    # Assemble

    def assemble(self, given: AssembleInput) -> JobOutcome:
        self._jobs.set_stage(given.job_id, Stage.ASSEMBLING)
        if self._page_changes is not None:
            job = require_job(self._jobs, given.job_id)
            if job.kind.changes_page:  # the new version of the page made current
                return self._page_changes.complete(job, given, self._cost)
        for result in (item for branch in given.media for item in branch):
            if result.failure is not None:
                asset = self._stories.get_asset(result.story_id, result.kind, result.display_order)
                asset.status = AssetStatus.FAILED
                asset.error = describe_failure(result.failure)
                self._stories.put_asset(asset)
        found = self._stories.get_story(given.story_id)
        if found is None:
            raise JobNotFound(f"story {given.story_id} of job {given.job_id} does not exist")
        story, assets = found
        problems = [
            f"{asset.kind.value} {asset.display_order + 1}: {asset.error or 'not generated'}"
            for asset in sorted(assets, key=lambda a: (a.kind.value, a.display_order))
            if asset.status is not AssetStatus.COMPLETED
            or asset.s3_key is None
            or not self._media.exists(asset.s3_key)
        ]
        if problems:
            error = f"{len(problems)} of {len(assets)} media could not be made: " + "; ".join(
                problems
            )
            return self._finish(story, JobStatus.FAILED, error, assets)
        return self._finish(story, JobStatus.COMPLETED, None, assets)

    # MarkFailed

    def mark_failed(self, given: MarkFailedInput) -> JobOutcome:
        error = describe_failure(given.error)
        job = require_job(self._jobs, given.job_id)
        if job.kind.changes_page and self._page_changes is not None:
            return self._page_changes.fail(job, error, self._cost)  # the story stays as it was
        found = self._stories.get_story(job.story_id) if job.story_id else None
        if found is not None:
            return self._finish(found[0], JobStatus.FAILED, error, found[1])
        cost, spend = self._cost(job, [])
        try:
            self._jobs.update_job(job.job_id, JobStatus.FAILED, error=error, cost=cost, spend=spend)
        except JobAlreadyEnded:
            return self._stored_outcome(job.job_id)
        observability.count("StoriesFailed")
        return JobOutcome(
            job_id=job.job_id, story_id=None, status=JobStatus.FAILED, error=error, cost=cost
        )

    # an execution that ended without reaching MarkFailed (timed out, aborted, or failed in a
    # way no Catch saw)

    def end_orphaned_job(self, ended: ExecutionEnded) -> JobOutcome | None:
        """The outcome to announce for an execution that stopped early: its job is failed if
        it was still open; a job that had ended is announced again, since its execution may
        have stopped before (or while) publishing. None when there is nothing to announce:
        no such job, or the execution failed in StoryFailed, after publishing."""
        job = self._jobs.get_job(ended.name)
        if job is None or ended.error == STORY_FAILED_ERROR:
            return None
        if job.status.is_terminal:
            return self._stored_outcome(job.job_id)
        cause = (ended.cause or ended.error or "").strip()
        caught = CaughtError(
            Error=f"Execution{ended.status.title().replace('_', '')}",
            Cause=f"The workflow stopped ({ended.status}) before the story was finished"
            + (f": {cause}" if cause else ""),
        )
        return self.mark_failed(MarkFailedInput(job_id=job.job_id, error=caught))

    def _finish(
        self, story: Story, status: JobStatus, error: str | None, assets: list[Asset]
    ) -> JobOutcome:
        """End the job and store the story together; a job that had already ended keeps its
        outcome."""
        story.status = status
        job = require_job(self._jobs, story.job_id)
        cost, spend = self._cost(job, assets)
        try:
            self._stories.finish_story(story, error, cost, spend)
        except JobAlreadyEnded:
            return self._stored_outcome(story.job_id)
        observability.count(
            "StoriesCompleted" if status is JobStatus.COMPLETED else "StoriesFailed"
        )
        return JobOutcome(
            job_id=story.job_id, story_id=story.id, status=status, error=error, cost=cost
        )

    def _cost(self, job: Job, assets: list[Asset]) -> tuple[JobCost | None, dict[str, Any] | None]:
        """The job's cost from its ledger (the infrastructure's for the media it made), and
        the update that counts it in its owner's month."""
        if self._ledger is None:
            return None, None
        made = [asset.kind for asset in assets if asset.status is AssetStatus.COMPLETED]
        cost = self._ledger.cost(
            job.job_id,
            pictures=made.count(AssetKind.IMAGE),
            clips=made.count(AssetKind.VIDEO),
            pages_read=made.count(AssetKind.AUDIO),
        )
        month = month_of(self._clock())
        units = job_cost(job)  # what the job was charged against the caller's limits
        return cost, spend_update(self._jobs.table_name, job.owner, month, cost.usd, units)

    def _stored_outcome(self, job_id: str) -> JobOutcome:
        job = require_job(self._jobs, job_id)
        return JobOutcome(
            job_id=job.job_id,
            story_id=job.story_id,
            status=job.status,
            error=job.error,
            cost=job.cost,
            kind=job.kind,
        )
