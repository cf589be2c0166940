"""EventBridge adapter: announces that a story job ended (story.completed / story.failed), or
that a page change of a story ended (story.updated, its status completed or failed)."""

from __future__ import annotations

from typing import Any

from kidstory.models import JobStatus
from kidstory.steps.payloads import JobOutcome

EVENT_SOURCE = "kidstory"
DETAIL_TYPES = {JobStatus.COMPLETED: "story.completed", JobStatus.FAILED: "story.failed"}
STORY_UPDATED = "story.updated"


def detail_type(outcome: JobOutcome) -> str:
    """story.updated for a page change (whatever its status), else by the story's status."""
    return STORY_UPDATED if outcome.kind.changes_page else DETAIL_TYPES[outcome.status]


class StoryEvents:
    def __init__(self, client: Any, event_bus_name: str) -> None:
        self._client = client
        self._bus = event_bus_name

    def publish(self, outcome: JobOutcome) -> None:
        answer = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type(outcome),
                    "Detail": outcome.model_dump_json(),
                    "EventBusName": self._bus,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the event: {answer['Entries']}")
