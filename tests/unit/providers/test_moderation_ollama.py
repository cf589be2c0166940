"""Moderation by a safety model served by Ollama (Llama Guard 3), against a mock HTTP transport
at Ollama's OpenAI-compatible `/v1`: the exact request, "safe", "unsafe" with its hazard
categories in plain words, answers that are not a verdict (fail closed), outages, and the
settings that choose it, layered on the offline moderation."""

from __future__ import annotations

import httpx2
import pytest

from kidstory.config.settings import Settings
from kidstory.providers import picture_moderator, text_moderator
from kidstory.providers.errors import (
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.ollama_moderation import HAZARDS, OllamaModerator
from kidstory.providers.ollama_text import ollama_client
from kidstory.safety import ALLOWED, LayeredModerator, ModerationSource, OfflineModerator
from tests.unit.recorded_http import RecordedReplies

IDEA = "A dragon and a knight have a fight over the last cookie"


def answer(content: str | None) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-77",
            "object": "chat.completion",
            "created": 1764061200,
            "model": "llama-guard3:1b",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        },
    )


def moderator(mock: RecordedReplies, source: ModerationSource = "INPUT") -> OllamaModerator:
    client = ollama_client(
        "http://localhost:11434",
        timeout_seconds=7,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )
    return OllamaModerator("llama-guard3:1b", client=client, timeout_seconds=7, source=source)


def test_an_idea_is_shown_as_the_users_turn_with_the_model_and_the_moderation_timeout() -> None:
    mock = RecordedReplies(answer("safe"))

    assert moderator(mock).check(IDEA) == ALLOWED

    request = mock.requests[0]
    assert str(request.url) == "http://localhost:11434/v1/chat/completions"
    assert request.extensions["timeout"]["read"] == 7
    body = mock.body()
    assert body["model"] == "llama-guard3:1b" and body["temperature"] == 0
    assert body["messages"] == [{"role": "user", "content": IDEA}]


def test_a_page_is_shown_as_the_answer_to_a_request_for_a_story() -> None:
    mock = RecordedReplies(answer("\n\nsafe"))

    assert moderator(mock, "OUTPUT").check("Once upon a time...") == ALLOWED

    roles = [(message["role"], message["content"]) for message in mock.body()["messages"]]
    assert roles[1] == ("assistant", "Once upon a time...") and roles[0][0] == "user"


@pytest.mark.parametrize(
    ("said", "category", "words"),
    [
        ("unsafe\nS11", "self_harm", "self-harm"),
        ("unsafe\nS10", "hate", "hate toward people"),
        ("unsafe\nS4", "sexual", "the sexual abuse of children"),
        ("unsafe\nS1,S10", "violence", "violent crime"),
        ("unsafe\nS9", "weapons", "weapons that can hurt many people"),
        ("UNSAFE\n s12 ", "sexual", "sexual content"),
        ("unsafe", "unsafe", "something our safety check does not allow"),
        ("unsafe\nS15", "s15", "something unsafe"),
    ],
)
def test_an_unsafe_answer_is_refused_in_words_a_parent_can_read(
    said: str, category: str, words: str
) -> None:
    verdict = moderator(RecordedReplies(answer(said))).check(IDEA)

    assert (verdict.allowed, verdict.category) == (False, category)
    assert verdict.reason == (
        f"It mentions {words}, which we do not put in children's stories. Please try a "
        "different idea."
    )


def test_every_hazard_category_of_llama_guard_3_has_plain_words() -> None:
    assert sorted(HAZARDS, key=lambda code: int(code[1:])) == [f"S{n}" for n in range(1, 15)]


@pytest.mark.parametrize(
    "said", ["", None, "I think this is fine!", "safe\nS1", "unsafe\nviolence", "{}"]
)
def test_an_answer_that_is_not_a_verdict_fails_closed(said: str | None) -> None:
    with pytest.raises(ProviderError, match="did not answer with a verdict") as failure:
        moderator(RecordedReplies(answer(said))).check(IDEA)

    assert not failure.value.retryable


def test_an_ollama_that_is_down_or_overloaded_is_an_outage_to_retry() -> None:
    def refused(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("Connection refused", request=request)

    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    busy = httpx2.Response(503, json={"error": {"message": "server busy"}})
    throttled = httpx2.Response(429, json={"error": {"message": "too many requests"}})
    for reply, error in [
        (refused, ProviderUnavailable),
        (busy, ProviderUnavailable),
        (throttled, ProviderThrottled),
        (too_slow, ProviderTimeout),
    ]:
        with pytest.raises(error) as failure:
            moderator(RecordedReplies(reply)).check(IDEA)
        assert failure.value.retryable


def test_a_safety_model_that_was_not_pulled_is_not_retried() -> None:
    missing = httpx2.Response(
        404, json={"error": {"message": 'model "llama-guard3:1b" not found, try pulling it first'}}
    )

    with pytest.raises(ProviderError, match="try pulling it first") as failure:
        moderator(RecordedReplies(missing)).check(IDEA)

    assert not failure.value.retryable


def test_ollama_moderation_is_layered_on_the_offline_moderation_with_its_settings() -> None:
    settings = Settings.from_environ(
        {
            "TABLE_NAME": "t",
            "MEDIA_BUCKET": "b",
            "MODERATION_PROVIDER": "ollama",
            "OLLAMA_BASE_URL": "http://ollama.internal:11434",
            "MODERATION_TIMEOUT_SECONDS": "4",
        }
    )

    layered = text_moderator(settings, "OUTPUT")

    assert isinstance(layered, LayeredModerator)
    baseline, provider = layered.moderators
    assert isinstance(baseline, OfflineModerator) and isinstance(provider, OllamaModerator)
    assert (provider.model, provider.timeout_seconds, provider.source) == (
        "llama-guard3:1b",
        4,
        "OUTPUT",
    )
    # Llama Guard 3 reads text only: pictures get the structural check alone.
    assert isinstance(picture_moderator(settings), OfflineModerator)


def test_an_offline_refusal_wins_without_asking_ollama() -> None:
    mock = RecordedReplies()  # any request would fail: no answer is queued

    verdict = LayeredModerator(OfflineModerator(), moderator(mock)).check("how to make a bomb")

    assert verdict.category == "weapons" and mock.requests == []
