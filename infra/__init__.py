"""CDK infrastructure of Kids Story Agent: one stack composed of constructs.

Importing this package does not load the CDK (jsii starts a Node.js process): the local stack
(`infra.local`) reads the synthesized template and must start, and stop on Ctrl+C, without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from aws_cdk import CfnResource, Stack
    from constructs import Construct


def pin_logical_id(construct: Construct, logical_id: str) -> None:
    """Fixes the logical id of a construct's CloudFormation resource.

    The local emulator reads the synthesized template and finds the table, bucket,
    functions, state machine, bus and queues by these ids.
    """
    cast("CfnResource", construct.node.default_child).override_logical_id(logical_id)


def parameter_arn(stack: Stack, name: str) -> str:
    """The ARN of an SSM parameter of this account and Region, by its name (with or without a
    leading slash: "/kidstory/dev/key" is "parameter/kidstory/dev/key")."""
    from aws_cdk import ArnFormat

    return stack.format_arn(
        service="ssm",
        resource="parameter",
        resource_name=name.lstrip("/"),
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )
