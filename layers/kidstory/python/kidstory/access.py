"""Who is calling: API keys (stored hashed), the callers they stand for, and the limits on what
each caller may spend."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from kidstory.errors import TooManyRequests
from kidstory.models import ANONYMOUS, Job, JobKind, StoryRequest, could_be_id, new_id, utc_now

TOKEN_PREFIX = "ks"
SHARED_KEY_OWNER = "shared-key"
IMAGE_COST = 1
VIDEO_COST = 4
STORY_COST = 1
NARRATION_COST = 2  # the whole story read aloud, whatever its pages
PAGE_READING_COST = 1  # one page read aloud again, after a page change of a narrated story


class ApiKey(BaseModel):
    """A client's key, as stored: the secret itself is never kept, only its hash."""

    key_id: str = Field(default_factory=lambda: new_id().replace("-", "")[:12])
    name: str = Field(min_length=1, max_length=200)
    secret_hash: str
    created_at: datetime = Field(default_factory=utc_now)
    revoked_at: datetime | None = None
    rate_limit_per_minute: int | None = Field(default=None, ge=1, description="None: default")
    daily_quota: int | None = Field(default=None, ge=1, description="None: the default")

    @property
    def owner(self) -> str:
        return f"key:{self.key_id}"

    def caller(self) -> Caller:
        return Caller(
            owner=self.owner,
            key_id=self.key_id,
            rate_limit_per_minute=self.rate_limit_per_minute,
            daily_quota=self.daily_quota,
        )


@dataclass(frozen=True)
class Caller:
    """Whoever sent a request: what they own and the limits of their own, if any."""

    owner: str
    key_id: str | None = None
    rate_limit_per_minute: int | None = None
    daily_quota: int | None = None

    def windows(self, default_per_minute: int, default_daily: int) -> list[Window]:
        return [
            Window("per-minute", 60, self.rate_limit_per_minute or default_per_minute),
            Window("daily", 86_400, self.daily_quota or default_daily),
        ]


ANONYMOUS_CALLER = Caller(owner=ANONYMOUS)
SHARED_KEY_CALLER = Caller(owner=SHARED_KEY_OWNER)


def hash_secret(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    name: str, *, rate_limit_per_minute: int | None = None, daily_quota: int | None = None
) -> tuple[ApiKey, str]:
    """A new key and its token; the token is shown once and cannot be recovered."""
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        secret_hash=hash_secret(secret),
        rate_limit_per_minute=rate_limit_per_minute,
        daily_quota=daily_quota,
    )
    return key, f"{TOKEN_PREFIX}_{key.key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a token in our format, or None."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not could_be_id(key_id) or not secret:
        return None
    return key_id, secret


def secret_matches(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.secret_hash, hash_secret(secret))


def request_cost(request: StoryRequest) -> int:
    """What a request will spend, in units: the story, each picture, each clip (clips cost
    most). Limits and quotas count these units, not requests."""
    count = request.num_illustrations
    return (
        STORY_COST
        + (count * IMAGE_COST if request.generate_images else 0)
        + (count * VIDEO_COST if request.generate_videos else 0)
        + (NARRATION_COST if request.narration else 0)
    )


def job_cost(job: Job) -> int:
    """What a job will spend, in units: a new story (or a sequel) as its request says; a
    version only its text (its pictures and clips are the parent's) and narration; a page
    change only what it redoes."""
    request, origin = job.request, job.origin
    if job.kind in (JobKind.STORY, JobKind.SEQUEL) or origin is None:
        return request_cost(request)
    if job.kind is JobKind.VERSION:
        return STORY_COST + (NARRATION_COST if request.narration else 0)
    # a page change: a page job's request is its story's, so `narration` says it is read aloud
    reading = PAGE_READING_COST if request.narration else 0
    if job.kind is JobKind.REGENERATE_PAGE:
        return (IMAGE_COST if origin.picture else 0) + (STORY_COST + reading if origin.text else 0)
    return reading  # EDIT_PAGE: the owner's own text, read aloud again if the story is


class RateLimited(TooManyRequests):
    """Over a limit; `retry_after_seconds` says when the window that is full resets."""


@dataclass(frozen=True)
class Window:
    """One limit: at most `limit` units per `seconds`, counted in fixed windows."""

    name: str
    seconds: int
    limit: int

    def key(self, owner: str, now: datetime) -> str:
        start = int(now.timestamp()) // self.seconds * self.seconds
        return f"{owner}#{self.name}#{start}"

    def resets_in(self, now: datetime) -> int:
        elapsed = int(now.timestamp()) % self.seconds
        return self.seconds - elapsed

    def expires_at(self, now: datetime) -> int:
        return int(now.timestamp()) + self.resets_in(now) + self.seconds


@dataclass(frozen=True)
class Charge:
    """What one request spends: `units` against each of the owner's windows, counted at `at`
    (which fixes the windows it falls in, so a refund returns the units to the same ones)."""

    owner: str
    units: int
    windows: list[Window]
    at: datetime
