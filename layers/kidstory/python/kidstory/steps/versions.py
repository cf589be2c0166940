"""A version's part of WriteStory: the parent's text told again by the text provider (in
another language and/or for other ages, page for page), reviewed like any story, and the
parent's pictures and clips copied to the version inside the media bucket, with no picture or
clip provider called."""

from __future__ import annotations

from collections.abc import Callable

from kidstory.media_store import MediaStore
from kidstory.models import (
    Asset,
    AssetKind,
    AssetStatus,
    Job,
    Readability,
    Story,
    StoryText,
)
from kidstory.providers.base import TextProvider, VersionBrief
from kidstory.providers.errors import ContentRefused
from kidstory.readability import advice, readability_for
from kidstory.safety import TextModerator
from kidstory.store.stories import Stories
from kidstory.story_budget import MAX_REVISIONS

COPIED = (AssetKind.IMAGE, AssetKind.VIDEO)  # narration is read again, in the version's words


class Versions:
    """Writes a version's text and copies its parent's media."""

    def __init__(
        self,
        stories: Stories,
        media: MediaStore,
        writer: TextProvider,
        checker: TextModerator,
        *,
        max_revisions: int = MAX_REVISIONS,
    ) -> None:
        self._stories = stories
        self._media = media
        self._writer = writer
        self._checker = checker
        self._max_revisions = max_revisions

    def parent_media(self, parent: Story) -> list[Asset]:
        """The parent's pictures and clips, as made (a completed story has them all)."""
        found = self._stories.get_story(parent.id)
        assets = found[1] if found else []
        return sorted(
            (
                asset
                for asset in assets
                if asset.kind in COPIED and asset.status is AssetStatus.COMPLETED and asset.s3_key
            ),
            key=lambda asset: (asset.kind.value, asset.display_order),
        )

    def retell(self, job: Job, parent: Story) -> tuple[StoryText, Readability | None]:
        """The version's text, reviewed as a story is: every page and the title moderated,
        its readability measured for its band; sent back with the reason at most
        `max_revisions` times (still unsafe: ContentRefused; still outside its band: kept,
        with figures that say so)."""
        request = job.request
        brief = VersionBrief(
            title=parent.title,
            pages=tuple(parent.pages),
            character=parent.character,
            art_style=parent.art_style,
            from_language=parent.language,
            language=request.language,
            from_age_group=parent.age_group,
            age_group=request.age_group,
        )
        drafts = 0
        while True:
            drafts += 1
            text = self._writer.write_version(brief)
            unsafe = next(
                (
                    f"page {number}: {verdict.reason}" if number else f"title: {verdict.reason}"
                    for number, said in enumerate([text.title, *text.pages])
                    if not (verdict := self._checker.check(said)).allowed
                ),
                None,
            )
            readability = readability_for(
                text.content, request.age_group, text.written_in or request.language
            )
            if unsafe and drafts > self._max_revisions:
                raise ContentRefused(
                    f"The version was refused by the safety review after {drafts} drafts ({unsafe})"
                )
            notes = unsafe or (advice(readability, request.age_group) if readability else None)
            if notes is None or drafts > self._max_revisions:
                return text, readability
            brief = brief.revised(notes)

    def copy_media(
        self, parents: list[Asset], story: Story, asset_id: Callable[[str, AssetKind, int], str]
    ) -> list[Asset]:
        """The version's own copies of its parent's pictures and clips: the same bytes at the
        version's keys (copied by S3, inside the bucket), recorded as completed, so deleting
        either story never takes the other's media."""
        copies = []
        for original in parents:
            copy = original.model_copy(
                update={
                    "asset_id": asset_id(story.id, original.kind, original.display_order),
                    "story_id": story.id,
                    "job_id": story.job_id,
                    "status": AssetStatus.COMPLETED,
                    "attempts": 0,
                    "error": None,
                    "operation_id": None,
                }
            )
            copy.s3_key = copy.media_key()
            kind = original.content_type or "application/octet-stream"
            self._media.copy(original.s3_key or "", copy.s3_key, kind)
            self._stories.complete_asset(copy)
            copies.append(copy)
        return copies
