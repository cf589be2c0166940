"""The `kidstory` command-line client, against the local stack."""

from __future__ import annotations

import io
import re

import httpx
import pytest

from kidstory.clients import cli
from kidstory.clients.cli import main, progress_line
from tests.e2e.conftest import API_KEY


def run(base_url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--url", base_url, "--key", API_KEY, *args], out=out)
    return code, out.getvalue()


def test_generate_shows_progress_until_done_and_prints_the_story(base_url: str) -> None:
    code, printed = run(
        base_url,
        "generate",
        "A kind whale sings to the stars",
        "--age",
        "3-5",
        "--illustrations",
        "2",
        "--videos",
        "--interval",
        "0.1",
    )

    assert code == 0, printed
    assert re.search(r"^job [0-9a-f-]{36}$", printed, re.MULTILINE)
    assert "] done: 2 of 2 pictures, 2 of 2 clips" in printed
    assert "[page 1] Once upon a time" in printed
    assert len(re.findall(r"^picture \d: http", printed, re.MULTILINE)) == 2
    assert len(re.findall(r"^clip \d:", printed, re.MULTILINE)) == 2
    story_id = re.search(r"^story ([0-9a-f-]{36}):", printed, re.MULTILINE).group(1)  # type: ignore[union-attr]
    reader = f"{base_url}/reader/#story={story_id}"
    assert f"read it: {reader}\n" in printed
    page = httpx.get(reader)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    out = io.StringIO()
    shown_code = main(["show", story_id, "--url", base_url, "--key", API_KEY], out=out)
    assert shown_code == 0 and "[page 1] Once upon a time" in out.getvalue()

    listed_code, listed = run(base_url, "list", "--limit", "5")
    assert listed_code == 0 and story_id in listed and "stories" in listed


def test_refusals_and_errors_are_told_in_words(
    base_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(base_url, "generate", "A story about blood", "--interval", "0.1")
    assert code == 2
    assert "prompt: It mentions violence" in capsys.readouterr().err

    code, _ = run(base_url, "show", "00000000-0000-0000-0000-000000000000")
    assert code == 2
    assert "404" in capsys.readouterr().err

    out = io.StringIO()
    assert main(["--url", "http://127.0.0.1:9", "list"], out=out) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


def test_without_url_it_talks_to_the_default_api_with_the_key_from_the_environment(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIDSTORY_API_URL", raising=False)
    monkeypatch.setenv("KIDSTORY_API_KEY", API_KEY)
    monkeypatch.setattr(cli, "DEFAULT_URL", base_url)  # the test server stands in for make run

    out = io.StringIO()
    assert main(["list", "--limit", "1"], out=out) == 0
    assert re.search(r"^\d+ of \d+ stories$", out.getvalue(), re.MULTILINE)


def test_the_progress_bar_fills_as_media_are_made() -> None:
    def bar(stage: str, done: int) -> str:
        job = {
            "status": "processing",
            "progress": {
                "stage": stage,
                "images_done": done,
                "images_total": 4,
                "videos_done": 0,
                "videos_total": 0,
            },
        }
        return progress_line(job)

    fills = [
        bar(stage, done).count("#")
        for stage, done in [
            ("writing", 0),
            ("illustrating", 0),
            ("illustrating", 2),
            ("assembling", 4),
            ("done", 4),
        ]
    ]
    assert fills == sorted(fills) and fills[-1] == 24
    assert bar("illustrating", 2).endswith("illustrating: 2 of 4 pictures")


def test_the_kidstory_command_is_installed_by_setup() -> None:
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "kidstory"
    result = subprocess.run([str(command), "--help"], capture_output=True, text=True, check=True)

    assert "usage: kidstory" in result.stdout and "generate" in result.stdout
