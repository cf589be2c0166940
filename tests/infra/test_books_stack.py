"""The read-along and books functions, wired into the stack: the narration function alone may
call Polly (polly:SynthesizeSpeech, the one action it needs, and only when the stage narrates
with Polly) and gets the narration settings; the book
function reads the table and reads and writes the media bucket, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.stages import synthesize_stage
from tests.infra.test_providers_stack import of_service, statements_by_role


def role_of(template: dict[str, Any], function_id: str) -> str:
    return str(template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0])


def environment(template: dict[str, Any], function_id: str) -> dict[str, str]:
    return dict(template["Resources"][function_id]["Properties"]["Environment"]["Variables"])


@pytest.fixture(scope="module")
def polly_stage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize_stage(
        "dev",
        Path(tmp_path_factory.mktemp("polly")),
        narration_provider="polly",
        polly_engine="standard",
    )


@pytest.fixture(scope="module")
def offline_stage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize_stage("dev", Path(tmp_path_factory.mktemp("offline")))


def test_only_the_narration_function_may_call_polly(polly_stage: dict[str, Any]) -> None:
    roles = statements_by_role(polly_stage)
    narrator = role_of(polly_stage, "NarratePageFunction")
    polly = {a for s in of_service(roles[narrator], "polly") for a in _actions(s)}
    assert {a for a in polly if a.startswith("polly:")} == {"polly:SynthesizeSpeech"}
    others = {role: of_service(found, "polly") for role, found in roles.items() if role != narrator}
    assert not any(others.values()), others
    narrating = environment(polly_stage, "NarratePageFunction")
    assert (narrating["NARRATION_PROVIDER"], narrating["POLLY_ENGINE"]) == ("polly", "standard")


def test_offline_narration_calls_no_polly(offline_stage: dict[str, Any]) -> None:
    roles = statements_by_role(offline_stage)
    assert not any(of_service(found, "polly") for found in roles.values())
    assert environment(offline_stage, "NarratePageFunction")["NARRATION_PROVIDER"] == "offline"


def test_the_narration_function_reads_and_writes_only_the_table_and_the_media(
    polly_stage: dict[str, Any],
) -> None:
    statements = statements_by_role(polly_stage)[role_of(polly_stage, "NarratePageFunction")]
    services = {
        action.split(":")[0]
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert services == {"dynamodb", "s3", "polly", "logs", "xray"}


def test_the_book_function_reads_the_table_and_writes_only_media(
    offline_stage: dict[str, Any],
) -> None:
    statements = statements_by_role(offline_stage)[role_of(offline_stage, "BuildBookFunction")]
    dynamodb = {a for s in of_service(statements, "dynamodb") for a in _actions(s)}
    assert dynamodb and not any(
        action.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete", "dynamodb:Batch"))
        and action != "dynamodb:BatchGetItem"
        for action in dynamodb
    ), dynamodb
    s3 = {a for s in of_service(statements, "s3") for a in _actions(s)}
    assert {"s3:GetObject", "s3:PutObject"} <= s3
    for statement in of_service(statements, "s3"):
        if {"s3:GetObject", "s3:PutObject"} & set(_actions(statement)):
            assert "stories/*" in str(statement["Resource"]), statement
    assert not of_service(statements, "polly")
    assert not of_service(statements, "bedrock")
    assert not of_service(statements, "ssm")


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]
