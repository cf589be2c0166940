#!/usr/bin/env python3
"""CDK app of Kids Story Agent: `cdk synth -c stage=<local|dev|prod>` (default dev).

Synthesis makes no AWS calls. AwsSolutions checks run at synth; an unacknowledged finding
fails it.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import StageConfig, project_context
from infra.github_oidc import github_deploy_stack
from infra.stack import KidStoryStack


def build(app: cdk.App) -> KidStoryStack:
    """The stack of the stage named in the app's context, checked by cdk-nag."""
    config = StageConfig.from_context(app.node)
    stack = KidStoryStack(app, config.stack_name, config=config)
    github_deploy_stack(app)  # KidStory-github, only with `-c github_repo=owner/name`
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


if __name__ == "__main__":
    # The CDK CLI passes cdk.json's context itself; `python3 app.py` reads it here.
    # Context from the CLI or CDK_CONTEXT_JSON takes precedence over this.
    app = cdk.App(context=project_context())
    build(app)
    app.synth()
