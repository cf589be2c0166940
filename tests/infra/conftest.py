"""The stack is synthesized once per session, as `cdk synth -c stage=local` would, with
bundling skipped (nothing is downloaded) and the AwsSolutions checks registered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from app import build
from infra import bundling
from infra.config import project_context
from infra.stack import KidStoryStack


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    context: dict[str, Any]
    stack: KidStoryStack
    template: Template
    assembly_dir: Path
    bundling_commands: list[Any]

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.to_json()["Resources"]

    def definition(self) -> dict[str, Any]:
        """The StoryWorkflow definition, its CloudFormation tokens replaced by placeholders."""
        joined = self.resources["StoryWorkflow"]["Properties"]["DefinitionString"]["Fn::Join"]
        delimiter, parts = joined
        return json.loads(delimiter.join(_placeholder(part) for part in parts))


def _placeholder(part: Any) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    if "Fn::GetAtt" in part:
        logical_id, attribute = part["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    raise AssertionError(f"unexpected token in the definition: {part}")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    commands: list[Any] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bundling.subprocess, "run", lambda *args, **_: commands.append(args))
        patch.setattr(bundling, "lambda_python", lambda: None)  # no probing
        context = {
            **project_context(),
            "stage": "local",
            # an override as the CLI passes it (`-c media_max_concurrency=3`): a string
            "media_max_concurrency": "3",
            "aws:cdk:bundling-stacks": [],
        }
        app = cdk.App(outdir=str(outdir), context=context)
        stack = build(app)
        app.synth()  # runs the AwsSolutions checks; any unacknowledged finding raises here
    return Synthesized(
        app=app,
        context=context,
        stack=stack,
        template=Template.from_stack(stack),
        assembly_dir=outdir,
        bundling_commands=commands,
    )


def bundled_asset(tmp_path: Path, code: lambda_.Code) -> Path:
    """Synthesizes one layer of `code` with bundling on; the folder its asset was staged in."""
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Code")
    lambda_.LayerVersion(stack, "Code", code=code)
    app.synth()
    [key] = [
        resource["Properties"]["Content"]["S3Key"]
        for resource in Template.from_stack(stack).to_json()["Resources"].values()
    ]
    return tmp_path / "cdk.out" / f"asset.{key.removesuffix('.zip')}"
