"""What clients can ask about one page of their story: regenerate it, edit its text (each a job,
one change at a time per story), and list its versions."""

from __future__ import annotations

from kidstory.access import Caller
from kidstory.contract import ImageOut, NarratedPage, PageVersion, PageVersionsResponse
from kidstory.errors import ConflictError, FieldRefused
from kidstory.library import MediaUrls, NotFound, StoryLibrary, Submitted
from kidstory.models import (
    Asset,
    AssetKind,
    AssetStatus,
    EditPageRequest,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    RegeneratePageRequest,
    Story,
    WebhookUrl,
    could_be_id,
    page_assets,
)
from kidstory.store.page_versions import PageVersionRecord
from kidstory.store.story_table import StoryTable


class InstructionsRefused(FieldRefused):
    """A regeneration's instructions are not for a children's story; the reason says why."""

    issue_type = "content_policy"
    field = "instructions"


class PageTextRefused(FieldRefused):
    """An edited page's text is not for a children's story; the reason says why."""

    issue_type = "content_policy"
    field = "text"


class NothingToRegenerate(FieldRefused):
    """A regeneration that asks for neither the picture nor the text, or for the picture of a
    page that has none."""

    issue_type = "nothing_to_regenerate"
    field = "picture"


class PageChangeRunning(ConflictError):
    """Another change of the same story is running; one page change at a time per story."""


class PageEditing:
    """Page changes of a caller's completed story, started as jobs through the library (so
    they are charged, and honour Idempotency-Key, as any job)."""

    def __init__(self, library: StoryLibrary, table: StoryTable) -> None:
        self._library = library
        self._table = table

    def regenerate(
        self,
        story_id: str,
        page: int,
        body: RegeneratePageRequest,
        caller: Caller,
        idempotency_key: str | None = None,
    ) -> Submitted:
        story, assets = self._owned_page(story_id, page, caller)
        has_picture = any(a.kind is AssetKind.IMAGE for a in page_assets(story, assets, page - 1))
        picture = body.picture and has_picture
        if not (picture or body.text):
            raise NothingToRegenerate(
                f'Page {page} has no picture to redraw; ask for its text ("text": true)'
                if body.picture
                else 'Nothing to regenerate: ask for the picture, the text, or both ("picture", '
                '"text")'
            )
        if body.instructions is not None:
            self._library.check_text(body.instructions, InstructionsRefused, "instructions")
        origin = JobOrigin(
            story_id=story.id,
            page=page,
            picture=picture,
            text=body.text,
            instructions=body.instructions,
        )
        job = self._job(story, JobKind.REGENERATE_PAGE, origin, body.webhook_url, caller)
        return self._start(story, job, caller, idempotency_key)

    def edit(
        self,
        story_id: str,
        page: int,
        body: EditPageRequest,
        caller: Caller,
        idempotency_key: str | None = None,
    ) -> Submitted:
        story, _ = self._owned_page(story_id, page, caller)
        self._library.check_text(body.text, PageTextRefused, "page's text")
        origin = JobOrigin(story_id=story.id, page=page, new_text=body.text)
        job = self._job(story, JobKind.EDIT_PAGE, origin, body.webhook_url, caller)
        return self._start(story, job, caller, idempotency_key)

    def versions(
        self, story_id: str, page: int, caller: Caller, media_url: MediaUrls
    ) -> PageVersionsResponse:
        """Every version of the page, oldest first, the current one included."""
        story, assets = self._owned_page(story_id, page, caller)
        records = self._table.page_versions(story.id, page - 1)
        if not records:  # never changed: its one version is the story as written
            records = [
                PageVersionRecord(
                    story_id=story.id,
                    page=page - 1,
                    version=1,
                    change="written",
                    job_id=story.job_id,
                    created_at=story.created_at,
                    text=story.pages[page - 1],
                    assets=page_assets(story, assets, page - 1),
                )
            ]
        current = story.page_version(page - 1)
        return PageVersionsResponse(
            story_id=story.id,
            page=page,
            current_version=current,
            versions=[_version_out(record, current, media_url) for record in records],
        )

    def _owned_page(self, story_id: str, page: int, caller: Caller) -> tuple[Story, list[Asset]]:
        """A completed story of the caller's that has page `page` (1-based); NotFound alike
        for another key's story, one not completed, and a page it does not have."""
        found = self._table.get_story(story_id) if could_be_id(story_id) else None
        if (
            found is None
            or found[0].status is not JobStatus.COMPLETED
            or found[0].owner != caller.owner
        ):
            raise NotFound(f"Story {story_id} not found")
        if not 1 <= page <= len(found[0].pages):
            raise NotFound(f"Story {story_id} has no page {page}")
        return found

    def _job(
        self,
        story: Story,
        kind: JobKind,
        origin: JobOrigin,
        webhook_url: WebhookUrl | None,
        caller: Caller,
    ) -> Job:
        """The job of a page change: the story's own request (its webhook, the body's)."""
        made_by = self._table.get_job(story.job_id)
        if made_by is None:
            raise NotFound(f"Story {story.id} not found")
        request = made_by.request.model_copy(update={"webhook_url": webhook_url})
        self._library.check_webhook(request)
        return Job(kind=kind, origin=origin, request=request, owner=caller.owner, story_id=story.id)

    def _start(
        self, story: Story, job: Job, caller: Caller, idempotency_key: str | None
    ) -> Submitted:
        """Start the change once it holds the story (a conditional write): PageChangeRunning
        while another change holds it. A key used before replays its job instead."""
        if self._used_before(caller, idempotency_key):
            return self._library.start_job(job, caller, idempotency_key)
        if not self._claim(story.id, job.job_id):
            if self._used_before(caller, idempotency_key):  # the same request, just ahead
                return self._library.start_job(job, caller, idempotency_key)
            raise PageChangeRunning(
                f"Story {story.id} has a page change running; try again once its job has ended"
            )
        try:
            submitted = self._library.start_job(job, caller, idempotency_key)
        except Exception:
            self._table.release_story(story.id, job.job_id)
            raise
        if submitted.job.job_id != job.job_id:  # replayed another request's job
            self._table.release_story(story.id, job.job_id)
        return submitted

    def _used_before(self, caller: Caller, idempotency_key: str | None) -> bool:
        return (
            idempotency_key is not None
            and self._table.get_idempotency(caller.owner, idempotency_key) is not None
        )

    def _claim(self, story_id: str, job_id: str) -> bool:
        """Hold the story for `job_id`; a claim left by a change that has ended (one whose
        workflow never ran to its end) is taken over, in a write conditional on it."""
        if self._table.claim_story(story_id, job_id):
            return True
        holder = self._table.changing(story_id)
        if holder is None:
            return self._table.claim_story(story_id, job_id)
        held = self._table.get_job(holder)
        if held is not None and not held.status.is_terminal:
            return False
        return self._table.claim_story(story_id, job_id, replacing=holder)


def _version_out(record: PageVersionRecord, current: int, media_url: MediaUrls) -> PageVersion:
    done = [a for a in record.assets if a.status is AssetStatus.COMPLETED and a.s3_key]
    picture = next((a for a in done if a.kind is AssetKind.IMAGE), None)
    reading = next((a for a in done if a.kind is AssetKind.AUDIO), None)
    return PageVersion(
        version=record.version,
        current=record.version == current,
        change=record.change,
        job_id=record.job_id,
        created_at=record.created_at,
        text=record.text,
        image=ImageOut(
            id=picture.asset_id,
            image_url=media_url(picture),
            prompt_used=picture.prompt_used,
            scene_description=picture.scene_description,
            display_order=picture.display_order,
        )
        if picture
        else None,
        narration=NarratedPage(
            page=record.page + 1,
            audio_url=media_url(reading),
            duration_ms=reading.duration_ms or 0,
            words=reading.words or [],
        )
        if reading
        else None,
    )
