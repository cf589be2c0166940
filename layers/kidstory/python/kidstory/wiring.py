"""What each process builds from its settings, once: the table's pieces, the media store, the
event bus and the workflow steps. Each is imported when first built, so a function loads only
what it uses (a picture function never loads the story graph)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

import boto3

from kidstory.config.load import get_settings
from kidstory.config.settings import Settings

if TYPE_CHECKING:
    from kidstory.ledger import Ledger
    from kidstory.media_store import MediaStore
    from kidstory.safety import TextModerator
    from kidstory.steps.books import Books
    from kidstory.steps.clips import Clips
    from kidstory.steps.narration import Narration
    from kidstory.steps.outcome import Outcomes
    from kidstory.steps.page_changes import PageChanges
    from kidstory.steps.pictures import Pictures
    from kidstory.steps.write_story import StoryWriting
    from kidstory.store.jobs import Jobs
    from kidstory.store.page_versions import PageVersions
    from kidstory.store.stories import Stories
    from kidstory.store.story_table import StoryTable
    from kidstory.store.webhook_secrets import WebhookSecretStore
    from kidstory.story_events import StoryEvents


# the table


@cache
def story_table(settings: Settings | None = None) -> StoryTable:
    """Every piece of the table: the API's."""
    from kidstory.store.story_table import StoryTable

    settings = settings or get_settings()
    return StoryTable(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )


@cache
def jobs(settings: Settings | None = None) -> Jobs:
    from kidstory.store.jobs import Jobs

    settings = settings or get_settings()
    return Jobs(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )


@cache
def stories(settings: Settings | None = None) -> Stories:
    from kidstory.store.stories import Stories

    settings = settings or get_settings()
    return Stories(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )


@cache
def page_versions(settings: Settings | None = None) -> PageVersions:
    from kidstory.store.page_versions import PageVersions

    settings = settings or get_settings()
    return PageVersions(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )


@cache
def webhook_secrets(settings: Settings | None = None) -> WebhookSecretStore:
    from kidstory.store.webhook_secrets import WebhookSecretStore

    settings = settings or get_settings()
    return WebhookSecretStore(boto3.client("dynamodb"), settings.table_name)


# the bucket and the bus


@cache
def media_store(settings: Settings | None = None) -> MediaStore:
    from kidstory.media_store import MediaStore

    settings = settings or get_settings()
    return MediaStore(boto3.client("s3"), settings.media_bucket)


@cache
def story_events(settings: Settings | None = None) -> StoryEvents:
    from kidstory.story_events import StoryEvents

    settings = settings or get_settings()
    return StoryEvents(boto3.client("events"), settings.require_event_bus_name())


# the workflow's steps (providers are made on first use)


@cache
def ledger(settings: Settings | None = None) -> Ledger:
    """The jobs' cost ledger, priced by the stage's table, keeping each job's cost cap."""
    from kidstory.ledger import Ledger, cost_cap
    from kidstory.store.ledger import LedgerLines

    settings = settings or get_settings()
    lines = LedgerLines(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )
    job_store = jobs(settings)
    return Ledger(
        lines,
        settings.price_table,
        cap=lambda job_id: cost_cap(job_store.get_job(job_id), settings),
    )


@cache
def story_writing(settings: Settings | None = None) -> StoryWriting:
    from kidstory import providers
    from kidstory.steps.write_story import StoryWriting

    settings = settings or get_settings()
    moderator = cache(lambda: providers.text_moderator(settings, "OUTPUT"))
    return StoryWriting(
        jobs(settings),
        stories(settings),
        text=cache(lambda: providers.text_provider(settings)),
        moderator=moderator,
        ledger=ledger(settings),
        media=media_store(settings),  # a version copies its parent's pictures and clips
        page_changes=lambda: page_changes(settings, moderator),
    )


@cache
def page_changes(
    settings: Settings | None = None, moderator: Callable[[], TextModerator] | None = None
) -> PageChanges:
    """A page change's steps; in WriteStory, with the stage's output moderation."""
    from kidstory.steps.page_changes import PageChanges

    settings = settings or get_settings()
    return PageChanges(
        jobs(settings), page_versions(settings), moderator=moderator, media=media_store(settings)
    )


@cache
def pictures(settings: Settings | None = None) -> Pictures:
    from kidstory import providers
    from kidstory.steps.pictures import Pictures

    settings = settings or get_settings()
    return Pictures(
        stories(settings),
        media_store(settings),
        image=cache(lambda: providers.image_provider(settings)),
        pictures=lambda: providers.picture_moderator(settings),
        ledger=ledger(settings),
    )


@cache
def clips(settings: Settings | None = None) -> Clips:
    from kidstory import providers
    from kidstory.steps.clips import Clips

    settings = settings or get_settings()
    return Clips(
        stories(settings),
        media_store(settings),
        video=cache(lambda: providers.video_provider(settings)),
        pictures=lambda: providers.picture_moderator(settings),
        video_max_checks=settings.video_max_checks,
        ledger=ledger(settings),
    )


@cache
def narration(settings: Settings | None = None) -> Narration:
    from kidstory import providers
    from kidstory.steps.narration import Narration

    settings = settings or get_settings()
    return Narration(
        stories(settings),
        media_store(settings),
        narrator=cache(lambda: providers.narration_provider(settings)),
        ledger=ledger(settings),
    )


@cache
def books(settings: Settings | None = None) -> Books:
    from kidstory.steps.books import Books

    settings = settings or get_settings()
    return Books(stories(settings), media_store(settings), page_changes=page_changes(settings))


@cache
def outcomes(settings: Settings | None = None) -> Outcomes:
    from kidstory.steps.outcome import Outcomes

    settings = settings or get_settings()
    return Outcomes(
        jobs(settings),
        stories(settings),
        media_store(settings),
        ledger=ledger(settings),
        page_changes=page_changes(settings),
    )
