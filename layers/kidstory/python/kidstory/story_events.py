"""EventBridge adapter: announces that a story job ended (story.completed / story.failed)."""

from __future__ import annotations

from typing import Any

from kidstory.models import JobStatus
from kidstory.steps.payloads import JobOutcome

EVENT_SOURCE = "kidstory"
DETAIL_TYPES = {JobStatus.COMPLETED: "story.completed", JobStatus.FAILED: "story.failed"}


class StoryEvents:
    def __init__(self, client: Any, event_bus_name: str) -> None:
        self._client = client
        self._bus = event_bus_name

    def publish(self, outcome: JobOutcome) -> None:
        answer = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPES[outcome.status],
                    "Detail": outcome.model_dump_json(),
                    "EventBusName": self._bus,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the event: {answer['Entries']}")
