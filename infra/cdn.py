"""CDN: CloudFront in front of the private media bucket (origin access control)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import pin_logical_id


class MediaCdn(Construct):
    """Serves images and videos over HTTPS; only CloudFront can read the bucket."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        media_bucket: s3.IBucket,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
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
