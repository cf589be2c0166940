"""Brings the synthesized stack up on an embedded moto server.

moto's Step Functions interpreter runs the state machine exactly as synthesized. moto's Lambda
backend cannot run code without Docker, so `route_lambda_invocations` points its `invoke` at our
own handlers, imported in this process (the one contained patch; a test pins the patch point).
SQS event sources are polled here the way Lambda's event source mapping would poll them, and
executions that stop early are announced on the default bus the way Step Functions announces
them, to the rules whose targets are our functions (moto emits no such events and delivers to no
Lambda targets). Scheduled rules are created but not run: their functions are invoked
like any other (`invoke_function`)."""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import threading
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import EventPattern
from moto.server import ThreadedMotoServer

from infra.local.conflicts import install_conflict_injection
from infra.local.identities import ActingAs, Identities, acting_as, role_of
from infra.local.log_context import keep_log_keys_per_invocation
from infra.local.template import ACCOUNT, REGION, Template

Handler = Callable[[Any, Any], Any]
log = logging.getLogger("kidstory.local")

# The API serves media itself locally (with its own signed links), instead of a CloudFront
# domain and key group that do not exist here.
LOCAL_ENVIRONMENT_DROPS = ("MEDIA_BASE_URL", "MEDIA_SIGNING_KEY_ID", "MEDIA_SIGNING_KEY_PARAMETER")
# No X-Ray daemon and no CloudWatch here: traces off, metrics not printed (override if wanted).
API_HANDLER = "api.handler.handler"
LOCAL_DEFAULTS = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}


@dataclass(frozen=True)
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


_handlers: dict[str, Handler] = {}
_moto_invoke = LambdaSimpleBackend.invoke


def _invoke_our_handler(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
    handler = _handlers[name]
    event = json.loads(body) if body else {}
    try:
        with acting_as(name):
            result = handler(event, LambdaContext(name, str(uuid.uuid4())))
    except Exception as error:  # an unhandled error, as Lambda reports it to Step Functions
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(
            {"errorType": type(error).__name__, "errorMessage": str(error), "stackTrace": []}
        ).encode()
    return json.dumps(result).encode()


def route_lambda_invocations(handlers: Mapping[str, Handler]) -> None:
    """Send moto's Lambda invocations to `handlers` (function name -> handler)."""
    _handlers.update(handlers)
    LambdaSimpleBackend.invoke = _invoke_our_handler  # type: ignore[method-assign]


def restore_lambda_invocations() -> None:
    _handlers.clear()
    LambdaSimpleBackend.invoke = _moto_invoke  # type: ignore[method-assign]


_dynamodb_writes = threading.RLock()  # transact_write_items calls put_item


def make_dynamodb_writes_atomic() -> None:
    """DynamoDB applies each write, conditions included, atomically; moto's server handles
    requests on many threads without a lock, so two conditional writes could both pass. One
    lock around moto's write operations restores the guarantee our idempotency relies on."""
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_serialized", False):
            continue

        def serialized(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _dynamodb_writes:
                return _original(*args, **kwargs)

        serialized._serialized = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, serialized)


def import_handler(dotted: str) -> Handler:
    module, _, attribute = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module), attribute)
    return handler


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The code runs in the local stack's own process.")
    return buffer.getvalue()


class LocalStack:
    """The whole stack on one machine: moto server, resources from the template, our handlers."""

    def __init__(
        self,
        template_path: Path,
        *,
        moto_port: int = 0,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.template = Template.load(template_path)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._extra_environment = dict(environment or {})
        self._stop = threading.Event()
        self._pollers: list[threading.Thread] = []
        self.endpoint_url = ""
        self.identities: Identities | None = None

    # lifecycle

    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        os.environ.update(
            AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            MOTO_PORT=str(port),
        )
        # moto checks nothing until every resource and identity exists
        self.identities = Identities(self.template, self.endpoint_url)
        self.identities.hold_enforcement()
        self._configure_moto()
        make_dynamodb_writes_atomic()
        keep_log_keys_per_invocation()  # one process, many functions: infra/local/log_context.py
        install_conflict_injection()  # LOCAL_DYNAMODB_CONFLICTS: infra/local/conflicts.py
        self._create_tables()
        self._create_buckets()
        self._create_queues()
        self._create_event_buses()
        # locally the API serves media itself, in CloudFront's place (LOCAL_ENVIRONMENT_DROPS)
        self.identities.create(
            self.client("iam"), self.client("sts"), cdn_stand_in=self._api_function_id()
        )
        functions = self._create_functions()
        os.environ.update(self.function_environment())
        route_lambda_invocations(
            {name: import_handler(handler) for name, handler in functions.items()}
        )
        self._create_state_machines()
        self.identities.install()
        self.identities.enforce()
        self._start_event_source_pollers()
        self._start(self._announce_stopped_executions, "announce-executions")
        return self

    def stop(self) -> None:
        self._stop.set()
        for poller in self._pollers:
            poller.join(timeout=5)
        self._moto.stop()
        restore_lambda_invocations()
        if self.identities is not None:
            self.identities.release()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION)

    @contextmanager
    def grants_of(self, template_path: Path) -> Iterator[None]:
        """In this block, the functions have the grants they have in another synthesis of the
        stack (a stage configured with other providers, say)."""
        assert self.identities is not None
        iam = self.client("iam")
        self.identities.use_policies_of(iam, Template.load(template_path))
        try:
            yield
        finally:
            self.identities.use_policies_of(iam, self.template)

    def serve_api(self, app: Any) -> Any:
        """The API's ASGI app, serving each request under the API function's role."""
        return ActingAs(app, self.template.names[self._api_function_id()])

    def _api_function_id(self) -> str:
        (logical_id,) = (
            logical_id
            for logical_id, resource in self.template.of_type("AWS::Lambda::Function").items()
            if resource["Properties"].get("Handler") == API_HANDLER
        )
        return logical_id

    # what the rest of the process needs to know

    def function_environment(self) -> dict[str, str]:
        """The union of every function's environment, resolved; they must agree."""
        merged: dict[str, str] = {}
        for logical_id, resource in self.template.of_type("AWS::Lambda::Function").items():
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            for key, value in self.template.resolve(variables).items():
                if key in LOCAL_ENVIRONMENT_DROPS:
                    continue
                if key in merged and merged[key] != str(value):
                    raise ValueError(f"functions disagree on {key} ({logical_id})")
                merged[key] = str(value)
        for key in LOCAL_ENVIRONMENT_DROPS:
            os.environ.pop(key, None)
        return LOCAL_DEFAULTS | merged | self._extra_environment

    def invoke_function(self, logical_id: str, event: Mapping[str, Any] | None = None) -> Any:
        """Invoke one of our functions by its logical id (`SweepPendingJobsFunction`), as a
        schedule or an operator would; its result, or the error it raised."""
        answer = self.client("lambda").invoke(
            FunctionName=self.template.names[logical_id], Payload=json.dumps(event or {})
        )
        result = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise RuntimeError(f"{logical_id} failed: {result}")
        return result

    def name_of(self, kind: str) -> str:
        (logical_id,) = self.template.of_type(kind)
        return self.template.names[logical_id]

    @property
    def state_machine_arn(self) -> str:
        (logical_id,) = self.template.of_type("AWS::StepFunctions::StateMachine")
        return self.template.arn(logical_id)

    # resources

    def _configure_moto(self) -> None:
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        request = urllib.request.Request(
            f"{self.endpoint_url}/moto-api/config",
            data=json.dumps(config).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=10).close()

    def _create_tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id, resource in self.template.of_type("AWS::DynamoDB::Table").items():
            props = self.template.resolve(resource["Properties"])
            name = self.template.names[logical_id]
            indexes = [
                {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
                for index in props.get("GlobalSecondaryIndexes", [])
            ]
            dynamodb.create_table(
                TableName=name,
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
                **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
            )
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

    def _create_buckets(self) -> None:
        s3 = self.client("s3")
        for logical_id in self.template.of_type("AWS::S3::Bucket"):
            s3.create_bucket(Bucket=self.template.names[logical_id])

    def _create_queues(self) -> None:
        sqs = self.client("sqs")
        queues = self.template.of_type("AWS::SQS::Queue")
        # dead-letter queues first, so redrive policies can name them
        for logical_id, resource in sorted(
            queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {})
        ):
            props = self.template.resolve(resource.get("Properties", {}))
            attributes = {
                key: str(props[key])
                for key in ("VisibilityTimeout", "MessageRetentionPeriod")
                if key in props
            }
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            sqs.create_queue(QueueName=self.template.names[logical_id], Attributes=attributes)

    def _create_event_buses(self) -> None:
        events = self.client("events")
        for logical_id in self.template.of_type("AWS::Events::EventBus"):
            events.create_event_bus(Name=self.template.names[logical_id])
        for logical_id, resource in self.template.of_type("AWS::Events::Rule").items():
            props = self.template.resolve(resource["Properties"])
            name = self.template.names[logical_id]
            bus = props.get("EventBusName", "default")
            # a rule matches events or runs on a schedule (schedules are not run here: invoke
            # the scheduled function when you want it, e.g. the pending-job sweeper)
            trigger = (
                {"ScheduleExpression": props["ScheduleExpression"]}
                if "ScheduleExpression" in props
                else {"EventPattern": json.dumps(props["EventPattern"])}
            )
            events.put_rule(
                Name=name, EventBusName=bus, State=props.get("State", "ENABLED"), **trigger
            )
            targets = [{"Id": target["Id"], "Arn": target["Arn"]} for target in props["Targets"]]
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)

    def _create_functions(self) -> dict[str, str]:
        """Create each function in moto; return function name -> handler import path."""
        lambda_client = self.client("lambda")
        handlers: dict[str, str] = {}
        for logical_id, resource in self.template.of_type("AWS::Lambda::Function").items():
            props = resource["Properties"]
            if not props.get("Runtime", "").startswith("python"):
                continue  # CDK's own deploy-time helpers (e.g. bucket auto-delete), not ours
            name = self.template.names[logical_id]
            lambda_client.create_function(
                FunctionName=name,
                Runtime=props["Runtime"],
                Role=self._role_arn(logical_id),
                Handler=props["Handler"],
                Code={"ZipFile": _placeholder_zip()},
                Timeout=props.get("Timeout", 3),
            )
            handlers[name] = props["Handler"]
        return handlers

    def _role_arn(self, function_id: str) -> str:
        return self.template.arn(role_of(self.template, self.template.resources[function_id]))

    def _create_state_machines(self) -> None:
        sfn = self.client("stepfunctions")
        for logical_id, resource in self.template.of_type(
            "AWS::StepFunctions::StateMachine"
        ).items():
            props = resource["Properties"]
            definition = self.template.resolve(props["DefinitionString"])
            sfn.create_state_machine(
                name=self.template.names[logical_id],
                definition=definition,
                roleArn=self.template.arn(role_of(self.template, resource, "RoleArn")),
                type=props.get("StateMachineType", "STANDARD"),
            )

    # SQS -> Lambda, as Lambda's event source mapping does it

    def _start_event_source_pollers(self) -> None:
        for resource in self.template.of_type("AWS::Lambda::EventSourceMapping").values():
            props = self.template.resolve(resource["Properties"])
            queue_name = props["EventSourceArn"].rsplit(":", 1)[-1]
            function_name = props["FunctionName"]
            self._start(
                partial(
                    self._poll_queue, queue_name, function_name, int(props.get("BatchSize", 10))
                ),
                f"poll-{queue_name}",
            )

    def _start(self, target: Callable[[], None], name: str) -> None:
        def keep_going() -> None:
            while not self._stop.is_set():
                try:
                    target()
                except Exception:
                    if self._stop.is_set():
                        return
                    log.exception("%s failed; starting it again in a second", name)
                    self._stop.wait(1)

        poller = threading.Thread(target=keep_going, name=name, daemon=True)
        poller.start()
        self._pollers.append(poller)

    def _poll_queue(self, queue_name: str, function_name: str, batch_size: int) -> None:
        """Lambda polls the queue with the function's role and invokes it as the service."""
        sqs = self.client("sqs")
        lambda_client = self.client("lambda")
        with acting_as(function_name):
            queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}"
        while not self._stop.is_set():
            try:
                with acting_as(function_name):
                    received = sqs.receive_message(
                        QueueUrl=queue_url,
                        MaxNumberOfMessages=min(batch_size, 10),
                        WaitTimeSeconds=1,
                        AttributeNames=["All"],
                    )
            except Exception:  # the server is going away
                if self._stop.is_set():
                    return
                raise
            messages = received.get("Messages", [])
            if not messages:
                continue
            event = {
                "Records": [
                    {
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": message.get("Attributes", {}),
                        "messageAttributes": {},
                        "md5OfBody": message.get("MD5OfBody", ""),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": REGION,
                    }
                    for message in messages
                ]
            }
            response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event))
            payload = json.loads(response["Payload"].read() or b"{}")
            if response.get("FunctionError"):
                continue  # every message becomes visible again and is retried
            failed = {item["itemIdentifier"] for item in payload.get("batchItemFailures", [])}
            with acting_as(function_name):
                for message in messages:
                    if message["MessageId"] not in failed:
                        sqs.delete_message(
                            QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                        )

    # Step Functions -> default event bus, as "Execution Status Change" events

    def _announce_stopped_executions(self) -> None:
        sfn = self.client("stepfunctions")
        lambda_client = self.client("lambda")
        rules = [
            (EventPattern.load(json.dumps(props["EventPattern"])), props["Targets"])
            for props in (
                self.template.resolve(resource["Properties"])
                for resource in self.template.of_type("AWS::Events::Rule").values()
            )
            if props.get("EventBusName", "default") == "default" and "EventPattern" in props
        ]
        announced: set[str] = set()
        while not self._stop.wait(0.5):
            try:
                machines = sfn.list_state_machines()["stateMachines"]
                stopped = [
                    execution
                    for machine in machines
                    for status in ("FAILED", "TIMED_OUT", "ABORTED")
                    for execution in sfn.list_executions(
                        stateMachineArn=machine["stateMachineArn"], statusFilter=status
                    )["executions"]
                    if execution["executionArn"] not in announced
                ]
            except Exception:  # the server is going away
                if self._stop.is_set():
                    return
                raise
            for execution in stopped:
                announced.add(execution["executionArn"])
                event = self._status_change_event(
                    sfn.describe_execution(executionArn=execution["executionArn"])
                )
                for pattern, targets in rules:
                    if not pattern.matches_event(event):  # type: ignore[arg-type]
                        continue
                    for target in targets:
                        if ":lambda:" in target["Arn"]:
                            lambda_client.invoke(
                                FunctionName=target["Arn"], Payload=json.dumps(event)
                            )

    @staticmethod
    def _status_change_event(execution: dict[str, Any]) -> dict[str, Any]:
        def millis(moment: Any) -> int | None:
            return int(moment.timestamp() * 1000) if moment else None

        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": ACCOUNT,
            "region": REGION,
            "resources": [execution["executionArn"]],
            "detail": {
                "executionArn": execution["executionArn"],
                "stateMachineArn": execution["stateMachineArn"],
                "name": execution["name"],
                "status": execution["status"],
                "startDate": millis(execution.get("startDate")),
                "stopDate": millis(execution.get("stopDate")),
                "input": execution.get("input"),
                "output": execution.get("output"),
                "error": execution.get("error"),
                "cause": execution.get("cause"),
            },
        }
