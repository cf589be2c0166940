"""`kidstory`: the command-line client of the API.

    kidstory generate "A brave little mouse looks for cheese" --age 6-8 --illustrations 3
    kidstory generate "A dragon who is afraid of the dark" --narration
    kidstory show <story or job id>
    kidstory export <story or job id> --epub book.epub --pdf book.pdf
    kidstory list
    kidstory regenerate <story> --page 2 --instructions "The hat is red"
    kidstory edit <story> --page 2 --text "Milo found the cheese."
    kidstory sequel <story> "Milo goes to the seaside"
    kidstory version <story> --language es --age 3-5

It talks to the local stack (`make run`) by default; `--url` and `--key` (or KIDSTORY_API_URL
and KIDSTORY_API_KEY), before or after the command, point it at a deployed API. While it follows
a job, and when it asks for the story (with an Idempotency-Key, so a repeat makes no second
story), it waits out an API that is busy or briefly unreachable. Standard library only."""

from __future__ import annotations

import argparse
import email.utils
import http.client
import ipaddress
import json
import math
import os
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

DEFAULT_URL = "http://127.0.0.1:8000"
URL_VARIABLE = "KIDSTORY_API_URL"
KEY_VARIABLE = "KIDSTORY_API_KEY"
READER_VARIABLE = "KIDSTORY_READER_URL"
PREFIX = "/api/v1/stories"
BAR_WIDTH = 24
# Answers worth asking again: over a rate limit, or a gateway or the API briefly unavailable.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
AGE_GROUPS = ["3-5", "6-8", "9-12"]


class ApiError(Exception):
    """A refusal of the API (`status`), or `status` 0: no answer, or none in time.
    `transient` errors may pass if asked again, after `retry_after` seconds when the API said."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True)
class Patience:
    """How requests that may be asked again (a job's progress, a finished story, the request
    for a story under an Idempotency-Key) ride out trouble: waits doubling from `first_wait` up
    to `longest_wait`, or the API's Retry-After, until `tries` have failed in a row. A
    Retry-After over `longest_retry_after` (a daily quota that is used up) ends it at once."""

    tries: int = 8
    first_wait: float = 1.0
    longest_wait: float = 30.0
    longest_retry_after: float = 60.0

    def wait(self, error: ApiError, failures: int) -> float | None:
        """Seconds to wait before asking again; None: not worth waiting for."""
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.longest_retry_after else None
        return min(self.first_wait * 2 ** (failures - 1), self.longest_wait)


class KeyStaysHome(urllib.request.HTTPRedirectHandler):
    """Follows a redirect (a book or a picture on the CDN) without taking the API key along to
    another host: the link it goes to is signed."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != req.host:
            new.remove_header("Authorization")
        return new


class Api:
    def __init__(
        self,
        url: str,
        key: str | None,
        timeout: float = 30,
        *,
        opener: urllib.request.OpenerDirector | None = None,
        patience: Patience = Patience(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.opener = opener or urllib.request.build_opener(KeyStaysHome())
        self.patience = patience
        self.sleep = sleep

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json", **(headers or {})}
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
            with self.opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise ApiError(
                error.code,
                _detail(error.read()),
                transient=error.code in TRANSIENT_STATUSES,
                retry_after=_retry_after(error.headers.get("Retry-After")),
            ) from None
        except urllib.error.URLError as error:
            # refused, reset or timed out may pass; a name that does not resolve or a
            # certificate that does not verify will not
            passing = isinstance(error.reason, ConnectionError | TimeoutError)
            raise ApiError(
                0, f"cannot reach {self.url} ({error.reason})", transient=passing
            ) from None
        except (OSError, http.client.HTTPException) as error:  # timed out, or cut off
            reason = str(error) or type(error).__name__
            raise ApiError(0, f"no answer from {self.url} ({reason})", transient=True) from None

    def download(self, path: str, sink: Any) -> int:
        """GET a file at `path` (following the API's redirect to the CDN) into the binary
        `sink`; the bytes written."""
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                before = sink.tell()
                shutil.copyfileobj(response, sink, length=1024 * 1024)
                return int(sink.tell() - before)
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _detail(error.read())) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise ApiError(0, f"no file from {self.url} ({error})") from None

    def read(self, path: str, tell: Callable[[str], None]) -> Any:
        """GET `path`, asking again after transient errors (each one told) as `patience` allows;
        the last error is raised when the tries are spent."""
        return self.patiently("GET", path, tell)

    def patiently(
        self,
        method: str,
        path: str,
        tell: Callable[[str], None],
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """`call`, asked again after transient errors: only for requests that are safe to
        repeat (reads, or a POST with an Idempotency-Key)."""
        failures = 0
        while True:
            try:
                return self.call(method, path, body, headers)
            except ApiError as error:
                failures += 1
                if not error.transient or failures >= self.patience.tries:
                    raise
                wait = self.patience.wait(error, failures)
                if wait is None:
                    raise ApiError(
                        error.status,
                        f"{error.detail} (try again in {_duration(error.retry_after or 0)})",
                    ) from None
                said = error.detail if error.status == 0 else str(error)
                tries = f"try {failures + 1} of {self.patience.tries}"
                tell(f"{said}; trying again in {wait:g} s ({tries})")
                self.sleep(wait)


def _duration(seconds: float) -> str:
    """`45 s`, `12 min`, `5 h 30 min`."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{seconds:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _detail(body: bytes) -> str:
    """The API's `detail`, or API Gateway's `message` (its own 502, 504 or 429), or the body."""
    try:
        said = json.loads(body)
        detail = said.get("detail", said.get("message", body.decode(errors="replace")))
    except (ValueError, AttributeError):
        return body.decode(errors="replace")
    if isinstance(detail, list):  # validation errors: one line per field
        return "; ".join(
            f"{'.'.join(str(part) for part in issue.get('loc', [])[1:])}: {issue.get('msg')}"
            for issue in detail
        )
    return str(detail)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: given as seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def progress_line(job: dict[str, Any]) -> str:
    """`[#########...............] illustrating: 2 of 3 pictures, 0 of 3 clips`"""
    progress = job.get("progress") or {}
    kinds = ("images", "videos", "narration")
    total = sum(progress.get(f"{kind}_total", 0) for kind in kinds)
    done = sum(progress.get(f"{kind}_done", 0) for kind in kinds)
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
        if progress.get("narration_total"):
            parts.append(
                f"{progress['narration_done']} of {progress['narration_total']} pages read aloud"
            )
        line += ": " + ", ".join(parts)
    return line


def follow(
    api: Api,
    job_id: str,
    out: TextIO,
    *,
    interval: float,
    timeout: float,
    on_text: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Poll the job until it ends, drawing its progress bar (in place on a terminal). Transient
    errors are told on stderr and asked again (`Api.read`). `on_text` is called once with the
    story's id as soon as its text is written, while its pictures are still being made."""
    deadline = time.monotonic() + timeout
    shown = ""
    live = out.isatty()
    text_told = on_text is None

    def tell(trouble: str) -> None:
        nonlocal shown
        if live and shown:  # end the bar's line; it is drawn again below the note
            out.write("\n")
            out.flush()
            shown = ""
        tell_trouble(trouble)

    while True:
        job: dict[str, Any] = api.read(f"{PREFIX}/jobs/{job_id}", tell)
        line = progress_line(job)
        if line != shown:
            out.write(("\r" + line.ljust(len(shown))) if live else line + "\n")
            out.flush()
            shown = line
        if job["status"] in ("completed", "failed"):
            if live:
                out.write("\n")
            return job
        if not text_told and job.get("story_id") and on_text is not None:
            text_told = True
            if live and shown:  # the text goes below the bar, which is drawn again after it
                out.write("\n")
                shown = ""
            on_text(job["story_id"])
        if time.monotonic() > deadline:
            raise ApiError(0, f"the job is still {job['status']} after {timeout:g} s")
        time.sleep(interval)


def tell_trouble(trouble: str) -> None:
    print(f"kidstory: {trouble}", file=sys.stderr, flush=True)


def print_story(story: dict[str, Any], out: TextIO) -> None:
    print_text(story, out)
    print_media(story, out)


def print_text(story: dict[str, Any], out: TextIO) -> None:
    out.write(f"\n{story['title']}\n{'=' * len(story['title'])}\n\n")
    for number, page in enumerate(story.get("pages") or [story["content"]], start=1):
        out.write(f"[page {number}] {page}\n\n")
    out.flush()


def print_media(story: dict[str, Any], out: TextIO) -> None:
    for image in story["images"]:
        out.write(f"picture {image['display_order'] + 1}: {image['image_url']}\n")
    for video in story["videos"]:
        out.write(f"clip {video['display_order'] + 1}:    {video['video_url']}\n")
    narration = story.get("narration")
    if narration:
        voice = f"{narration['voice']}, offline" if narration["offline"] else narration["voice"]
        out.write(f"\nread aloud ({voice}):\n")
        for page in narration["pages"]:
            seconds = page["duration_ms"] / 1000
            out.write(f"page {page['page']} ({seconds:.1f} s): {page['audio_url']}\n")
    if story.get("notice"):
        out.write(f"\n({story['notice']})\n")


def print_page(story: dict[str, Any], number: int, out: TextIO) -> None:
    """One page (1-based) as it is now: its version, text, and the pictures and clips on it."""
    pages = story.get("pages") or [story["content"]]
    versions = story.get("page_versions") or []
    if not 1 <= number <= len(pages):
        raise ApiError(0, f"the story has {len(pages)} pages, not {number}")
    version_now = f", version {versions[number - 1]}" if len(versions) >= number else ""
    out.write(f"\n{story['title']}: page {number} of {len(pages)}{version_now}\n\n")
    out.write(f"{pages[number - 1]}\n\n")
    for kind, url, name in (("images", "image_url", "picture"), ("videos", "video_url", "clip")):
        items = story.get(kind) or []
        for item in items:
            if picture_page(item["display_order"], len(items), len(pages)) == number - 1:
                out.write(f"{name} {item['display_order'] + 1}: {item[url]}\n")
    if story.get("notice"):
        out.write(f"\n({story['notice']})\n")


def picture_page(index: int, count: int, pages: int) -> int:
    """The page (0-based) picture or clip `index` of `count` goes with, as the API places it."""
    return 0 if count <= 1 else math.floor(index * (pages - 1) / (count - 1) + 0.5)


def print_family(story: dict[str, Any], out: TextIO) -> None:
    """The story's language, the story it was made from, and its sequels and versions."""
    if story.get("language", "en") != "en":
        out.write(f"\nlanguage: {story['language']}\n")
    if story.get("parent_id"):
        out.write(f"\nmade from story {story['parent_id']}\n")
    for relation, heading in (("sequels", "sequels"), ("versions", "versions")):
        related = story.get(relation) or []
        if related:
            out.write(f"\n{heading}:\n")
        for other in related:
            out.write(
                f"  {other['id']}  {other['language']:5s} ages {other['age_group']:4s}  "
                f"{other['title']}\n"
            )


def generate(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    body: dict[str, Any] = {
        "prompt": args.idea,
        "age_group": args.age,
        "num_illustrations": args.illustrations,
        "generate_images": not args.no_images,
        "generate_videos": args.videos,
    }
    if args.language:
        body["language"] = args.language
    if args.webhook:
        body["webhook_url"] = args.webhook
    if args.narration:
        body["narration"] = True
        if args.voice:
            body["voice"] = args.voice
    return make_story(api, f"{PREFIX}/generate", body, args, out)


def sequel(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """The next story with the same hero and art style; what is not given is as the parent's."""
    body: dict[str, Any] = {"prompt": args.idea}
    given = {
        "age_group": args.age,
        "num_illustrations": args.illustrations,
        "generate_images": args.images,
        "generate_videos": args.videos,
        "narration": args.narration,
        "voice": args.voice,
        "language": args.language,
        "webhook_url": args.webhook,
    }
    body |= {name: value for name, value in given.items() if value is not None}
    return make_story(api, f"{PREFIX}/{_quoted(args.story)}/sequel", body, args, out)


def version(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """The story in another language and/or at another reading level, with its pictures."""
    if not args.language and not args.age:
        raise ApiError(0, "say what the version changes: --language and/or --age")
    given = {
        "language": args.language,
        "age_group": args.age,
        "narration": args.narration,
        "voice": args.voice,
        "webhook_url": args.webhook,
    }
    body = {name: value for name, value in given.items() if value is not None}
    return make_story(api, f"{PREFIX}/{_quoted(args.story)}/versions", body, args, out)


def regenerate(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """Redraw one page's picture and/or rewrite its text; the other pages stay as they are."""
    if args.no_picture and not args.text:
        raise ApiError(0, "nothing to redo: leave out --no-picture, or add --text")
    body: dict[str, Any] = {"picture": not args.no_picture, "text": args.text}
    if args.instructions:
        body["instructions"] = args.instructions
    if args.webhook:
        body["webhook_url"] = args.webhook
    path = f"{PREFIX}/{_quoted(args.story)}/pages/{args.page}/regenerate"
    return change_page(api, "POST", path, body, args, out)


def edit(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """The owner's own text for one page (moderated; its narration, if any, is read again)."""
    body: dict[str, Any] = {"text": args.text}
    if args.webhook:
        body["webhook_url"] = args.webhook
    path = f"{PREFIX}/{_quoted(args.story)}/pages/{args.page}"
    return change_page(api, "PATCH", path, body, args, out)


def _quoted(story_id: str) -> str:
    return urllib.parse.quote(story_id, safe="")


def start_job(api: Api, method: str, path: str, body: dict[str, Any], out: TextIO) -> str:
    """Ask for a job (a new story, or a change to one) and say its id. One Idempotency-Key for
    every try: a request that arrived but whose answer was lost does not make a second job."""
    once = {"Idempotency-Key": str(uuid.uuid4())}
    accepted = api.patiently(method, path, tell_trouble, body, once)
    job_id: str = accepted["job_id"]
    out.write(f"job {job_id}\n")
    return job_id


def see_through(
    api: Api,
    job_id: str,
    args: argparse.Namespace,
    out: TextIO,
    on_text: Callable[[str], None] | None = None,
) -> dict[str, Any] | None:
    """`follow` the job to its end, then read the story it made or changed (None: the job
    failed, which is said). When the API stays busy or out of reach, the error names the job and
    how to check on it later."""
    try:
        job = follow(
            api, job_id, out, interval=args.interval, timeout=args.timeout, on_text=on_text
        )
        if job["status"] == "failed":
            out.write(f"failed: {job['error']}\n")
            return None
        story: dict[str, Any] = api.read(f"{PREFIX}/{_quoted(job['story_id'])}", tell_trouble)
        return story
    except ApiError as error:
        if not error.transient and error.status != 0:
            raise
        gave_up = f"; gave up after {api.patience.tries} tries in a row" if error.transient else ""
        raise ApiError(
            error.status,
            f"{error.detail}{gave_up}. Job {job_id} may still finish: check on it later with "
            f"`{show_command(api, job_id)}`",
        ) from None


def make_story(
    api: Api, path: str, body: dict[str, Any], args: argparse.Namespace, out: TextIO
) -> int:
    """A job that makes a new story (generate, a sequel, a version), followed to its end: the
    text as soon as it is written, then the pictures, clips and links."""
    job_id = start_job(api, "POST", path, body, out)
    shown_text = False

    def show_text(story_id: str) -> None:
        """The text as soon as it is written: the pictures follow when they are made."""
        nonlocal shown_text
        partial = api.read(f"{PREFIX}/{_quoted(story_id)}?partial=true", tell_trouble)
        print_text(partial, out)
        shown_text = True

    story = see_through(api, job_id, args, out, on_text=show_text)
    if story is None:
        return 1
    if not shown_text:
        print_text(story, out)
    print_media(story, out)
    print_family(story, out)
    print_links(api, story, args.reader, out)
    return 0


def change_page(
    api: Api,
    method: str,
    path: str,
    body: dict[str, Any],
    args: argparse.Namespace,
    out: TextIO,
) -> int:
    """A job that changes one page of a story, followed to its end; then the page as it is now."""
    job_id = start_job(api, method, path, body, out)
    story = see_through(api, job_id, args, out)
    if story is None:
        return 1
    print_page(story, args.page, out)
    print_links(api, story, args.reader, out, page=args.page)
    return 0


def show_command(api: Api, story_id: str) -> str:
    where = "" if api.url == DEFAULT_URL else f" --url {api.url}"
    return f"kidstory show {story_id}{where}"


def reader_link(api: Api, story_id: str, reader: str | None, page: int | None = None) -> str | None:
    """Where a person reads the story (at `page`, 1-based, if given): the web reader given
    (`--reader`), else the one the API serves at /reader/ when it is the local stack (a deployed
    stage's reader is on CloudFront, at an address the API does not tell)."""
    if not reader:
        host = urllib.parse.urlsplit(api.url).hostname or ""
        if not _is_loopback(host):
            return None
        reader = f"{api.url}/reader/"
    fragment = "story=" + urllib.parse.quote(story_id, safe="")
    if page is not None:
        fragment += f"&page={page}"
    return urllib.parse.urlsplit(reader)._replace(fragment=fragment).geturl()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def print_links(
    api: Api,
    story: dict[str, Any],
    reader: str | None,
    out: TextIO,
    *,
    page: int | None = None,
) -> None:
    out.write(f"\nstory {story['id']}: {api.url}{PREFIX}/{story['id']}\n")
    out.write(f"EPUB:  {api.url}{PREFIX}/{story['id']}/book.epub\n")
    out.write(f"PDF:   {api.url}{PREFIX}/{story['id']}/book.pdf (print; ?variant=screen)\n")
    link = reader_link(api, story["id"], reader, page)
    if link:
        out.write(f"read it: {link}\n")


def show(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    story = api.call("GET", f"{PREFIX}/{args.id}")
    print_story(story, out)
    print_family(story, out)
    print_links(api, story, args.reader, out)
    return 0


def export(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    """Save a story's books to the files named."""
    wanted = [
        (args.epub, "book.epub"),
        (args.pdf, "book.pdf?variant=screen" if args.screen else "book.pdf"),
    ]
    if not any(path for path, _ in wanted):
        raise ApiError(0, "say where to save the book: --epub FILE and/or --pdf FILE")
    story_id = urllib.parse.quote(args.id, safe="")
    for path, name in wanted:
        if not path:
            continue
        partial = f"{path}.part"
        try:
            with open(partial, "wb") as sink:
                size = api.download(f"{PREFIX}/{story_id}/{name}", sink)
            os.replace(partial, path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        out.write(f"saved {path} ({size / 1024:,.0f} KiB)\n")
    return 0


def list_stories(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    listed = api.call("GET", f"{PREFIX}?limit={args.limit}&offset={args.offset}")
    for story in listed["stories"]:
        pictures = "picture " if story["num_images"] == 1 else "pictures"
        out.write(
            f"{story['id']}  {story['created_at'][:16].replace('T', ' ')}  "
            f"ages {story['age_group']:4s}  {story['num_images']:2d} {pictures}  {story['title']}\n"
        )
    shown = len(listed["stories"])
    out.write(f"{shown} of {listed['total']} stories\n")
    return 0


ENVIRONMENT = f"""environment:
  {URL_VARIABLE}     the API, without --url (default {DEFAULT_URL})
  {KEY_VARIABLE}     your API key, without --key
  {READER_VARIABLE}  the web reader, without --reader"""


def parser() -> argparse.ArgumentParser:
    # --url and --key are taken before or after the command (--reader after show and the
    # commands that follow a job).
    # Unset unless given (SUPPRESS), so that a command's parser does not overwrite what came
    # before it with a default; `Connection.of` falls back to the environment, then the default.
    connecting = argparse.ArgumentParser(add_help=False)
    connecting.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"the API (default: ${URL_VARIABLE}, else {DEFAULT_URL}, the local stack)",
    )
    connecting.add_argument(
        "--key", default=argparse.SUPPRESS, help=f"your API key (default: ${KEY_VARIABLE})"
    )
    reading = argparse.ArgumentParser(add_help=False, parents=[connecting])
    reading.add_argument(
        "--reader",
        default=argparse.SUPPRESS,
        help=f"the web reader, to link to the story (default: ${READER_VARIABLE}; the API's "
        "own /reader/ on the local stack); a deployed stage's is its ReaderUrl",
    )

    def with_environment(parent: argparse.ArgumentParser) -> dict[str, Any]:
        return {
            "parents": [parent],
            "epilog": ENVIRONMENT,
            "formatter_class": argparse.RawDescriptionHelpFormatter,
        }

    main_parser = argparse.ArgumentParser(
        prog="kidstory", description=__doc__.split("\n")[0], **with_environment(connecting)
    )
    commands = main_parser.add_subparsers(dest="command", required=True)

    # the commands that ask for a job and follow it to its end
    following = argparse.ArgumentParser(add_help=False, parents=[reading])
    following.add_argument("--webhook", help="a URL to tell when the job is done")
    following.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    following.add_argument("--timeout", type=float, default=1800, help="seconds to wait at most")
    language_help = "the story's language, a BCP 47 tag: en, es, pt-BR, ar"

    make = commands.add_parser(
        "generate", help="write a story and wait for it", **with_environment(following)
    )
    make.add_argument("idea", help="the story idea")
    make.add_argument("--age", choices=AGE_GROUPS, default="6-8")
    make.add_argument("--illustrations", type=int, default=3, help="1-10 (default 3)")
    make.add_argument("--videos", action="store_true", help="also make a clip per illustration")
    make.add_argument("--no-images", action="store_true", help="no pictures")
    make.add_argument(
        "--narration", action="store_true", help="read every page aloud (for read-along)"
    )
    make.add_argument("--voice", help="the narration's voice (default: the story language's)")
    make.add_argument("--language", help=f"{language_help} (default en)")
    make.set_defaults(run=generate)

    going_on = commands.add_parser(
        "sequel",
        help="the next story, with the same hero and art style",
        description="What is not given is as the story's own (its age group, pictures, clips, "
        "narration and language).",
        **with_environment(following),
    )
    going_on.add_argument("story", help="the story to follow on from")
    going_on.add_argument("idea", help="what happens in the sequel")
    going_on.add_argument("--age", choices=AGE_GROUPS)
    going_on.add_argument("--illustrations", type=int, help="1-10")
    going_on.add_argument("--images", action=argparse.BooleanOptionalAction, help="pictures")
    going_on.add_argument("--videos", action=argparse.BooleanOptionalAction, help="clips")
    going_on.add_argument("--narration", action=argparse.BooleanOptionalAction, help="read aloud")
    going_on.add_argument("--voice", help="the narration's voice")
    going_on.add_argument("--language", help=language_help)
    going_on.set_defaults(run=sequel)

    other = commands.add_parser(
        "version",
        help="the story in another language or at another reading level, with its pictures",
        **with_environment(following),
    )
    other.add_argument("story", help="the story to make a version of")
    other.add_argument("--language", help=language_help)
    other.add_argument("--age", choices=AGE_GROUPS, help="the reading level's age group")
    other.add_argument("--narration", action=argparse.BooleanOptionalAction, help="read aloud")
    other.add_argument("--voice", help="the narration's voice")
    other.set_defaults(run=version)

    redo = commands.add_parser(
        "regenerate",
        help="redraw a page's picture and/or rewrite its text",
        description="The picture is redrawn with the same hero and art style (unless "
        "--no-picture); with --text the page's text is rewritten to fit its neighbours. The "
        "other pages stay as they are; the page's earlier versions are kept.",
        **with_environment(following),
    )
    redo.add_argument("story", help="the story")
    redo.add_argument("--page", type=int, required=True, help="the page, from 1")
    redo.add_argument("--no-picture", action="store_true", help="keep the picture")
    redo.add_argument("--text", action="store_true", help="rewrite the text too")
    redo.add_argument("--instructions", help="what should be different")
    redo.set_defaults(run=regenerate)

    rewrite = commands.add_parser(
        "edit",
        help="give a page your own text",
        description="The text is checked for children (a refusal says why) and its narration, "
        "if any, is read again.",
        **with_environment(following),
    )
    rewrite.add_argument("story", help="the story")
    rewrite.add_argument("--page", type=int, required=True, help="the page, from 1")
    rewrite.add_argument("--text", required=True, help="the page's new text")
    rewrite.set_defaults(run=edit)

    read = commands.add_parser(
        "show", help="print a story and its media URLs", **with_environment(reading)
    )
    read.add_argument("id", help="a story id or its job id")
    read.set_defaults(run=show)

    saving = commands.add_parser(
        "export", help="save a story as an EPUB or a PDF book", **with_environment(connecting)
    )
    saving.add_argument("id", help="a story id or its job id")
    saving.add_argument("--epub", metavar="FILE", help="save the EPUB 3 book here")
    saving.add_argument("--pdf", metavar="FILE", help="save the print-ready PDF here")
    saving.add_argument(
        "--screen", action="store_true", help="the PDF for screens (no bleed) instead"
    )
    saving.set_defaults(run=export)

    listing = commands.add_parser(
        "list", help="your stories, newest first", **with_environment(connecting)
    )
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--offset", type=int, default=0)
    listing.set_defaults(run=list_stories)
    return main_parser


@dataclass(frozen=True)
class Connection:
    """Where the API is, the key to it and the web reader: the options, else the environment,
    else the local stack (without a key, with its own reader)."""

    url: str
    key: str | None
    reader: str | None

    @classmethod
    def of(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Connection:
        return cls(
            url=getattr(args, "url", None) or environ.get(URL_VARIABLE) or DEFAULT_URL,
            key=getattr(args, "key", None) or environ.get(KEY_VARIABLE) or None,
            reader=getattr(args, "reader", None) or environ.get(READER_VARIABLE) or None,
        )


def main(
    argv: list[str] | None = None,
    out: TextIO | None = None,
    *,
    connect: Callable[[str, str | None], Api] = Api,
) -> int:
    """Run a command; `connect` makes the `Api` client (tests pass one with a scripted opener)."""
    out = out or sys.stdout
    args = parser().parse_args(argv)
    connection = Connection.of(args, os.environ)
    args.reader = connection.reader  # generate and show link to the story in it
    try:
        code: int = args.run(connect(connection.url, connection.key), args, out)
    except ApiError as error:
        print(
            f"kidstory: {error.detail}" if error.status == 0 else f"kidstory: {error}",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
