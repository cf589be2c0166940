"""CDN: CloudFront in front of the private media bucket (origin access control), serving only
signed URLs: each story's media goes to the API key that owns it (see kidstory.media_links)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CustomResource, Stack, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra import parameter_arn, pin_logical_id
from infra.config import StageConfig
from infra.lambda_factory import FunctionFactory


class MediaCdn(Construct):
    """Serves images and videos over HTTPS; only CloudFront can read the bucket."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        functions: FunctionFactory,
        media_bucket: s3.IBucket,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.signing_key_parameter = f"/kidstory/{config.stage}/media-signing-key"
        signing_key = self._signing_key(functions)
        self.signing_key_id = signing_key.public_key_id
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Kid Story media: illustrations and videos",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(media_bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                compress=True,
                trusted_key_groups=[
                    cloudfront.KeyGroup(
                        self,
                        "MediaSigners",
                        items=[signing_key],
                        comment="Signs links to story media for the API key that owns the story",
                    )
                ],
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
        )
        pin_logical_id(self.distribution, "MediaDistribution")
        self.media_base_url = f"https://{self.distribution.distribution_domain_name}"

        Validations.of(self.distribution).acknowledge(
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason="Stories are for readers anywhere; there is no country the media must not "
                "reach, so no geo restriction.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR2",
                reason="The distribution serves immutable, cache-optimized media objects from a "
                "private bucket, read-only (GET/HEAD); a WAF web ACL (us-east-1, per-request "
                "cost) is left to a deployment that adds a custom domain.",
            ),
            Acknowledgment(
                id="AwsSolutions-CFR4",
                reason="Without a custom domain the distribution uses the default "
                "*.cloudfront.net certificate, whose viewer security policy CloudFront fixes at "
                "TLSv1; a minimum of TLSv1.2_2021 needs a custom domain with an ACM certificate.",
            ),
        )

    def _signing_key(self, functions: FunctionFactory) -> cloudfront.PublicKey:
        """The public half of the key pair media links are signed with; the private half is
        made at deploy time by the media_signing_key function and kept in SSM, never in the
        template."""
        maker = functions.create(self, "media_signing_key", dependencies=["api"])
        maker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                resources=[parameter_arn(Stack.of(self), self.signing_key_parameter)],
            )
        )
        provider = cr.Provider(self, "SigningKeyProvider", on_event_handler=maker)
        made = CustomResource(
            self,
            "SigningKey",
            service_token=provider.service_token,
            resource_type="Custom::MediaSigningKey",
            properties={"ParameterName": self.signing_key_parameter},
        )
        Validations.of(provider).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                reason="CDK's custom resource provider framework writes its logs with the "
                "managed basic execution policy; it runs only during deployments.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::<MediaSigningKeyFunction.Arn>:*]",
                reason="The provider framework may invoke any version of the one function it "
                "fronts (the signing key maker).",
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="The provider framework's own function; CDK sets its runtime.",
            ),
        )
        return cloudfront.PublicKey(
            self,
            "SigningPublicKey",
            encoded_key=made.get_att_string("PublicKey"),
            comment="Media links of the API (private key in SSM)",
        )
