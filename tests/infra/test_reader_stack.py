"""The web reader on AWS: its files on CloudFront at /reader/, told where the stage's API is, and
the API accepting the reader's origin. The dev stage is synthesized once for this module (with the
AwsSolutions checks: an unacknowledged finding fails it); the local stage has no such resources,
as its reader is served by the API itself.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build
from infra.config import project_context
from infra.lambda_factory import function_code
from infra.reader import INDEX_REWRITE, READER_DIR
from tests.infra.conftest import bundled_asset

READER_FILES = {"index.html", "reader.css", "reader.js"}


@pytest.fixture(scope="module")
def dev_stage(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    outdir = tmp_path_factory.mktemp("reader-dev")
    context = {**project_context(), "stage": "dev", "aws:cdk:bundling-stacks": []}
    app = cdk.App(outdir=str(outdir), context=context)
    stack = build(app)
    app.synth()  # AwsSolutions checks: an unacknowledged finding raises here
    return Template.from_stack(stack).to_json(), outdir


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == kind}


def the_deployment(template: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = of_type(template, "Custom::CDKBucketDeployment").values()
    return dict(deployment["Properties"])


def asset_folder(outdir: Path, object_key: str) -> Path:
    return outdir / f"asset.{object_key.removesuffix('.zip')}"


def test_the_reader_files_are_deployed_under_reader_with_a_config_naming_the_api(dev_stage):
    template, outdir = dev_stage
    deployment = the_deployment(template)
    assert deployment["DestinationBucketName"] == {"Ref": "ReaderBucket"}
    assert deployment["DestinationBucketKeyPrefix"] == "reader/"
    files, config = (asset_folder(outdir, key) for key in deployment["SourceObjectKeys"])

    # the folder as the API serves it locally, less its same-origin config.json
    assert {path.name for path in files.iterdir()} == READER_FILES
    for name in READER_FILES:
        assert (files / name).read_bytes() == (READER_DIR / name).read_bytes()

    # config.json names the stage's API URL, filled in at deploy time
    assert [path.name for path in config.iterdir()] == ["config.json"]
    (marker,) = deployment["SourceMarkers"][1]
    assert (config / "config.json").read_text() == '{"api":' + marker + "}"
    api_url = deployment["SourceMarkers"][1][marker]["Fn::Join"][1]
    assert {"Ref": "StoryRestApi"} in api_url
    assert api_url[-1] == '/"', "a JSON string ending in / (the base the reader resolves against)"


def test_a_deployment_refreshes_the_readers_paths_on_cloudfront(dev_stage):
    template, _ = dev_stage
    deployment = the_deployment(template)
    assert deployment["DistributionId"] == {"Ref": "MediaDistribution"}
    assert deployment["DistributionPaths"] == ["/reader/*"]
    assert deployment["Prune"] is True
    assert deployment["SystemMetadata"] == {"cache-control": "no-cache"}, "browsers ask again"


def test_cloudfront_serves_reader_paths_from_the_private_reader_bucket(dev_stage):
    template, _ = dev_stage
    config = template["Resources"]["MediaDistribution"]["Properties"]["DistributionConfig"]
    (behavior,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/reader/*"]
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["ResponseHeadersPolicyId"], "security headers (HSTS, nosniff, frame options)"
    origin = next(o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"])
    assert origin["DomainName"] == {"Fn::GetAtt": ["ReaderBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"]

    (bucket,) = [
        res for lid, res in of_type(template, "AWS::S3::Bucket").items() if lid == "ReaderBucket"
    ]
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (policy,) = [
        res
        for res in of_type(template, "AWS::S3::BucketPolicy").values()
        if res["Properties"]["Bucket"] == {"Ref": "ReaderBucket"}
    ]
    reads = [
        statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow" and "s3:GetObject" in statement["Action"]
    ]
    assert reads, "CloudFront may read the reader's files"
    for statement in reads:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
        assert {"Ref": "MediaDistribution"} in source, "this distribution only"


@pytest.mark.parametrize(
    ("uri", "served"),
    [
        ("/reader/", "/reader/index.html"),
        ("/reader/reader.js", "/reader/reader.js"),
        ("/reader/config.json", "/reader/config.json"),
    ],
)
def test_the_viewer_request_function_serves_index_html_for_the_folder(dev_stage, uri, served):
    template, _ = dev_stage
    (function,) = of_type(template, "AWS::CloudFront::Function").values()
    assert function["Properties"]["FunctionCode"] == INDEX_REWRITE
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    # run it as CloudFront would, in JavaScript (Node, which the CDK needs anyway)
    script = f"{INDEX_REWRITE}\nconsole.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    ran = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == served


def test_the_api_accepts_calls_from_the_readers_origin(dev_stage):
    template, _ = dev_stage
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CORS_ORIGINS"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": ["MediaDistribution", "DomainName"]}]]
    }


def test_api_gateways_own_refusals_allow_the_readers_origin_too(dev_stage):
    """Throttled 429s and 5xx answers come from API Gateway, not the app."""
    template, _ = dev_stage
    responses = of_type(template, "AWS::ApiGateway::GatewayResponse").values()
    headers = {
        response["Properties"]["ResponseType"]: response["Properties"]["ResponseParameters"]
        for response in responses
    }
    origin = {
        "Fn::Join": ["", ["'https://", {"Fn::GetAtt": ["MediaDistribution", "DomainName"]}, "'"]]
    }
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert headers[response_type] == {
            "gatewayresponse.header.Access-Control-Allow-Origin": origin,
            "gatewayresponse.header.Vary": "'Origin'",
        }


def test_the_stack_prints_the_readers_url(dev_stage):
    template, _ = dev_stage
    value = template["Outputs"]["ReaderUrl"]["Value"]
    assert value == {
        "Fn::Join": [
            "",
            ["https://", {"Fn::GetAtt": ["MediaDistribution", "DomainName"]}, "/reader/"],
        ]
    }


def test_the_local_stage_serves_the_reader_from_the_api_instead(synthesized):
    """The local stack runs every Python function of its template in-process: it must not get
    CDK's deployment function, and the API must ship the reader's files."""
    resources = synthesized.resources
    kinds = {resource["Type"] for resource in resources.values()}
    assert "Custom::CDKBucketDeployment" not in kinds
    assert "ReaderBucket" not in resources
    handlers = {
        res["Properties"]["Handler"]
        for res in resources.values()
        if res["Type"] == "AWS::Lambda::Function"
        and res["Properties"].get("Runtime", "").startswith("python")
    }
    assert "index.handler" not in handlers


def test_the_api_function_ships_the_readers_files(tmp_path):
    api_asset = bundled_asset(tmp_path, function_code("api"))

    assert {path.name for path in (api_asset / "api" / "reader").iterdir()} >= READER_FILES
