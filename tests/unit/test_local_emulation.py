"""The local stack depends on one patch point in moto; these fail if an upgrade moves it."""

from __future__ import annotations

import inspect
from importlib.metadata import version

from moto.awslambda_simple.models import LambdaSimpleBackend

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
