"""`make demo`: asks the running local API (make run) for one story, as a client would, waits
for it, and prints where to look at it."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

BASE = os.environ.get("KIDSTORY_API_URL", "http://127.0.0.1:8000")
HEADERS = {"Content-Type": "application/json"} | (
    {"Authorization": f"Bearer {os.environ['API_KEY']}"} if os.environ.get("API_KEY") else {}
)


def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers=HEADERS,
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main() -> int:
    idea = {
        "prompt": "A brave little mouse goes on an adventure to find a magical cheese",
        "age_group": "6-8",
        "num_illustrations": 3,
        "generate_images": True,
        "generate_videos": True,
        "narration": True,
    }
    try:
        accepted = call("POST", "/api/v1/stories/generate", idea)
    except urllib.error.URLError as error:
        print(f"Cannot reach {BASE} ({error.reason}). Start the service first: make run")
        return 1
    job_id = accepted["job_id"]
    print(f"job {job_id}: {accepted['status']}")
    deadline = time.monotonic() + 300
    job = accepted
    while time.monotonic() < deadline:
        job = call("GET", f"/api/v1/stories/jobs/{job_id}")
        if job["status"] in ("completed", "failed"):
            break
        time.sleep(0.5)
    print(f"job {job_id}: {job['status']}" + (f" ({job['error']})" if job.get("error") else ""))
    if job["status"] != "completed":
        return 1
    story = call("GET", f"/api/v1/stories/{job['story_id']}")
    print(f"\n{story['title']}\n")
    print(story["content"])
    if story.get("notice"):
        print(f"\n[{story['notice']}]")
    print(f"\nread it: {BASE}/reader/#story={story['id']}  (the web reader, in a browser)")
    print(f"story:   {BASE}/api/v1/stories/{story['id']}")
    for image in story["images"]:
        print(f"image {image['display_order']}: {image['image_url']}")
    for video in story["videos"]:
        print(f"video {video['display_order']}: {video['video_url']}")
    for page in (story.get("narration") or {}).get("pages", []):
        seconds = page["duration_ms"] / 1000
        print(f"page {page['page']} read aloud ({seconds:.1f} s): {page['audio_url']}")
    books = f"{BASE}/api/v1/stories/{story['id']}"
    key = " -H 'Authorization: Bearer $API_KEY'" if "Authorization" in HEADERS else ""
    print(f"\nEPUB 3 (read-along): curl -OJ {books}/book.epub{key}")
    print(f"print PDF:           curl -OJ {books}/book.pdf{key}")
    print(f"screen PDF:          curl -OJ '{books}/book.pdf?variant=screen'{key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
