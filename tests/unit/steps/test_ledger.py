"""The cost ledger: every provider call of a job recorded and priced as it is made (retries,
redraws and repairs marked), the job's cost summed when it ends and counted once in its owner's
month, and a cost cap that stops redos mid-run."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from pydantic import BaseModel

from kidstory.config.settings import Settings
from kidstory.ledger import CostCapReached, Ledger, cost_cap, provider_call
from kidstory.media_store import MediaStore
from kidstory.models import AssetKind, AssetStatus, Job, JobStatus, StoryRequest, StoryText
from kidstory.providers.base import GeneratedMedia, MediaSpec, StoryBrief
from kidstory.providers.errors import ProviderThrottled
from kidstory.providers.offline import OfflineImageProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.providers.prompts import Question
from kidstory.providers.structured_text import AnswerT, StructuredTextProvider
from kidstory.safety import Verdict
from kidstory.steps.payloads import AssembleInput, JobRef, MediaResult, StoryDraft
from kidstory.store.ledger import LedgerLines
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import TABLE
from tests.unit.steps.story_workflow import EveryStep

PRICES = {
    "models": {
        "offline/*": {
            "input_per_million_tokens": 1.0,
            "output_per_million_tokens": 2.0,
            "per_picture": 0.01,
        }
    },
    "infrastructure_per_story": 0.0005,
    "infrastructure_per_picture": 0.0001,
    "infrastructure_per_clip": 0.0,
    "infrastructure_per_page_read": 0.0,
}
MARCH = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)


def settings() -> Settings:
    return Settings.from_environ(
        {"TABLE_NAME": TABLE, "MEDIA_BUCKET": "b", "PRICES": json.dumps(PRICES)}
    )


def lines_store() -> LedgerLines:
    return LedgerLines(boto3.client("dynamodb"), TABLE)


def ledger(table: StoryTable) -> Ledger:
    stage = settings()
    return Ledger(
        lines_store(),
        stage.price_table,
        cap=lambda job_id: cost_cap(table.get_job(job_id), stage),
    )


def steps(table: StoryTable, media: MediaStore, **given: object) -> EveryStep:
    providers = {"text": OfflineTextProvider, "image": OfflineImageProvider} | given
    return EveryStep(
        table,
        media,
        ledger=ledger(table),
        clock=lambda: MARCH,
        sleep=lambda seconds: None,
        **providers,  # type: ignore[arg-type]
    )


def new_job(table: StoryTable, **options: object) -> Job:
    request = {"prompt": "A curious otter builds a raft", "age_group": "6-8"} | options
    job = Job(
        request=StoryRequest.model_validate({"num_illustrations": 2} | request), owner="key-1"
    )
    table.put_job(job)
    return job


def assemble(run: EveryStep, draft: StoryDraft) -> object:
    done = [MediaResult(**ref.model_dump()) for ref in draft.images]
    return run.assemble(AssembleInput(job_id=draft.job_id, story_id=draft.story_id, media=[done]))


def test_a_story_costs_what_its_ledger_holds_priced_by_the_table(
    table: StoryTable, media: MediaStore
) -> None:
    job = new_job(table)
    run = steps(table, media)
    draft = run.write_story(JobRef(job_id=job.job_id))
    for ref in draft.images:
        run.generate_image(ref)

    outcome = assemble(run, draft)

    lines = lines_store().lines(job.job_id)
    pictures = [line for line in lines if line.unit == "pictures"]
    assert [(line.provider, line.quantity, line.usd) for line in pictures] == [
        ("offline", 1, 0.01),
        ("offline", 1, 0.01),
    ]
    text = [line for line in lines if line.kind == "text"]
    # one draft, which planned the scenes too: tokens in and out
    assert sorted(line.unit for line in text) == ["input tokens", "output tokens"]
    assert all(line.redo is None and line.outcome == "ok" for line in lines)
    cost = outcome.cost  # type: ignore[attr-defined]
    items = {(item.kind, item.unit): item for item in cost.items}
    assert items["pictures", "pictures"].quantity == 2 and items["pictures", "pictures"].usd == 0.02
    assert items["infrastructure", "story"].usd == pytest.approx(0.0005 + 2 * 0.0001)
    assert cost.usd == pytest.approx(sum(line.usd for line in lines) + 0.0007)
    ended = table.get_job(job.job_id)
    assert ended is not None and ended.cost == cost


def test_a_job_is_counted_once_in_its_owner_s_month_when_it_ends(
    table: StoryTable, media: MediaStore
) -> None:
    job = new_job(table)
    run = steps(table, media)
    draft = run.write_story(JobRef(job_id=job.job_id))
    for ref in draft.images:
        run.generate_image(ref)

    first = assemble(run, draft)
    assemble(run, draft)  # a late Assemble: the job had ended

    spent = table.month_spend("key-1", "2026-03")
    assert spent.jobs == 1 and spent.units == 1 + 2
    assert spent.usd == pytest.approx(first.cost.usd)  # type: ignore[attr-defined]
    assert table.month_spend("key-1", "2026-04").jobs == 0
    assert table.month_spend("someone-else", "2026-03").jobs == 0


def test_a_throttled_call_and_the_retry_after_it_are_in_the_ledger(
    table: StoryTable, media: MediaStore
) -> None:
    class ThrottledOnce(OfflineImageProvider):
        calls = 0

        def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
            ThrottledOnce.calls += 1
            if ThrottledOnce.calls == 1:
                raise ProviderThrottled("429 Too Many Requests")
            return super().generate_image(spec)

    job = new_job(table, num_illustrations=1)
    run = steps(table, media, image=ThrottledOnce)
    draft = run.write_story(JobRef(job_id=job.job_id))
    with pytest.raises(ProviderThrottled):
        run.generate_image(draft.images[0])
    run.generate_image(draft.images[0])  # the state machine's retry

    picture_lines = [line for line in lines_store().lines(job.job_id) if line.kind == "pictures"]
    assert sorted((line.unit, line.outcome, line.redo) for line in picture_lines) == [
        ("failed calls", "ProviderThrottled", None),
        ("pictures", "ok", "step retry"),
    ]
    cost = assemble(run, draft).cost  # type: ignore[attr-defined]
    [drawn] = [item for item in cost.items if item.unit == "pictures"]
    [failed] = [item for item in cost.items if item.unit == "failed calls"]
    assert (drawn.quantity, drawn.usd, drawn.retries) == (1, 0.01, 1)
    assert (failed.quantity, failed.usd) == (1, 0.0)


def test_a_throttled_draft_and_the_step_tried_again_are_in_the_ledger(
    table: StoryTable, media: MediaStore
) -> None:
    class ThrottledOnce(OfflineTextProvider):
        calls = 0

        def write_story(self, brief: StoryBrief) -> StoryText:
            ThrottledOnce.calls += 1
            if ThrottledOnce.calls == 1:
                raise ProviderThrottled("429 Too Many Requests")
            return super().write_story(brief)

    job = new_job(table, num_illustrations=1)
    run = steps(table, media, text=ThrottledOnce)
    with pytest.raises(ProviderThrottled):
        run.write_story(JobRef(job_id=job.job_id))
    run.write_story(JobRef(job_id=job.job_id))  # the state machine's retry

    text = [line for line in lines_store().lines(job.job_id) if line.kind == "text"]
    assert [line.outcome for line in text if line.unit == "failed calls"] == ["ProviderThrottled"]
    tried_again = [line for line in text if line.unit != "failed calls"]
    assert tried_again and {line.redo for line in tried_again} == {"step retry"}


def test_a_line_written_again_counts_once(table: StoryTable, media: MediaStore) -> None:
    job = new_job(table, num_illustrations=1)
    run = steps(table, media)
    run.write_story(JobRef(job_id=job.job_id))
    store = lines_store()
    before = store.lines(job.job_id)

    for line in before:  # a replayed write of the same lines
        store.put_line(line)

    assert store.lines(job.job_id) == before


class Refuses:
    """A picture check that refuses every picture but the last `passes`."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        if self.refusals:
            self.refusals -= 1
            return Verdict(allowed=False, reason="a scary shadow")
        return Verdict(allowed=True)


def test_a_redraw_that_would_pass_the_cost_cap_is_not_made_and_the_job_says_why(
    table: StoryTable, media: MediaStore
) -> None:
    # estimated at 0.0005 + 0.0001 infrastructure + 0.01 a picture + a few text tokens
    job = new_job(table, num_illustrations=1, max_cost_usd=0.015)
    moderator = Refuses(1)
    run = steps(table, media, pictures=lambda: moderator)
    draft = run.write_story(JobRef(job_id=job.job_id))

    with pytest.raises(CostCapReached) as stopped:
        run.generate_image(draft.images[0])

    assert "max_cost_usd $0.0150" in str(stopped.value) and "redraw" in str(stopped.value)
    pictures = [line for line in lines_store().lines(job.job_id) if line.kind == "pictures"]
    assert len(pictures) == 1  # the first picture only: the redraw was never asked for
    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert asset.status is AssetStatus.FAILED and "cost cap" in (asset.error or "")
    outcome = assemble(run, draft)
    assert outcome.status is JobStatus.FAILED  # type: ignore[attr-defined]
    assert "cost cap" in (outcome.error or "")  # type: ignore[attr-defined]
    assert outcome.cost.usd <= 0.015  # type: ignore[attr-defined]


def test_within_the_cap_a_redraw_is_made_and_marked(table: StoryTable, media: MediaStore) -> None:
    job = new_job(table, num_illustrations=1, max_cost_usd=0.05)
    moderator = Refuses(1)
    run = steps(table, media, pictures=lambda: moderator)
    draft = run.write_story(JobRef(job_id=job.job_id))

    run.generate_image(draft.images[0])

    pictures = [line for line in lines_store().lines(job.job_id) if line.kind == "pictures"]
    assert sorted(str(line.redo) for line in pictures) == ["None", "redraw"]


class Answer(BaseModel):
    word: str


class FirstAnswerUnusable(StructuredTextProvider[None]):
    """A model whose first answer is unusable (repaired on the second), 1000 tokens each."""

    name = "offline"

    def __init__(self) -> None:
        super().__init__("offline-storyteller-1", client=None, timeout_seconds=1, repair_attempts=2)
        self.answers = 0

    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        self._used(1000, 1000)
        self.answers += 1
        return answer_type.model_validate({"word": "ok"} if self.answers > 1 else {})


def test_a_repair_that_would_pass_the_cost_cap_is_not_asked_for(table: StoryTable) -> None:
    # a draft costs 0.001 + 0.002: the first answer fits the cap, a repair would not
    job = new_job(table, num_illustrations=1, max_cost_usd=0.0035 + 0.0006)
    model = FirstAnswerUnusable()
    question = Question(instructions="i", request="r")

    with (
        ledger(table).metering(job.job_id, "write_story"),
        provider_call("text", model.name, model.model),
        pytest.raises(CostCapReached),
    ):
        model._ask(question, Answer, lambda answer: answer)

    assert model.answers == 1
    assert {line.redo for line in lines_store().lines(job.job_id)} == {None}


def test_repairs_are_marked_in_the_ledger(table: StoryTable) -> None:
    job = new_job(table, num_illustrations=1)
    model = FirstAnswerUnusable()

    with (
        ledger(table).metering(job.job_id, "write_story"),
        provider_call("text", model.name, model.model),
    ):
        model._ask(Question(instructions="i", request="r"), Answer, lambda answer: answer)

    redone = sorted(str(line.redo) for line in lines_store().lines(job.job_id))
    assert redone == ["None", "None", "repair", "repair"]
