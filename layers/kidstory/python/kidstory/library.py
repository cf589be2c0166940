"""What clients can ask of the service: submit a story request, follow its job, read stories."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from kidstory import observability
from kidstory.access import (
    IMAGE_COST,
    NARRATION_COST,
    STORY_COST,
    VIDEO_COST,
    Caller,
    Charge,
    job_cost,
)
from kidstory.books import book_key, book_keys
from kidstory.contract import (
    OFFLINE_NOTICE,
    ImageOut,
    JobStatusResponse,
    MonthSpendResponse,
    NarratedPage,
    NarrationOut,
    RelatedStory,
    StoryListResponse,
    StoryResponse,
    StorySummary,
    VideoOut,
    WebhookDelivery,
    WebhookSecretResponse,
)
from kidstory.errors import (
    ConflictError,
    FieldRefused,
    GoneError,
    InvalidRequest,
    NotFoundError,
    ServiceUnavailable,
)
from kidstory.estimate import EstimateResponse
from kidstory.media_store import MediaStore
from kidstory.models import (
    Asset,
    AssetKind,
    AssetStatus,
    Job,
    JobStatus,
    Story,
    StoryRequest,
    could_be_id,
    utc_now,
)
from kidstory.providers.errors import ProviderError, ProviderThrottled
from kidstory.safety import OfflineModerator, TextModerator
from kidstory.store.jobs import JobAlreadyEnded
from kidstory.store.related import RelatedItem
from kidstory.store.spend import month_of
from kidstory.store.story_table import StoryTable
from kidstory.transactions import TableBusy
from kidstory.webhooks import (
    PREVIOUS_SECRET_VALID,
    WebhookAttempt,
    WebhookFailed,
    WebhookRefused,
    check_target,
)


class Starter(Protocol):
    def start(self, job_id: str) -> str: ...


class NotFound(NotFoundError):
    """No such job or story (or not one the caller may see)."""


class WorkflowUnavailable(ServiceUnavailable):
    """The workflow could not be started; the job was marked failed."""


class StillRunning(ConflictError):
    """The story is still being made; it can be deleted once its job has ended."""


class PromptRefused(FieldRefused):
    """The idea is not one we write a children's story about; the reason says why."""

    issue_type = "content_policy"
    field = "prompt"


class OverCostCap(FieldRefused):
    """The request's estimate is more than its max_cost_usd, or cannot be known."""

    issue_type = "cost_cap"
    field = "max_cost_usd"


class ModerationUnavailable(ServiceUnavailable):
    """The idea could not be checked for safety (the moderation provider failed); nothing was
    recorded or started, and the same request may be sent again."""

    warning = "moderation unavailable"


class WebhookUrlRefused(FieldRefused):
    """The webhook_url is not one we deliver to (checked again at every delivery)."""

    issue_type = "webhook_url"
    field = "webhook_url"


class IdempotencyConflict(InvalidRequest):
    """An Idempotency-Key was used again with a different request."""


class IdempotencyKeyGone(GoneError):
    """An Idempotency-Key whose job (and story) was deleted: its answer is gone for good, and
    a new key makes a new story."""


class CostOverLimit(FieldRefused):
    """A request that costs more than one of the caller's windows holds: waiting cannot help."""

    issue_type = "cost_limit"
    field = "num_illustrations"


@dataclass(frozen=True)
class Submitted:
    job: Job
    replayed: bool = False


def _fits_every_window(charge: Charge) -> None:
    """CostOverLimit when the request alone costs more than a window holds: a 429 would send
    the caller waiting for a window that can never fit it."""
    for window in charge.windows:
        if charge.units > window.limit:
            raise CostOverLimit(
                f"This request costs {charge.units} units, more than your {window.name} limit "
                f"of {window.limit} allows at once (the story costs {STORY_COST}, a picture "
                f"{IMAGE_COST}, a clip {VIDEO_COST}, narration {NARRATION_COST}). Ask for fewer "
                "pictures or clips, or for a "
                "higher limit."
            )


def fingerprint(job: Job) -> str:
    """What an Idempotency-Key's request asked for: a new story's request (as it always was),
    or for a job made from a story, also its kind and what it starts from."""
    asked = job.request.model_dump_json()
    if job.origin is not None:
        asked = f"{job.kind.value}\n{job.origin.model_dump_json()}\n{asked}"
    return hashlib.sha256(asked.encode()).hexdigest()


class StoryLibrary:
    def __init__(
        self,
        table: StoryTable,
        starter: Starter,
        media: MediaStore,
        *,
        per_minute: int,
        daily: int,
        moderator: TextModerator | None = None,
        private_webhooks: bool = False,
        estimator: Callable[[StoryRequest], EstimateResponse] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._table = table
        self._clock = clock
        self._estimator = estimator
        self._starter = starter
        self._media = media
        self._moderator = moderator or OfflineModerator()
        self._private_webhooks = private_webhooks
        self._per_minute = per_minute
        self._daily = daily

    def submit(
        self, request: StoryRequest, caller: Caller, idempotency_key: str | None = None
    ) -> Submitted:
        """Record a job and start its workflow; with an Idempotency-Key, a repeated request
        gets the job the first one made, and no second workflow runs. The cost cap and the
        idea are checked first: nothing is spent on a request that is refused."""
        self._check_cost_cap(request)
        self.check_text(request.prompt, PromptRefused, "idea")
        self.check_webhook(request)
        return self.start_job(Job(request=request, owner=caller.owner), caller, idempotency_key)

    def check_text(self, text: str, refusal: type[FieldRefused], what: str) -> None:
        """`refusal` (422, with the reason) when `text` (the `what`: an idea, a page...) is not
        one for a children's story; ModerationUnavailable when it could not be checked (fail
        closed)."""
        try:
            verdict = self._moderator.check(text)
        except ProviderError as error:  # fail closed: never start on an unchecked text
            if isinstance(error, ProviderThrottled):
                observability.count("ProviderThrottled")
            wait = getattr(error, "retry_after_seconds", None)
            raise ModerationUnavailable(
                f"The {what} could not be checked for safety just now, so no story was started. "
                "Please try again in a moment.",
                retry_after_seconds=math.ceil(wait) if wait else None,
            ) from error
        if not verdict.allowed:
            raise refusal(verdict.reason or "This cannot be made into a story.")

    def check_webhook(self, request: StoryRequest) -> None:
        if request.webhook_url is not None:
            try:
                check_target(str(request.webhook_url), allow_private=self._private_webhooks)
            except (WebhookRefused, WebhookFailed) as refused:
                raise WebhookUrlRefused(str(refused)) from None

    def start_job(self, job: Job, caller: Caller, idempotency_key: str | None = None) -> Submitted:
        """Store `job` (a new one, of any kind), charged its units in the same write, and
        start its workflow. With an Idempotency-Key used before, nothing is stored: the job
        the key made is returned (IdempotencyConflict when it was made by another request)."""
        if idempotency_key is not None:
            earlier = self._table.get_idempotency(caller.owner, idempotency_key)
            if earlier is not None:
                return self._replay(earlier.job_id, earlier.fingerprint, job, caller)
        now = utc_now()  # the job's time is its charge's: a refund finds the same windows
        job = job.model_copy(update={"created_at": now, "updated_at": now})
        charge = self._charge(caller, job, now)
        _fits_every_window(charge)
        # the job is stored and charged in one write: a request that made no job (refused,
        # a replay, a write that failed) was charged nothing
        if idempotency_key is None:
            self._table.put_job(job, charge)
        else:
            earlier = self._table.put_job_once(job, idempotency_key, fingerprint(job), charge)
            if earlier is not None:
                return self._replay(earlier.job_id, earlier.fingerprint, job, caller)
        self._start(job, charge)
        observability.count("StoriesRequested")
        return Submitted(job)

    def estimate(self, request: StoryRequest) -> EstimateResponse:
        """What `request` would cost (units and US dollars); nothing is made or charged."""
        if self._estimator is None:
            raise ServiceUnavailable("Estimates are not available on this service.")
        return self._estimator(request)

    def check_cost_cap(self, request: StoryRequest) -> None:
        """OverCostCap when `request` (what a job will make) is estimated above its cap."""
        self._check_cost_cap(request)

    def _check_cost_cap(self, request: StoryRequest) -> None:
        """OverCostCap when the request's estimate exceeds its max_cost_usd, or is unknown (a
        model without a price): a cap that cannot be checked is not taken as met."""
        cap = request.max_cost_usd
        if cap is None:
            return
        if self._estimator is None:
            raise OverCostCap("This service cannot estimate costs, so it cannot keep a cap.")
        estimated = self._estimator(request)
        if estimated.estimated_cost_usd is None:
            raise OverCostCap(
                "The cost of this request cannot be estimated, so the cap cannot be kept: "
                + estimated.assumptions[-1]
            )
        if estimated.estimated_cost_usd > cap:
            raise OverCostCap(
                f"This request is estimated at ${estimated.estimated_cost_usd:.4f}, more than "
                f"max_cost_usd ${cap:.4f}: ask for fewer pictures, clips or no narration, or "
                "raise the cap (POST /api/v1/stories/estimate gives the breakdown)."
            )

    def _charge(self, caller: Caller, job: Job, at: datetime) -> Charge:
        windows = caller.windows(self._per_minute, self._daily)
        return Charge(caller.owner, job_cost(job), windows, at)

    def _replay(
        self, job_id: str, earlier_fingerprint: str, asked: Job, caller: Caller
    ) -> Submitted:
        if earlier_fingerprint != fingerprint(asked):
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request body"
            )
        job = self._table.get_job(job_id)
        if job is None:  # written with the key's record in one transaction: since deleted
            raise IdempotencyKeyGone(
                f"The story made for this Idempotency-Key (job {job_id}) was deleted. Send the "
                "request with a new Idempotency-Key to make another."
            )
        if job.status is JobStatus.PENDING:
            # the first request may have stopped before starting the workflow; starting it
            # again is safe: the execution is named after the job, so it runs at most once
            self._start(job, self._charge(caller, job, job.created_at))
        return Submitted(job, replayed=True)

    def _start(self, job: Job, charge: Charge) -> None:
        """Start the job's workflow; when it cannot start, the job fails and its units are
        given back, once: by whichever request (the first or a replay) ended the job."""
        try:
            self._starter.start(job.job_id)
        except Exception as error:
            reason = f"The story workflow could not be started: {type(error).__name__}"
            try:
                self._table.update_job(job.job_id, JobStatus.FAILED, error=reason)
            except JobAlreadyEnded:
                pass  # another request ended it, and gave the units back
            else:
                self._give_back(charge)
            raise WorkflowUnavailable(reason) from error

    def _give_back(self, charge: Charge) -> None:
        """Refund a charge for a job that made nothing; a refund the table is too busy for is
        logged, and the caller still hears why the job failed."""
        try:
            self._table.refund(charge)
        except TableBusy:
            observability.logger.warning(
                "units not given back", extra={"owner": charge.owner, "units": charge.units}
            )

    def _owned_job(self, job_id: str, caller: Caller) -> Job:
        if not could_be_id(job_id):  # no such key can even be stored: no need to look
            raise NotFound(f"Job {job_id} not found")
        job = self._table.get_job(job_id)
        if job is None or job.owner != caller.owner:
            raise NotFound(f"Job {job_id} not found")
        return job

    def job_status(self, job_id: str, caller: Caller) -> JobStatusResponse:
        job = self._owned_job(job_id, caller)
        return JobStatusResponse(
            job_id=job.job_id,
            status=job.status,
            # the story can be read (with ?partial=true) as soon as its text is written
            story_id=job.story_id if job.status is not JobStatus.FAILED else None,
            error=job.error,
            created_at=job.created_at,
            updated_at=job.updated_at,
            progress=job.progress,
            webhook=_webhook_delivery(job),
            cost=job.cost if job.status.is_terminal else None,
        )

    def month_spend(self, caller: Caller) -> MonthSpendResponse:
        """The caller's spend this calendar month (UTC), counted as each job ended."""
        spent = self._table.month_spend(caller.owner, month_of(self._clock()))
        return MonthSpendResponse(**spent.model_dump())

    def webhook_secret(self, caller: Caller, *, rotate: bool = False) -> WebhookSecretResponse:
        secrets = (
            self._table.rotate_webhook_secret(caller.owner)
            if rotate
            else self._table.webhook_secrets(caller.owner)
        )
        return WebhookSecretResponse(
            secret=secrets.current,
            previous_secret_valid_until=(
                secrets.rotated_at + PREVIOUS_SECRET_VALID if secrets.rotated_at else None
            ),
        )

    def story(
        self,
        story_or_job_id: str,
        caller: Caller,
        media_url: MediaUrls,
        *,
        partial: bool = False,
    ) -> StoryResponse:
        """A completed story of the caller's, by its id or by the id of the job that made it;
        with `partial`, also one whose pictures and clips are still being made, with those made
        so far (`complete` false)."""
        if not could_be_id(story_or_job_id):
            raise NotFound(f"Story {story_or_job_id} not found")
        found = self._table.get_story(story_or_job_id)
        if found is None:
            job = self._table.get_job(story_or_job_id)
            if job is not None and job.story_id:
                found = self._table.get_story(job.story_id)
        readable = {JobStatus.COMPLETED, JobStatus.PROCESSING} if partial else {JobStatus.COMPLETED}
        if found is None or found[0].status not in readable or found[0].owner != caller.owner:
            raise NotFound(f"Story {story_or_job_id} not found")
        story, assets = found
        done = sorted(
            (a for a in assets if a.status is AssetStatus.COMPLETED and a.s3_key),
            key=lambda a: a.display_order,
        )
        return StoryResponse(
            id=story.id,
            title=story.title,
            content=story.content,
            age_group=story.age_group,
            prompt=story.prompt,
            created_at=story.created_at,
            images=[_image_out(a, media_url) for a in done if a.kind is AssetKind.IMAGE],
            videos=[_video_out(a, media_url) for a in done if a.kind is AssetKind.VIDEO],
            job_id=story.job_id,
            pages=story.pages,
            character=story.character,
            readability=story.readability,
            offline=story.offline,
            notice=OFFLINE_NOTICE if story.offline else None,
            narration=_narration_out(story, done, media_url) if story.narrated else None,
            complete=story.status is JobStatus.COMPLETED,
            **_related(story, self._table.related_stories(story.id)),
            page_versions=[story.page_version(page) for page in range(len(story.pages))],
        )

    def book_key(self, story_or_job_id: str, caller: Caller, name: str) -> tuple[str, str]:
        """Where the book `name` (kidstory.steps.books.BOOK_FILES) of a completed story of the
        caller's is kept, and the story's title; NotFound when there is no such story or the
        story has no such book (one that could not be made)."""
        if not could_be_id(story_or_job_id):
            raise NotFound(f"Story {story_or_job_id} not found")
        story = self._table.get_story_item(story_or_job_id)
        if story is None:
            job = self._table.get_job(story_or_job_id)
            story = self._table.get_story_item(job.story_id) if job and job.story_id else None
        if story is None or story.status is not JobStatus.COMPLETED or story.owner != caller.owner:
            raise NotFound(f"Story {story_or_job_id} not found")
        key = book_key(story.id, name, story.changed_by)  # as its last page change left it
        if not self._media.exists(key):
            raise NotFound(f"Story {story.id} has no {name}: its book could not be made")
        return key, story.title

    def delete_story(self, story_or_job_id: str, caller: Caller) -> None:
        """Remove a story of the caller's, with its pictures, clips and job, for good."""
        if not could_be_id(story_or_job_id):
            raise NotFound(f"Story {story_or_job_id} not found")
        found = self._table.get_story(story_or_job_id)
        job_id = found[0].job_id if found else story_or_job_id
        job = self._table.get_job(job_id)
        if job is None or job.owner != caller.owner:
            raise NotFound(f"Story {story_or_job_id} not found")
        if not job.status.is_terminal:
            raise StillRunning(
                f"Story {story_or_job_id} is still being made; delete it once its job has ended"
            )
        if found is None and job.story_id:
            found = self._table.get_story(job.story_id)
        if found is not None:
            story, assets = found
            self._check_no_page_change(story.id)
            self._media.delete(
                [asset.s3_key for asset in assets if asset.s3_key]
                + book_keys(story.id)
                + self._table.version_media_keys(story.id)
            )
            # its own job and its page changes' jobs go with it (asked by any of their ids)
            others = {story.job_id, *self._table.page_change_jobs(story.id)} - {job.job_id}
            self._table.delete_story(story.id, job.job_id)
            self._table.forget_in_parent(story)  # a sequel or version leaves its parent's list
            for other in sorted(others):
                self._table.delete_story("", other)
        else:
            self._table.delete_story("", job.job_id)

    def _check_no_page_change(self, story_id: str) -> None:
        """StillRunning while a page change of the story is running (its claim is held by a
        job that has not ended)."""
        holder = self._table.changing(story_id)
        job = self._table.get_job(holder) if holder else None
        if job is not None and not job.status.is_terminal:
            raise StillRunning(
                f"Story {story_id} has a page change running; delete it once that job has ended"
            )

    def list_stories(self, caller: Caller, *, limit: int, offset: int) -> StoryListResponse:
        stories, total = self._table.list_stories(caller.owner, limit=limit, offset=offset)
        return StoryListResponse(
            stories=[
                StorySummary(
                    id=story.id,
                    title=story.title,
                    age_group=story.age_group,
                    prompt=story.prompt,
                    created_at=story.created_at,
                    num_images=story.num_images,
                )
                for story in stories
            ],
            total=total,
        )


def _related(story: Story, links: list[RelatedItem]) -> dict[str, Any]:
    """A story's language, series and parent, and its completed sequels and versions. The
    first story of a series stores no series_id: it shows its own id once it has a sequel."""
    related = [RelatedStory.model_validate(link.model_dump()) for link in links]
    sequels = [link for link in related if link.relation == "sequel"]
    return {
        "language": story.language,
        "series_id": story.series_id or (story.id if sequels else None),
        "parent_id": story.parent_id,
        "sequels": sequels,
        "versions": [link for link in related if link.relation == "version"],
    }


def _webhook_delivery(job: Job) -> WebhookDelivery | None:
    if job.request.webhook_url is None:
        return None
    attempts = [WebhookAttempt.model_validate(item) for item in job.webhook_attempts]
    last = attempts[-1] if attempts else None
    return WebhookDelivery(
        url=str(job.request.webhook_url),
        delivered=any(attempt.delivered for attempt in attempts),
        attempts=len(attempts),
        last_attempt_at=last.at if last else None,
        last_status_code=last.status_code if last else None,
        last_error=last.error if last else None,
    )


class MediaUrls(Protocol):
    def __call__(self, asset: Asset) -> str: ...


def _image_out(asset: Asset, media_url: MediaUrls) -> ImageOut:
    return ImageOut(
        id=asset.asset_id,
        image_url=media_url(asset),
        prompt_used=asset.prompt_used,
        scene_description=asset.scene_description,
        display_order=asset.display_order,
    )


def _narration_out(story: Story, done: list[Asset], media_url: MediaUrls) -> NarrationOut:
    readings = [asset for asset in done if asset.kind is AssetKind.AUDIO]
    return NarrationOut(
        voice=next((asset.voice for asset in readings if asset.voice), story.voice),
        offline=any(asset.provider == "offline" for asset in readings),
        pages=[
            NarratedPage(
                page=asset.display_order + 1,
                audio_url=media_url(asset),
                duration_ms=asset.duration_ms or 0,
                words=asset.words or [],
            )
            for asset in readings
        ],
    )


def _video_out(asset: Asset, media_url: MediaUrls) -> VideoOut:
    return VideoOut(
        id=asset.asset_id,
        video_url=media_url(asset),
        prompt_used=asset.prompt_used,
        scene_description=asset.scene_description,
        display_order=asset.display_order,
    )
