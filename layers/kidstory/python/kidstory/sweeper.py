"""The pending-job sweeper: no job stays `pending` because its workflow was never started.

`StoryLibrary.submit` records a job and then starts its execution. A process that dies between
the two (a Lambda timeout, a crash) leaves a job without an execution, which nothing else would
ever move on. Every few minutes the sweeper reads the jobs still listed as pending (a sparse
gsi1 entry, docs/architecture.md) that are older than a grace period, and

- starts their workflow: the execution is named after the job, so a job whose execution exists
  already is left to it, and the story is still made;
- fails the ones older than the maximum age with a reason a person can read, and announces
  `story.failed` (so webhook clients hear of it): a story asked for that long ago is no longer
  awaited, and a job that old has had every sweep since fail to start it;
- takes jobs that have moved on (a listing left by an older workflow definition, or a failure
  whose announcement was cut short, which is announced again) off the list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel

from kidstory import observability
from kidstory.models import Job, JobStatus, utc_now
from kidstory.steps.payloads import JobOutcome
from kidstory.store.jobs import Jobs

# At most this many jobs per sweep, so one run stays well inside its timeout; the rest wait for
# the next run (oldest first).
SWEEP_BATCH = 200


class Starter(Protocol):
    def start(self, job_id: str) -> str: ...


class Announcer(Protocol):
    def publish(self, outcome: JobOutcome) -> None: ...


class SweepReport(BaseModel):
    """What one sweep did, by job id."""

    started: list[str] = []
    expired: list[str] = []
    unlisted: list[str] = []
    retry_later: list[str] = []
    """Jobs left for the next sweep after an error: their start or announcement failed."""


def _span(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    number, unit = (seconds // 3600, "hour") if seconds % 3600 == 0 else (seconds // 60, "minute")
    return f"{number} {unit}" + ("" if number == 1 else "s")


def expired_reason(max_age: timedelta) -> str:
    """The error of a job failed for having been pending longer than `max_age`."""
    span = _span(max_age)
    return (
        f"The story could not be started within {span} of the request, so it was cancelled. "
        "Please ask for it again."
    )


class PendingJobSweeper:
    def __init__(
        self,
        jobs: Jobs,
        starter: Starter,
        events: Announcer,
        *,
        grace: timedelta,
        max_age: timedelta,
        batch: int = SWEEP_BATCH,
    ) -> None:
        if max_age <= grace:
            raise ValueError("the maximum pending age must be longer than the grace period")
        self._jobs = jobs
        self._starter = starter
        self._events = events
        self._grace = grace
        self._max_age = max_age
        self._batch = batch

    def sweep(self) -> SweepReport:
        now = utc_now()
        report = SweepReport()
        for seen, job in enumerate(self._jobs.pending_jobs(now - self._grace)):
            if seen >= self._batch:
                observability.logger.warning("sweep batch full; the rest wait for the next run")
                break
            with observability.about_job(job.job_id):
                try:
                    self._sweep_one(job, now - self._max_age, report)
                except Exception as error:  # still listed: the next sweep tries again
                    observability.logger.exception(
                        "could not sweep a pending job", extra={"error": type(error).__name__}
                    )
                    report.retry_later.append(job.job_id)
        # zeros too: a steady series, and a metric in every run
        observability.count("PendingJobsStarted", len(report.started))
        observability.count("PendingJobsExpired", len(report.expired))
        observability.count("PendingJobsRetryLater", len(report.retry_later))
        return report

    def _sweep_one(self, job: Job, too_old: datetime, report: SweepReport) -> None:
        log = observability.logger
        if job.status is JobStatus.PROCESSING:  # its execution has it
            self._jobs.unlist_pending(job.job_id)
            report.unlisted.append(job.job_id)
            return
        if job.status.is_terminal:  # failed here, but the announcement was cut short
            self._announce(job)
            self._jobs.unlist_pending(job.job_id)
            report.unlisted.append(job.job_id)
            return
        if job.created_at < too_old:
            reason = expired_reason(self._max_age)
            if self._jobs.expire_pending_job(job.job_id, reason):
                job.status, job.error = JobStatus.FAILED, reason
                self._announce(job)
                self._jobs.unlist_pending(job.job_id)
                report.expired.append(job.job_id)
                log.warning("failed a job left pending too long")
            return
        self._starter.start(job.job_id)
        report.started.append(job.job_id)
        log.warning("started the workflow of a job left pending")

    def _announce(self, job: Job) -> None:
        self._events.publish(
            JobOutcome(
                job_id=job.job_id,
                story_id=job.story_id,
                status=job.status,
                error=job.error,
                kind=job.kind,
            )
        )
