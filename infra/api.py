"""API: the public HTTP API, API Gateway (REST) proxying every request to the api function."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import parameter_arn, pin_logical_id
from infra.cdn import MediaCdn
from infra.config import StageConfig
from infra.lambda_factory import FunctionFactory
from infra.provider_access import grant_moderation
from infra.storage import Storage


class StoryApi(Construct):
    """POST a story request, follow the job, read stories and stream media.

    The FastAPI app in functions/api routes every path itself, checks the bearer key and
    validates bodies; API Gateway adds throttling, access logs and tracing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        storage: Storage,
        functions: FunctionFactory,
        state_machine: sfn.IStateMachine,
        cdn: MediaCdn,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = functions.create(
            self,
            "api",
            timeout=Duration.seconds(29),
            dependencies=["api"],
            environment={
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "MEDIA_BASE_URL": cdn.media_base_url,
                "MEDIA_SIGNING_KEY_ID": cdn.signing_key_id,
                "MEDIA_SIGNING_KEY_PARAMETER": cdn.signing_key_parameter,
                "API_KEY": config.api_key,
                "REQUIRE_API_KEY": str(config.require_api_key).lower(),
                "RATE_LIMIT_PER_MINUTE": str(config.rate_limit_per_minute),
                "DAILY_QUOTA": str(config.daily_quota),
                "MAX_REQUEST_SIZE_MB": str(config.max_request_size_mb),
                # every idea is checked before anything is spent on it
                **config.moderation_environment,
            },
        )
        # no media reads: on AWS the media endpoints redirect to CloudFront, with a link signed
        # by the key the CDN's key group trusts
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[parameter_arn(Stack.of(self), cdn.signing_key_parameter)],
            )
        )
        storage.allow_table_read_write(self.function)
        storage.allow_story_deletion(self.function)
        state_machine.grant_start_execution(self.function)
        grant_moderation(self.function, config)

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        self.rest_api = apigateway.LambdaRestApi(
            self,
            "RestApi",
            rest_api_name=f"KidStory-{config.stage}",
            description="Kids Story Agent API",
            handler=self.function,
            proxy=True,
            # Images and videos pass through as bytes.
            binary_media_types=["*/*"],
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # Access logs need the account's API Gateway CloudWatch role.
            cloud_watch_role=True,
            deploy_options=apigateway.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.api_throttle_rate,
                throttling_burst_limit=config.api_throttle_burst,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
        )
        pin_logical_id(self.rest_api, "StoryRestApi")
        self.url = self.rest_api.url
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        Validations.of(self.rest_api).acknowledge(
            Acknowledgment(
                id="AwsSolutions-APIG2",
                reason="Request bodies are validated by the FastAPI app against the StoryRequest "
                "model (the seed API's contract, with its error format); an API Gateway model "
                "would duplicate it on a {proxy+} route.",
            ),
            Acknowledgment(
                id="AwsSolutions-APIG3",
                reason="Abuse is limited by stage throttling and the app's per-key rate limits; a "
                "regional WAF web ACL is a per-deployment choice left out of the base stack.",
            ),
            Acknowledgment(
                id="AwsSolutions-APIG4",
                reason="The app authenticates every request itself with the bearer key of the "
                "seed API (Authorization: Bearer <key>), which existing clients send unchanged.",
            ),
            Acknowledgment(
                id="AwsSolutions-COG4",
                reason="Clients authenticate with the seed API's bearer keys, checked by the app; "
                "there are no Cognito users.",
            ),
        )
        Validations.of(self.rest_api).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                reason="The account-level API Gateway CloudWatch role, needed for access logs, "
                "uses the AWS managed policy made for exactly that role.",
            )
        )
