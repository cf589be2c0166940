"""Synthesizes the stack the way the local stack and tests use it: offline, with asset bundling
skipped (nothing is downloaded), context from cdk.json plus overrides."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def synthesize(
    outdir: Path, *, stage: str = "local", overrides: Mapping[str, Any] | None = None
) -> Path:
    """Run the CDK app into `outdir`; return the path of the stack's template."""
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    context |= {"stage": stage, "aws:cdk:bundling-stacks": []}
    if overrides:
        stages = dict(context["stages"])
        stages[stage] = {**stages[stage], **overrides}
        context["stages"] = stages
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)},
        check=True,
    )
    return outdir / f"KidStory-{stage}.template.json"


def main() -> None:
    stage = sys.argv[1] if len(sys.argv) > 1 else "dev"
    template = synthesize(PROJECT_ROOT / "cdk.out", stage=stage)
    resources = json.loads(template.read_text())["Resources"]
    kinds = sorted({resource["Type"] for resource in resources.values()})
    print(f"synthesized {template.relative_to(PROJECT_ROOT)}: {len(resources)} resources")
    for kind in kinds:
        count = sum(1 for resource in resources.values() if resource["Type"] == kind)
        print(f"  {count:3d}  {kind}")


if __name__ == "__main__":
    main()
