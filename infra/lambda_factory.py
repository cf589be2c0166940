"""One way to build every Lambda function of the service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import pin_logical_id
from infra.bundling import LAMBDA_PYTHON, code_with_bytecode, dependency_layer_code
from infra.config import PROJECT_ROOT, StageConfig
from infra.monitoring import NAMESPACE, SERVICE
from infra.storage import Storage

FUNCTIONS_DIR = PROJECT_ROOT / "functions"
KIDSTORY_LAYER_DIR = PROJECT_ROOT / "layers" / "kidstory"
DEPENDENCY_LAYERS_DIR = PROJECT_ROOT / "layers" / "deps"

# Third-party packages come in layers by need, so that no function carries what it does not use
# (together they exceed Lambda's 250 MB limit). Every function gets "core".
Dependencies = Literal["api", "story", "media", "video", "narration", "book"]

RUNTIME = lambda_.Runtime(f"python{LAMBDA_PYTHON}", lambda_.RuntimeFamily.PYTHON)
ARCHITECTURE = lambda_.Architecture.ARM_64
DEFAULT_MEMORY_MB = 512
DEFAULT_TIMEOUT = Duration.seconds(30)
MEDIA_MEMORY_MB = 1024
# A function that waits on a provider's picture: room to decode and scale it for moderation (a
# few MB), and no more, since every second of the wait is billed by memory.
WAITING_MEMORY_MB = 512
# eSpeak NG and the MP3 encoder run in the narration function (offline); Polly only waits.
NARRATION_MEMORY_MB = 1024
# A print PDF holds every picture at 300 DPI (2,625 px square for a full page with bleed).
BOOK_MEMORY_MB = 2048
# The stage's log_level as Lambda's advanced logging controls name it.
APPLICATION_LOG_LEVELS = {
    "DEBUG": lambda_.ApplicationLogLevel.DEBUG,
    "INFO": lambda_.ApplicationLogLevel.INFO,
    "WARNING": lambda_.ApplicationLogLevel.WARN,
    "ERROR": lambda_.ApplicationLogLevel.ERROR,
}


def pascal_case(name: str) -> str:
    """`write_story` -> `WriteStory`: the construct and logical-id stem of a function."""
    return "".join(part.capitalize() for part in name.split("_"))


def function_code(name: str) -> lambda_.Code:
    """The `functions/` folder filtered to one function's package.

    The handler is then `<name>.handler.handler`, the same import path as locally.
    """
    others = sorted(
        entry.name
        for entry in FUNCTIONS_DIR.iterdir()
        if entry.name != name and not entry.name.startswith(".")
    )
    if not (FUNCTIONS_DIR / name).is_dir():
        raise ValueError(f"no function folder functions/{name}")
    return code_with_bytecode(FUNCTIONS_DIR, name, exclude=others)


CLIENTS = "kidstory/clients"  # in the layer's python/ folder


def kidstory_layer_code() -> lambda_.Code:
    """The kidstory layer: `layers/kidstory/python`, Lambda's layout for Python packages, less
    the clients (kidstory.clients), which run on people's machines."""
    return code_with_bytecode(KIDSTORY_LAYER_DIR, "python", omit=[CLIENTS])


class FunctionFactory(Construct):
    """Builds functions alike: Python 3.12 on arm64, X-Ray, JSON logs, layers, common env."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, storage: Storage
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._storage = storage
        kidstory = lambda_.LayerVersion(
            self,
            "KidStoryLayer",
            code=kidstory_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="kidstory: the shared domain, adapters and providers",
            removal_policy=config.removal_policy,
        )
        self._kidstory = kidstory
        self._dependencies = {
            group: lambda_.LayerVersion(
                self,
                f"{group.capitalize()}DependenciesLayer",
                code=dependency_layer_code(DEPENDENCY_LAYERS_DIR / group),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=f"Third-party packages: layers/deps/{group}/requirements.txt",
                removal_policy=config.removal_policy,
            )
            for group in ("core", "api", "story", "media", "video", "narration", "book")
        }

    def layers(self, dependencies: Sequence[Dependencies]) -> list[lambda_.ILayerVersion]:
        groups = ["core", *dependencies]
        return [*(self._dependencies[group] for group in groups), self._kidstory]

    def create(
        self,
        scope: Construct,
        name: str,
        *,
        timeout: Duration = DEFAULT_TIMEOUT,
        memory_size: int = DEFAULT_MEMORY_MB,
        environment: Mapping[str, str] | None = None,
        dependencies: Sequence[Dependencies] = (),
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        """A function for the package `functions/<name>`, in `scope`, with its own role and logs.

        Its logical id is `<PascalName>Function` (`WriteStoryFunction`): the local emulator
        finds functions in the synthesized template by these ids.
        """
        config = self._config
        stem = pascal_case(name)
        log_group = logs.LogGroup(
            scope,
            f"{stem}Logs",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        role = iam.Role(
            scope,
            f"{stem}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {name} function",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            scope,
            f"{stem}Function",
            code=function_code(name),
            handler=f"{name}.handler.handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=memory_size,
            timeout=timeout,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            # Lambda's own log-level filter (JSON logs default to INFO) must let the stage's
            # level through, or LOG_LEVEL=DEBUG would log nothing more
            application_log_level_v2=APPLICATION_LOG_LEVELS[config.log_level],
            log_group=log_group,
            layers=self.layers(dependencies),
            role=role,
            environment={
                "TABLE_NAME": self._storage.table.table_name,
                "MEDIA_BUCKET": self._storage.media_bucket.bucket_name,
                "POWERTOOLS_SERVICE_NAME": SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
                # every metric's stage dimension (kidstory.observability), so that stages
                # deployed to one account and Region keep their figures and alarms apart
                "STAGE": config.stage,
                "LOG_LEVEL": config.log_level,
                **(
                    {"STORY_RETENTION_DAYS": str(config.retention_days)}
                    if config.retention_days
                    else {}
                ),
                **config.function_environment,
                **(environment or {}),
            },
        )
        pin_logical_id(function, f"{stem}Function")
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no "
                "resource-level permissions; every other statement of this role names its "
                "resources.",
            )
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="Python 3.12 on purpose: the dependency layers are built from CPython 3.12 "
                "arm64 wheels (pip --python-version 3.12); the runtime moves with that build.",
            )
        )
        return function
