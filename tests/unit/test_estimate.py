"""What a story request would cost, before it is made: units as the limits count them, model
fees from the stage's price table item by item, the infrastructure, and an honest unknown when a
model has no price."""

from __future__ import annotations

import pytest

from kidstory.config.errors import SettingsError
from kidstory.config.settings import Settings
from kidstory.estimate import CHARACTERS_PER_PAGE, MOST_PAGES, estimate
from kidstory.models import AgeGroup, StoryRequest
from kidstory.providers.offline_text import offline_pages

BASE = {"TABLE_NAME": "t", "MEDIA_BUCKET": "b"}


def settings(**environ: str) -> Settings:
    return Settings.from_environ(BASE | environ)


def request(**fields: object) -> StoryRequest:
    return StoryRequest.model_validate(
        {"prompt": "A hedgehog learns to whistle", "age_group": "3-5", "num_illustrations": 3}
        | fields
    )


def test_offline_model_work_costs_nothing_and_the_total_is_the_infrastructure() -> None:
    prices = '{"infrastructure_per_story": 0.0004, "infrastructure_per_picture": 0.0001}'
    found = estimate(request(), settings(PRICES=prices))

    assert found.units == 1 + 3
    models = [item for item in found.breakdown if item.kind != "infrastructure"]
    assert {item.kind for item in models} == {"text", "pictures"}
    assert all(item.usd == 0 for item in models)
    [infrastructure] = [item for item in found.breakdown if item.kind == "infrastructure"]
    assert infrastructure.usd == pytest.approx(0.0004 + 3 * 0.0001)
    assert found.estimated_cost_usd == pytest.approx(0.0007)


def test_a_model_without_a_price_makes_the_total_unknown_and_says_which() -> None:
    writer = settings(LLM_PROVIDER="anthropic", ANTHROPIC_API_KEY="sk-ant-test")

    found = estimate(request(), writer)

    assert found.estimated_cost_usd is None
    text = [item for item in found.breakdown if item.kind == "text"]
    assert text and all(item.usd is None and item.unit_price_usd is None for item in text)
    model = writer.anthropic_text_model
    assert f"anthropic/{model}" in found.assumptions[-1]
    assert "PRICES" in found.assumptions[-1]


def test_the_stage_s_prices_price_each_item_by_its_quantity() -> None:
    model = settings().openai_image_model
    prices = (
        '{"models": {"anthropic/*": {"input_per_million_tokens": 3, '
        '"output_per_million_tokens": 15}, '
        f'"openai/{model}": {{"per_picture": 0.04}}}}}}'
    )
    stage = settings(
        LLM_PROVIDER="anthropic",
        ANTHROPIC_API_KEY="sk-ant-test",
        IMAGE_PROVIDER="openai",
        OPENAI_API_KEY="sk-test",
        PRICES=prices,
    )

    found = estimate(request(num_illustrations=4), stage)

    by_unit = {item.unit: item for item in found.breakdown}
    assert by_unit["pictures"].quantity == 4
    assert by_unit["pictures"].usd == pytest.approx(0.16)
    tokens_in = by_unit["input tokens"]
    assert tokens_in.usd == pytest.approx(tokens_in.quantity * 3 / 1e6)
    tokens_out = by_unit["output tokens"]
    assert tokens_out.usd == pytest.approx(tokens_out.quantity * 15 / 1e6)
    assert found.estimated_cost_usd == pytest.approx(sum(item.usd or 0 for item in found.breakdown))


def test_polly_narration_is_priced_by_the_characters_read() -> None:
    found = estimate(
        request(narration=True, age_group="6-8"),
        settings(NARRATION_PROVIDER="polly", POLLY_ENGINE="standard"),
    )

    [reading] = [item for item in found.breakdown if item.kind == "narration"]
    pages = offline_pages(AgeGroup.EARLY_READER, 3)  # the offline writer's story
    assert (reading.provider, reading.model) == ("polly", "standard")
    # read twice: the audio, and its words' timings
    assert reading.quantity == 2 * pages * CHARACTERS_PER_PAGE[AgeGroup.EARLY_READER]
    assert reading.usd == pytest.approx(reading.quantity * 4.0 / 1e6)
    assert found.units == 1 + 3 + 2


def test_clips_are_priced_by_the_second() -> None:
    found = estimate(request(generate_videos=True, num_illustrations=2), settings())

    [clips] = [item for item in found.breakdown if item.kind == "clips"]
    assert (clips.quantity, clips.unit) == (8.0, "clip seconds")
    assert found.units == 1 + 2 + 2 * 4


@pytest.mark.parametrize(
    "prices",
    ['{"models": {"x/y": {"per_picture": -1}}}', "[1, 2]", "{not json", '{"unknown": 1}'],
)
def test_unreadable_prices_stop_the_service_at_start_naming_prices(prices: str) -> None:
    with pytest.raises(SettingsError, match="PRICES"):
        settings(PRICES=prices)


def test_a_model_writer_is_assumed_to_write_the_most_pages_and_the_offline_one_its_own() -> None:
    asked = request(narration=True, age_group="9-12")
    by_model = estimate(asked, settings(LLM_PROVIDER="anthropic", ANTHROPIC_API_KEY="sk-ant-x"))
    offline = estimate(asked, settings())

    def characters(found: object) -> float:
        return next(i.quantity for i in found.breakdown if i.kind == "narration")  # type: ignore[attr-defined]

    per_page = CHARACTERS_PER_PAGE[AgeGroup.MIDDLE_GRADE]
    assert characters(by_model) == MOST_PAGES[AgeGroup.MIDDLE_GRADE] * per_page
    assert characters(offline) == offline_pages(AgeGroup.MIDDLE_GRADE, 3) * per_page
