"""Every Lambda function of the stack logs to a log group that expires: CDK's own helper
functions too (custom resource providers, the bucket's auto-delete, the reader's deployment),
which would otherwise log to a /aws/lambda/<name> group that Lambda makes and keeps forever."""

from __future__ import annotations

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig


def expire_every_function_log(stack: Stack, config: StageConfig) -> None:
    """Gives each function of `stack` without a log group of its own one with the stage's
    retention and removal policy. Its role may already write there: CDK gives its helpers
    AWSLambdaBasicExecutionRole, the function factory grants its own functions their group."""
    for construct in stack.node.find_all():
        if not isinstance(construct, CfnResource):
            continue
        if construct.cfn_resource_type != "AWS::Lambda::Function" or _has_log_group(construct):
            continue
        scope = construct.node.scope
        assert isinstance(scope, Construct)  # a resource always sits in a construct
        log_group = logs.LogGroup(
            scope,
            "ExpiringLogs",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        construct.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)


def _has_log_group(function: CfnResource) -> bool:
    if not isinstance(function, lambda_.CfnFunction):
        return False  # a CustomResourceProvider's handler: it never names one
    logging = Stack.of(function).resolve(function.logging_config) or {}
    return bool(logging.get("logGroup") or logging.get("LogGroup"))
