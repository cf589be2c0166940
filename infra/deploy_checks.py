"""Third-party checks of what we deploy (`make lint`): every stage of cdk.json synthesized
offline, its template checked by cfn-lint (with .cfnlintrc) and its StoryWorkflow definition,
CloudFormation tokens resolved, by asl-validator (npm, installed by `make setup`)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.config import PROJECT_ROOT, project_context
from infra.local.synth import synthesize
from infra.local.template import Template

ASL_VALIDATOR = PROJECT_ROOT / "node_modules" / ".bin" / "asl-validator"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def state_machine_definitions(template_path: Path) -> dict[str, str]:
    """Each state machine's definition in the template, with its Fn::Join/Ref/GetAtt tokens
    resolved (to names and ARNs of the local stack's kind: what matters is the ASL around them)."""
    template = Template.load(template_path)
    return {
        logical_id: template.resolve(resource["Properties"]["DefinitionString"])
        for logical_id, resource in template.of_type("AWS::StepFunctions::StateMachine").items()
    }


def lint_template(template_path: Path) -> bool:
    """cfn-lint, with the project's .cfnlintrc; True when it finds nothing."""
    found = subprocess.run(
        [str(CFN_LINT), str(template_path)], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    print(found.stdout or f"cfn-lint {template_path.name}: no findings", end="\n")
    print(found.stderr, end="", file=sys.stderr)
    return found.returncode == 0


def validate_definition(name: str, definition: str, workdir: Path) -> bool:
    """asl-validator on one definition; True when it is valid."""
    path = workdir / f"{name}.asl.json"
    path.write_text(json.dumps(json.loads(definition), indent=2))
    found = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    print(f"asl-validator {name}: {(found.stdout + found.stderr).strip()}")
    return found.returncode == 0


def main() -> int:
    if not ASL_VALIDATOR.exists():
        print(f"{ASL_VALIDATOR} is missing: run `make setup` (npm ci)", file=sys.stderr)
        return 2
    stages = sorted(project_context()["stages"])
    passed = True
    with tempfile.TemporaryDirectory() as workdir:
        for stage in stages:
            outdir = Path(workdir) / stage
            template = synthesize(outdir, stage=stage)
            passed &= lint_template(template)
            for logical_id, definition in state_machine_definitions(template).items():
                passed &= validate_definition(f"{stage}-{logical_id}", definition, outdir)
    print("deploy checks: " + ("all passed" if passed else "FAILED"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
