"""Reads a synthesized template and resolves its intrinsic functions to the names and ARNs of the
emulated resources."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"


def physical_name(logical_id: str, kind: str) -> str:
    """A stable, valid name for a resource that the template leaves unnamed."""
    if kind == "AWS::S3::Bucket":
        return re.sub(r"[^a-z0-9-]", "", f"kidstory-local-{logical_id.lower()}")[:63]
    return logical_id[:64]


@dataclass
class Template:
    resources: dict[str, dict[str, Any]]
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Template:
        body = json.loads(path.read_text())
        template = cls(resources=body["Resources"])
        for logical_id, resource in template.resources.items():
            template.names[logical_id] = physical_name(logical_id, resource["Type"])
        return template

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == kind}

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.names[logical_id]
        return {
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}",
            "AWS::StepFunctions::StateMachine": (
                f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
            ),
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        }.get(kind, f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}")

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "KidStory-local",
            "AWS::NoValue": "",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        kind = self.resources[logical_id]["Type"]
        if kind in ("AWS::SQS::Queue",):
            return f"http://localhost/{ACCOUNT}/{self.names[logical_id]}"
        if kind in ("AWS::StepFunctions::StateMachine",):
            return self.arn(logical_id)
        return self.names[logical_id]

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute == "QueueName":
            return self.names[logical_id]
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        if attribute == "Name":
            return self.names[logical_id]
        return f"{self.names[logical_id]}.local"

    def resolve(self, value: Any) -> Any:
        """Replace Ref, Fn::GetAtt, Fn::Join, Fn::Sub and Fn::Select by plain values."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in parts)
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                extra = {} if isinstance(argument, str) else self.resolve(argument[1])
                return re.sub(
                    r"\$\{([^}]+)\}",
                    lambda m: str(
                        extra.get(m.group(1))
                        or (
                            self.get_att(*m.group(1).split(".", 1))
                            if "." in m.group(1)
                            else self.ref(m.group(1))
                        )
                    ),
                    text,
                )
        return {key: self.resolve(item) for key, item in value.items()}
