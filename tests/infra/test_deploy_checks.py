"""`make lint` runs third-party checks of what we deploy: cfn-lint on every stage's template and
asl-validator on the StoryWorkflow definition, installed by `make setup`."""

from __future__ import annotations

import json
import re

from infra.config import PROJECT_ROOT
from infra.deploy_checks import ASL_VALIDATOR, state_machine_definitions, validate_definition


def make_target(name: str) -> str:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    found = re.search(rf"^{re.escape(name)}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert found, name
    return found.group(0)


def test_lint_runs_the_deploy_checks_and_setup_installs_what_they_need():
    assert "python -m infra.deploy_checks" in make_target("lint")
    assert "npm ci" in make_target("$(STAMP)")
    package = json.loads((PROJECT_ROOT / "package.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["devDependencies"]["asl-validator"])
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text())
    assert (
        lock["packages"]["node_modules/asl-validator"]["version"]
        == (package["devDependencies"]["asl-validator"])
    )
    assert "cfn-lint==" in (PROJECT_ROOT / "requirements-dev.txt").read_text()


def test_the_synthesized_definition_resolves_to_valid_asl(synthesized, tmp_path):
    [template] = synthesized.assembly_dir.glob("KidStory-*.template.json")
    [(logical_id, definition)] = state_machine_definitions(template).items()
    assert logical_id == "StoryWorkflow"
    assert "Fn::" not in definition and '"Ref"' not in definition
    assert json.loads(definition)["StartAt"] == "MarkProcessing"
    assert ASL_VALIDATOR.exists(), "make setup installs asl-validator (npm ci)"
    assert validate_definition("local", definition, tmp_path)


def test_asl_validator_refuses_a_definition_that_goes_nowhere(synthesized, tmp_path):
    [template] = synthesized.assembly_dir.glob("KidStory-*.template.json")
    [definition] = state_machine_definitions(template).values()
    broken = json.loads(definition)
    broken["States"]["MarkProcessing"]["Next"] = "Nowhere"
    assert not validate_definition("broken", json.dumps(broken), tmp_path)
