"""The local stack depends on a few patch points in moto and botocore; these fail if an upgrade
moves one."""

from __future__ import annotations

import inspect
import json
import operator
import threading
from importlib.metadata import version
from typing import Annotated, Any, TypedDict

from botocore.signers import RequestSigner
from moto import settings as moto_settings
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequestBase
from moto.iam.models import AccessKey
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from infra.local.identities import INTERPRETER_ACCESS_KEY, _identity, acting_as, local_statement
from infra.local.template import Template


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == "5.2.5"


def test_the_lambda_invoke_patch_point_has_the_expected_signature() -> None:
    parameters = list(inspect.signature(LambdaSimpleBackend.invoke).parameters)

    assert parameters == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]


def test_intrinsic_functions_resolve_to_emulated_names() -> None:
    template = Template(
        resources={
            "Fn1": {"Type": "AWS::Lambda::Function"},
            "Table1": {"Type": "AWS::DynamoDB::Table"},
            "Bucket1": {"Type": "AWS::S3::Bucket"},
        },
        names={"Fn1": "Fn1", "Table1": "Table1", "Bucket1": "kidstory-local-bucket1"},
    )

    resolved = template.resolve(
        {
            "Fn::Join": [
                "",
                [
                    '{"Resource":"',
                    {"Fn::GetAtt": ["Fn1", "Arn"]},
                    '","Table":"',
                    {"Ref": "Table1"},
                    '","Partition":"arn:',
                    {"Ref": "AWS::Partition"},
                    '"}',
                ],
            ]
        }
    )

    assert resolved == (
        '{"Resource":"arn:aws:lambda:us-east-1:123456789012:function:Fn1",'
        '"Table":"Table1","Partition":"arn:aws"}'
    )


# IAM enforcement (infra/local/identities.py): its patch points in botocore and moto


def test_the_signing_patch_point_takes_credentials_per_request() -> None:
    assert list(inspect.signature(RequestSigner.sign).parameters)[:3] == [
        "self",
        "operation_name",
        "request",
    ]
    assert "request_credentials" in inspect.signature(RequestSigner.get_auth_instance).parameters
    assert "signing_context.get('request_credentials')" in inspect.getsource(RequestSigner.sign)


def test_moto_reads_its_unchecked_request_count_where_the_stack_sets_it() -> None:
    assert isinstance(moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, float | int)
    assert isinstance(ActionAuthenticatorMixin.request_count, int)
    source = inspect.getsource(ActionAuthenticatorMixin._authenticate_and_authorize_action)
    assert ">= settings.INITIAL_NO_AUTH_ACTION_COUNT" in source


def test_the_permission_check_patch_point_has_the_expected_shape() -> None:
    assert list(inspect.signature(IAMRequestBase.check_action_permitted).parameters) == [
        "self",
        "resource",
    ]
    source = inspect.getsource(IAMRequestBase.__init__)
    for attribute in ("self._action =", "self._body =", "self._access_key ="):
        assert attribute in source


def test_an_access_key_is_an_object_the_stack_can_rename() -> None:
    source = inspect.getsource(AccessKey.__init__)
    assert "self.access_key_id =" in source
    assert "self.secret_access_key =" in source


def test_the_step_functions_interpreter_signs_with_the_key_the_stack_recognizes() -> None:
    source = inspect.getsource(boto_client_for)
    assert f'aws_access_key_id="{INTERPRETER_ACCESS_KEY}"' in source


class Seen(TypedDict):
    identities: Annotated[list[str | None], operator.add]


def test_langgraph_nodes_run_under_the_identity_of_the_function_that_runs_the_graph() -> None:
    from langgraph.graph import END, START, StateGraph

    def node(_: Seen) -> Seen:
        return {"identities": [_identity.get()]}

    graph = StateGraph(Seen)
    for name in ("left", "right"):  # two nodes in one step run on the executor's threads
        graph.add_node(name, node)
        graph.add_edge(START, name)
        graph.add_edge(name, END)
    with acting_as("WriteStoryFunction"):
        seen = graph.compile().invoke({"identities": []})

    assert seen["identities"] == ["WriteStoryFunction", "WriteStoryFunction"]


def test_locally_a_statement_keeps_its_actions_and_names_any_resource() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "dynamodb:UpdateItem",
        "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/T",
        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["JOB#*"]}},
    }

    assert local_statement(statement) == {
        "Effect": "Allow",
        "Action": "dynamodb:UpdateItem",
        "Resource": "*",
    }


def test_locally_s3_statements_keep_their_objects_and_a_delete_also_names_the_bucket() -> None:
    objects = "arn:aws:s3:::media/stories/*"

    read = local_statement({"Effect": "Allow", "Action": "s3:GetObject", "Resource": objects})
    delete = local_statement({"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": objects})

    assert read["Resource"] == [objects]
    assert delete["Resource"] == [objects, "arn:aws:s3:::media"]


def test_concurrent_invocations_keep_their_own_log_context(logged: Any) -> None:
    """Locally every function runs in one process: one invocation's Lambda context must not
    reach the lines of another running at the same time, nor the API's."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from infra.local.emulator import (
        LambdaContext,
        _invoke_our_handler,
        restore_lambda_invocations,
        route_lambda_invocations,
    )
    from infra.local.log_context import keep_log_keys_per_invocation
    from kidstory.observability import logger

    installed = LambdaPowertoolsFormatter.__dict__.get("log_format")
    logger.clear_state()  # what tests before this one may have appended
    keep_log_keys_per_invocation()
    both_running = threading.Barrier(3)

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        both_running.wait(timeout=10)  # the other invocation has set its context too
        logger.info("inside", extra={"who": event["who"]})
        both_running.wait(timeout=10)
        return {}

    route_lambda_invocations({"FirstFunction": handler, "SecondFunction": handler})
    try:
        threads = [
            threading.Thread(
                target=_invoke_our_handler,
                args=(None, name, None, json.dumps({"who": name}).encode(), {}, {}),
            )
            for name in ("FirstFunction", "SecondFunction")
        ]
        for thread in threads:
            thread.start()
        both_running.wait(timeout=10)
        logger.info("the api, meanwhile")
        both_running.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=10)
    finally:
        restore_lambda_invocations()
        if installed is None:
            del LambdaPowertoolsFormatter.log_format
        else:
            LambdaPowertoolsFormatter.log_format = installed

    lines = {line.get("who", "api"): line for line in logged()}
    assert lines["FirstFunction"]["function_name"] == "FirstFunction"
    assert lines["SecondFunction"]["function_name"] == "SecondFunction"
    assert "function_name" not in lines["api"]
