"""Every step of the StoryWorkflow over one table, called in turn as the state machine calls
its functions: the tests' way to run a story from WriteStory to Assemble in one process."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from kidstory.ledger import Ledger
from kidstory.media_store import MediaStore
from kidstory.models import utc_now
from kidstory.providers.base import ImageProvider, TextProvider, VideoProvider
from kidstory.safety import PictureModerator, TextModerator
from kidstory.steps.clips import Clips
from kidstory.steps.outcome import Outcomes
from kidstory.steps.payloads import (
    AssembleInput,
    AssetRef,
    ExecutionEnded,
    JobOutcome,
    JobRef,
    MarkFailedInput,
    StoryDraft,
    VideoPoll,
)
from kidstory.steps.pictures import Pictures
from kidstory.steps.write_story import StoryWriting
from kidstory.store.story_table import StoryTable


class EveryStep:
    """The four kinds of step, each made when its provider is given; the stage's picture
    moderator is made once and shared by pictures and clips, as in one function's process."""

    def __init__(
        self,
        table: StoryTable,
        media: MediaStore,
        *,
        text: Callable[[], TextProvider] | None = None,
        image: Callable[[], ImageProvider] | None = None,
        video: Callable[[], VideoProvider] | None = None,
        story_graph: Callable[[TextProvider], Any] | None = None,
        moderator: Callable[[], TextModerator] | None = None,
        pictures: Callable[[], PictureModerator] | None = None,
        video_max_checks: int = 60,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        shared = cache(pictures) if pictures is not None else None
        self.writing = (
            StoryWriting(
                table,
                table,
                text=text,
                story_graph=story_graph,
                moderator=moderator,
                sleep=sleep,
                ledger=ledger,
                media=media,
            )
            if text is not None
            else None
        )
        self.pictures = (
            Pictures(table, media, image=image, pictures=shared, sleep=sleep, ledger=ledger)
            if image is not None
            else None
        )
        self.clips = (
            Clips(
                table,
                media,
                video=video,
                pictures=shared,
                video_max_checks=video_max_checks,
                sleep=sleep,
                ledger=ledger,
            )
            if video is not None
            else None
        )
        self.outcomes = Outcomes(table, table, media, ledger=ledger, clock=clock)

    def write_story(self, ref: JobRef) -> StoryDraft:
        assert self.writing is not None, "WriteStory needs a text provider"
        return self.writing.write_story(ref)

    def generate_image(self, ref: AssetRef) -> AssetRef:
        assert self.pictures is not None, "GenerateImage needs an image provider"
        return self.pictures.generate_image(ref)

    def start_video(self, ref: AssetRef) -> VideoPoll:
        assert self.clips is not None, "StartVideo needs a video provider"
        return self.clips.start_video(ref)

    def check_video(self, poll: VideoPoll) -> VideoPoll:
        assert self.clips is not None, "CheckVideo needs a video provider"
        return self.clips.check_video(poll)

    def assemble(self, given: AssembleInput) -> JobOutcome:
        return self.outcomes.assemble(given)

    def mark_failed(self, given: MarkFailedInput) -> JobOutcome:
        return self.outcomes.mark_failed(given)

    def end_orphaned_job(self, ended: ExecutionEnded) -> JobOutcome | None:
        return self.outcomes.end_orphaned_job(ended)
