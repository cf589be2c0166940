"""The custom resource that makes the CloudFront key pair of media links, against SSM on moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from media_signing_key.handler import handler
from moto import mock_aws

from kidstory.media_links import public_key_of

NAME = "/kidstory/dev/media-signing-key"


class Context:
    function_name = "MediaSigningKeyFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:MediaSigningKey"
    aws_request_id = "request-1"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("ssm")


def _event(request: str, **extra: Any) -> dict[str, Any]:
    return {"RequestType": request, "ResourceProperties": {"ParameterName": NAME}, **extra}


def test_creating_makes_a_key_pair_and_keeps_the_private_half_in_ssm(ssm: Any) -> None:
    made = handler(_event("Create"), Context())

    stored = ssm.get_parameter(Name=NAME, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString"
    assert made["PhysicalResourceId"] == NAME
    assert made["Data"]["PublicKey"] == public_key_of(stored["Value"])
    assert "PRIVATE" not in str(made)


def test_an_update_keeps_the_key_pair(ssm: Any) -> None:
    made = handler(_event("Create"), Context())

    again = handler(_event("Update", PhysicalResourceId=NAME), Context())

    assert again == made


def test_deleting_removes_the_private_key_and_tolerates_its_absence(ssm: Any) -> None:
    handler(_event("Create"), Context())

    handler(_event("Delete", PhysicalResourceId=NAME), Context())
    handler(_event("Delete", PhysicalResourceId=NAME), Context())

    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=NAME)
