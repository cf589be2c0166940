"""Unit tests: no network (sockets are disabled), AWS through moto in-process."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from pytest_socket import disable_socket, enable_socket

from kidstory.media_store import MediaStore
from kidstory.repository import StoryTable

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
