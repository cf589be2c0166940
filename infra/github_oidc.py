"""KidStory-github: the roles GitHub Actions assumes, through OIDC, to deploy the stages.

Made by app.py only when the context names the repository (`-c github_repo=owner/name`) and
deployed once per account (docs/operations.md, "Deploy from CI"). Each stage has its own role,
which only the jobs of the GitHub environment of that name can assume: the prod role takes only
tokens of jobs that the `prod` environment let start (after its reviewers' approval). With
`-c github_stages=prod` (or `dev`) an account gets only the role of the stage it holds.

A role holds no AWS keys and no permission of its own but `sts:AssumeRole` on the CDK bootstrap
roles that `cdk deploy` uses, so what a deploy may do is what `cdk bootstrap` granted those
roles. Both roles of one account reach the same bootstrap roles, which can deploy any stack
there: the stages are kept apart by the roles only when they live in separate accounts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

GITHUB_STACK_NAME = "KidStory-github"
GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The stages GitHub deploys, each from the GitHub environment of the same name (ci.yml).
STAGES = ("dev", "prod")
# What `cdk deploy` of this app assumes: the deploy role (CloudFormation, the bootstrap version
# parameter), file publishing (Lambda code and layers to the assets bucket), and lookup (reading
# the deployed template). No container images, so not the image-publishing role.
BOOTSTRAP_ROLE_ARNS = (
    DefaultStackSynthesizer.DEFAULT_DEPLOY_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_FILE_ASSET_PUBLISHING_ROLE_ARN,
    DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN,
)
# GitHub's rules for owner and repository names: no wildcard can widen the trust.
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9_.-]+")
_PROVIDER_ARN = re.compile(
    rf"arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_ISSUER)}"
)


def trusted_subject(repository: str, stage: str) -> str:
    """The `sub` claim of the GitHub OIDC tokens that a stage's deploy role accepts: the one of
    the repository's jobs that declare `environment: <stage>`."""
    return f"repo:{repository}:environment:{stage}"


def stages_of(context: object) -> list[str]:
    """The stages named by `-c github_stages=dev,prod` (or a list in cdk.json); all by default."""
    if not context:
        return list(STAGES)
    names = context if isinstance(context, list) else str(context).split(",")
    return [str(name).strip() for name in names]


class GitHubDeployStack(Stack):
    """The GitHub OIDC provider (or the account's existing one) and one deploy role per stage."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: str,
        provider_arn: str | None = None,
        stages: Sequence[str] = STAGES,
    ) -> None:
        if not _REPOSITORY.fullmatch(repository):
            raise ValueError(
                f"github_repo must be owner/name of a GitHub repository, got {repository!r}"
            )
        if provider_arn is not None and not _PROVIDER_ARN.fullmatch(provider_arn):
            raise ValueError(
                "github_oidc_provider_arn must be the ARN of the account's "
                f"{GITHUB_OIDC_ISSUER} provider, got {provider_arn!r}"
            )
        if not stages or not set(stages) <= set(STAGES):
            raise ValueError(
                f"github_stages must name stages among {', '.join(STAGES)}, got {list(stages)!r}"
            )
        super().__init__(
            scope,
            construct_id,
            description=f"GitHub Actions of {repository} deploy Kids Story Agent (OIDC)",
        )
        # An account has at most one provider per issuer: reuse it when it exists already.
        provider: iam.IOidcProvider = (
            iam.OidcProviderNative.from_oidc_provider_arn(self, "GitHubOidc", provider_arn)
            if provider_arn
            else iam.OidcProviderNative(
                self,
                "GitHubOidc",
                url=f"https://{GITHUB_OIDC_ISSUER}",
                client_ids=[STS_AUDIENCE],
            )
        )
        qualifier = self.node.try_get_context("@aws-cdk/core:bootstrapQualifier") or (
            DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        bootstrap_roles = [
            Fn.sub(arn.replace("${Qualifier}", qualifier)) for arn in BOOTSTRAP_ROLE_ARNS
        ]
        self.roles: dict[str, iam.Role] = {}
        for stage in (stage for stage in STAGES if stage in stages):
            title = stage.capitalize()
            # One exact subject, under the same operator as the audience: both must match.
            # No ref or tag subject: a job outside the environment cannot assume the role.
            principal = iam.OpenIdConnectPrincipal(
                provider,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_ISSUER}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_ISSUER}:sub": trusted_subject(repository, stage),
                    },
                },
            )
            role = iam.Role(
                self,
                f"{title}DeployRole",
                assumed_by=principal,
                description=(
                    f"GitHub Actions of {repository}, environment {stage}: "
                    "cdk deploy through the bootstrap roles"
                ),
                max_session_duration=Duration.hours(1),
                inline_policies={
                    "AssumeCdkBootstrapRoles": iam.PolicyDocument(
                        statements=[
                            iam.PolicyStatement(
                                actions=["sts:AssumeRole"], resources=bootstrap_roles
                            )
                        ]
                    )
                },
            )
            self.roles[stage] = role
            CfnOutput(
                self,
                f"{title}DeployRoleArn",
                value=role.role_arn,
                description=(
                    f"Set as the variable AWS_DEPLOY_ROLE_ARN of the GitHub environment {stage}"
                ),
            )


def github_deploy_stack(scope: Construct) -> GitHubDeployStack | None:
    """KidStory-github when the context names the repository (`-c github_repo=owner/name`)."""
    repository = scope.node.try_get_context("github_repo")
    if not repository:
        return None
    return GitHubDeployStack(
        scope,
        GITHUB_STACK_NAME,
        repository=str(repository),
        provider_arn=scope.node.try_get_context("github_oidc_provider_arn") or None,
        stages=stages_of(scope.node.try_get_context("github_stages")),
    )
