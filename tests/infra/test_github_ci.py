"""The GitHub Actions workflow, the OIDC roles it deploys with (docs/operations.md, "Deploy from
CI"), and `make browser`, which gives its tests Debian's chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from app import build
from infra import bundling
from infra.config import project_context
from infra.github_oidc import GITHUB_STACK_NAME, GitHubDeployStack, github_deploy_stack
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
DEBIAN_PYTHON_IMAGE = re.compile(r"python:(?P<version>3\.\d+)-bookworm(@sha256:[0-9a-f]{64})?")


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


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
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
    assert workflow["env"] == {
        "PYTHON_VERSION": "3.11",
        "LAMBDA_PYTHON_VERSION": "3.12",
        "NODE_VERSION": "22",
    }


def test_deploys_run_on_lambdas_python_so_the_assets_ship_its_bytecode(
    workflow: dict[str, Any],
) -> None:
    assert workflow["env"]["LAMBDA_PYTHON_VERSION"] == bundling.LAMBDA_PYTHON
    for name, job in deploy_jobs(workflow).items():
        [python] = [step for step in steps(job) if "setup-python" in step.get("uses", "")]
        assert python["with"]["python-version"] == "${{ env.LAMBDA_PYTHON_VERSION }}", name


def test_lint_and_test_run_in_a_debian_container(workflow: dict[str, Any]) -> None:
    """`make test` installs Debian's chromium package there, as root; not the runner's build."""
    check = workflow["jobs"]["check"]
    image = check["container"]["image"]
    match = DEBIAN_PYTHON_IMAGE.fullmatch(image)
    assert match, image
    assert match["version"] == workflow["env"]["PYTHON_VERSION"]
    actions = [step["uses"].split("@")[0] for step in steps(check) if "uses" in step]
    # the image's Python, not one installed beside it; Node.js for the CDK
    assert actions == ["actions/checkout", "actions/setup-node"]
    assert not any("sudo" in command or "chromium" in command for command in runs(check))
    for name in ("synth", "deploy-dev", "deploy-prod"):
        assert "container" not in workflow["jobs"][name], name


def test_dev_deploys_from_main_and_prod_from_tags_with_approval(
    workflow: dict[str, Any],
) -> None:
    jobs = deploy_jobs(workflow)
    assert set(jobs) == {"deploy-dev", "deploy-prod"}
    dev, prod = jobs["deploy-dev"], jobs["deploy-prod"]
    for job in (dev, prod):
        assert set(job["needs"]) == {"check", "synth"}
    assert "github.ref == 'refs/heads/main'" in dev["if"]
    assert "startsWith(github.ref, 'refs/tags/v')" in prod["if"]
    assert "refs/tags" not in dev["if"]
    assert 'make deploy STAGE=dev CDK_DEPLOY_ARGS="--require-approval never"' in runs(dev)
    assert 'make deploy STAGE=prod CDK_DEPLOY_ARGS="--require-approval never"' in runs(prod)


def test_each_deploy_is_a_job_of_its_stages_environment(workflow: dict[str, Any]) -> None:
    """Its OIDC subject is `environment:<stage>`, the only one that stage's role trusts, and
    vars.AWS_DEPLOY_ROLE_ARN is that environment's (prod's reviewers approve before it starts)."""
    for name, job in deploy_jobs(workflow).items():
        stage = name.removeprefix("deploy-")
        assert job["environment"] == stage
        assert f"make deploy STAGE={stage} " in "\n".join(runs(job))


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


def only(resources: Mapping[str, Any]) -> dict[str, Any]:
    assert len(resources) == 1, resources
    return dict(next(iter(resources.values())))


def deploy_roles(template: Template) -> dict[str, dict[str, Any]]:
    """The deploy roles by stage, found through the stack's outputs (DevDeployRoleArn, ...)."""
    roles = template.find_resources("AWS::IAM::Role")
    by_stage: dict[str, dict[str, Any]] = {}
    for output_id, output in template.find_outputs("*").items():
        stage = output_id.removesuffix("DeployRoleArn").lower()
        logical_id, attribute = output["Value"]["Fn::GetAtt"]
        assert attribute == "Arn"
        by_stage[stage] = dict(roles[logical_id])
    assert len(by_stage) == len(roles)
    return by_stage


def trust(role: dict[str, Any]) -> dict[str, Any]:
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return dict(statement)


def _iam_glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        ".*".join(".".join(map(re.escape, part.split("?"))) for part in pattern.split("*"))
    )


def admits(statement: dict[str, Any], claims: dict[str, str]) -> bool:
    """Whether the trust statement's conditions hold for a token with these claims (every
    operator and key must match; a key's values are alternatives)."""
    for operator, keys in statement["Condition"].items():
        for key, values in keys.items():
            claim = claims.get(key.removeprefix(f"{ISSUER}:"))
            if claim is None:
                return False
            alternatives = values if isinstance(values, list) else [values]
            if operator == "StringEquals":
                matched = claim in alternatives
            elif operator == "StringLike":
                matched = any(_iam_glob(value).fullmatch(claim) for value in alternatives)
            else:
                raise AssertionError(f"condition operator not modelled here: {operator}")
            if not matched:
                return False
    return True


SUBJECTS = {
    "dev": f"repo:{REPOSITORY}:environment:dev",
    "prod": f"repo:{REPOSITORY}:environment:prod",
    "main": f"repo:{REPOSITORY}:ref:refs/heads/main",
    "tag": f"repo:{REPOSITORY}:ref:refs/tags/v1.2.0",
    "pull request": f"repo:{REPOSITORY}:pull_request",
    "another environment": f"repo:{REPOSITORY}:environment:production",
    "another repository": "repo:example-org/kids-story-agent-fork:environment:prod",
}


def test_without_github_repo_there_is_no_github_stack(synthesized: Synthesized) -> None:
    assert synthesized.app.node.try_find_child(GITHUB_STACK_NAME) is None
    assert not (synthesized.assembly_dir / f"{GITHUB_STACK_NAME}.template.json").exists()


def test_each_stage_has_a_role_that_trusts_only_its_environment(github_stack: Template) -> None:
    providers = github_stack.find_resources("AWS::IAM::OIDCProvider")
    provider_id = next(iter(providers))
    assert only(providers)["Properties"] == {
        "Url": f"https://{ISSUER}",
        "ClientIdList": ["sts.amazonaws.com"],
    }
    roles = deploy_roles(github_stack)
    assert set(roles) == {"dev", "prod"}
    for stage, role in roles.items():
        assert trust(role) == {
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": {"Ref": provider_id}},
            "Condition": {
                "StringEquals": {
                    f"{ISSUER}:aud": "sts.amazonaws.com",
                    f"{ISSUER}:sub": f"repo:{REPOSITORY}:environment:{stage}",
                },
            },
        }, stage


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_no_other_job_can_assume_a_stages_role(github_stack: Template, stage: str) -> None:
    """Not the other stage's jobs, nor a branch, tag or pull request outside the environment."""
    statement = trust(deploy_roles(github_stack)[stage])
    admitted = {
        name
        for name, subject in SUBJECTS.items()
        if admits(statement, {"aud": "sts.amazonaws.com", "sub": subject})
    }
    assert admitted == {stage}
    # a token of the right job meant for another audience is refused too
    assert not admits(statement, {"aud": "https://github.com/example-org", "sub": SUBJECTS[stage]})


def test_the_roles_may_only_assume_the_cdk_bootstrap_roles(github_stack: Template) -> None:
    assert github_stack.find_resources("AWS::IAM::Policy") == {}
    role_arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-%s-role-%s"
    account_region = "${AWS::AccountId}-${AWS::Region}"
    for stage, role in deploy_roles(github_stack).items():
        assert "ManagedPolicyArns" not in role["Properties"], stage
        (policy,) = role["Properties"]["Policies"]
        (statement,) = policy["PolicyDocument"]["Statement"]
        assert statement == {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [
                {"Fn::Sub": role_arn % (kind, account_region)}
                for kind in ("deploy", "file-publishing", "lookup")
            ],
        }, stage
    assert set(github_stack.find_outputs("*")) == {"DevDeployRoleArn", "ProdDeployRoleArn"}


@pytest.mark.parametrize(
    ("context", "stages"),
    [
        ("prod", {"prod"}),
        ("dev", {"dev"}),
        ("dev,prod", {"dev", "prod"}),
        (["prod", "dev"], {"dev", "prod"}),
    ],
)
def test_an_account_of_one_stage_gets_only_that_stages_role(context: Any, stages: set[str]) -> None:
    """`-c github_stages=prod`: the prod account holds no role that dev jobs can assume."""
    app = github_app(github_repo=REPOSITORY)
    app.node.set_context("github_stages", context)
    stack = github_deploy_stack(app)
    assert stack is not None
    template = Template.from_stack(stack)
    assert set(deploy_roles(template)) == stages
    assert set(stack.roles) == stages


def test_an_existing_provider_is_reused() -> None:
    arn = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
    app = github_app()
    stack = GitHubDeployStack(app, GITHUB_STACK_NAME, repository=REPOSITORY, provider_arn=arn)
    template = Template.from_stack(stack)
    assert template.find_resources("AWS::IAM::OIDCProvider") == {}
    roles = deploy_roles(template)
    assert set(roles) == {"dev", "prod"}
    for role in roles.values():
        assert trust(role)["Principal"] == {"Federated": arn}


def test_cdk_nag_checks_the_github_stack_too() -> None:
    """The acknowledged-findings-only rule holds for KidStory-github: a wildcard would stop it."""
    app = github_app()
    stack = GitHubDeployStack(app, GITHUB_STACK_NAME, repository=REPOSITORY)
    stack.roles["prod"].add_to_policy(
        iam.PolicyStatement(actions=["sts:AssumeRole"], resources=["*"])
    )
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


@pytest.mark.parametrize("stages", ["staging", "dev,*", " ", ","])
def test_stages_other_than_dev_and_prod_are_refused(stages: str) -> None:
    app = github_app(github_repo=REPOSITORY, github_stages=stages)
    with pytest.raises(ValueError, match="github_stages"):
        github_deploy_stack(app)


# --- make browser ------------------------------------------------------------------------------

FAKE_TOOLS = {
    # what dpkg says of the chromium package: FAKE_STATUS, or not known at all
    "dpkg-query": 'test -n "$FAKE_STATUS" || exit 1\nprintf %s "$FAKE_STATUS"',
    "apt-get": 'echo "apt-get $*" >> "$FAKE_LOG"',
    "sudo": 'echo "sudo $1" >> "$FAKE_LOG"\nexec "$@"',
    "id": 'echo "$FAKE_UID"',
}


def make_browser(tmp_path: Path, *, status: str, uid: int) -> list[str]:
    """`make browser` with dpkg, apt-get, sudo and id replaced: the commands it ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in FAKE_TOOLS.items():
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{script}\n")
        tool.chmod(0o755)
    log = tmp_path / "commands"
    log.touch()
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("MAKE", "MFLAGS"))
    }
    environment |= {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_STATUS": status,
        "FAKE_UID": str(uid),
        "FAKE_LOG": str(log),
    }
    subprocess.run(
        ["make", "--no-print-directory", "-C", str(PROJECT_ROOT), "browser"],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return log.read_text().splitlines()


INSTALL = "apt-get install -y --no-install-recommends chromium"


@pytest.mark.parametrize(
    ("status", "uid", "commands"),
    [
        ("install ok installed", 1000, []),
        ("", 0, ["apt-get update", INSTALL]),
        ("", 1000, ["sudo apt-get", "apt-get update", "sudo env", INSTALL]),
        ("deinstall ok config-files", 0, ["apt-get update", INSTALL]),
    ],
    ids=["installed", "missing-as-root", "missing-with-sudo", "removed"],
)
def test_make_browser_installs_debians_chromium_package_unless_dpkg_has_it(
    tmp_path: Path, status: str, uid: int, commands: list[str]
) -> None:
    """The package counts, not the file: whatever /usr/bin/chromium is on this machine, a
    chromium that dpkg does not list as installed is installed with apt-get."""
    assert make_browser(tmp_path, status=status, uid=uid) == commands
