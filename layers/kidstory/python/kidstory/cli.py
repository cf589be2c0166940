"""`kidstory`: the command-line client of the API.

    kidstory generate "A brave little mouse looks for cheese" --age 6-8 --illustrations 3
    kidstory show <story or job id>
    kidstory list

It talks to the local stack (`make run`) by default; `--url` and `--key` (or KIDSTORY_API_URL
and KIDSTORY_API_KEY) point it at a deployed API. Standard library only."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any, TextIO

DEFAULT_URL = "http://127.0.0.1:8000"
PREFIX = "/api/v1/stories"
BAR_WIDTH = 24


class ApiError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class Api:
    def __init__(self, url: str, key: str | None, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _detail(error.read())) from None
        except urllib.error.URLError as error:
            raise ApiError(0, f"cannot reach {self.url} ({error.reason})") from None


def _detail(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail", body.decode(errors="replace"))
    except (ValueError, AttributeError):
        return body.decode(errors="replace")
    if isinstance(detail, list):  # validation errors: one line per field
        return "; ".join(
            f"{'.'.join(str(part) for part in issue.get('loc', [])[1:])}: {issue.get('msg')}"
            for issue in detail
        )
    return str(detail)


def progress_line(job: dict[str, Any]) -> str:
    """`[#########...............] illustrating: 2 of 3 pictures, 0 of 3 clips`"""
    progress = job.get("progress") or {}
    total = progress.get("images_total", 0) + progress.get("videos_total", 0)
    done = progress.get("images_done", 0) + progress.get("videos_done", 0)
    stage = progress.get("stage") or job["status"]
    steps = {"queued": 0.0, "writing": 0.1, "illustrating": 0.3, "assembling": 0.95, "done": 1.0}
    fraction = steps.get(stage, 0.0)
    if stage == "illustrating" and total:
        fraction = 0.3 + 0.65 * done / total
    filled = round(fraction * BAR_WIDTH)
    line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {stage}"
    if total:
        parts = []
        if progress.get("images_total"):
            parts.append(f"{progress['images_done']} of {progress['images_total']} pictures")
        if progress.get("videos_total"):
            parts.append(f"{progress['videos_done']} of {progress['videos_total']} clips")
        line += ": " + ", ".join(parts)
    return line


def follow(
    api: Api, job_id: str, out: TextIO, *, interval: float, timeout: float
) -> dict[str, Any]:
    """Poll the job until it ends, drawing its progress bar (in place on a terminal)."""
    deadline = time.monotonic() + timeout
    shown = ""
    live = out.isatty()
    while True:
        job: dict[str, Any] = api.call("GET", f"{PREFIX}/jobs/{job_id}")
        line = progress_line(job)
        if line != shown:
            out.write(("\r" + line.ljust(len(shown))) if live else line + "\n")
            out.flush()
            shown = line
        if job["status"] in ("completed", "failed"):
            if live:
                out.write("\n")
            return job
        if time.monotonic() > deadline:
            raise ApiError(0, f"job {job_id} is still {job['status']} after {timeout:g} s")
        time.sleep(interval)


def print_story(story: dict[str, Any], out: TextIO) -> None:
    out.write(f"\n{story['title']}\n{'=' * len(story['title'])}\n\n")
    for number, page in enumerate(story.get("pages") or [story["content"]], start=1):
        out.write(f"[page {number}] {page}\n\n")
    for image in story["images"]:
        out.write(f"picture {image['display_order'] + 1}: {image['image_url']}\n")
    for video in story["videos"]:
        out.write(f"clip {video['display_order'] + 1}:    {video['video_url']}\n")
    if story.get("notice"):
        out.write(f"\n({story['notice']})\n")


def generate(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    body: dict[str, Any] = {
        "prompt": args.idea,
        "age_group": args.age,
        "num_illustrations": args.illustrations,
        "generate_images": not args.no_images,
        "generate_videos": args.videos,
    }
    if args.webhook:
        body["webhook_url"] = args.webhook
    accepted = api.call("POST", f"{PREFIX}/generate", body)
    out.write(f"job {accepted['job_id']}\n")
    job = follow(api, accepted["job_id"], out, interval=args.interval, timeout=args.timeout)
    if job["status"] == "failed":
        out.write(f"failed: {job['error']}\n")
        return 1
    story = api.call("GET", f"{PREFIX}/{job['story_id']}")
    print_story(story, out)
    out.write(f"\nstory {story['id']}: {api.url}{PREFIX}/{story['id']}\n")
    return 0


def show(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    print_story(api.call("GET", f"{PREFIX}/{args.id}"), out)
    return 0


def list_stories(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    listed = api.call("GET", f"{PREFIX}?limit={args.limit}&offset={args.offset}")
    for story in listed["stories"]:
        out.write(
            f"{story['id']}  {story['created_at'][:16].replace('T', ' ')}  "
            f"ages {story['age_group']:4s}  {story['num_images']:2d} pictures  {story['title']}\n"
        )
    shown = len(listed["stories"])
    out.write(f"{shown} of {listed['total']} stories\n")
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="kidstory", description=__doc__.split("\n")[0])
    main_parser.add_argument(
        "--url", default=os.environ.get("KIDSTORY_API_URL", DEFAULT_URL), help="the API"
    )
    main_parser.add_argument(
        "--key", default=os.environ.get("KIDSTORY_API_KEY"), help="your API key"
    )
    commands = main_parser.add_subparsers(dest="command", required=True)

    make = commands.add_parser("generate", help="write a story and wait for it")
    make.add_argument("idea", help="the story idea")
    make.add_argument("--age", choices=["3-5", "6-8", "9-12"], default="6-8")
    make.add_argument("--illustrations", type=int, default=3, help="1-10 (default 3)")
    make.add_argument("--videos", action="store_true", help="also make a clip per illustration")
    make.add_argument("--no-images", action="store_true", help="no pictures")
    make.add_argument("--webhook", help="a URL to tell when the story is ready")
    make.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    make.add_argument("--timeout", type=float, default=1800, help="seconds to wait at most")
    make.set_defaults(run=generate)

    read = commands.add_parser("show", help="print a story and its media URLs")
    read.add_argument("id", help="a story id or its job id")
    read.set_defaults(run=show)

    listing = commands.add_parser("list", help="your stories, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(run=list_stories)
    return main_parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        code: int = args.run(Api(args.url, args.key), args, out)
    except ApiError as error:
        print(
            f"kidstory: {error.detail}" if error.status == 0 else f"kidstory: {error}",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
