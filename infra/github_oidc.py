"""KidStory-github: the role GitHub Actions assumes, through OIDC, to deploy the stages.

Made by app.py only when the context names the repository (`-c github_repo=owner/name`) and
deployed once per account (README, "Deploy from CI"). The role holds no AWS keys and no
permission of its own but `sts:AssumeRole` on the CDK bootstrap roles that `cdk deploy` uses,
so what a deploy may do is what `cdk bootstrap` granted those roles.
"""

from __future__ import annotations

import re

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Duration, Fn, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

GITHUB_STACK_NAME = "KidStory-github"
GITHUB_OIDC_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The refs and the environment whose workflow runs may deploy: main (the dev stage), version
# tags, and the jobs of the `prod` environment (whose reviewers approve each prod deploy).
TRUSTED_SUBJECTS = ("ref:refs/heads/main", "ref:refs/tags/v*", "environment:prod")
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


def trusted_subjects(repository: str) -> list[str]:
    """The `sub` claims of the GitHub OIDC tokens the deploy role accepts."""
    return [f"repo:{repository}:{subject}" for subject in TRUSTED_SUBJECTS]


class GitHubDeployStack(Stack):
    """The GitHub OIDC provider (or the account's existing one) and the deploy role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: str,
        provider_arn: str | None = None,
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
        principal = iam.OpenIdConnectPrincipal(
            provider,
            conditions={
                "StringEquals": {f"{GITHUB_OIDC_ISSUER}:aud": STS_AUDIENCE},
                # One operator for every subject: conditions under different operators are
                # ANDed. The two exact subjects have no wildcard, so StringLike matches them
                # exactly; the tag subject matches v* tags only.
                "StringLike": {f"{GITHUB_OIDC_ISSUER}:sub": trusted_subjects(repository)},
            },
        )
        qualifier = self.node.try_get_context("@aws-cdk/core:bootstrapQualifier") or (
            DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        bootstrap_roles = [
            Fn.sub(arn.replace("${Qualifier}", qualifier)) for arn in BOOTSTRAP_ROLE_ARNS
        ]
        self.role = iam.Role(
            self,
            "DeployRole",
            assumed_by=principal,
            description=f"GitHub Actions of {repository}: cdk deploy through the bootstrap roles",
            max_session_duration=Duration.hours(1),
            inline_policies={
                "AssumeCdkBootstrapRoles": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=["sts:AssumeRole"], resources=bootstrap_roles)
                    ]
                )
            },
        )
        CfnOutput(
            self,
            "DeployRoleArn",
            value=self.role.role_arn,
            description="Set as the repository variable AWS_DEPLOY_ROLE_ARN",
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
    )
