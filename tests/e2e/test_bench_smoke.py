"""The infrastructure figures of `make bench` (tests/bench/infra_cost.py) run as a smoke test:
no provider waits and few pictures, in a process of its own (one local stack runs in a process at
a time). The bench prints and does not assert: this checks that every labelled line is printed
with its figures, not what they are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from infra.local.synth import PROJECT_ROOT
from tests.bench.infra_cost import shell_environment

NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def test_the_infra_bench_prints_every_labelled_figure(template: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "tests.bench.infra_cost", "--smoke", str(template)],
        cwd=PROJECT_ROOT,
        env=shell_environment(),  # not this session's stack's key, endpoint and settings
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    printed = finished.stdout

    expected = [
        r"Infrastructure cost of a story on AWS, model fees excluded",
        rf"^  3 pictures \(end-to-end {NUMBER} s\)$",
        rf"^  3 pictures, narrated \(end-to-end {NUMBER} s\)$",
        *(
            rf"^   [ ~]{re.escape(item)} +{NUMBER} .* {NUMBER} +{NUMBER}$"
            for item in (
                "Step Functions state transitions",
                "Lambda requests",
                "Lambda duration, arm64",
                "API Gateway REST requests",
                "DynamoDB write request units",
                "DynamoDB read request units",
                "S3 PUT/COPY/POST/LIST requests",
                "S3 GET and other requests",
                "EventBridge custom events",
                "SQS requests",
                "CloudFront HTTPS requests",
                "CloudWatch Logs ingestion",
                "X-Ray traces recorded (at most)",
            )
        ),
        rf"^    total, counted items +{NUMBER} +{NUMBER}$",
        rf"^    total, with the ~ estimates +{NUMBER} +{NUMBER}$",
        *(
            rf"^      {function} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}%"
            for function in ("GenerateImageFunction", "WriteStoryFunction", "NarratePageFunction")
        ),
        r"^    transitions by state: \w+ [0-9]+",
        r"^    DynamoDB calls by caller \(calls, WRU, RRU\): \w+ \w+ [0-9]+/",
        rf"^  per story: 3 pictures \${NUMBER}, narrated \${NUMBER}",
        r"Time to text vs time to complete",
        *(
            rf"^ +{count} picture\(s\): time to text +{NUMBER} s \({NUMBER} pages readable\), "
            rf"time to complete +{NUMBER} s, text/complete {NUMBER}$"
            for count in (1, 2)
        ),
        r"Sequential model calls before the first picture starts",
        r"^  text-provider calls before the first GenerateImage: [0-9]+ \(draft at ",
        rf"^  critical path: [0-9]+ text calls {NUMBER} s .* end-to-end {NUMBER} s",
    ]
    missing = [line for line in expected if not re.search(line, printed, flags=re.MULTILINE)]
    assert not missing, f"not printed: {missing}\n{printed}"
