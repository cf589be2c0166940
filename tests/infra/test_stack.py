"""The synthesized KidStory stack: resources, the StoryWorkflow definition, IAM and cdk-nag."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match
from cdk_nag import AwsSolutionsChecks

from infra import bundling
from infra.bundling import dependency_layer_code
from infra.config import StageConfig, StageConfigError, project_context
from infra.lambda_factory import (
    DEPENDENCY_LAYERS_DIR,
    function_code,
    kidstory_layer_code,
)
from tests.infra.conftest import bundled_asset

FUNCTIONS = {
    "api": "ApiFunction",
    "write_story": "WriteStoryFunction",
    "generate_image": "GenerateImageFunction",
    "start_video": "StartVideoFunction",
    "check_video": "CheckVideoFunction",
    "narrate_page": "NarratePageFunction",
    "build_book": "BuildBookFunction",
    "assemble": "AssembleFunction",
    "mark_failed": "MarkFailedFunction",
    "deliver_webhook": "DeliverWebhookFunction",
    "end_orphaned_job": "EndOrphanedJobFunction",
    "sweep_pending_jobs": "SweepPendingJobsFunction",
    "media_signing_key": "MediaSigningKeyFunction",
}
WORKFLOW_FUNCTIONS = [
    "WriteStoryFunction",
    "GenerateImageFunction",
    "StartVideoFunction",
    "CheckVideoFunction",
    "NarratePageFunction",
    "BuildBookFunction",
    "AssembleFunction",
    "MarkFailedFunction",
]
STATE_NAMES = {
    "MarkProcessing",
    "WriteStory",
    "Media",
    "Images",
    "GenerateImage",
    "ImageFailed",
    "Videos",
    "StartVideo",
    "WaitForVideo",
    "CheckVideo",
    "VideoReady?",
    "VideoDone",
    "VideoFailed",
    "Narration",
    "NarratePage",
    "NarrationFailed",
    "BuildBook",
    "Assemble",
    "Publish",
    "PublishCompleted",
    "PublishFailed",
    "PublishUpdated",
    "PageChanged?",
    "PageChanged",
    "StoryFailed",
    "MarkFailed",
}
RETRYABLE = [
    "ProviderThrottled",
    "ProviderUnavailable",
    "ProviderTimeout",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "TableBusy",  # writes that kept conflicting: nothing was written, the step may run again
]


def all_states(states: dict[str, Any]) -> dict[str, Any]:
    """Every state, including those inside Parallel branches and Map processors."""
    found = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(all_states(branch["States"]))
        if "ItemProcessor" in state:
            found.update(all_states(state["ItemProcessor"]["States"]))
    return found


@pytest.fixture(scope="module")
def states(synthesized) -> dict[str, Any]:
    return all_states(synthesized.definition()["States"])


def policy_statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    statements = []
    for logical_id, resource in resources.items():
        documents = []
        if resource["Type"] == "AWS::IAM::Policy":
            documents.append(resource["Properties"]["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents += [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        for document in documents:
            statements += [(logical_id, statement) for statement in document["Statement"]]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(resources: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    role_id = resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for logical_id, statement in policy_statements(resources)
        if logical_id == role_id
        or {"Ref": role_id} in resources[logical_id]["Properties"].get("Roles", [])
    ]


# Resources


def test_table_has_keys_gsi1_ttl_on_demand_and_point_in_time_recovery(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                Match.object_like(
                    {
                        "IndexName": "gsi1",
                        "KeySchema": [
                            {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                            {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                        ],
                    }
                )
            ],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    )
    synthesized.template.resource_count_is("AWS::DynamoDB::Table", 1)


def test_media_bucket_is_private_encrypted_logged_and_expires(synthesized):
    media = synthesized.resources["MediaBucket"]["Properties"]
    assert media["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert media["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert "DestinationBucketName" in media["LoggingConfiguration"]
    retention = synthesized.stack.config.retention_days
    assert retention in [
        rule.get("ExpirationInDays") for rule in media["LifecycleConfiguration"]["Rules"]
    ]
    synthesized.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": "MediaBucket"},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_distribution_reads_the_bucket_with_origin_access_control_over_https(synthesized):
    distribution = synthesized.resources["MediaDistribution"]["Properties"]["DistributionConfig"]
    [origin] = distribution["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    synthesized.template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {"OriginAccessControlConfig": Match.object_like({"OriginAccessControlOriginType": "s3"})},
    )


def test_rest_api_proxies_binary_throttles_logs_and_traces(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"BinaryMediaTypes": ["*/*"]}
    )
    config = synthesized.stack.config
    synthesized.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": config.stage,
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": [
                Match.object_like(
                    {
                        "ThrottlingRateLimit": config.api_throttle_rate,
                        "ThrottlingBurstLimit": config.api_throttle_burst,
                    }
                )
            ],
        },
    )
    methods = synthesized.template.find_resources("AWS::ApiGateway::Method")
    assert {method["Properties"]["HttpMethod"] for method in methods.values()} == {"ANY"}
    for method in methods.values():
        integration = method["Properties"]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert "ApiFunction" in json.dumps(integration["Uri"])
    synthesized.template.has_output("ApiUrl", {})


def test_state_machine_is_standard_traced_and_logs_everything(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL"}),
        },
    )
    assert synthesized.definition()["TimeoutSeconds"] == 2 * 60 * 60
    synthesized.template.has_output("StateMachineArn", {"Value": {"Ref": "StoryWorkflow"}})


def test_story_events_are_queued_with_a_dead_letter_queue(synthesized):
    rule = synthesized.resources["StoryFinishedRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "StoryEventBus"}
    assert rule["EventPattern"] == {
        "source": ["kidstory"],
        "detail-type": ["story.completed", "story.failed", "story.updated"],
    }
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}

    queue = synthesized.resources["WebhookQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 6,
    }
    deliver_timeout = synthesized.resources["DeliverWebhookFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] == 6 * deliver_timeout
    assert queue["SqsManagedSseEnabled"] is True
    dead_letters = synthesized.resources["WebhookDeadLetterQueue"]["Properties"]
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 60 * 60

    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": ["WebhookQueue", "Arn"]},
            "FunctionName": {"Ref": "DeliverWebhookFunction"},
            "BatchSize": 1,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )


def test_every_function_runs_python_3_12_on_arm64_with_tracing_and_json_logs(
    synthesized,
):
    functions = {
        logical_id: resource["Properties"]
        for logical_id, resource in synthesized.resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Runtime", "").startswith("python")
    }
    assert set(functions) == set(FUNCTIONS.values())
    for name, logical_id in FUNCTIONS.items():
        function = functions[logical_id]
        assert function["Handler"] == f"{name}.handler.handler"
        assert function["Runtime"] == "python3.12"
        assert function["Architectures"] == ["arm64"]
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["LoggingConfig"]["LogFormat"] == "JSON"
        # Lambda's filter passes what the stage logs (local: DEBUG)
        assert function["LoggingConfig"]["ApplicationLogLevel"] == "DEBUG"
        assert function["Environment"]["Variables"]["LOG_LEVEL"] == "DEBUG"


# Which dependency layers each function carries, besides "core" and the kidstory layer.
EXTRA_DEPENDENCIES = {
    "api": {"Api"},
    "write_story": {"Story"},
    "generate_image": {"Media"},
    "start_video": {"Video"},
    "check_video": {"Video"},
    "narrate_page": {"Narration"},
    "build_book": {"Book"},
    "assemble": set(),
    "mark_failed": set(),
    "deliver_webhook": set(),
    "end_orphaned_job": set(),
    "sweep_pending_jobs": set(),
    "media_signing_key": {"Api"},
}


def test_each_function_carries_only_the_dependency_layers_it_needs(synthesized):
    for name, logical_id in FUNCTIONS.items():
        layers = synthesized.resources[logical_id]["Properties"]["Layers"]
        referenced = {layer["Ref"] for layer in layers}
        groups = {
            group
            for group in ("Core", "Api", "Story", "Media", "Video", "Narration", "Book")
            if any(ref.startswith(f"Functions{group}DependenciesLayer") for ref in referenced)
        }
        assert groups == {"Core"} | EXTRA_DEPENDENCIES[name], name
        assert any(ref.startswith("FunctionsKidStoryLayer") for ref in referenced), name
        assert len(layers) == 2 + len(EXTRA_DEPENDENCIES[name])


def test_functions_get_their_settings_from_the_environment(synthesized):
    config = synthesized.stack.config

    def environment(logical_id: str) -> dict[str, Any]:
        return synthesized.resources[logical_id]["Properties"]["Environment"]["Variables"]

    for logical_id in FUNCTIONS.values():
        assert environment(logical_id)["TABLE_NAME"] == {"Ref": "StoryTable"}
        assert environment(logical_id)["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}
        assert environment(logical_id)["POWERTOOLS_SERVICE_NAME"] == "kidstory"
        assert environment(logical_id)["POWERTOOLS_METRICS_NAMESPACE"] == "KidStory"
        assert environment(logical_id)["STAGE"] == config.stage  # every metric's stage
        assert environment(logical_id)["LOG_LEVEL"] == config.log_level

    api = environment("ApiFunction")
    assert api["STATE_MACHINE_ARN"] == {"Ref": "StoryWorkflow"}
    assert api["MEDIA_BASE_URL"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": ["MediaDistribution", "DomainName"]}]]
    }
    assert api["API_KEY"] == config.api_key
    assert float(api["MAX_REQUEST_SIZE_MB"]) == config.max_request_size_mb

    assert environment("WriteStoryFunction")["LLM_PROVIDER"] == config.text.provider
    assert environment("GenerateImageFunction")["IMAGE_PROVIDER"] == config.images.provider
    for logical_id in ["StartVideoFunction", "CheckVideoFunction"]:
        assert environment(logical_id)["VIDEO_PROVIDER"] == config.video.provider
    assert environment("CheckVideoFunction")["VIDEO_MAX_CHECKS"] == str(config.video_max_checks)


def _pyc_flags(pyc: Path) -> int:
    """The flags word of a .pyc header (PEP 552): 1 is hash-based and unchecked."""
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def test_each_function_asset_holds_its_own_package_with_bytecode(tmp_path, monkeypatch):
    # this interpreter stands in for Lambda's, which may not be on this machine
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    monkeypatch.setattr(bundling, "LAMBDA_PYTHON", running)
    tag = sys.implementation.cache_tag

    asset = bundled_asset(tmp_path, function_code("write_story"))

    assert [child.name for child in asset.iterdir()] == ["write_story"]
    compiled = sorted(path.name for path in (asset / "write_story" / "__pycache__").iterdir())
    assert compiled == [f"__init__.{tag}.pyc", f"handler.{tag}.pyc"]
    assert _pyc_flags(asset / "write_story" / "__pycache__" / f"handler.{tag}.pyc") == 1


def test_the_kidstory_layer_ships_its_modules_compiled(tmp_path, monkeypatch):
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    monkeypatch.setattr(bundling, "LAMBDA_PYTHON", running)
    tag = sys.implementation.cache_tag

    asset = bundled_asset(tmp_path, kidstory_layer_code())

    package = asset / "python" / "kidstory"
    modules = {path.stem for path in package.glob("*.py")}
    compiled = {path.name.split(".")[0] for path in (package / "__pycache__").glob(f"*.{tag}.pyc")}
    assert modules and compiled == modules
    assert not list(asset.rglob("*.egg-info"))


def test_without_lambdas_python_the_code_ships_as_source_and_says_so(tmp_path, monkeypatch, capfd):
    monkeypatch.setattr(bundling, "LAMBDA_PYTHON", "3.99")

    asset = bundled_asset(tmp_path, function_code("assemble"))

    assert sorted(path.name for path in (asset / "assemble").iterdir()) == [
        "__init__.py",
        "handler.py",
    ]
    assert "No Python 3.99 here: assemble ships without bytecode" in capfd.readouterr().err


@pytest.mark.parametrize("code", [lambda: function_code("assemble"), kidstory_layer_code])
def test_code_with_bytecode_is_another_asset_than_the_same_code_as_source(
    tmp_path, monkeypatch, code
):
    """So that a deploy that can compile never reuses a source-only asset of the same code left
    in cdk.out or in the bootstrap bucket by a deploy that could not."""
    monkeypatch.setattr(bundling, "LAMBDA_PYTHON", "3.99")
    as_source = bundled_asset(tmp_path / "source", code())
    monkeypatch.setattr(bundling, "LAMBDA_PYTHON", f"{sys.version_info[0]}.{sys.version_info[1]}")
    compiled = bundled_asset(tmp_path / "compiled", code())

    assert as_source.name != compiled.name
    assert not list(as_source.rglob("*.pyc")) and list(compiled.rglob("*.pyc"))


def test_dependency_layers_are_not_bundled_when_bundling_is_skipped(synthesized):
    assert synthesized.bundling_commands == []


def test_dependency_layer_is_bundled_by_pip_for_arm64_lambda_without_docker(tmp_path, monkeypatch):
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        if "pip" in command:
            Path(command[command.index("--target") + 1]).mkdir(parents=True)
        return None

    monkeypatch.setattr("infra.bundling.subprocess.run", run)
    monkeypatch.setattr(bundling, "lambda_python", lambda: "/usr/bin/python3.12")
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Layer")
    lambda_.LayerVersion(
        stack, "Media", code=dependency_layer_code(DEPENDENCY_LAYERS_DIR / "media")
    )
    app.synth()

    [command, compile_command] = commands
    # pip installs without compiling: its bytecode would be for the interpreter it runs on...
    assert "--no-compile" in command
    # ...and Lambda's Python compiles the layer instead
    target = command[command.index("--target") + 1]
    assert compile_command == [
        "/usr/bin/python3.12",
        *("-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"),
        target,
    ]
    assert command[1:4] == ["-m", "pip", "install"]
    # exactly what the layer ships (less what core ships): no dependencies of its own
    assert command[command.index("-r") + 1].endswith("layers/deps/media/shipped.txt")
    assert "--no-deps" in command
    assert command[command.index("-c") + 1].endswith("layers/deps/constraints.txt")
    assert Path(command[command.index("--target") + 1]).name == "python"
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64" in joined
    assert "--implementation cp --python-version 3.12 --only-binary=:all:" in joined


# The workflow definition


def test_definition_has_the_states_of_the_design(states):
    assert set(states) == STATE_NAMES


def test_definition_uses_jsonpath_states(synthesized, states):
    assert "QueryLanguage" not in synthesized.definition()
    assert all(state.get("QueryLanguage", "JSONPath") == "JSONPath" for state in states.values())


def test_media_maps_run_at_most_the_configured_number_of_items_at_once(synthesized, states):
    # conftest overrides the stage's 10 as `-c media_max_concurrency=3` would
    configured = int(synthesized.context["media_max_concurrency"])
    assert synthesized.stack.config.media_max_concurrency == configured
    for name, items in (
        ("Images", "$.images"),
        ("Videos", "$.videos"),
        ("Narration", "$.narration"),
    ):
        assert states[name]["Type"] == "Map"
        assert states[name]["MaxConcurrency"] == configured
        assert states[name]["ItemsPath"] == items
        assert states[name]["ItemSelector"]["asset_id.$"] == "$$.Map.Item.Value.asset_id"


def test_media_tasks_retry_provider_errors_with_backoff_and_full_jitter(synthesized, states):
    config = synthesized.stack.config
    for name in ("GenerateImage", "StartVideo", "CheckVideo", "NarratePage"):
        [retry] = states[name]["Retry"]
        assert retry["ErrorEquals"] == RETRYABLE
        assert retry["BackoffRate"] == 2
        assert retry["JitterStrategy"] == "FULL"
        assert retry["IntervalSeconds"] == config.retry_interval_seconds
        assert retry["MaxAttempts"] == config.retry_max_attempts
        assert retry["MaxDelaySeconds"] == 60


def test_a_failed_media_item_ends_in_its_failed_state_and_not_the_job(states):
    for name, failed in (
        ("GenerateImage", "ImageFailed"),
        ("StartVideo", "VideoFailed"),
        ("CheckVideo", "VideoFailed"),
    ):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": failed}
        ]
        assert states[failed] == {"Type": "Pass", "End": True}


def test_video_polling_loops_through_the_wait_until_done(states):
    assert states["StartVideo"]["Next"] == "WaitForVideo"
    assert states["WaitForVideo"]["SecondsPath"] == "$.poll_after_seconds"
    assert states["WaitForVideo"]["Next"] == "CheckVideo"
    assert states["CheckVideo"]["Next"] == "VideoReady?"
    assert states["VideoReady?"]["Choices"] == [
        {"Variable": "$.done", "BooleanEquals": True, "Next": "VideoDone"}
    ]
    assert states["VideoReady?"]["Default"] == "WaitForVideo"


def test_any_error_of_the_job_steps_marks_the_job_failed(states):
    for name in ("MarkProcessing", "WriteStory", "Media", "Assemble"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}
        ]
    assert states["MarkFailed"]["Parameters"] == {"job_id.$": "$.job_id", "error.$": "$.error"}
    assert states["MarkFailed"]["Next"] == "Publish"
    assert states["WriteStory"]["Retry"][0]["ErrorEquals"] == RETRYABLE
    for name in ("Assemble", "MarkFailed"):
        assert states[name]["Retry"][0]["ErrorEquals"] == RETRYABLE[3:]


def test_job_steps_pass_ids_between_them(states):
    update = states["MarkProcessing"]["Parameters"]
    assert update["Key"] == {"pk": {"S.$": "States.Format('JOB#{}', $.job_id)"}, "sk": {"S": "JOB"}}
    assert update["ExpressionAttributeValues"][":now"] == {"S.$": "$$.State.EnteredTime"}
    assert states["MarkProcessing"]["ResultPath"] is None
    assert states["WriteStory"]["Parameters"] == {"job_id.$": "$.job_id"}
    assert states["Media"]["ResultPath"] == "$.media"
    assert states["Assemble"]["Parameters"] == {
        "job_id.$": "$.job_id",
        "story_id.$": "$.story_id",
        "media.$": "$.media",
    }
    assert states["Assemble"]["Next"] == "Publish"


def test_lambda_tasks_invoke_the_function_arn_directly(states):
    for name, logical_id in (
        ("WriteStory", "WriteStoryFunction"),
        ("GenerateImage", "GenerateImageFunction"),
        ("StartVideo", "StartVideoFunction"),
        ("CheckVideo", "CheckVideoFunction"),
        ("Assemble", "AssembleFunction"),
        ("MarkFailed", "MarkFailedFunction"),
    ):
        assert states[name]["Resource"] == f"<{logical_id}.Arn>"
    for name in ("GenerateImage", "StartVideo", "CheckVideo"):
        assert "Parameters" not in states[name]  # the item itself is the payload


def test_publish_sends_the_outcome_to_the_story_bus(states):
    assert states["Publish"]["Type"] == "Choice"
    assert states["Publish"]["Choices"] == [
        {"Variable": "$.kind", "StringEquals": "regenerate_page", "Next": "PublishUpdated"},
        {"Variable": "$.kind", "StringEquals": "edit_page", "Next": "PublishUpdated"},
        {"Variable": "$.status", "StringEquals": "completed", "Next": "PublishCompleted"},
    ]
    assert states["Publish"]["Default"] == "PublishFailed"
    for name, detail_type in (
        ("PublishCompleted", "story.completed"),
        ("PublishFailed", "story.failed"),
        ("PublishUpdated", "story.updated"),
    ):
        assert states[name]["Resource"].endswith(":states:::events:putEvents")
        assert states[name]["Parameters"]["Entries"] == [
            {
                "Source": "kidstory",
                "DetailType": detail_type,
                "Detail.$": "$",
                "EventBusName": "<StoryEventBus.Arn>",
            }
        ]
    assert states["PublishCompleted"]["End"] is True  # no Succeed state: one transition less
    assert states["PublishFailed"]["Next"] == "StoryFailed"
    assert states["StoryFailed"]["Type"] == "Fail"
    assert states["StoryFailed"]["Error"] == "StoryFailed"
    # a page change that failed is announced, then fails its execution as a story would
    assert states["PublishUpdated"]["Next"] == "PageChanged?"
    assert states["PageChanged?"]["Choices"] == [
        {"Variable": "$.status", "StringEquals": "completed", "Next": "PageChanged"}
    ]
    assert states["PageChanged?"]["Default"] == "StoryFailed"


# IAM


def test_no_statement_allows_every_action_on_every_resource(synthesized):
    for logical_id, statement in policy_statements(synthesized.resources):
        actions = as_list(statement["Action"])
        resources = as_list(statement.get("Resource", []))
        assert not ("*" in actions and "*" in resources), logical_id
        assert not any(action.endswith(":*") for action in actions), (logical_id, actions)


def test_only_tracing_and_log_delivery_are_granted_on_any_resource(synthesized):
    unscoped_services = {"xray", "logs"}
    for logical_id, statement in policy_statements(synthesized.resources):
        if "*" in as_list(statement.get("Resource", [])):
            services = {action.split(":")[0] for action in as_list(statement["Action"])}
            assert services <= unscoped_services, (logical_id, statement["Action"])


def test_only_the_api_and_the_sweeper_can_start_the_workflow_and_only_that_one(synthesized):
    starters = [
        statement
        for _, statement in policy_statements(synthesized.resources)
        if "states:StartExecution" in as_list(statement["Action"])
    ]
    assert len(starters) == 2
    for statement in starters:
        assert statement["Resource"] == {"Ref": "StoryWorkflow"}
    for function_id in ("ApiFunction", "SweepPendingJobsFunction"):
        assert any(
            statement in role_statements(synthesized.resources, function_id)
            for statement in starters
        ), function_id


def test_state_machine_role_holds_only_what_the_workflow_does(synthesized):
    role_id = synthesized.resources["StoryWorkflow"]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s for logical_id, s in policy_statements(synthesized.resources) if logical_id == role_id
    ]
    granted = {
        action: as_list(statement["Resource"])
        for statement in statements
        for action in as_list(statement["Action"])
    }
    assert sorted(granted["lambda:InvokeFunction"], key=str) == sorted(
        ({"Fn::GetAtt": [logical_id, "Arn"]} for logical_id in WORKFLOW_FUNCTIONS), key=str
    )
    assert granted["dynamodb:UpdateItem"] == [{"Fn::GetAtt": ["StoryTable", "Arn"]}]
    assert granted["events:PutEvents"] == [{"Fn::GetAtt": ["StoryEventBus", "Arn"]}]
    others = set(granted) - {"lambda:InvokeFunction", "dynamodb:UpdateItem", "events:PutEvents"}
    assert {action.split(":")[0] for action in others} == {"xray", "logs"}


def test_function_grants_follow_what_each_function_does(synthesized):
    def actions(function_id: str) -> set[str]:
        return {
            action
            for statement in role_statements(synthesized.resources, function_id)
            for action in as_list(statement["Action"])
        }

    assert "sqs:DeleteMessage" in actions("DeliverWebhookFunction")
    assert "s3:PutObject" not in actions("ApiFunction")
    assert "s3:PutObject" not in actions("AssembleFunction")
    for media in ("GenerateImageFunction", "StartVideoFunction", "CheckVideoFunction"):
        assert {"s3:PutObject", "s3:GetObject", "dynamodb:UpdateItem"} <= actions(media)
    # WriteStory copies a story's pictures and clips for its version (CopyObject), and never
    # deletes media
    writer_s3 = {action for action in actions("WriteStoryFunction") if action.startswith("s3:")}
    assert {"s3:GetObject", "s3:PutObject"} <= writer_s3
    assert "s3:DeleteObject" not in writer_s3


def test_webhook_delivery_reads_the_job_records_tries_on_it_and_makes_a_missing_secret(
    synthesized,
):
    table = {"Fn::GetAtt": ["StoryTable", "Arn"]}
    dynamodb = {
        action: (statement["Resource"], statement.get("Condition"))
        for statement in role_statements(synthesized.resources, "DeliverWebhookFunction")
        for action in as_list(statement["Action"])
        if action.startswith("dynamodb:")
    }

    def only_items(pattern: str) -> dict:
        return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [pattern]}}

    assert dynamodb == {
        "dynamodb:GetItem": (table, None),
        "dynamodb:UpdateItem": (table, only_items("JOB#*")),  # record_webhook_attempt
        "dynamodb:PutItem": (table, only_items("OWNER#*")),  # webhook_secrets, first use
    }


# cdk-nag


def test_aws_solutions_checks_find_nothing_unacknowledged(synthesized):
    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    assert [violation.rule_name for violation in report.violations] == []


def test_an_unacknowledged_finding_fails_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Throwaway")
    s3.Bucket(stack, "Careless")  # no access logs, no SSL enforcement
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="AwsSolutions-S10"):
        app.synth()


# Stage settings


def test_every_stage_in_cdk_json_is_valid():
    stages = project_context()["stages"]
    assert set(stages) == {"local", "dev", "prod"}
    for name, values in stages.items():
        assert StageConfig.from_mapping(name, values).stack_name == f"KidStory-{name}"


def test_stage_settings_are_checked_with_clear_errors():
    local = project_context()["stages"]["local"]
    with pytest.raises(StageConfigError, match="missing media_max_concurrency"):
        StageConfig.from_mapping(
            "local", {k: v for k, v in local.items() if k != "media_max_concurrency"}
        )
    with pytest.raises(StageConfigError, match="unknown colour"):
        StageConfig.from_mapping("local", {**local, "colour": "blue"})
    with pytest.raises(StageConfigError, match="log_retention_days must be one of"):
        StageConfig.from_mapping("local", {**local, "log_retention_days": 10})
    with pytest.raises(StageConfigError, match='removal must be "retain" for prod'):
        StageConfig.from_mapping("prod", {**local, "removal": "destroy"})
    with pytest.raises(StageConfigError, match="media_max_concurrency must be a whole number"):
        StageConfig.from_mapping("local", {**local, "media_max_concurrency": "many"})


def test_an_unknown_stage_names_the_known_ones():
    app = cdk.App(context={**project_context(), "stage": "staging"})
    known = re.escape("unknown stage 'staging'; cdk.json defines dev, local, prod")
    with pytest.raises(StageConfigError, match=known):
        StageConfig.from_context(app.node)


def test_every_layer_pin_agrees_with_the_shared_constraints():
    """Layers unpack into one folder: a package pinned in two layers must be one version."""
    constraints = DEPENDENCY_LAYERS_DIR / "constraints.txt"
    locked = {}
    for line in constraints.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            locked[name.lower().replace("_", "-")] = version
    for requirements in DEPENDENCY_LAYERS_DIR.glob("*/requirements.txt"):
        for line in requirements.read_text().splitlines():
            if line and not line.startswith("#"):
                name, version = line.split("==")
                name = name.split("[")[0]  # extras name the same package
                assert locked[name.lower().replace("_", "-")] == version, (requirements, name)


def test_executions_that_stop_early_fail_their_job(synthesized):
    """A timed-out, aborted or uncaught failed execution never reaches MarkFailed; its
    status-change event goes to the function that fails the job instead."""
    rule = synthesized.resources["ExecutionEndedRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": "StoryWorkflow"}]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert "EventBusName" not in rule  # Step Functions reports on the default bus
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["EndOrphanedJobFunction", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert "DeadLetterConfig" in target
    environment = synthesized.resources["EndOrphanedJobFunction"]["Properties"]["Environment"]
    assert environment["Variables"]["EVENT_BUS_NAME"] == {"Ref": "StoryEventBus"}


def test_every_stage_log_level_has_a_lambda_log_level():
    from typing import get_args

    from infra.config import LogLevel
    from infra.lambda_factory import APPLICATION_LOG_LEVELS

    assert set(APPLICATION_LOG_LEVELS) == set(get_args(LogLevel))
