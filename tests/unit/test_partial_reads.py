"""Reading a story before its pictures are done: the job names its story as soon as the text is
written, `partial` reads show the pictures made so far, and without `partial` a story is found
only once completed, as before."""

from __future__ import annotations

import pytest

from kidstory.access import Caller
from kidstory.library import NotFound, StoryLibrary
from kidstory.media_store import MediaStore
from kidstory.models import Asset, Job, JobStatus, StoryRequest
from kidstory.providers.offline import OfflineImageProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.steps.payloads import AssembleInput, JobRef, MediaResult
from kidstory.store.story_table import StoryTable
from tests.unit.steps.story_workflow import EveryStep

OWNER = Caller(owner="key:reader")


class NotStarted:
    def start(self, job_id: str) -> str:
        raise AssertionError("no workflow is started here")


def _url(asset: Asset) -> str:
    return f"https://media.example/{asset.asset_id}.png"


def test_a_story_is_readable_with_partial_as_soon_as_its_text_is_written(
    table: StoryTable, media: MediaStore
) -> None:
    library = StoryLibrary(table, NotStarted(), media, per_minute=100, daily=100)
    job = Job(
        request=StoryRequest(
            prompt="A kind dragon bakes bread", age_group="6-8", num_illustrations=3
        ),
        owner=OWNER.owner,
    )
    table.put_job(job)
    steps = EveryStep(table, media, text=OfflineTextProvider, image=OfflineImageProvider)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    first = steps.generate_image(draft.images[0])

    status = library.job_status(job.job_id, OWNER)
    assert (status.status, status.story_id) == (JobStatus.PROCESSING, draft.story_id)
    with pytest.raises(NotFound):  # a seed client's read: 404 until completed
        library.story(draft.story_id, OWNER, _url)

    early = library.story(draft.story_id, OWNER, _url, partial=True)

    assert early.complete is False
    assert early.pages and early.title
    assert [image.id for image in early.images] == [first.asset_id]
    with pytest.raises(NotFound):  # another caller's story stays hidden
        library.story(draft.story_id, Caller(owner="key:other"), _url, partial=True)

    rest = [steps.generate_image(ref) for ref in draft.images[1:]]
    steps.assemble(
        AssembleInput(
            job_id=job.job_id,
            story_id=draft.story_id,
            media=[[MediaResult(**ref.model_dump()) for ref in (first, *rest)], []],
        )
    )

    done = library.story(draft.story_id, OWNER, _url)
    assert done.complete is True and len(done.images) == 3
    assert library.story(draft.story_id, OWNER, _url, partial=True) == done
