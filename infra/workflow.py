"""Workflow: StoryWorkflow, the state machine of one story job (docs/architecture.md).

Built from small functions that each return a fragment of the chain with its Retry and
Catch attached, so `StoryWorkflow` reads top to bottom like the design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_cdk import Acknowledgment, ArnFormat, Aws, Duration, Fn, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra import parameter_arn, pin_logical_id
from infra.config import (
    KEYED_TEXT_PROVIDERS,
    OPTIONAL_KEY_TEXT_PROVIDERS,
    StageConfig,
    foundation_model_id,
    inference_profile_geography,
)
from infra.lambda_factory import MEDIA_MEMORY_MB, FunctionFactory
from infra.moderation import grant_moderation
from infra.notifications import EVENT_SOURCE, STORY_COMPLETED, STORY_FAILED
from infra.storage import MEDIA_PREFIX, Storage
from kidstory.story_budget import longest_story_seconds

PROVIDER_ERRORS = ["ProviderThrottled", "ProviderUnavailable", "ProviderTimeout"]
# What Lambda's service (not the function) fails with and may not fail with again: the errors
# CDK's own `retry_on_service_exceptions` names, and throttling (reserved concurrency, the
# account's pool).
LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]
RETRYABLE_ERRORS = PROVIDER_ERRORS + LAMBDA_TRANSIENT_ERRORS
MAX_RETRY_DELAY = Duration.seconds(60)
LAMBDA_LONGEST_SECONDS = 900  # Lambda's longest timeout
# What DynamoDB fails with and may not fail with again, as Step Functions' optimized integration
# names it ("DynamoDB." and DynamoDB's error code; AmazonDynamoDBException when no answer came):
# throttling and DynamoDB's own faults. Not ConditionalCheckFailedException: a job that has
# ended keeps its outcome, at once.
DYNAMODB_TRANSIENT_ERRORS = [
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.RequestLimitExceeded",
    "DynamoDB.InternalServerError",
    "DynamoDB.ServiceUnavailable",
    "DynamoDB.AmazonDynamoDBException",
]

# A Map item is an AssetRef built from the item of the StoryDraft list.
ASSET_REF = {
    "job_id": sfn.JsonPath.string_at("$$.Map.Item.Value.job_id"),
    "story_id": sfn.JsonPath.string_at("$$.Map.Item.Value.story_id"),
    "asset_id": sfn.JsonPath.string_at("$$.Map.Item.Value.asset_id"),
    "kind": sfn.JsonPath.string_at("$$.Map.Item.Value.kind"),
    "display_order": sfn.JsonPath.number_at("$$.Map.Item.Value.display_order"),
}


@dataclass(frozen=True)
class StoryFunctions:
    """The Lambda functions the workflow invokes."""

    write_story: lambda_.Function
    generate_image: lambda_.Function
    start_video: lambda_.Function
    check_video: lambda_.Function
    assemble: lambda_.Function
    mark_failed: lambda_.Function

    def all(self) -> list[lambda_.Function]:
        return [
            self.write_story,
            self.generate_image,
            self.start_video,
            self.check_video,
            self.assemble,
            self.mark_failed,
        ]


def bedrock_invoke_statements(
    stack: Stack, model_id: str, region: str
) -> list[iam.PolicyStatement]:
    """bedrock:InvokeModel (what Converse needs) on exactly one model, called in `region`.

    A cross-Region inference profile ("us.amazon.nova-2-lite-v1:0") needs the profile, and the
    model behind it in every Region the profile routes to: `*` for the Region, because Bedrock
    chooses and adds destination Regions (and a `global.` profile's model ARN has no Region),
    held to calls made through this profile by `bedrock:InferenceProfileArn`."""
    model = foundation_model_id(model_id)
    if inference_profile_geography(model_id) is None:
        return [
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[_bedrock_arn(stack, region, "", "foundation-model", model)],
            )
        ]
    profile = _bedrock_arn(stack, region, stack.account, "inference-profile", model_id)
    return [
        iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=[profile]),
        iam.PolicyStatement(
            actions=["bedrock:InvokeModel"],
            resources=[_bedrock_arn(stack, "*", "", "foundation-model", model)],
            conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        ),
    ]


def _bedrock_arn(stack: Stack, region: str, account: str, resource: str, name: str) -> str:
    return stack.format_arn(
        service="bedrock",
        region=region,
        account=account,
        resource=resource,
        resource_name=name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def grant_text_provider(function: lambda_.Function, config: StageConfig) -> None:
    """What the story writer's provider needs, and nothing for offline: ssm:GetParameter on the
    parameter holding the openai/anthropic key (or an Ollama gateway's, when one is named), or
    bedrock:InvokeModel on the model."""
    stack = Stack.of(function)
    statements: list[iam.PolicyStatement] = []
    keyed = (*KEYED_TEXT_PROVIDERS, *OPTIONAL_KEY_TEXT_PROVIDERS)
    if config.llm_provider in keyed and config.provider_key_parameter:
        statements.append(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[parameter_arn(stack, config.provider_key_parameter)],
            )
        )
    for statement in statements:
        function.add_to_role_policy(statement)
    if config.llm_provider == "bedrock":
        grant_bedrock_model(function, config.bedrock_model, config.bedrock_source_region)


def grant_bedrock_model(function: lambda_.Function, model_id: str, region: str) -> None:
    """bedrock:InvokeModel on exactly one model or inference profile (bedrock_invoke_statements),
    with the acknowledgment a profile's Region wildcard needs."""
    for statement in bedrock_invoke_statements(Stack.of(function), model_id, region):
        function.add_to_role_policy(statement)
    if inference_profile_geography(model_id) is not None:
        role = function.role
        assert role is not None  # the factory gives every function its own role
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::"
                f"foundation-model/{foundation_model_id(model_id)}]",
                reason=f"Bedrock's cross-Region inference profile {model_id} runs the model in "
                "Regions that Bedrock chooses (and may add to): the Region is the only wildcard, "
                "on this one model, and the statement's bedrock:InferenceProfileArn condition "
                "allows it only through the profile granted beside it.",
            )
        )


def grant_image_provider(generate_image: lambda_.Function, config: StageConfig) -> None:
    """What the picture provider needs: ssm:GetParameter on the parameter holding the OpenAI
    key, or bedrock:InvokeModel on the Bedrock picture model; nothing for offline."""
    if config.image_provider == "openai" and config.image_key_parameter:
        generate_image.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[parameter_arn(Stack.of(generate_image), config.image_key_parameter)],
            )
        )
    if config.image_provider == "bedrock":
        grant_bedrock_model(generate_image, config.bedrock_image_model, config.image_source_region)


def grant_video_provider(
    start_video: lambda_.Function,
    check_video: lambda_.Function,
    config: StageConfig,
    storage: Storage,
) -> None:
    """What the Bedrock clip provider needs; nothing for offline.

    StartAsyncInvoke is authorized by bedrock:InvokeModel on the model (there is no separate IAM
    action for it), and Bedrock writes the clip with the caller's own s3:PutObject on stories/*,
    which every media function has. GetAsyncInvoke is bedrock:GetAsyncInvoke on the invocation,
    an async-invoke resource of the account in the model's Region. check_video copies the clip to
    its own key and deletes the model's output folder: s3:DeleteObject on stories/*."""
    if config.video_provider != "bedrock":
        return
    grant_bedrock_model(start_video, config.bedrock_video_model, config.video_source_region)
    stack = Stack.of(check_video)
    check_video.add_to_role_policy(
        iam.PolicyStatement(
            actions=["bedrock:GetAsyncInvoke"],
            resources=[
                _bedrock_arn(stack, config.video_source_region, stack.account, "async-invoke", "*")
            ],
        )
    )
    check_video.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:DeleteObject"],
            resources=[storage.media_bucket.arn_for_objects(f"{MEDIA_PREFIX}*")],
        )
    )
    role = check_video.role
    assert role is not None  # the factory gives every function its own role
    Validations.of(role).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:"
            f"{config.video_source_region}:<AWS::AccountId>:async-invoke/*]",
            reason="An async invocation's id is made by Bedrock when a clip is started, so "
            "GetAsyncInvoke (the only action granted on it) cannot name it in advance: the "
            "grant is held to the account's invocations in the clip model's Region.",
        )
    )


def write_story_timeout(config: StageConfig) -> Duration:
    """WriteStory's timeout: its longest story as the stage's settings make it
    (kidstory.story_budget), within Lambda's 15 minutes. Only the every-call-waits-its-timeout
    case of a remote moderation provider can go beyond (the job then fails, through the Catch)."""
    longest = longest_story_seconds(
        config.runtime_settings, moderated=config.moderation_provider != "offline"
    )
    return Duration.seconds(min(math.ceil(longest), LAMBDA_LONGEST_SECONDS))


def with_retry(
    task: sfn.TaskStateBase, errors: list[str], config: StageConfig
) -> sfn.TaskStateBase:
    """Retries `errors` with exponential back-off and full jitter."""
    return task.add_retry(
        errors=errors,
        interval=Duration.seconds(config.retry_interval_seconds),
        backoff_rate=2,
        max_attempts=config.retry_max_attempts,
        jitter_strategy=sfn.JitterType.FULL,
        max_delay=MAX_RETRY_DELAY,
    )


def invoke(
    scope: Construct,
    state_name: str,
    function: lambda_.IFunction,
    payload: sfn.TaskInput | None = None,
) -> tasks.LambdaInvoke:
    """A Lambda task whose output is the function's return value.

    Without a payload the function gets the state's input as it is (no Parameters).
    """
    return tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=function,
        payload=payload,
        payload_response_only=True,
        retry_on_service_exceptions=False,
    )


def story_step(
    scope: Construct,
    state_name: str,
    function: lambda_.IFunction,
    payload: sfn.TaskInput,
    *,
    retry_on: list[str],
    config: StageConfig,
    on_error: sfn.IChainable,
) -> sfn.TaskStateBase:
    """A step of the job: retried on `retry_on`; any other error goes to `on_error` at $.error."""
    step = with_retry(invoke(scope, state_name, function, payload), retry_on, config)
    return step.add_catch(on_error, errors=[sfn.Errors.ALL], result_path="$.error")


def mark_processing(
    scope: Construct, table: dynamodb.ITable, config: StageConfig, *, on_error: sfn.IChainable
) -> sfn.TaskStateBase:
    """MarkProcessing: the job's status becomes processing (DynamoDB, no Lambda), and the job
    leaves the pending list that the sweeper reads (gsi1 PENDING, `REMOVE gsi1pk, gsi1sk`) in
    the same write. A throttled or failed write is tried again; a job that has ended is not."""
    step = tasks.DynamoUpdateItem(
        scope,
        "MarkProcessing",
        table=table,
        key={
            "pk": tasks.DynamoAttributeValue.from_string(
                sfn.JsonPath.format("JOB#{}", sfn.JsonPath.string_at("$.job_id"))
            ),
            "sk": tasks.DynamoAttributeValue.from_string("JOB"),
        },
        update_expression=(
            "SET #status = :processing, updated_at = :now, progress.stage = :writing "
            "REMOVE gsi1pk, gsi1sk"
        ),
        # only a job that is still open: one that has ended keeps its outcome
        condition_expression="#status IN (:pending, :processing)",
        expression_attribute_names={"#status": "status"},
        expression_attribute_values={
            ":pending": tasks.DynamoAttributeValue.from_string("pending"),
            ":processing": tasks.DynamoAttributeValue.from_string("processing"),
            ":writing": tasks.DynamoAttributeValue.from_string("writing"),
            ":now": tasks.DynamoAttributeValue.from_string(
                sfn.JsonPath.string_at("$$.State.EnteredTime")
            ),
        },
        result_path=sfn.JsonPath.DISCARD,
    )
    with_retry(step, DYNAMODB_TRANSIENT_ERRORS, config)
    return step.add_catch(on_error, errors=[sfn.Errors.ALL], result_path="$.error")


def media_step(
    scope: Construct,
    state_name: str,
    function: lambda_.IFunction,
    *,
    config: StageConfig,
    on_failure: sfn.IChainable,
) -> sfn.TaskStateBase:
    """A step of one media item: retried on provider and Lambda errors; a failure ends the
    item at `on_failure` with the error at $.failure, so the other items carry on."""
    step = with_retry(
        invoke(scope, state_name, function),
        RETRYABLE_ERRORS,
        config,
    )
    return step.add_catch(on_failure, errors=[sfn.Errors.ALL], result_path="$.failure")


def illustration(
    scope: Construct, generate_image: lambda_.IFunction, config: StageConfig
) -> sfn.IChainable:
    """One image: GenerateImage, or ImageFailed."""
    return media_step(
        scope,
        "GenerateImage",
        generate_image,
        config=config,
        on_failure=sfn.Pass(scope, "ImageFailed"),
    )


def video_clip(
    scope: Construct,
    start_video: lambda_.IFunction,
    check_video: lambda_.IFunction,
    config: StageConfig,
) -> sfn.IChainable:
    """One video: StartVideo, then wait and check until done (check_video bounds the loop)."""
    failed = sfn.Pass(scope, "VideoFailed")
    start = media_step(scope, "StartVideo", start_video, config=config, on_failure=failed)
    wait = sfn.Wait(scope, "WaitForVideo", time=sfn.WaitTime.seconds_path("$.poll_after_seconds"))
    check = media_step(scope, "CheckVideo", check_video, config=config, on_failure=failed)
    ready = (
        sfn.Choice(scope, "VideoReady?")
        .when(sfn.Condition.boolean_equals("$.done", True), sfn.Pass(scope, "VideoDone"))
        .otherwise(wait)
    )
    return start.next(wait).next(check).next(ready)


def for_each_asset(
    scope: Construct, state_name: str, items_path: str, item: sfn.IChainable, config: StageConfig
) -> sfn.Map:
    """A Map over a list of AssetRefs, at most `media_max_concurrency` at a time."""
    return sfn.Map(
        scope,
        state_name,
        items_path=items_path,
        item_selector=ASSET_REF,
        max_concurrency=config.media_max_concurrency,
    ).item_processor(item)


def media(
    scope: Construct, functions: StoryFunctions, config: StageConfig, *, on_error: sfn.IChainable
) -> sfn.Parallel:
    """Media: images and videos side by side; the results land at $.media."""
    images = for_each_asset(
        scope, "Images", "$.images", illustration(scope, functions.generate_image, config), config
    )
    videos = for_each_asset(
        scope,
        "Videos",
        "$.videos",
        video_clip(scope, functions.start_video, functions.check_video, config),
        config,
    )
    step = sfn.Parallel(scope, "Media", result_path="$.media").branch(images).branch(videos)
    return step.add_catch(on_error, errors=[sfn.Errors.ALL], result_path="$.error")


def put_story_event(
    scope: Construct, state_name: str, detail_type: str, event_bus: events.IEventBus
) -> tasks.EventBridgePutEvents:
    """An EventBridge event whose detail is the JobOutcome (no Lambda), retried: if it still
    fails, the execution fails and EndOrphanedJob announces the job's outcome instead."""
    put = tasks.EventBridgePutEvents(
        scope,
        state_name,
        entries=[
            tasks.EventBridgePutEventsEntry(
                source=EVENT_SOURCE,
                detail_type=detail_type,
                detail=sfn.TaskInput.from_json_path_at("$"),
                event_bus=event_bus,
            )
        ],
        result_path=sfn.JsonPath.DISCARD,
    )
    put.add_retry(
        errors=[sfn.Errors.ALL],
        interval=Duration.seconds(1),
        backoff_rate=2,
        max_attempts=3,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return put


def publish(scope: Construct, event_bus: events.IEventBus) -> sfn.Choice:
    """Publish: story.completed and Done, or story.failed and StoryFailed."""
    completed = put_story_event(scope, "PublishCompleted", STORY_COMPLETED, event_bus).next(
        sfn.Succeed(scope, "Done")
    )
    failed = put_story_event(scope, "PublishFailed", STORY_FAILED, event_bus).next(
        sfn.Fail(
            scope,
            "StoryFailed",
            error="StoryFailed",
            cause="The story could not be generated; see the job's error",
        )
    )
    return (
        sfn.Choice(scope, "Publish")
        .when(sfn.Condition.string_equals("$.status", "completed"), completed)
        .otherwise(failed)
    )


class StoryWorkflow(Construct):
    """The StoryWorkflow state machine and the functions of its steps."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        storage: Storage,
        functions: FunctionFactory,
        event_bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions = self._story_functions(functions, storage, config)
        fns = self.functions

        outcome = publish(self, event_bus)
        mark_failed = with_retry(
            invoke(
                self,
                "MarkFailed",
                fns.mark_failed,
                sfn.TaskInput.from_object(
                    {
                        "job_id": sfn.JsonPath.string_at("$.job_id"),
                        "error": sfn.JsonPath.object_at("$.error"),
                    }
                ),
            ),
            LAMBDA_TRANSIENT_ERRORS,
            config,
        ).next(outcome)

        definition = (
            mark_processing(self, storage.table, config, on_error=mark_failed)
            .next(
                story_step(
                    self,
                    "WriteStory",
                    fns.write_story,
                    sfn.TaskInput.from_object({"job_id": sfn.JsonPath.string_at("$.job_id")}),
                    retry_on=RETRYABLE_ERRORS,
                    config=config,
                    on_error=mark_failed,
                )
            )
            .next(media(self, fns, config, on_error=mark_failed))
            .next(
                story_step(
                    self,
                    "Assemble",
                    fns.assemble,
                    sfn.TaskInput.from_object(
                        {
                            "job_id": sfn.JsonPath.string_at("$.job_id"),
                            "story_id": sfn.JsonPath.string_at("$.story_id"),
                            "media": sfn.JsonPath.list_at("$.media"),
                        }
                    ),
                    retry_on=LAMBDA_TRANSIENT_ERRORS,
                    config=config,
                    on_error=mark_failed,
                )
            )
            .next(outcome)
        )

        # Under /aws/vendedlogs/ (CloudWatch Logs then needs no resource policy entry per log
        # group), and named for this deployment of the stack: a retained group (prod) outlives
        # the stack, and the same stack deployed again after it was deleted makes a new one
        # instead of failing on "already exists".
        deployment = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/KidStory-{config.stage}-StoryWorkflow-"
            f"{deployment}",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        role = self._role(storage.table, event_bus)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="StoryWorkflow: one story job, from prompt to published story",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            # The role below already holds every permission; CDK must not widen it.
            role=role.without_policy_updates(),
        )
        pin_logical_id(self.state_machine, "StoryWorkflow")
        self.end_orphaned_job = self._end_orphaned_jobs(functions, storage, event_bus)

    def _end_orphaned_jobs(
        self, functions: FunctionFactory, storage: Storage, event_bus: events.IEventBus
    ) -> lambda_.Function:
        """Executions that time out, are aborted, or fail where no Catch saw it never reach
        MarkFailed: their status-change event fails the job instead."""
        function = functions.create(
            self,
            "end_orphaned_job",
            timeout=Duration.minutes(1),
            environment={"EVENT_BUS_NAME": event_bus.event_bus_name},
        )
        storage.allow_table_read_write(function)
        event_bus.grant_put_events_to(function)
        undelivered = sqs.Queue(
            self,
            "ExecutionEndedDeadLetterQueue",
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            retention_period=Duration.days(14),
        )
        Validations.of(undelivered).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue is itself a dead-letter queue: the ExecutionEnded rule's "
                "target sends events it could not deliver to the function here; cdk-nag only "
                "recognises dead-letter queues of other queues.",
            )
        )
        rule = events.Rule(
            self,
            "ExecutionEnded",
            description="StoryWorkflow executions that stopped without finishing their job",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [self.state_machine.state_machine_arn],
                    "status": ["FAILED", "TIMED_OUT", "ABORTED"],
                },
            ),
            targets=[
                targets.LambdaFunction(function, retry_attempts=8, dead_letter_queue=undelivered)
            ],
        )
        pin_logical_id(rule, "ExecutionEndedRule")
        return function

    def _story_functions(
        self, functions: FunctionFactory, storage: Storage, config: StageConfig
    ) -> StoryFunctions:
        # The story writer alone talks to the text provider, the picture function to the picture
        # provider, the clip functions to the clip provider: each gets only its own provider's
        # settings and grants (a function would refuse to start on a keyed provider without its
        # key).
        write_story = functions.create(
            self,
            "write_story",
            reserved_concurrency=config.provider_concurrency,
            timeout=write_story_timeout(config),
            # the reviewer checks every page with the stage's moderation, as the API the idea
            environment={**config.text_provider_environment, **config.moderation_environment},
            dependencies=["story"],
        )
        storage.allow_table_read_write(write_story)
        grant_text_provider(write_story, config)
        grant_moderation(
            write_story,
            config,
            key_granted=config.llm_provider == "openai" and bool(config.provider_key_parameter),
        )

        # Every picture is shown to the stage's moderation provider, if any, before it is
        # stored: the picture function gets its settings and grants too.
        remote_picture = (config.image_provider, config.moderation_provider) != ("offline",) * 2
        generate_image = functions.create(
            self,
            "generate_image",
            reserved_concurrency=config.provider_concurrency,
            # a model's picture (up to three, when one fails its check), or a moderation call
            # for each, takes far longer than an offline picture alone
            timeout=Duration.minutes(5 if remote_picture else 2),
            memory_size=MEDIA_MEMORY_MB,
            environment={
                **config.image_provider_environment,
                **config.picture_moderation_environment,
            },
            dependencies=["media"],
        )
        # Offline video rendering happens in start_video/check_video.
        start_video = functions.create(
            self,
            "start_video",
            reserved_concurrency=config.provider_concurrency,
            timeout=Duration.minutes(5),
            memory_size=MEDIA_MEMORY_MB,
            environment=config.video_provider_environment,
            dependencies=["video"],
        )
        # A provider-made clip is shown to the stage's moderation provider, if any, before it is
        # recorded (frames of it; an offline clip is a pan over the page's checked picture): the
        # check function gets its settings and grants then. Its 5 minutes hold the worst case of
        # one check: GetAsyncInvoke (PROVIDER_TIMEOUT_SECONDS, at most 60 s), reading the clip
        # and ffmpeg (a few seconds; at most 30 s a run), a moderation call per frame
        # (MODERATION_TIMEOUT_SECONDS, at most 25 s each, 75 s) and a honoured Retry-After (20 s).
        check_video = functions.create(
            self,
            "check_video",
            reserved_concurrency=config.provider_concurrency,
            timeout=Duration.minutes(5),
            memory_size=MEDIA_MEMORY_MB,
            environment={
                **config.video_provider_environment,
                "VIDEO_MAX_CHECKS": str(config.video_max_checks),
                **config.clip_moderation_environment,
            },
            dependencies=["video"],
        )
        for media_function in (generate_image, start_video, check_video):
            storage.allow_table_read_write(media_function)
            storage.allow_media_read_write(media_function)
        grant_image_provider(generate_image, config)
        grant_moderation(
            generate_image,
            config,
            key_granted=config.image_provider == "openai" and bool(config.image_key_parameter),
        )
        grant_video_provider(start_video, check_video, config, storage)
        if config.video_provider != "offline":  # the clip provider needs no OpenAI key
            grant_moderation(check_video, config)

        assemble = functions.create(self, "assemble", timeout=Duration.minutes(1))
        mark_failed = functions.create(self, "mark_failed", timeout=Duration.minutes(1))
        storage.allow_table_read_write(assemble)
        storage.allow_media_read(assemble)  # checks that every asset is in the bucket
        storage.allow_table_read_write(mark_failed)

        return StoryFunctions(
            write_story=write_story,
            generate_image=generate_image,
            start_video=start_video,
            check_video=check_video,
            assemble=assemble,
            mark_failed=mark_failed,
        )

    def _role(self, table: dynamodb.ITable, event_bus: events.IEventBus) -> iam.Role:
        """Exactly what the state machine does: invoke its functions, mark the job processing,
        publish story events, trace, and deliver its logs."""
        statements = [
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn for function in self.functions.all()],
            ),
            iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[table.table_arn]),
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[event_bus.event_bus_arn]),
            iam.PolicyStatement(
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
        ]
        # Inline, so the permissions exist before the state machine is created (Step Functions
        # checks log delivery permissions at creation).
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="Runs StoryWorkflow",
            inline_policies={"StoryWorkflow": iam.PolicyDocument(statements=statements)},
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray tracing (PutTraceSegments, PutTelemetryRecords, GetSampling*) and "
                "CloudWatch Logs vended log delivery (*LogDelivery, *ResourcePolicies, "
                "DescribeLogGroups) support no resource-level permissions.",
            )
        )
        return role
