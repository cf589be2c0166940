"""A story's pictures, clips and narration: to the holder of a signed link, or to the owner's
own key."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from api import PREFIX, docs
from api.deps import BearerDep, Services, ServicesDep, caller_for
from api.media_access import MEDIA_PREFIX
from kidstory.media_store import MediaObject, RangeNotSatisfiable
from kidstory.models import AssetKind, could_be_id

router = APIRouter(prefix=PREFIX, tags=["media"])

ExpiresQuery = Annotated[
    str | None, Query(max_length=20, description="Expiry of a signed media link (epoch seconds)")
]
SignatureQuery = Annotated[
    str | None, Query(max_length=100, description="Signature of a signed media link")
]


# Each kind of media: its route's name, the type its files are served as, and as documented.
SERVED = {
    AssetKind.IMAGE: ("image", "image/", "image/*"),
    AssetKind.VIDEO: ("video", "video/", "video/*"),
    AssetKind.AUDIO: ("audio", "audio/", "audio/mpeg"),
}


def _serve(kind: AssetKind) -> None:
    """GET /api/v1/stories/<images|videos|audio>/{file_path}: a file of that kind."""

    def serve(
        file_path: str,
        request: Request,
        credentials: BearerDep,
        found: ServicesDep,
        expires: ExpiresQuery = None,
        signature: SignatureQuery = None,
    ) -> Any:
        return media(found, kind, file_path, expires, signature, request, credentials)

    name, _, documented = SERVED[kind]
    router.add_api_route(
        f"/{MEDIA_PREFIX[kind]}/{{file_path:path}}",
        serve,
        methods=["GET"],
        name=name,
        response_class=Response,
        responses=docs.media(documented),
    )


for _kind in SERVED:
    _serve(_kind)


def media(
    found: Services,
    kind: AssetKind,
    file_path: str,
    expires: str | None,
    signature: str | None,
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
) -> Any:
    """The file at `file_path` (stories/<story id>/<file>), or where it is served from; 404
    alike for a path that is not ours, a file the caller may not fetch, or one that is not
    there."""
    key = posixpath.normpath(file_path)
    if (
        key != file_path
        or not key.startswith("stories/")
        or key.count("/") != 2
        or ".." in key.split("/")
        or not all(map(could_be_id, key.split("/")[1:]))  # too long to be ours: no lookup
    ):
        raise HTTPException(status_code=404, detail="Media not found")
    sent = "authorization" in request.headers
    if not may_fetch(found, key, expires, signature, credentials, sent=sent):
        raise HTTPException(status_code=404, detail="Media not found")
    if found.settings.media_base_url:
        return RedirectResponse(
            found.media_access.cdn_url(key), headers={"Cache-Control": "no-store"}
        )
    stored = open_part(found, key, request)
    if stored is None or not stored.content_type.startswith(SERVED[kind][1]):
        raise HTTPException(status_code=404, detail="Media not found")
    return streamed(stored)


# A Range header the API passes on to S3: one range of bytes (what players send to seek).
ONE_RANGE = re.compile(r"bytes=(\d+-\d*|-\d+)")


def open_part(found: Services, key: str, request: Request) -> MediaObject | None:
    """The object at `key`, or the part of it the request's Range header asks for (as S3 and
    CloudFront serve it on AWS, so that audio and video can be seeked locally too); 416 for a
    range outside the object. A Range header of another form is ignored: the whole object."""
    asked = request.headers.get("range", "").strip()
    try:
        return found.media_store.open(key, asked if ONE_RANGE.fullmatch(asked) else None)
    except RangeNotSatisfiable:
        raise HTTPException(
            status_code=416, detail="Range not satisfiable", headers={"Content-Range": "bytes */*"}
        ) from None


def streamed(stored: MediaObject, headers: Mapping[str, str] | None = None) -> StreamingResponse:
    """A stored object (or part of it) as the answer: 206 with its Content-Range for a part."""
    chunks: Iterator[bytes] = stored.chunks
    return StreamingResponse(
        chunks,
        status_code=206 if stored.content_range else 200,
        media_type=stored.content_type,
        headers={
            "Content-Length": str(stored.size_bytes),
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, max-age=3600",
            **({"Content-Range": stored.content_range} if stored.content_range else {}),
            **(headers or {}),
        },
    )


def may_fetch(
    found: Services,
    key: str,
    expires: str | None,
    signature: str | None,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    sent: bool,
) -> bool:
    """A signed link for `key`, or the bearer key of the story's owner (401 for a missing key
    where keys are required, and for a wrong one always)."""
    if found.media_access.signed(key, expires, signature):
        return True
    caller = caller_for(found, credentials, sent=sent)
    story = found.table.get_story_item(key.split("/")[1])
    return story is not None and story.owner == caller.owner
