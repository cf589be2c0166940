"""Summarizes what a recorded local run was allowed to do (KIDSTORY_LOCAL_IAM_RECORD, see
infra/local/identities.py) as a table: per function, the AWS actions moto checked and allowed.

    KIDSTORY_LOCAL_IAM_RECORD=/tmp/iam.jsonl make e2e
    python -m infra.local.iam_record /tmp/iam.jsonl .local/cdk.out/KidStory-local.template.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from infra.local.identities import EMULATOR_USER, role_of
from infra.local.template import Template


def principals(template: Template) -> dict[str, str]:
    """Role name -> the function(s) or state machine that run as it."""
    runs_as: dict[str, list[str]] = defaultdict(list)
    for logical_id, resource in template.of_type("AWS::Lambda::Function").items():
        if resource["Properties"].get("Runtime", "").startswith("python"):
            runs_as[template.names[role_of(template, resource)]].append(logical_id)
    for logical_id, resource in template.of_type("AWS::StepFunctions::StateMachine").items():
        runs_as[template.names[role_of(template, resource, "RoleArn")]].append(
            f"{logical_id} (state machine)"
        )
    return {role: ", ".join(sorted(names)) for role, names in runs_as.items()}


def table(record: Path, template: Template) -> str:
    allowed: dict[str, set[str]] = defaultdict(set)
    denied: dict[str, set[str]] = defaultdict(set)
    names = principals(template)
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        if entry["principal"] == EMULATOR_USER:
            continue
        who = names.get(entry["principal"], entry["principal"])
        (allowed if entry["allowed"] else denied)[who].add(entry["action"])
    rows = ["| function | actions used (allowed) | refused |", "|---|---|---|"]
    for who in sorted(set(allowed) | set(denied)):
        used = ", ".join(f"`{action}`" for action in sorted(allowed[who]))
        refused = ", ".join(f"`{action}`" for action in sorted(denied[who]))
        rows.append(f"| {who} | {used} | {refused} |")
    return "\n".join(rows)


def main() -> None:
    record, template = Path(sys.argv[1]), Template.load(Path(sys.argv[2]))
    print(table(record, template))


if __name__ == "__main__":
    main()
