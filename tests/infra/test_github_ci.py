"""The GitHub Actions workflow and the OIDC role it deploys with (README, "Deploy from CI")."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from app import build
from infra.config import project_context
from infra.github_oidc import GITHUB_STACK_NAME, GitHubDeployStack
from tests.infra.conftest import Synthesized

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.y*ml"))
CI_WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "ci.yml"
# Installed into the venv by requirements-dev.txt (the wheel carries the binary).
ACTIONLINT = Path(sys.executable).with_name("actionlint")
REPOSITORY = "example-org/kids-story-agent"
ISSUER = "token.actions.githubusercontent.com"
PINNED_ACTION = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
AWS_KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck and pyflakes off: the result must not depend on what else the machine has
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True
    return dict(workflow.get("on", workflow.get(True)) or {})


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


def deploy_jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in workflow["jobs"].items()
        if any(command.startswith("make deploy") for command in runs(job))
    }


def used_actions() -> Iterator[tuple[Path, str]]:
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            if "uses" in job:  # a reusable workflow
                yield path, job["uses"]
            for step in steps(job):
                if "uses" in step:
                    yield path, step["uses"]


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(CI_WORKFLOW)


# --- the workflow file -----------------------------------------------------------------------


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert WORKFLOWS, "no workflow in .github/workflows"
    result = actionlint(*WORKFLOWS)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("original", "broken", "reported"),
    [
        ("needs: [check, synth]", "needs: [check, synthesize]", "synthesize"),
        ("id-token: write", "id-token: writ", "writ"),
        ("${{ vars.AWS_REGION }}", "${{ vars.AWS_REGION }", "end marker }}"),
    ],
    ids=["unknown-job", "bad-permission", "unclosed-expression"],
)
def test_actionlint_reports_a_broken_workflow(
    tmp_path: Path, original: str, broken: str, reported: str
) -> None:
    """The check above can fail: the same workflow with one mistake is refused."""
    text = CI_WORKFLOW.read_text()
    assert original in text
    copy = tmp_path / ".github" / "workflows" / "ci.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(text.replace(original, broken, 1))
    result = actionlint(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout


def test_every_action_is_pinned_to_a_commit() -> None:
    actions = list(used_actions())
    assert actions
    unpinned = [(path.name, uses) for path, uses in actions if not PINNED_ACTION.fullmatch(uses)]
    assert unpinned == []
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if re.match(r"\s*(- )?uses:", line):
                # the release the SHA stands for, for people and for update bots
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_checks_run_on_every_pull_request_and_push(workflow: dict[str, Any]) -> None:
    on = triggers(workflow)
    assert "pull_request" in on
    assert on["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert on["workflow_dispatch"]["inputs"]["stage"]["options"] == ["dev", "prod"]
    jobs = workflow["jobs"]
    assert runs(jobs["check"]) == ["make setup", "make lint", "make test"]
    assert jobs["synth"]["strategy"]["matrix"]["stage"] == ["dev", "prod"]
    assert "make synth STAGE=${{ matrix.stage }}" in runs(jobs["synth"])
    assert workflow["env"] == {"PYTHON_VERSION": "3.11", "NODE_VERSION": "22"}


def test_dev_deploys_from_main_and_prod_from_tags_with_approval(
    workflow: dict[str, Any],
) -> None:
    jobs = deploy_jobs(workflow)
    assert set(jobs) == {"deploy-dev", "deploy-prod"}
    dev, prod = jobs["deploy-dev"], jobs["deploy-prod"]
    for job in (dev, prod):
        assert set(job["needs"]) == {"check", "synth"}
    assert "github.ref == 'refs/heads/main'" in dev["if"]
    assert "environment" not in dev  # its OIDC subject is the main branch
    assert "startsWith(github.ref, 'refs/tags/v')" in prod["if"]
    assert prod["environment"] == "prod"  # reviewers approve before it starts
    assert 'make deploy STAGE=dev CDK_DEPLOY_ARGS="--require-approval never"' in runs(dev)
    assert 'make deploy STAGE=prod CDK_DEPLOY_ARGS="--require-approval never"' in runs(prod)


def test_two_deploys_of_a_stage_never_overlap(workflow: dict[str, Any]) -> None:
    for name, job in deploy_jobs(workflow).items():
        stage = name.removeprefix("deploy-")
        assert job["concurrency"] == {"group": f"deploy-{stage}", "cancel-in-progress": False}


def test_deploys_sign_in_with_oidc_and_no_stored_keys(workflow: dict[str, Any]) -> None:
    for name, job in deploy_jobs(workflow).items():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}, name
        commands = [step.get("run", step.get("uses", "")) for step in steps(job)]
        credentials = [
            step
            for step in steps(job)
            if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        assert len(credentials) == 1, name
        inputs = credentials[0]["with"]
        assert inputs["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        assert not AWS_KEY_INPUTS & set(inputs)
        # the credentials exist before the deploy that needs them
        deploy = next(i for i, command in enumerate(commands) if command.startswith("make deploy"))
        assert commands.index(credentials[0]["uses"]) < deploy
    text = CI_WORKFLOW.read_text()
    for forbidden in ("secrets.", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", *AWS_KEY_INPUTS):
        assert forbidden not in text


def test_only_the_deploy_jobs_get_more_than_read_access(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    deployers = deploy_jobs(workflow)
    for name, job in workflow["jobs"].items():
        if name not in deployers:
            assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}, name
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_the_cdk_cli_version_is_the_makefiles() -> None:
    """The workflow deploys through `make deploy`, whose CDK CLI version is pinned."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^CDK_CLI := aws-cdk@\d+\.\d+\.\d+$", makefile, re.M)
    text = CI_WORKFLOW.read_text()
    assert "npx" not in text and "cdk deploy" not in text


# --- the OIDC role -----------------------------------------------------------------------------


def github_app(**context: str) -> cdk.App:
    return cdk.App(
        context={
            **project_context(),
            "stage": "local",
            "aws:cdk:bundling-stacks": [],
            **context,
        }
    )


@pytest.fixture(scope="module")
def github_stack() -> Template:
    """The app as `cdk deploy KidStory-github -c github_repo=...` synthesizes it."""
    app = github_app(github_repo=REPOSITORY)
    build(app)
    assembly = app.synth()  # the AwsSolutions checks run over every stack here
    assert GITHUB_STACK_NAME in {stack.stack_name for stack in assembly.stacks}
    return Template.from_json(assembly.get_stack_by_name(GITHUB_STACK_NAME).template)


def only(resources: dict[str, Any]) -> dict[str, Any]:
    assert len(resources) == 1, resources
    return dict(next(iter(resources.values())))


def test_without_github_repo_there_is_no_github_stack(synthesized: Synthesized) -> None:
    assert synthesized.app.node.try_find_child(GITHUB_STACK_NAME) is None
    assert not (synthesized.assembly_dir / f"{GITHUB_STACK_NAME}.template.json").exists()


def test_the_role_trusts_only_this_repositorys_main_tags_and_prod(github_stack: Template) -> None:
    providers = github_stack.find_resources("AWS::IAM::OIDCProvider")
    provider_id = next(iter(providers))
    assert only(providers)["Properties"] == {
        "Url": f"https://{ISSUER}",
        "ClientIdList": ["sts.amazonaws.com"],
    }
    role = only(github_stack.find_resources("AWS::IAM::Role"))
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": {"Ref": provider_id}},
        "Condition": {
            "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com"},
            "StringLike": {
                f"{ISSUER}:sub": [
                    f"repo:{REPOSITORY}:ref:refs/heads/main",
                    f"repo:{REPOSITORY}:ref:refs/tags/v*",
                    f"repo:{REPOSITORY}:environment:prod",
                ]
            },
        },
    }


def test_the_role_may_only_assume_the_cdk_bootstrap_roles(github_stack: Template) -> None:
    role = only(github_stack.find_resources("AWS::IAM::Role"))
    assert "ManagedPolicyArns" not in role["Properties"]
    assert github_stack.find_resources("AWS::IAM::Policy") == {}
    (policy,) = role["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    role_arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-%s-role-%s"
    account_region = "${AWS::AccountId}-${AWS::Region}"
    assert statement == {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": [
            {"Fn::Sub": role_arn % (kind, account_region)}
            for kind in ("deploy", "file-publishing", "lookup")
        ],
    }
    assert only(github_stack.find_outputs("DeployRoleArn"))["Value"] == {
        "Fn::GetAtt": [next(iter(github_stack.find_resources("AWS::IAM::Role"))), "Arn"]
    }


def test_an_existing_provider_is_reused() -> None:
    arn = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
    app = github_app()
    stack = GitHubDeployStack(app, GITHUB_STACK_NAME, repository=REPOSITORY, provider_arn=arn)
    template = Template.from_stack(stack)
    assert template.find_resources("AWS::IAM::OIDCProvider") == {}
    role = only(template.find_resources("AWS::IAM::Role"))
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": arn}


def test_cdk_nag_checks_the_github_stack_too() -> None:
    """The acknowledged-findings-only rule holds for KidStory-github: a wildcard would stop it."""
    app = github_app()
    stack = GitHubDeployStack(app, GITHUB_STACK_NAME, repository=REPOSITORY)
    stack.role.add_to_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=["*"]))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()


@pytest.mark.parametrize(
    "repository",
    ["owner", "owner/*", "*/*", "owner/name/extra", "owner/name:ref:refs/heads/*", ""],
)
def test_a_repository_that_is_not_exactly_one_is_refused(repository: str) -> None:
    with pytest.raises(ValueError, match="github_repo"):
        GitHubDeployStack(github_app(), GITHUB_STACK_NAME, repository=repository)
