"""The AWS adapters and workflow steps, built from settings once per process."""

from __future__ import annotations

from functools import cache

import boto3

from kidstory.config.load import get_settings
from kidstory.config.settings import Settings
from kidstory.media_store import MediaStore
from kidstory.store.jobs import Jobs
from kidstory.store.story_table import StoryTable
from kidstory.store.webhook_secrets import WebhookSecretStore
from kidstory.story_events import StoryEvents
from kidstory.workflow import StorySteps


@cache
def story_table(settings: Settings | None = None) -> StoryTable:
    """Every piece of the table: the API's."""
    settings = settings or get_settings()
    return StoryTable(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )


@cache
def jobs(settings: Settings | None = None) -> Jobs:
    settings = settings or get_settings()
    return Jobs(
        boto3.client("dynamodb"), settings.table_name, retention_days=settings.story_retention_days
    )


@cache
def webhook_secrets(settings: Settings | None = None) -> WebhookSecretStore:
    settings = settings or get_settings()
    return WebhookSecretStore(boto3.client("dynamodb"), settings.table_name)


@cache
def media_store(settings: Settings | None = None) -> MediaStore:
    settings = settings or get_settings()
    return MediaStore(boto3.client("s3"), settings.media_bucket)


@cache
def story_events(settings: Settings | None = None) -> StoryEvents:
    settings = settings or get_settings()
    return StoryEvents(boto3.client("events"), settings.require_event_bus_name())


@cache
def story_steps(settings: Settings | None = None) -> StorySteps:
    from kidstory import providers

    settings = settings or get_settings()
    return StorySteps(
        story_table(settings),
        media_store(settings),
        text=cache(lambda: providers.text_provider(settings)),
        image=cache(lambda: providers.image_provider(settings)),
        video=cache(lambda: providers.video_provider(settings)),
        moderator=lambda: providers.text_moderator(settings, "OUTPUT"),
        pictures=lambda: providers.picture_moderator(settings),
        video_max_checks=settings.video_max_checks,
    )
