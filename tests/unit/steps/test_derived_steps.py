"""Sequels and versions from the request to the completed story, every step run in turn over
one table and bucket: what the owner can ask, what each kind of job makes, and how the parent
lists its children."""

from __future__ import annotations

from typing import Any

import pytest

from kidstory.access import NARRATION_COST, STORY_COST, Caller, job_cost
from kidstory.derived_stories import DerivedStories, StoryNotReady, VersionUnchanged
from kidstory.estimate import EstimateResponse
from kidstory.library import NotFound, OverCostCap, StoryLibrary
from kidstory.media_store import MediaStore
from kidstory.models import (
    AgeGroup,
    AssetKind,
    AssetStatus,
    JobStatus,
    SequelRequest,
    StoryRequest,
    VersionRequest,
)
from kidstory.providers.base import GeneratedMedia, MediaSpec
from kidstory.providers.offline import OfflineImageProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.steps.payloads import AssembleInput, JobRef, MediaResult
from kidstory.store.story_table import StoryTable
from tests.unit.steps.story_workflow import EveryStep

OWNER = Caller(owner="key:owner")
OTHER = Caller(owner="key:other")


class Started:
    """The workflow starter: remembers the jobs, runs nothing (the test runs the steps)."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def start(self, job_id: str) -> str:
        self.jobs.append(job_id)
        return job_id


class CountedPictures(OfflineImageProvider):
    calls = 0

    def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
        CountedPictures.calls += 1
        return super().generate_image(spec)


def _estimate(request: StoryRequest) -> EstimateResponse:
    pictures = request.num_illustrations if request.generate_images else 0
    return EstimateResponse(
        units=0, estimated_cost_usd=0.01 + 0.04 * pictures, breakdown=[], assumptions=["test"]
    )


@pytest.fixture
def started() -> Started:
    return Started()


@pytest.fixture
def library(table: StoryTable, media: MediaStore, started: Started) -> StoryLibrary:
    return StoryLibrary(table, started, media, per_minute=100, daily=1000, estimator=_estimate)


@pytest.fixture
def derived(library: StoryLibrary, table: StoryTable) -> DerivedStories:
    return DerivedStories(library, table)


@pytest.fixture
def steps(table: StoryTable, media: MediaStore) -> EveryStep:
    CountedPictures.calls = 0
    return EveryStep(table, media, text=OfflineTextProvider, image=CountedPictures)


def _run(steps: EveryStep, job_id: str) -> str:
    """Every step of the job's workflow, as the state machine runs them; its story's id."""
    draft = steps.write_story(JobRef(job_id=job_id))
    made = [steps.generate_image(ref) for ref in draft.images]
    outcome = steps.assemble(
        AssembleInput(
            job_id=job_id,
            story_id=draft.story_id,
            media=[[MediaResult(**ref.model_dump()) for ref in made], [], []],
        )
    )
    assert outcome.status is JobStatus.COMPLETED, outcome.error
    return draft.story_id


def _parent(library: StoryLibrary, steps: EveryStep, **asked: Any) -> str:
    request = {"prompt": "A curious fox looks for a pumpkin", "age_group": "6-8"} | asked
    submitted = library.submit(
        StoryRequest.model_validate({"num_illustrations": 2} | request), OWNER
    )
    return _run(steps, submitted.job.job_id)


def _url(asset: Any) -> str:
    return f"https://media.example/{asset.s3_key}"


def test_a_version_copies_its_parents_pictures_and_makes_none(
    library: StoryLibrary,
    derived: DerivedStories,
    steps: EveryStep,
    table: StoryTable,
    media: MediaStore,
) -> None:
    parent_id = _parent(library, steps)
    drawn = CountedPictures.calls

    submitted = derived.version(parent_id, VersionRequest(language="es"), OWNER)
    draft = steps.write_story(JobRef(job_id=submitted.job.job_id))

    assert CountedPictures.calls == drawn == 2  # no picture for the version
    assert draft.images == [] and draft.videos == []
    version_id = _run_rest(steps, draft.job_id, draft.story_id)
    parent, parent_assets = table.get_story(parent_id)  # type: ignore[misc]
    version, assets = table.get_story(version_id)  # type: ignore[misc]
    pictures = sorted(
        (a for a in assets if a.kind is AssetKind.IMAGE), key=lambda a: a.display_order
    )
    originals = sorted(
        (a for a in parent_assets if a.kind is AssetKind.IMAGE), key=lambda a: a.display_order
    )
    assert [p.display_order for p in pictures] == [o.display_order for o in originals]
    for copy, original in zip(pictures, originals, strict=True):
        assert copy.status is AssetStatus.COMPLETED and copy.s3_key != original.s3_key
        assert copy.s3_key and copy.s3_key.startswith(f"stories/{version_id}/")
        assert media.read(copy.s3_key) == media.read(original.s3_key or "")
    assert len(version.pages) == len(parent.pages)
    assert (version.language, version.parent_id, version.series_id) == ("es", parent_id, None)
    # the offline writer's version is English text, marked untranslated: measured as English
    assert version.readability is not None and version.readability.formula == "flesch-kincaid"
    progress = table.get_job(submitted.job.job_id).progress  # type: ignore[union-attr]
    assert (progress.images_done, progress.images_total) == (2, 2)

    listed = library.story(parent_id, OWNER, _url)
    assert [(v.id, v.relation, v.language) for v in listed.versions] == [
        (version_id, "version", "es")
    ]
    # deleting the parent leaves the version whole; deleting the version unlists it
    library.delete_story(version_id, OWNER)
    assert library.story(parent_id, OWNER, _url).versions == []


def _run_rest(steps: EveryStep, job_id: str, story_id: str) -> str:
    outcome = steps.assemble(AssembleInput(job_id=job_id, story_id=story_id, media=[[], [], []]))
    assert outcome.status is JobStatus.COMPLETED, outcome.error
    return story_id


def test_a_sequel_keeps_the_hero_and_every_sequel_joins_the_first_storys_series(
    library: StoryLibrary, derived: DerivedStories, steps: EveryStep, table: StoryTable
) -> None:
    first_id = _parent(library, steps)
    second = derived.sequel(first_id, SequelRequest(prompt="An owl loses a kite"), OWNER)
    second_id = _run(steps, second.job.job_id)
    third = derived.sequel(second_id, SequelRequest(prompt="A frog sings at night"), OWNER)
    third_id = _run(steps, third.job.job_id)

    first = table.get_story_item(first_id)
    for sequel_id, parent_id in ((second_id, first_id), (third_id, second_id)):
        sequel = table.get_story_item(sequel_id)
        assert sequel is not None and first is not None
        assert (sequel.character, sequel.art_style) == (first.character, first.art_style)
        assert (sequel.series_id, sequel.parent_id) == (first_id, parent_id)
    shown = library.story(first_id, OWNER, _url)
    assert shown.series_id == first_id
    assert [s.id for s in shown.sequels] == [second_id]
    assert [s.id for s in library.story(second_id, OWNER, _url).sequels] == [third_id]


def test_a_sequel_takes_what_it_does_not_say_from_its_parents_request(
    library: StoryLibrary, derived: DerivedStories, steps: EveryStep
) -> None:
    parent_id = _parent(library, steps, age_group="9-12", num_illustrations=3, voice="en-gb")

    job = derived.sequel(
        parent_id, SequelRequest(prompt="A new day", num_illustrations=1), OWNER
    ).job

    asked = job.request
    assert (asked.age_group, asked.num_illustrations, asked.voice) == (
        AgeGroup.MIDDLE_GRADE,
        1,
        "en-gb",
    )
    assert asked.prompt == "A new day" and job.origin and job.origin.story_id == parent_id


def test_only_a_completed_story_of_the_callers_has_sequels_or_versions(
    library: StoryLibrary, derived: DerivedStories, steps: EveryStep, table: StoryTable
) -> None:
    parent_id = _parent(library, steps)
    waiting = library.submit(
        StoryRequest(prompt="A sleepy bear", age_group="3-5", num_illustrations=1), OWNER
    ).job

    with pytest.raises(NotFound):
        derived.sequel(parent_id, SequelRequest(prompt="More"), OTHER)
    with pytest.raises(NotFound):
        derived.version(parent_id, VersionRequest(language="es"), OTHER)
    with pytest.raises(StoryNotReady):  # by its job's id, before its story is written
        derived.sequel(waiting.job_id, SequelRequest(prompt="More"), OWNER)
    with pytest.raises(VersionUnchanged):
        derived.version(parent_id, VersionRequest(language="en", age_group="6-8"), OWNER)
    table.update_job(waiting.job_id, JobStatus.FAILED, error="test")
    with pytest.raises(NotFound):  # a failed story has nothing to continue
        derived.sequel(waiting.job_id, SequelRequest(prompt="More"), OWNER)


def test_a_version_is_charged_and_estimated_for_its_text_and_narration_only(
    library: StoryLibrary, derived: DerivedStories, steps: EveryStep
) -> None:
    parent_id = _parent(library, steps, voice="en-gb")

    job = derived.version(
        parent_id, VersionRequest(age_group="3-5", narration=True, max_cost_usd=0.02), OWNER
    ).job
    spanish = derived.version(parent_id, VersionRequest(language="es"), OWNER).job

    assert job_cost(job) == STORY_COST + NARRATION_COST
    assert job.request.voice == "en-gb"  # the same language keeps the parent's voice
    assert spanish.request.voice is None  # another language gets its own
    with pytest.raises(OverCostCap):  # a sequel draws its pictures: $0.09 estimated
        derived.sequel(parent_id, SequelRequest(prompt="More", max_cost_usd=0.02), OWNER)
