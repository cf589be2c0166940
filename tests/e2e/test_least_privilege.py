"""Every function runs under its own synthesized role, with moto's IAM enforcement on: a grant
missing from the template fails the flow that needs it, as it would on AWS. (That the stack as
synthesized passes is every other end-to-end test.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.local.synth import PROJECT_ROOT
from tests.e2e.one_story import RESULT


def without_grant(template: dict[str, Any], function_id: str, action: str) -> dict[str, Any]:
    """The template with `action` taken out of every policy statement of the function's role."""
    resources = template["Resources"]
    role_id = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    dropped = 0
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy" or {"Ref": role_id} not in resource[
            "Properties"
        ].get("Roles", []):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if action in actions:
                statement["Action"] = [granted for granted in actions if granted != action]
                dropped += 1
    assert dropped, f"{function_id} was not granted {action}"
    return template


def one_story(template: Path) -> dict[str, Any]:
    """How the job of one story ends on a local stack started from `template` (in a process of
    its own: one stack runs in a process at a time)."""
    finished = subprocess.run(
        [sys.executable, "-m", "tests.e2e.one_story", str(template)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "KIDSTORY_LOCAL_IAM_RECORD": ""},
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    [result] = [
        line.removeprefix(RESULT)
        for line in finished.stdout.splitlines()
        if line.startswith(RESULT)
    ]
    return dict(json.loads(result))


def test_a_story_fails_with_access_denied_when_its_writer_may_not_put_items(
    template: Path, tmp_path: Path
) -> None:
    body = without_grant(json.loads(template.read_text()), "WriteStoryFunction", "dynamodb:PutItem")
    narrowed = tmp_path / "template.json"
    narrowed.write_text(json.dumps(body))

    job = one_story(narrowed)

    assert job["status"] == "failed"
    assert "is not authorized to perform: dynamodb:PutItem" in job["error"], job["error"]
