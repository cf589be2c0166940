"""Reader: the web reader (functions/api/reader) on CloudFront at /reader/, told where the API is.

The same static files the API serves locally at /reader/ are copied to a private bucket of their
own (the media bucket's objects expire; these must not) and served by the media distribution
under /reader/*. A config.json written next to them names the API, and the API accepts the
distribution's origin (CORS), so the reader calls it from the browser.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from infra import pin_logical_id
from infra.config import PROJECT_ROOT, StageConfig

READER_DIR = PROJECT_ROOT / "functions" / "api" / "reader"
READER_PATH = "reader/"
READER_BUCKET_ID = "ReaderBucket"

# S3 has no index documents behind origin access control: /reader/ is /reader/index.html.
INDEX_REWRITE = """
function handler(event) {
  var request = event.request;
  if (request.uri.endsWith('/')) {
    request.uri += 'index.html';
  }
  return request;
}
""".strip()


class ReaderSite(Construct):
    """Serves the web reader at https://<distribution>/reader/ for the stage's API."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        distribution: cloudfront.Distribution,
        access_logs: s3.IBucket,
        api_url: str,
        api_function: lambda_.Function,
        rest_api: apigateway.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=READER_PATH,
            removal_policy=config.removal_policy,
            auto_delete_objects=config.removal == "destroy",
        )
        pin_logical_id(self.bucket, READER_BUCKET_ID)
        index_rewrite = cloudfront.Function(
            self,
            "IndexRewrite",
            code=cloudfront.FunctionCode.from_inline(INDEX_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Kid Story reader: /reader/ is /reader/index.html",
        )
        distribution.add_behavior(
            f"/{READER_PATH}*",
            origins.S3BucketOrigin.with_origin_access_control(self.bucket),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            compress=True,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=index_rewrite,
                    event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                )
            ],
        )
        self.url = f"https://{distribution.distribution_domain_name}/{READER_PATH}"

        self.deployment = s3_deployment.BucketDeployment(
            self,
            "Deployment",
            sources=[
                # config.json in the folder says "same origin" (the local stack); this one
                # names the stage's API.
                s3_deployment.Source.asset(str(READER_DIR), exclude=["config.json"]),
                s3_deployment.Source.json_data("config.json", {"api": api_url}),
            ],
            destination_bucket=self.bucket,
            destination_key_prefix=READER_PATH,
            distribution=distribution,
            distribution_paths=[f"/{READER_PATH}*"],
            # browsers ask again (a 304 when unchanged), so a new deployment is seen at once
            cache_control=[s3_deployment.CacheControl.no_cache()],
            memory_limit=256,
        )

        # The reader's pages come from the distribution, the API from API Gateway: another
        # origin, which the API must allow, also in the answers API Gateway gives itself
        # (throttled 429s, 5xx when the function fails), or the reader could not read them.
        origin = f"https://{distribution.distribution_domain_name}"
        api_function.add_environment("CORS_ORIGINS", origin)
        for name, response_type in (
            ("Default4xx", apigateway.ResponseType.DEFAULT_4_XX),
            ("Default5xx", apigateway.ResponseType.DEFAULT_5_XX),
        ):
            rest_api.add_gateway_response(
                f"Cors{name}",
                type=response_type,
                response_headers={"Access-Control-Allow-Origin": f"'{origin}'", "Vary": "'Origin'"},
            )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        """The findings on CDK's own BucketDeployment function (one per stack, outside this
        construct), which copies the files at deploy time and invalidates the reader's paths."""
        role = self.deployment.handler_role
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                reason="CDK's BucketDeployment function logs with the AWS managed basic "
                "execution policy; it runs only during deployments.",
            ),
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Action::{action}]",
                    reason="CDK's BucketDeployment grant: read the reader's asset from the CDK "
                    "assets bucket and sync it into the reader bucket.",
                )
                for action in (
                    "s3:GetBucket*",
                    "s3:GetObject*",
                    "s3:List*",
                    "s3:Abort*",
                    "s3:DeleteObject*",
                )
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-"
                "<AWS::AccountId>-<AWS::Region>/*]",
                reason="The reader's files are a CDK asset; their key in the bootstrap assets "
                "bucket is a content hash, so the read is granted on that bucket's objects.",
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{READER_BUCKET_ID}.Arn>/*]",
                reason="The deployment writes and prunes the reader's files, which are all of "
                "the reader bucket's objects.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="CDK's BucketDeployment grants cloudfront:CreateInvalidation and "
                "GetInvalidation on * (its own grant); they refresh /reader/* after a deployment.",
            ),
        )
        function = cast(Construct, role.node.scope)  # the role is made inside its function
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="CDK's BucketDeployment function: its runtime is chosen by aws-cdk-lib "
                "and moves with it.",
            )
        )
