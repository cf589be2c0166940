"""Unit tests: no network (sockets are disabled), AWS through moto in-process."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_socket import disable_socket, enable_socket

from kidstory.media_store import MediaStore
from kidstory.observability import logger
from kidstory.store.story_table import StoryTable

TABLE = "kidstory-unit"
BUCKET = "kidstory-unit-media"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    disable_socket()
    yield
    enable_socket()


@pytest.fixture
def event_loop_sockets() -> None:
    """An asyncio event loop needs a local socket pair (its self-pipe); network sockets stay
    refused."""
    enable_socket()
    disable_socket(allow_unix_socket=True)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("pk", "sk", "gsi1pk", "gsi1sk")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture
def table(aws: None) -> StoryTable:
    return StoryTable(boto3.client("dynamodb"), TABLE)


@pytest.fixture
def media(aws: None) -> MediaStore:
    return MediaStore(boto3.client("s3"), BUCKET)


JsonLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def logged() -> Iterator[JsonLines]:
    """The JSON lines the service's logger writes from here on (to stdout, in Lambda). The
    logger holds the stdout of its import, which capsys does not see, so it writes here."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    lines = io.StringIO()
    before = handler.setStream(lines)
    yield lambda: [json.loads(line) for line in lines.getvalue().splitlines()]
    handler.setStream(before)


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> JsonLines:
    """The metric records (CloudWatch embedded metric format) printed to stdout since the last
    call, as Powertools prints them in Lambda."""

    def records() -> list[dict[str, Any]]:
        printed = (line for line in capsys.readouterr().out.splitlines() if line.startswith("{"))
        return [record for record in map(json.loads, printed) if "_aws" in record]

    return records
