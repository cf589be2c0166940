"""A page change in the workflow (a regenerated or an edited page): its new text and the assets
it redoes prepared in WriteStory, the story as it will be bound in BuildBook, and the new
version made current (Assemble) or the change dropped (MarkFailed), the story left as it was."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kidstory.books import book_keys
from kidstory.job_cost import JobCost
from kidstory.media_store import MediaStore
from kidstory.models import (
    Asset,
    AssetKind,
    AssetStatus,
    Job,
    JobKind,
    JobStatus,
    Readability,
    Stage,
    Story,
    page_assets,
    utc_now,
)
from kidstory.providers.base import PageBrief, TextProvider
from kidstory.providers.errors import ContentRefused
from kidstory.safety import OfflineModerator, TextModerator
from kidstory.steps.payloads import (
    AssembleInput,
    AssetRef,
    JobNotFound,
    JobOutcome,
    StoryDraft,
    describe_failure,
)
from kidstory.store.jobs import JobAlreadyEnded, Jobs
from kidstory.store.page_versions import PageChange, PageVersionRecord, PageVersions
from kidstory.story_budget import MAX_REVISIONS

_IDS = uuid.UUID("0b6f3c2e-8d1a-4f47-9a3e-5c2d7b1e9f40")
# What a redrawn picture's prompt adds to the scene's: the redraw, and the owner's wish.
_REDRAW = re.compile(r" Redraw \d+: .*$", flags=re.DOTALL)


def redraw_prompt(prompt: str, version: int, instructions: str | None) -> str:
    """The scene's prompt (the character sheet and art style in it word for word), told this is
    another drawing of it, with the owner's wish if there is one."""
    scene = _REDRAW.sub("", prompt)
    wish = instructions or "a new drawing of the same moment"
    return f"{scene} Redraw {version}: {wish}."


def changed_story(
    story: Story, assets: list[Asset], change: PageChange, redone: list[Asset]
) -> tuple[Story, list[Asset]]:
    """The story as the change leaves it: the page's text, the story's readability, the
    redone assets in place of the current ones, the page's version one more."""
    pages = list(story.pages)
    pages[change.page] = change.text
    versions = [story.page_version(page) for page in range(len(pages))]
    versions[change.page] += 1
    updated = story.model_copy(
        update={
            "pages": pages,
            "content": "\n\n".join(pages),
            "readability": change.readability or story.readability,
            "page_versions": versions,
            "changed_by": change.job_id,
        }
    )
    replaced = {(a.kind, a.display_order): a.model_copy(update={"pending": False}) for a in redone}
    kept = [a for a in assets if (a.kind, a.display_order) not in replaced]
    return updated, sorted(
        kept + list(replaced.values()), key=lambda a: (a.kind.value, a.display_order)
    )


@dataclass(frozen=True)
class NewText:
    text: str
    readability: Readability | None


# The job's cost from its ledger and the update that counts it in its owner's month
# (kidstory.steps.outcome.Outcomes._cost), written with the write that ends the job.
Costing = Callable[[Job, list[Asset]], tuple[JobCost | None, dict[str, Any] | None]]


def _no_cost(job: Job, made: list[Asset]) -> tuple[JobCost | None, dict[str, Any] | None]:
    return None, None


class PageChanges:
    """The steps of a page change job (JobKind.REGENERATE_PAGE, EDIT_PAGE); the writer and the
    moderator are made on first use."""

    def __init__(
        self,
        jobs: Jobs,
        versions: PageVersions,
        *,
        writer: Callable[[], TextProvider] | None = None,
        moderator: Callable[[], TextModerator] | None = None,
        media: MediaStore | None = None,
        max_revisions: int = MAX_REVISIONS,
    ) -> None:
        self._jobs = jobs
        self._versions = versions
        self._writer = writer
        self._moderator = moderator
        self._media = media
        self._max_revisions = max_revisions

    # WriteStory

    def prepare(self, job: Job, writer: TextProvider | None = None) -> StoryDraft:
        """The page's new text (rewritten, checked and measured, or the owner's), and a pending
        record for every asset it redoes; the story itself is not touched."""
        origin = job.origin
        if origin is None or origin.page is None:
            raise JobNotFound(f"job {job.job_id} changes no page")
        found = self._versions.get_story(origin.story_id)
        if found is None or found[0].status is not JobStatus.COMPLETED:
            raise JobNotFound(f"story {origin.story_id} of job {job.job_id} does not exist")
        story, assets = found
        page = origin.page - 1
        if not 0 <= page < len(story.pages):
            raise JobNotFound(f"story {story.id} has no page {origin.page}")
        current = story.pages[page]
        if job.kind is JobKind.EDIT_PAGE:
            new = NewText(origin.new_text or current, None)
        elif origin.text:
            new = self._rewrite(story, page, origin.instructions, writer)
        else:
            new = NewText(current, None)
        text_changed = new.text != current
        readability = new.readability
        if text_changed and readability is None:
            readability = _measure(story, page, new.text)
        change = PageChange(
            job_id=job.job_id,
            story_id=story.id,
            page=page,
            change="edited" if job.kind is JobKind.EDIT_PAGE else "regenerated",
            text=new.text,
            text_changed=text_changed,
            readability=readability,
        )
        version = story.page_version(page) + 1
        redone: list[Asset] = []
        if job.kind is JobKind.REGENERATE_PAGE and origin.picture:
            redone += [
                self._redo(job, old, redraw_prompt(old.prompt_used, version, origin.instructions))
                for old in page_assets(story, assets, page)
                if old.kind is AssetKind.IMAGE
            ]
        if story.narrated and text_changed:
            reading = next(
                (a for a in assets if a.kind is AssetKind.AUDIO and a.display_order == page), None
            )
            if reading is not None:
                redone.append(self._redo(job, reading, new.text))
        self._versions.put_change(change, story)
        self._versions.put_assets(redone)
        self._jobs.update_job(job.job_id, JobStatus.PROCESSING, story_id=story.id)
        images = [AssetRef.of(a) for a in redone if a.kind is AssetKind.IMAGE]
        readings = [AssetRef.of(a) for a in redone if a.kind is AssetKind.AUDIO]
        self._jobs.set_stage(
            job.job_id,
            Stage.ILLUSTRATING,
            images_total=len(images),
            videos_total=0,
            narration_total=len(readings),
        )
        return StoryDraft(
            job_id=job.job_id, story_id=story.id, images=images, videos=[], narration=readings
        )

    def _rewrite(
        self, story: Story, page: int, instructions: str | None, writer: TextProvider | None
    ) -> NewText:
        """The page written again until it is safe and its story reads in its band, a bounded
        number of times (as the story graph's reviewer sends a draft back); ContentRefused when
        no try was safe, the last safe try when none fitted the band."""
        writer = writer or (self._writer() if self._writer else None)
        if writer is None:
            raise RuntimeError("no text provider to rewrite the page with")
        checker = self._moderator() if self._moderator else OfflineModerator()
        was_in_band = story.readability is None or story.readability.fits_age_group
        from kidstory.readability import advice

        notes: str | None = None
        safe: NewText | None = None
        unsafe = ""
        for attempt in range(1, self._max_revisions + 2):
            brief = PageBrief(
                title=story.title,
                pages=tuple(story.pages),
                page=page,
                character=story.character,
                age_group=story.age_group,
                instructions=instructions,
                language=story.language,
                attempt=attempt,
                revision_notes=notes,
            )
            text = writer.rewrite_page(brief)
            verdict = checker.check(text)
            if not verdict.allowed:
                unsafe = verdict.reason or "not suitable"
                notes = f"the page is not suitable for children: {unsafe}"
                continue
            measured = _measure(story, page, text)
            safe = NewText(text, measured)
            if measured is None or measured.fits_age_group or not was_in_band:
                return safe
            notes = advice(measured, story.age_group)
        if safe is None:
            raise ContentRefused(
                f"The page was refused by the safety review after {self._max_revisions + 1} "
                f"tries ({unsafe}); the story is unchanged"
            )
        return safe

    @staticmethod
    def _redo(job: Job, old: Asset, prompt: str) -> Asset:
        return Asset(
            asset_id=str(uuid.uuid5(_IDS, f"{job.job_id}:{old.kind.value}:{old.display_order}")),
            story_id=old.story_id,
            job_id=job.job_id,
            kind=old.kind,
            display_order=old.display_order,
            prompt_used=prompt,
            scene_description=old.scene_description,
            pending=True,
        )

    # BuildBook

    def story_to_bind(self, story_id: str, job_id: str) -> tuple[Story, list[Asset]] | None:
        """The story as page change `job_id` will leave it, or None when that job is not a
        running page change of the story."""
        change = self._versions.get_change(story_id, job_id)
        found = self._versions.get_story(story_id) if change is not None else None
        if change is None or found is None:
            return None
        return changed_story(*found, *change)

    # Assemble

    def complete(self, job: Job, given: AssembleInput, costing: Costing = _no_cost) -> JobOutcome:
        """The new version made current, in one transaction, once every redone asset is made
        and stored; otherwise the change fails and the story stays as it was. `costing` gives
        the job's cost and its count in its owner's month, written in the same transaction."""
        change_found = self._versions.get_change(given.story_id, job.job_id)
        found = self._versions.get_story(given.story_id)
        if change_found is None or found is None:  # made current already, or gone
            return self._ended(
                job, "The page change's records are gone; the story is unchanged", costing
            )
        change, redone = change_found
        failures = [
            f"{result.kind.value} {result.display_order + 1}: {describe_failure(result.failure)}"
            for branch in given.media
            for result in branch
            if result.failure is not None
        ]
        failures += [
            f"{asset.kind.value} {asset.display_order + 1}: {asset.error or 'not made'}"
            for asset in redone
            if asset.status is not AssetStatus.COMPLETED
            or asset.s3_key is None
            or (self._media is not None and not self._media.exists(asset.s3_key))
        ]
        if failures:
            return self.fail(job, f"The page could not be changed: {'; '.join(failures)}", costing)
        story, assets = found
        changed, changed_assets = changed_story(story, assets, change, redone)
        page = change.page
        old_version = story.page_version(page)
        records: list[PageVersionRecord] = []
        if old_version == 1:  # the page as first written becomes its version 1
            records.append(
                PageVersionRecord(
                    story_id=story.id,
                    page=page,
                    version=1,
                    change="written",
                    job_id=story.job_id,
                    created_at=story.created_at,
                    text=story.pages[page],
                    assets=page_assets(story, assets, page),
                )
            )
        records.append(
            PageVersionRecord(
                story_id=story.id,
                page=page,
                version=old_version + 1,
                change=change.change,
                job_id=job.job_id,
                created_at=utc_now(),
                text=change.text,
                assets=page_assets(changed, changed_assets, page),
            )
        )
        changed.status = JobStatus.COMPLETED
        cost, spend = costing(job, redone)
        try:
            self._versions.make_current(changed, change, redone, records, cost=cost, spend=spend)
        except JobAlreadyEnded:
            return self._ended(
                job, "The story was changed meanwhile; this change was not kept", costing
            )
        return JobOutcome(
            job_id=job.job_id,
            story_id=story.id,
            status=JobStatus.COMPLETED,
            kind=job.kind,
            cost=cost,
        )

    def _ended(self, job: Job, reason: str, costing: Costing) -> JobOutcome:
        """The outcome of a job that ended before (a retried Assemble); one that has not (its
        story was rewritten under it, its claim lost) fails now, so every job ends."""
        stored = self._jobs.get_job(job.job_id) or job
        if stored.status.is_terminal:
            return self._stored_outcome(stored)
        return self.fail(stored, reason, costing)

    # MarkFailed

    def fail(self, job: Job, error: str, costing: Costing = _no_cost) -> JobOutcome:
        """The job fails, with what it cost; the change's records and media go, and the story
        stays as it was."""
        story_id = job.origin.story_id if job.origin else job.story_id
        cost, spend = costing(job, [])
        try:
            self._jobs.update_job(job.job_id, JobStatus.FAILED, error=error, cost=cost, spend=spend)
        except JobAlreadyEnded:  # ended before: its outcome stays
            ended = self._stored_outcome(job)
            if ended.status is JobStatus.COMPLETED:  # made current: nothing of it to drop
                return ended
        if story_id:
            made = self._versions.discard_change(story_id, job.job_id)
            if self._media is not None:  # its media, and the books bound with the change
                self._media.delete(made + book_keys(story_id, revision=job.job_id))
        return self._stored_outcome(job)

    def _stored_outcome(self, job: Job) -> JobOutcome:
        stored = self._jobs.get_job(job.job_id) or job
        return JobOutcome(
            job_id=stored.job_id,
            story_id=stored.story_id,
            status=stored.status,
            error=stored.error,
            kind=stored.kind,
            cost=stored.cost,
        )


def _measure(story: Story, page: int, text: str) -> Readability | None:
    """The story's readability with the page's new text, in the story's language (None where
    there is no measure for it: kidstory.readability.readability_for)."""
    from kidstory.readability import readability_for

    pages = list(story.pages)
    pages[page] = text
    return readability_for("\n\n".join(pages), story.age_group, story.language)
