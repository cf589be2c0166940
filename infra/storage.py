"""Storage: the one DynamoDB table and the private media bucket, with access grants."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import pin_logical_id
from infra.config import StageConfig

# S3 keys of media: stories/<story_id>/<asset_id>.png|.mp4 (docs/architecture.md).
MEDIA_PREFIX = "stories/"
TABLE_ID = "StoryTable"
MEDIA_BUCKET_ID = "MediaBucket"

# Only what the code calls (TransactWriteItems is authorized by its items' Put/Update).
TABLE_READ = ["dynamodb:GetItem", "dynamodb:Query"]
TABLE_WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
# partition keys of the table's items (kidstory.store.table)
JOB_ITEMS = "JOB#*"
OWNER_ITEMS = "OWNER#*"
STORY_ITEMS = "STORY#*"


class Storage(Construct):
    """Jobs, stories, assets and API records in one table; images and videos in one bucket."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        destroy = config.removal == "destroy"

        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=not destroy,
            removal_policy=config.removal_policy,
        )
        self.table.add_global_secondary_index(
            index_name="gsi1",
            partition_key=dynamodb.Attribute(name="gsi1pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="gsi1sk", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        pin_logical_id(self.table, TABLE_ID)

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront standard logging writes with ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(config.log_retention_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=config.removal_policy,
            auto_delete_objects=destroy,
        )
        self.media_bucket = s3.Bucket(
            self,
            "Media",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="media/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=(
                        Duration.days(config.retention_days) if config.retention_days else None
                    ),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=config.removal_policy,
            auto_delete_objects=destroy,
        )
        pin_logical_id(self.media_bucket, MEDIA_BUCKET_ID)

    @property
    def _index_arn(self) -> str:
        return f"{self.table.table_arn}/index/gsi1"

    def allow_table_read(self, grantee: iam.IGrantable) -> None:
        """Read items and query gsi1."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=TABLE_READ, resources=[self.table.table_arn, self._index_arn]
            )
        )

    def allow_table_read_write(self, grantee: iam.IGrantable) -> None:
        """Read, query gsi1, and write items."""
        self.allow_table_read(grantee)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=TABLE_WRITE, resources=[self.table.table_arn])
        )

    def allow_item_access(
        self, grantee: iam.IGrantable, actions: list[str], partition_keys: str
    ) -> None:
        """`actions` on the table's items whose partition key matches `partition_keys` (a
        StringLike pattern such as `JOB#*`), and on no others."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [partition_keys]}},
            )
        )

    def allow_page_change_cleanup(self, grantee: iam.IGrantable) -> None:
        """Delete a page change's own items (in its story's partition, STORY#) and the media
        it made (kidstory.steps.page_changes): when it is made current, or when it fails."""
        self.allow_item_access(grantee, ["dynamodb:DeleteItem"], STORY_ITEMS)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:DeleteObject"],
                resources=[self.media_bucket.arn_for_objects(f"{MEDIA_PREFIX}*")],
            )
        )
        self._acknowledge_media_objects(grantee)

    def allow_story_deletion(self, grantee: iam.IGrantable) -> None:
        """Delete story, asset and job items and media objects (DELETE /stories/{id})."""
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["dynamodb:DeleteItem"], resources=[self.table.table_arn])
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:DeleteObject"],
                resources=[self.media_bucket.arn_for_objects(f"{MEDIA_PREFIX}*")],
            )
        )
        self._acknowledge_media_objects(grantee)

    def allow_media_read(self, grantee: iam.IGrantable) -> None:
        """Get media objects (a missing key reads as 404, not 403, thanks to ListBucket)."""
        principal = grantee.grant_principal
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.media_bucket.arn_for_objects(f"{MEDIA_PREFIX}*")],
            )
        )
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.media_bucket.bucket_arn])
        )
        self._acknowledge_media_objects(grantee)

    def allow_media_read_write(self, grantee: iam.IGrantable) -> None:
        """Get and put media objects."""
        self.allow_media_read(grantee)
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self.media_bucket.arn_for_objects(f"{MEDIA_PREFIX}*")],
            )
        )

    def _acknowledge_media_objects(self, grantee: iam.IGrantable) -> None:
        if not isinstance(grantee.grant_principal, Construct):
            return
        Validations.of(grantee.grant_principal).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{MEDIA_BUCKET_ID}.Arn>/{MEDIA_PREFIX}*]",
                reason="Media keys are stories/<story_id>/<asset_id>.<ext>, created per story at "
                "run time; the grant is limited to that prefix of the media bucket.",
            )
        )
