"""The StoryWorkflow definition (docs/architecture.md): small functions that each return a
fragment of the chain with its Retry and Catch attached, so `story_definition` reads top to
bottom like the design. Pure: states only, no resources."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import StageConfig
from infra.notifications import EVENT_SOURCE, STORY_COMPLETED, STORY_FAILED, STORY_UPDATED
from kidstory.models import JobKind
from kidstory.providers.errors import ProviderThrottled, ProviderTimeout, ProviderUnavailable
from kidstory.transactions import TableBusy

# The provider errors worth another try (kidstory.providers.errors: `retryable`); Step Functions
# sees a Lambda error by its class name.
PROVIDER_ERRORS = [
    error.__name__ for error in (ProviderThrottled, ProviderUnavailable, ProviderTimeout)
]
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
# What any step fails with that the next try can pass: Lambda's transient errors, and a table
# whose writes kept conflicting through the step's own retries (nothing was written).
STEP_TRANSIENT_ERRORS = [*LAMBDA_TRANSIENT_ERRORS, TableBusy.__name__]
RETRYABLE_ERRORS = PROVIDER_ERRORS + STEP_TRANSIENT_ERRORS
MAX_RETRY_DELAY = Duration.seconds(60)
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
    # a page change's redone asset (kept apart from the current one until the change is done)
    "pending": sfn.JsonPath.string_at("$$.Map.Item.Value.pending"),
}


@dataclass(frozen=True)
class StoryFunctions:
    """The Lambda functions the workflow invokes."""

    write_story: lambda_.Function
    generate_image: lambda_.Function
    start_video: lambda_.Function
    check_video: lambda_.Function
    narrate_page: lambda_.Function
    build_book: lambda_.Function
    assemble: lambda_.Function
    mark_failed: lambda_.Function

    def all(self) -> list[lambda_.Function]:
        return [
            self.write_story,
            self.generate_image,
            self.start_video,
            self.check_video,
            self.narrate_page,
            self.build_book,
            self.assemble,
            self.mark_failed,
        ]


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
    *,
    result_path: str | None = None,
) -> tasks.LambdaInvoke:
    """A Lambda task whose output is the function's return value (at `result_path`, or in
    place of the state's input when it is None).

    Without a payload the function gets the state's input as it is (no Parameters).
    """
    return tasks.LambdaInvoke(
        scope,
        state_name,
        lambda_function=function,
        payload=payload,
        payload_response_only=True,
        retry_on_service_exceptions=False,
        result_path=result_path,
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


def page_reading(
    scope: Construct, narrate_page: lambda_.IFunction, config: StageConfig
) -> sfn.IChainable:
    """One page read aloud: NarratePage, or NarrationFailed."""
    return media_step(
        scope,
        "NarratePage",
        narrate_page,
        config=config,
        on_failure=sfn.Pass(scope, "NarrationFailed"),
    )


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
    """Media: images, videos and the pages read aloud side by side; the results land at
    $.media."""
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
    narration = for_each_asset(
        scope,
        "Narration",
        "$.narration",
        page_reading(scope, functions.narrate_page, config),
        config,
    )
    step = (
        sfn.Parallel(scope, "Media", result_path="$.media")
        .branch(images)
        .branch(videos)
        .branch(narration)
    )
    return step.add_catch(on_error, errors=[sfn.Errors.ALL], result_path="$.error")


def bind_book(
    scope: Construct, build_book: lambda_.IFunction, config: StageConfig, *, then: sfn.IChainable
) -> sfn.IChainable:
    """BuildBook: the story's EPUB and PDFs, made once and kept in the media bucket, then `then`.
    A book that cannot be made does not fail the story: its error is kept at $.book_error and
    the job goes on (the book's links then answer 404)."""
    payload = sfn.TaskInput.from_object(
        {
            "job_id": sfn.JsonPath.string_at("$.job_id"),
            "story_id": sfn.JsonPath.string_at("$.story_id"),
        }
    )
    step = with_retry(
        invoke(scope, "BuildBook", build_book, payload, result_path=sfn.JsonPath.DISCARD),
        STEP_TRANSIENT_ERRORS,
        config,
    )
    step.add_catch(then, errors=[sfn.Errors.ALL], result_path="$.book_error")
    return step.next(then)


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
    """Publish: story.completed, which ends the execution (a Succeed state after it would be
    one more billed transition, doing nothing), or story.failed and StoryFailed; for a page
    change (by its kind), story.updated, then StoryFailed when the change failed."""
    is_completed = sfn.Condition.string_equals("$.status", "completed")
    story_failed = sfn.Fail(
        scope,
        "StoryFailed",
        error="StoryFailed",
        cause="The story could not be generated; see the job's error",
    )
    completed = put_story_event(scope, "PublishCompleted", STORY_COMPLETED, event_bus)
    failed = put_story_event(scope, "PublishFailed", STORY_FAILED, event_bus).next(story_failed)
    updated = put_story_event(scope, "PublishUpdated", STORY_UPDATED, event_bus).next(
        sfn.Choice(scope, "PageChanged?")
        .when(is_completed, sfn.Succeed(scope, "PageChanged"))
        .otherwise(story_failed)
    )
    choice = sfn.Choice(scope, "Publish")
    for kind in JobKind:
        if kind.changes_page:
            choice.when(sfn.Condition.string_equals("$.kind", kind.value), updated)
    return choice.when(is_completed, completed).otherwise(failed)


def mark_failed(
    scope: Construct, function: lambda_.IFunction, config: StageConfig, *, then: sfn.IChainable
) -> sfn.IChainable:
    """MarkFailed: the job records its error, then `then` publishes the outcome."""
    return with_retry(
        invoke(
            scope,
            "MarkFailed",
            function,
            sfn.TaskInput.from_object(
                {
                    "job_id": sfn.JsonPath.string_at("$.job_id"),
                    "error": sfn.JsonPath.object_at("$.error"),
                }
            ),
        ),
        STEP_TRANSIENT_ERRORS,
        config,
    ).next(then)


def story_definition(
    scope: Construct,
    functions: StoryFunctions,
    table: dynamodb.ITable,
    event_bus: events.IEventBus,
    config: StageConfig,
) -> sfn.IChainable:
    """MarkProcessing, WriteStory, Media, BuildBook, Assemble, Publish; any step's failure but
    the book's goes to MarkFailed, then Publish."""
    outcome = publish(scope, event_bus)
    failed = mark_failed(scope, functions.mark_failed, config, then=outcome)
    assemble = story_step(
        scope,
        "Assemble",
        functions.assemble,
        sfn.TaskInput.from_object(
            {
                "job_id": sfn.JsonPath.string_at("$.job_id"),
                "story_id": sfn.JsonPath.string_at("$.story_id"),
                "media": sfn.JsonPath.list_at("$.media"),
            }
        ),
        retry_on=STEP_TRANSIENT_ERRORS,
        config=config,
        on_error=failed,
    ).next(outcome)
    return (
        mark_processing(scope, table, config, on_error=failed)
        .next(
            story_step(
                scope,
                "WriteStory",
                functions.write_story,
                sfn.TaskInput.from_object({"job_id": sfn.JsonPath.string_at("$.job_id")}),
                retry_on=RETRYABLE_ERRORS,
                config=config,
                on_error=failed,
            )
        )
        .next(media(scope, functions, config, on_error=failed))
        .next(bind_book(scope, functions.build_book, config, then=assemble))
    )
