"""The work behind each state: stored once, retried safely, failures recorded where they
happened, every job ending terminal."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from kidstory.media_store import MediaStore
from kidstory.models import AssetKind, AssetStatus, Job, JobStatus, Stage, StoryRequest, StoryText
from kidstory.observability import metrics
from kidstory.providers.base import (
    GeneratedMedia,
    MediaSpec,
    StoryBrief,
    VideoCheck,
    VideoOperation,
)
from kidstory.providers.errors import ProviderThrottled, VideoTimedOut
from kidstory.providers.offline import OfflineImageProvider, OfflineVideoProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.steps.payloads import (
    AssembleInput,
    CaughtError,
    ExecutionEnded,
    JobRef,
    MarkFailedInput,
    MediaResult,
    StoryDraft,
    VideoPoll,
    describe_failure,
)
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import JsonLines
from tests.unit.steps.story_workflow import EveryStep


class NeverReadyVideo(OfflineVideoProvider):
    def start_video(self, spec: MediaSpec) -> VideoOperation:
        return VideoOperation(operation_id="op-1", poll_after_seconds=5)

    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
        return VideoCheck(done=False)


def _steps(table: StoryTable, media: MediaStore, **overrides: object) -> EveryStep:
    providers = {
        "text": OfflineTextProvider,
        "image": OfflineImageProvider,
        "video": OfflineVideoProvider,
    } | overrides
    return EveryStep(table, media, video_max_checks=3, **providers)  # type: ignore[arg-type]


def _job(table: StoryTable, **options: object) -> Job:
    request = {"prompt": "A curious otter builds a raft", "age_group": "6-8"} | options
    job = Job(request=StoryRequest.model_validate({"num_illustrations": 2} | request))
    table.put_job(job)
    return job


def test_write_story_twice_keeps_one_story_and_one_record_per_asset(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table, generate_videos=True)
    steps = _steps(table, media)

    first = steps.write_story(JobRef(job_id=job.job_id))
    again = steps.write_story(JobRef(job_id=job.job_id))

    assert first == again
    story, assets = table.get_story(first.story_id)  # type: ignore[misc]
    assert len(assets) == 4
    assert story.num_images == 2 and story.num_videos == 2
    assert table.get_job(job.job_id).story_id == story.id  # type: ignore[union-attr]


def test_an_illustration_is_stored_with_its_details(table: StoryTable, media: MediaStore) -> None:
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))

    steps.generate_image(draft.images[0])

    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert asset.status is AssetStatus.COMPLETED
    assert asset.attempts == 1
    assert asset.provider == "offline" and asset.model == "offline-painter-1"
    assert asset.content_type == "image/png" and asset.size_bytes and asset.size_bytes > 1000
    assert media.exists(asset.s3_key or "")


def test_a_retryable_error_is_recorded_and_raised_for_the_state_machine(
    table: StoryTable, media: MediaStore
) -> None:
    class Throttled(OfflineImageProvider):
        def generate_image(self, spec: MediaSpec) -> object:  # type: ignore[override]
            raise ProviderThrottled("429 Too Many Requests")

    job = _job(table)
    steps = _steps(table, media, image=Throttled)
    draft = steps.write_story(JobRef(job_id=job.job_id))

    with pytest.raises(ProviderThrottled):
        steps.generate_image(draft.images[0])

    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert asset.status is AssetStatus.GENERATING  # a retry may still succeed
    assert asset.error == "ProviderThrottled: 429 Too Many Requests"


@pytest.mark.parametrize(("asked", "waited"), [(3.5, [3.5]), (45.0, [20.0]), (None, [])])
def test_a_throttled_step_waits_as_long_as_the_provider_asked_within_a_bound(
    table: StoryTable, media: MediaStore, asked: float | None, waited: list[float]
) -> None:
    class Throttled(OfflineImageProvider):
        def generate_image(self, spec: MediaSpec) -> object:  # type: ignore[override]
            raise ProviderThrottled("429 Too Many Requests", retry_after_seconds=asked)

    slept: list[float] = []
    job = _job(table)
    steps = _steps(table, media, image=Throttled, sleep=slept.append)
    draft = steps.write_story(JobRef(job_id=job.job_id))

    with pytest.raises(ProviderThrottled):
        steps.generate_image(draft.images[0])

    assert slept == waited


def test_video_checks_are_bounded(table: StoryTable, media: MediaStore) -> None:
    job = _job(table, generate_images=False, generate_videos=True, num_illustrations=1)
    steps = _steps(table, media, video=NeverReadyVideo)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    poll: VideoPoll = steps.start_video(draft.videos[0])
    assert poll.poll_after_seconds == 5

    poll = steps.check_video(poll)
    poll = steps.check_video(poll)
    with pytest.raises(VideoTimedOut, match="after 3 checks"):
        steps.check_video(poll)

    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.FAILED


def test_assemble_completes_a_story_whose_media_are_all_there(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    done = [MediaResult(**steps.generate_image(ref).model_dump()) for ref in draft.images]

    outcome = steps.assemble(
        AssembleInput(job_id=job.job_id, story_id=draft.story_id, media=[done, []])
    )

    assert outcome.status is JobStatus.COMPLETED and outcome.error is None
    ended = table.get_job(job.job_id)
    assert ended is not None and ended.status is JobStatus.COMPLETED
    assert ended.progress.stage is Stage.DONE and ended.progress.images_done == 2
    assert table.get_story_item(draft.story_id).status is JobStatus.COMPLETED  # type: ignore[union-attr]
    stories, total = table.list_stories("anonymous", limit=10, offset=0)
    assert [story.id for story in stories] == [draft.story_id] and total == 1


def test_a_late_assemble_leaves_the_ended_job_and_its_story_as_they_ended(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    done = [MediaResult(**steps.generate_image(ref).model_dump()) for ref in draft.images]
    cause = json.dumps({"errorType": "States.Timeout", "errorMessage": "took too long"})
    steps.mark_failed(
        MarkFailedInput(job_id=job.job_id, error=CaughtError(Error="States.Timeout", Cause=cause))
    )

    outcome = steps.assemble(
        AssembleInput(job_id=job.job_id, story_id=draft.story_id, media=[done, []])
    )

    assert outcome.status is JobStatus.FAILED
    assert table.get_job(job.job_id).status is JobStatus.FAILED  # type: ignore[union-attr]
    assert table.get_story_item(draft.story_id).status is JobStatus.FAILED  # type: ignore[union-attr]
    assert table.list_stories("anonymous", limit=10, offset=0) == ([], 0)


def test_assemble_fails_the_job_naming_each_missing_asset(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    made = MediaResult(**steps.generate_image(draft.images[0]).model_dump())
    cause = json.dumps({"errorType": "ContentRefused", "errorMessage": "blocked by policy"})
    caught = MediaResult(
        **draft.images[1].model_dump(), failure=CaughtError(Error="ContentRefused", Cause=cause)
    )

    outcome = steps.assemble(
        AssembleInput(job_id=job.job_id, story_id=draft.story_id, media=[[made, caught], []])
    )

    assert outcome.status is JobStatus.FAILED
    assert (
        outcome.error
        == "1 of 2 media could not be made: image 2: ContentRefused: blocked by policy"
    )
    assert table.get_asset(draft.story_id, AssetKind.IMAGE, 1).status is AssetStatus.FAILED
    assert table.list_stories("anonymous", limit=10, offset=0) == ([], 0)


def test_mark_failed_ends_a_job_that_never_got_a_story(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    cause = json.dumps({"errorType": "ProviderTimeout", "errorMessage": "no answer in 60 s"})

    outcome = steps.mark_failed(
        MarkFailedInput(job_id=job.job_id, error=CaughtError(Error="ProviderTimeout", Cause=cause))
    )

    assert outcome.status is JobStatus.FAILED
    stored = table.get_job(job.job_id)
    assert stored is not None and stored.status is JobStatus.FAILED
    assert stored.error == "ProviderTimeout: no answer in 60 s"


@pytest.mark.parametrize(
    ("caught", "expected"),
    [
        (CaughtError(Error="States.Timeout", Cause=None), "States.Timeout: no details were given"),
        (CaughtError(Error="States.Runtime", Cause="bad path $.x"), "States.Runtime: bad path $.x"),
        (
            CaughtError(Error="Boom", Cause='{"errorMessage": "it broke", "errorType": "Boom"}'),
            "Boom: it broke",
        ),
    ],
)
def test_failures_are_described_in_words(caught: CaughtError, expected: str) -> None:
    assert describe_failure(caught) == expected


def test_an_execution_that_stopped_early_fails_its_unfinished_job(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    steps.write_story(JobRef(job_id=job.job_id))

    outcome = steps.end_orphaned_job(
        ExecutionEnded(name=job.job_id, status="TIMED_OUT", error="States.Timeout")
    )

    assert outcome is not None and outcome.status is JobStatus.FAILED
    stored = table.get_job(job.job_id)
    assert stored is not None and stored.status is JobStatus.FAILED
    assert stored.error == (
        "ExecutionTimedOut: The workflow stopped (TIMED_OUT) before the story was finished: "
        "States.Timeout"
    )


def test_a_failed_story_that_was_announced_is_not_announced_again(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    steps.mark_failed(MarkFailedInput(job_id=job.job_id, error=CaughtError(Error="Boom")))

    outcome = steps.end_orphaned_job(
        ExecutionEnded(name=job.job_id, status="FAILED", error="StoryFailed")
    )

    assert outcome is None
    assert table.get_job(job.job_id).error == "Boom: no details were given"  # type: ignore[union-attr]


def test_a_finished_job_whose_execution_failed_while_publishing_is_announced_again(
    table: StoryTable, media: MediaStore
) -> None:
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    made = [MediaResult(**steps.generate_image(ref).model_dump()) for ref in draft.images]
    steps.assemble(AssembleInput(job_id=job.job_id, story_id=draft.story_id, media=[made, []]))

    outcome = steps.end_orphaned_job(
        ExecutionEnded(name=job.job_id, status="FAILED", error="EventBridge.FailedEntry")
    )

    assert outcome is not None
    assert outcome.status is JobStatus.COMPLETED and outcome.story_id == draft.story_id
    assert table.get_job(job.job_id).status is JobStatus.COMPLETED  # type: ignore[union-attr]


def test_a_retried_video_step_never_starts_a_second_clip(
    table: StoryTable, media: MediaStore
) -> None:
    class CountingVideo(OfflineVideoProvider):
        starts = 0
        checks = 0

        def start_video(self, spec: MediaSpec) -> VideoOperation:
            CountingVideo.starts += 1
            return super().start_video(spec)

        def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
            CountingVideo.checks += 1
            return super().check_video(operation_id, spec)

    job = _job(table, generate_images=False, generate_videos=True, num_illustrations=1)
    steps = _steps(table, media, video=CountingVideo)
    draft = steps.write_story(JobRef(job_id=job.job_id))

    first = steps.start_video(draft.videos[0])
    again = steps.start_video(draft.videos[0])  # a retry of StartVideo
    done = steps.check_video(first)
    recheck = steps.check_video(first)  # a retry of CheckVideo after the clip was stored
    after = steps.start_video(draft.videos[0])

    assert CountingVideo.starts == 1 and CountingVideo.checks == 1
    assert again.operation_id == first.operation_id
    assert done.done and recheck.done and after.done


def test_progress_counts_each_picture_once_when_its_step_is_retried(
    table: StoryTable, media: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _job(table, num_illustrations=1)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    client = table._client
    write = client.transact_write_items
    failures = iter([ClientError({"Error": {"Code": "InternalServerError"}}, "TransactWriteItems")])

    def fails_once(**request: object) -> object:
        error = next(failures, None)
        if error is not None:
            raise error
        return write(**request)

    monkeypatch.setattr(client, "transact_write_items", fails_once)

    with pytest.raises(ClientError):  # the picture is drawn, but recording it fails
        steps.generate_image(draft.images[0])
    steps.generate_image(draft.images[0])  # the state machine's retry
    steps.generate_image(draft.images[0])  # and a retry of a step that had succeeded

    progress = table.get_job(job.job_id).progress  # type: ignore[union-attr]
    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert progress.images_done == 1
    assert asset.status is AssetStatus.COMPLETED and asset.attempts == 2


def test_a_job_that_has_ended_keeps_its_outcome(table: StoryTable, media: MediaStore) -> None:
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    made = [MediaResult(**steps.generate_image(ref).model_dump()) for ref in draft.images]
    steps.mark_failed(MarkFailedInput(job_id=job.job_id, error=CaughtError(Error="Aborted")))

    late = steps.assemble(
        AssembleInput(job_id=job.job_id, story_id=draft.story_id, media=[made, []])
    )

    assert late.status is JobStatus.FAILED and late.error == "Aborted: no details were given"
    assert table.get_job(job.job_id).status is JobStatus.FAILED  # type: ignore[union-attr]
    assert table.list_stories("anonymous", limit=10, offset=0) == ([], 0)


def test_steps_count_what_they_make_for_the_dashboard(
    table: StoryTable, media: MediaStore, emitted: JsonLines
) -> None:
    metrics.clear_metrics()
    job = _job(table)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    made = [MediaResult(**steps.generate_image(ref).model_dump()) for ref in draft.images]
    steps.assemble(AssembleInput(job_id=job.job_id, story_id=draft.story_id, media=[made, []]))
    metrics.flush_metrics()

    [record] = [record for record in emitted() if "ProviderLatency" not in record]
    assert record["ImagesGenerated"] == [1, 1]
    assert record["StoriesCompleted"] == [1]
    assert len(record["StoryWritingTime"]) == 1
    # one series per stage: dev and prod in one account and Region do not add up
    [definition] = record["_aws"]["CloudWatchMetrics"]
    assert definition["Namespace"] == "KidStory"
    assert [set(names) for names in definition["Dimensions"]] == [{"service", "stage"}]
    assert (record["service"], record["stage"]) == ("kidstory", "local")


def test_every_provider_call_is_timed_by_kind(
    table: StoryTable, media: MediaStore, emitted: JsonLines
) -> None:
    job = _job(table, generate_videos=True, num_illustrations=1)
    steps = _steps(table, media)
    draft = steps.write_story(JobRef(job_id=job.job_id))
    steps.generate_image(draft.images[0])
    steps.check_video(steps.start_video(draft.videos[0]))

    timed = [record for record in emitted() if "ProviderLatency" in record]

    # the text provider wrote one draft, which planned the scenes of pictures and clips too
    assert Counter(record["kind"] for record in timed) == {"text": 1, "image": 1, "video": 2}

    for record in timed:
        [definition] = record["_aws"]["CloudWatchMetrics"]
        assert [set(names) for names in definition["Dimensions"]] == [{"service", "stage", "kind"}]
        assert definition["Metrics"] == [{"Name": "ProviderLatency", "Unit": "Seconds"}]
        assert record["stage"] == "local" and record["ProviderLatency"][0] >= 0


class ThrottledText(OfflineTextProvider):
    def write_story(self, brief: StoryBrief) -> StoryText:
        raise ProviderThrottled("429 Too Many Requests")


class ThrottledImage(OfflineImageProvider):
    def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
        raise ProviderThrottled("429 Too Many Requests")


class ThrottledClipStart(OfflineVideoProvider):
    def start_video(self, spec: MediaSpec) -> VideoOperation:
        raise ProviderThrottled("429 Too Many Requests")


class ThrottledClipCheck(OfflineVideoProvider):
    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
        raise ProviderThrottled("429 Too Many Requests")


@pytest.mark.parametrize(
    ("throttled", "step"),
    [
        (
            {"text": ThrottledText},
            lambda steps, draft: steps.write_story(JobRef(job_id=draft.job_id)),
        ),
        ({"image": ThrottledImage}, lambda steps, draft: steps.generate_image(draft.images[0])),
        ({"video": ThrottledClipStart}, lambda steps, draft: steps.start_video(draft.videos[0])),
        (
            {"video": ThrottledClipCheck},
            lambda steps, draft: steps.check_video(
                VideoPoll(**draft.videos[0].model_dump(), operation_id="op-1")
            ),
        ),
    ],
    ids=["text", "picture", "clip start", "clip check"],
)
def test_throttling_is_counted_for_every_kind_of_provider(
    table: StoryTable,
    media: MediaStore,
    throttled: dict[str, type],
    step: Callable[[EveryStep, StoryDraft], object],
) -> None:
    job = _job(table, generate_videos=True, num_illustrations=1)
    draft = _steps(table, media).write_story(JobRef(job_id=job.job_id))
    metrics.clear_metrics()

    with pytest.raises(ProviderThrottled):
        step(_steps(table, media, sleep=lambda _: None, **throttled), draft)

    assert metrics.metric_set["ProviderThrottled"]["Value"] == [1]
    metrics.clear_metrics()
