"""`make bench`: performance figures, printed (not asserted: these machines are shared).

1. API cold import: the API function's handler module against a bare `import fastapi, mangum`,
   each in a fresh interpreter, median of several runs; with bytecode for every module (as the
   deployed assets ship it) and for the standard library only (what our code and packages
   shipped as source cost on Lambda).
2. Fan-out: the offline provider given fixed latencies (story 1 s, each image 1 s); end-to-end
   time through the HTTP API on the local stack for 1 and for 10 illustrations, and its ratio to
   the critical path (story + slowest image + assembly).
3. Function size: each function's dependency layers, built by pip for Lambda (arm64, CPython
   3.12, as `make deploy` builds them), plus the kidstory layer and its code, unzipped, against
   Lambda's limit of 250 MiB for a function and all its layers, and the headroom left (the
   goal is at least HEADROOM_GOAL).
4. Infrastructure (tests/bench/infra_cost.py), with the offline providers waiting as hosted
   models would: what a 3-picture story costs on AWS besides the models' fees, without and with
   narration, line by line and by function; time to text against time to complete for 1 and 10
   pictures; the text-provider calls made one after another before the first picture starts."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

from tests.bench import infra_cost
from tests.fresh_interpreter import last_line

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7
STORY_SECONDS = 1.0
IMAGE_SECONDS = 1.0


def _import_seconds(statement: str, environment: dict[str, str]) -> float:
    code = (
        "import time; started = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - started)"
    )
    return float(last_line(code, environment))


def _without_our_bytecode(compiled: Path, into: Path) -> None:
    """A copy of the bytecode cache `compiled` (PYTHONPYCACHEPREFIX mirrors source paths) less
    what belongs to the project and its installed packages: the standard library keeps its
    bytecode, as it does in Lambda's runtime."""
    shutil.copytree(compiled, into, dirs_exist_ok=True)
    ours = {ROOT, *(Path(sysconfig.get_paths()[name]) for name in ("purelib", "platlib"))}
    for source in ours:
        shutil.rmtree(into / source.resolve().relative_to("/"), ignore_errors=True)


def cold_import() -> None:
    """Each case twice: with bytecode for every module it imports (as the deployed assets ship
    it; compiled beforehand into a cache of its own), and with bytecode for the standard library
    only (what Lambda pays at every cold start for our code and its packages shipped as source,
    since it cannot write __pycache__)."""
    cases = {
        "import fastapi, mangum": "import fastapi, mangum",
        "import api.handler": "import api.handler",
        "import api.handler, boto3 (first AWS call)": "import api.handler, boto3",
    }
    with tempfile.TemporaryDirectory() as compiled, tempfile.TemporaryDirectory() as stdlib:
        for statement in cases.values():  # compiles what each case imports, into `compiled`
            last_line(
                f"{statement}; print('compiled')",
                {"PYTHONPYCACHEPREFIX": compiled, "PYTHONDONTWRITEBYTECODE": ""},
            )
        _without_our_bytecode(Path(compiled), Path(stdlib))
        caches = {
            "with bytecode": {"PYTHONPYCACHEPREFIX": compiled, "PYTHONDONTWRITEBYTECODE": "1"},
            "as source": {"PYTHONPYCACHEPREFIX": stdlib, "PYTHONDONTWRITEBYTECODE": "1"},
        }
        timings: dict[tuple[str, str], list[float]] = {
            (cache, name): [] for cache in caches for name in cases
        }
        for _ in range(RUNS):  # interleaved, so drift on a shared machine hits all cases alike
            for (cache, name), values in timings.items():
                values.append(_import_seconds(cases[name], caches[cache]))
    base = statistics.median(timings[("with bytecode", "import fastapi, mangum")])
    print(f"API cold import (median of {RUNS} fresh interpreters; ratio to the first line)")
    for (cache, name), values in timings.items():
        median = statistics.median(values)
        label = f"{name}, {cache}"
        print(f"  {label:62s} {median * 1000:7.1f} ms   {median / base:4.2f}x")


def _story_seconds(client: httpx.Client, illustrations: int) -> tuple[float, str]:
    started = time.monotonic()
    accepted = client.post(
        "/api/v1/stories/generate",
        json={
            "prompt": "A bear who loves honey",
            "age_group": "6-8",
            "num_illustrations": illustrations,
        },
    )
    accepted.raise_for_status()
    job_id = accepted.json()["job_id"]
    while True:
        job = client.get(f"/api/v1/stories/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    if job["status"] != "completed":
        raise RuntimeError(f"job failed: {job['error']}")
    return elapsed, job_id


def _assembly_seconds(stack: object, job_id: str) -> float:
    sfn = stack.client("stepfunctions")  # type: ignore[attr-defined]
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:")  # type: ignore[attr-defined]
    events = sfn.get_execution_history(executionArn=f"{arn}:{job_id}", maxResults=1000)["events"]
    entered = exited = None
    for event in events:
        if event.get("stateEnteredEventDetails", {}).get("name") == "Assemble":
            entered = event["timestamp"]
        if event.get("stateExitedEventDetails", {}).get("name") == "Assemble":
            exited = event["timestamp"]
    if not isinstance(entered, datetime) or not isinstance(exited, datetime):
        return 0.0
    return (exited - entered).total_seconds()


def fan_out() -> None:
    from infra.local.api_server import ApiServer
    from infra.local.emulator import LocalStack
    from infra.local.synth import synthesize

    with tempfile.TemporaryDirectory() as outdir:
        template = synthesize(Path(outdir), overrides={"media_max_concurrency": 10})
        environment = {
            "OFFLINE_TEXT_SECONDS": str(STORY_SECONDS),
            "OFFLINE_IMAGE_SECONDS": str(IMAGE_SECONDS),
        }
        with LocalStack(template, environment=environment) as stack:
            from api.app import create_app
            from kidstory.config.load import get_settings

            server = ApiServer(stack.serve_api(create_app(get_settings()))).start()
            try:
                with httpx.Client(base_url=server.url, timeout=60) as client:
                    _story_seconds(client, 1)  # warm-up: imports and first calls
                    results = {}
                    for illustrations in (1, 10):
                        runs = [_story_seconds(client, illustrations) for _ in range(3)]
                        elapsed = statistics.median(seconds for seconds, _ in runs)
                        assembly = statistics.median(
                            _assembly_seconds(stack, job_id) for _, job_id in runs
                        )
                        results[illustrations] = (elapsed, assembly)
            finally:
                server.stop()
    print(
        f"\nFan-out on the local stack (offline provider: story {STORY_SECONDS:g} s, "
        f"each image {IMAGE_SECONDS:g} s; MaxConcurrency 10; median of 3)"
    )
    for illustrations, (elapsed, assembly) in results.items():
        critical = STORY_SECONDS + IMAGE_SECONDS + assembly
        print(
            f"  {illustrations:2d} illustration(s): end-to-end {elapsed:5.2f} s, critical path "
            f"{critical:5.2f} s, ratio {elapsed / critical:4.2f}"
        )
    print(f"  10 vs 1 illustration: {results[10][0] / results[1][0]:4.2f}x")


LAMBDA_UNZIPPED_LIMIT_MIB = 250
HEADROOM_GOAL = 0.25


def _tree_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def function_sizes() -> None:
    import json

    from infra.bundling import LAMBDA_PYTHON, lambda_python, layer_install_command, pack_binaries
    from infra.local.synth import synthesize

    # the layers ship with bytecode; without Lambda's Python here, this one's is about as big
    compiler = lambda_python() or sys.executable

    with tempfile.TemporaryDirectory() as workdir:
        template = json.loads(synthesize(Path(workdir) / "cdk.out").read_text())["Resources"]
        groups: dict[str, str] = {}  # layer logical id -> dependency group
        for logical_id, resource in template.items():
            description = resource.get("Properties", {}).get("Description", "")
            if resource["Type"] == "AWS::Lambda::LayerVersion" and "layers/deps/" in description:
                groups[logical_id] = description.split("layers/deps/")[1].split("/")[0]
        sizes: dict[str, int] = {}
        for group in sorted(set(groups.values())):
            target = Path(workdir) / "layers" / group / "python"
            subprocess.run(
                layer_install_command(ROOT / "layers" / "deps" / group, target),
                check=True,
                capture_output=True,
            )
            pack_binaries(target)  # as the layer's asset is built (ffmpeg ships gzip-packed)
            subprocess.run(
                [compiler, "-m", "compileall", "-q", "-j", "0", str(target)],
                check=True,
                capture_output=True,
            )
            sizes[group] = _tree_bytes(target)
        shared = _tree_bytes(ROOT / "layers" / "kidstory")
        print(
            "\nFunction size, unzipped (dependency layers built for Lambda arm64, with bytecode"
            f" of Python {LAMBDA_PYTHON if compiler != sys.executable else sys.version[:4]}"
            " + kidstory + code)"
        )
        for logical_id, resource in sorted(template.items()):
            properties = resource.get("Properties", {})
            if resource["Type"] != "AWS::Lambda::Function" or "Layers" not in properties:
                continue
            layers = [groups[ref["Ref"]] for ref in properties["Layers"] if ref["Ref"] in groups]
            package = properties["Handler"].split(".")[0]
            total = (
                sum(sizes[g] for g in layers) + shared + _tree_bytes(ROOT / "functions" / package)
            )
            mib = total / 2**20
            headroom = 1 - mib / LAMBDA_UNZIPPED_LIMIT_MIB
            short = "" if headroom >= HEADROOM_GOAL else f"  below the {HEADROOM_GOAL:.0%} goal"
            print(
                f"  {logical_id:32s} {mib:6.1f} MiB of {LAMBDA_UNZIPPED_LIMIT_MIB}, "
                f"headroom {headroom:4.0%}  ({' + '.join(layers)}){short}"
            )


def offline_moderation() -> None:
    """The offline moderator: its precision and recall on the story-idea corpus, and what it
    costs in a fresh interpreter: importing kidstory.safety, the first check (which imports and
    compiles the rules) and a later one."""
    from kidstory.safety import OfflineModerator
    from tests.unit.moderation_corpus import ideas, measure

    print("\n".join(measure(OfflineModerator(), ideas("dev", "held_out")).lines("moderation")))
    print("\n".join(measure(OfflineModerator(), ideas("held_out")).lines("  held-out")))
    code = (
        "import time; a = time.perf_counter(); from kidstory.safety import OfflineModerator; "
        "b = time.perf_counter(); OfflineModerator().check('A shy otter'); "
        "c = time.perf_counter(); OfflineModerator().check('A brave mouse finds a cheese'); "
        "d = time.perf_counter(); print(f'{b - a:.4f},{c - b:.4f},{d - c:.6f}')"
    )
    runs = [[float(part) for part in last_line(code, {}).split(",")] for _ in range(RUNS)]
    imported, first, later = (statistics.median(column) for column in zip(*runs, strict=True))
    print(
        f"offline moderation: import kidstory.safety {imported * 1000:.1f} ms, first check "
        f"{first * 1000:.1f} ms (compiles the rules), later checks {later * 1000:.2f} ms "
        f"(median of {RUNS})"
    )


if __name__ == "__main__":
    offline_moderation()
    cold_import()
    fan_out()
    function_sizes()
    infra_cost.figures_in_own_process()
