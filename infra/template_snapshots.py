"""Template identity check: synthesizes a fixed set of stage configurations and compares them,
resource by resource, with templates saved earlier (a refactoring of infra must not change what
a deployed stack would update).

    python -m infra.template_snapshots record /tmp/templates-before
    python -m infra.template_snapshots compare /tmp/templates-before
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infra.config import PROJECT_ROOT, project_context

GUARDRAIL_ARN = "arn:aws:bedrock:eu-west-1:123456789012:guardrail/gr7k2mq9x4ab"
# Each stage of cdk.json, and stages that switch every provider on, with `-c name=value`
# overrides (some as the CLI passes them: strings).
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "local": ("local", {}),
    "dev": ("dev", {}),
    "prod": ("prod", {}),
    "openai": (
        "dev",
        {
            "llm_provider": "openai",
            "provider_key_parameter": "/kidstory/dev/openai-api-key",
            "provider_base_url": "https://llm-gateway.example.com/v1",
            "text_model": "gpt-6.1-sol",
            "image_provider": "openai",
            "image_key_parameter": "/kidstory/dev/openai-api-key",
            "moderation_provider": "openai",
            "media_max_concurrency": "3",
            "provider_concurrency": "5",
        },
    ),
    "bedrock": (
        "dev",
        {
            "llm_provider": "bedrock",
            "image_provider": "bedrock",
            "video_provider": "bedrock",
            "moderation_provider": "bedrock",
            "guardrail_id": "gr7k2mq9x4ab",
            "guardrail_version": "3",
            "guardrail_region": "eu-west-1",
            "require_api_key": False,
        },
    ),
    "bedrock-models": (
        "prod",
        {
            "llm_provider": "bedrock",
            "text_model": "eu.amazon.nova-pro-v1:0",
            "bedrock_region": "eu-west-1",
            "image_provider": "bedrock",
            "image_model": "us.stability.stable-image-ultra-v1:1",
            "video_provider": "bedrock",
            "video_region": "us-west-2",
            "moderation_provider": "bedrock",
            "guardrail_id": GUARDRAIL_ARN,
        },
    ),
    "ollama": (
        "dev",
        {
            "llm_provider": "ollama",
            "provider_base_url": "http://ollama.internal:11434",
            "provider_key_parameter": "/kidstory/dev/ollama-gateway-key",
            "moderation_provider": "ollama",
            "moderation_model": "llama-guard3:8b",
            "video_provider": "bedrock",
        },
    ),
    "anthropic": (
        "prod",
        {
            "llm_provider": "anthropic",
            "provider_key_parameter": "/kidstory/prod/anthropic-api-key",
            "moderation_provider": "openai",
            "moderation_key_parameter": "/kidstory/prod/openai-moderation-key",
            "moderation_model": "omni-moderation-2024-09-26",
            "video_provider": "bedrock",
            "function_settings": '{"PROVIDER_TIMEOUT_SECONDS": 30, "VIDEO_POLL_SECONDS": 10}',
            "log_level": "DEBUG",
            "retention_days": "null",
        },
    ),
}


def synthesize_case(stage: str, overrides: Mapping[str, Any], outdir: Path) -> dict[str, Any]:
    """The stack's template for `stage` with `overrides` as top-level context (`-c`)."""
    context = {
        **project_context(),
        "stage": stage,
        "aws:cdk:bundling-stacks": [],
        **overrides,
    }
    subprocess.run(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)},
        check=True,
    )
    template: dict[str, Any] = json.loads((outdir / f"KidStory-{stage}.template.json").read_text())
    return template


def differences(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """Where two templates differ, as JSON paths (Resources.<logical id>...)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            where = f"{path}.{key}" if path else key
            if key not in after:
                yield f"{where}: removed"
            elif key not in before:
                yield f"{where}: added"
            else:
                yield from differences(before[key], after[key], where)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from differences(old, new, f"{path}[{index}]")
    elif before != after:
        yield f"{path}: {json.dumps(before)[:120]} -> {json.dumps(after)[:120]}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("record", "compare"):
        print(__doc__, file=sys.stderr)
        return 2
    action, folder = argv[0], Path(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    found = 0
    with tempfile.TemporaryDirectory() as workdir:
        for name, (stage, overrides) in CASES.items():
            template = synthesize_case(stage, overrides, Path(workdir) / name)
            saved = folder / f"{name}.template.json"
            if action == "record":
                saved.write_text(json.dumps(template, indent=1, sort_keys=True))
                print(f"{name}: recorded {len(template['Resources'])} resources")
                continue
            changes = list(differences(json.loads(saved.read_text()), template))
            found += len(changes)
            print(f"{name}: " + ("identical" if not changes else f"{len(changes)} differences"))
            for change in changes:
                print(f"  {change}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
