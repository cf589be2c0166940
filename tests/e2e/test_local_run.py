"""`make run` as a person uses it: it starts, the key admin finds it on LOCAL_AWS_PORT, and
Ctrl+C stops it cleanly (no traceback, within 10 s)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from infra.local.api_server import free_port
from infra.local.synth import PROJECT_ROOT


def test_make_run_serves_takes_keys_and_stops_cleanly_on_ctrl_c() -> None:
    api_port, aws_port = free_port(), free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": "functions:layers/kidstory/python:.",  # as the Makefile exports it
        "PORT": str(api_port),
        "LOCAL_AWS_PORT": str(aws_port),
    }
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT", "API_KEY", "TABLE_NAME"):
        environment.pop(name, None)
    run = subprocess.Popen(
        [sys.executable, "-m", "infra.local.run"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's Ctrl+C reaches it
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and run.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{api_port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert run.poll() is None, run.communicate()[1].decode()[-2000:]

        key = subprocess.run(
            [
                sys.executable,
                "-m",
                "kidstory.clients.key_admin",
                "--local",
                "create",
                "--name",
                "run",
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert key.returncode == 0, key.stderr
        assert "token:" in key.stdout

        os.killpg(run.pid, signal.SIGINT)
        _, stderr = run.communicate(timeout=10)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()

    assert run.returncode == 0
    assert b"Traceback" not in stderr, stderr.decode()[-2000:]
