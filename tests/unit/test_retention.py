"""Jobs, stories and their records expire after the configured retention (DynamoDB TTL)."""

from __future__ import annotations

from datetime import timedelta

import boto3

from kidstory.media_store import MediaStore
from kidstory.models import Job, StoryRequest
from kidstory.providers.offline import OfflineImageProvider, OfflineVideoProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.steps.payloads import JobRef
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import TABLE
from tests.unit.steps.story_workflow import EveryStep


def test_every_item_of_a_story_expires_after_the_retention(aws: None, media: MediaStore) -> None:
    client = boto3.client("dynamodb")
    table = StoryTable(client, TABLE, retention_days=7)
    job = Job(request=StoryRequest(prompt="A bear", age_group="3-5", num_illustrations=2))
    table.put_job(job)
    steps = EveryStep(
        table,
        media,
        text=OfflineTextProvider,
        image=OfflineImageProvider,
        video=OfflineVideoProvider,
    )

    steps.write_story(JobRef(job_id=job.job_id))

    items = client.scan(TableName=TABLE)["Items"]
    assert len(items) == 4  # the job, the story and two pictures
    week = (job.created_at + timedelta(days=7)).timestamp()
    for item in items:
        assert abs(int(item["expires_at"]["N"]) - week) < 60, item["sk"]


def test_without_a_retention_nothing_expires(aws: None) -> None:
    client = boto3.client("dynamodb")
    table = StoryTable(client, TABLE)
    table.put_job(Job(request=StoryRequest(prompt="A bear", age_group="3-5", num_illustrations=1)))

    [item] = client.scan(TableName=TABLE)["Items"]

    assert "expires_at" not in item
