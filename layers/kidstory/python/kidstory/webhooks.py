"""Webhook delivery: tells a client's URL that its story finished (or failed).

Notices are signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
`webhook-signature`) with the caller's own secret. Delivery runs from an SQS queue fed by the
EventBridge rule: a failed attempt comes back after a growing delay and ends in the dead-letter
queue. Every attempt is recorded on the job.

Requests go only to public addresses: the host is resolved once, every address it resolves to
must be public, and the connection is made to that checked address (with the original name for
TLS), so a second DNS answer cannot redirect it. Redirects are not followed. One try has one
deadline and reads a bounded answer (`kidstory.deadline_http`), so no receiver can hold it."""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from kidstory.job_cost import JobCost
from kidstory.models import Job, JobStatus, utc_now

CONNECT_TIMEOUT_SECONDS = 3.0
# One try, from connect to the end of the answer; the queue's next try comes later.
DELIVERY_DEADLINE_SECONDS = 10.0
# Receivers answer with a status; the body is read only this far, and a longer one fails the try.
MAX_ANSWER_BYTES = 8 * 1024
# Ports a notice may go to: the web's own, or an unprivileged one (not SMTP, SSH, ...).
WEB_PORTS = frozenset({80, 443})
FIRST_UNPRIVILEGED_PORT = 1024
PREVIOUS_SECRET_VALID = timedelta(hours=24)
USER_AGENT = "KidsStoryAgent-Webhooks/1.0"

Resolver = Callable[[str, int], list[str]]


class StoryEvent(BaseModel):
    """The detail of a story.completed, story.failed or story.updated event (a page change:
    its status says whether the story now shows the new version)."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    story_id: str | None = None
    status: JobStatus
    error: str | None = None
    cost: JobCost | None = None


class EventEnvelope(BaseModel):
    """An EventBridge event as it arrives in the queue."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    time: datetime
    detail: StoryEvent


class WebhookNotice(BaseModel):
    """The body POSTed to a client's webhook_url."""

    event: str
    job_id: str
    story_id: str | None
    status: JobStatus
    error: str | None
    occurred_at: datetime
    cost: JobCost | None = Field(
        default=None, description="What the job cost (its ledger, summed; docs/cost.md)"
    )


class WebhookAttempt(BaseModel):
    """One try to deliver a notice, as recorded on the job."""

    at: datetime
    event: str
    status_code: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSecrets(BaseModel):
    """An owner's signing secret, and the one before it while clients switch over."""

    current: str
    previous: str | None = None
    rotated_at: datetime | None = None

    def signing_keys(self, now: datetime) -> list[str]:
        keys = [self.current]
        if self.previous and self.rotated_at and now - self.rotated_at < PREVIOUS_SECRET_VALID:
            keys.append(self.previous)
        return keys


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookRefused(Exception):
    """The URL is not one we deliver to; trying again cannot help."""


class WebhookFailed(Exception):
    """The notice was not accepted this time; the queue will try again."""


class WebhookTarget(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: IPv4-compatible (deprecated),
# IPv4-translated (SIIT) and NAT64's well-known prefix. A gateway would forward to that IPv4
# address, so it is the one judged.
_IPV4_IN_LOW_BITS = tuple(
    ipaddress.IPv6Network(prefix) for prefix in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# Local-use NAT64 (RFC 8215): translated by a network's own gateway, to any address it likes.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _addresses_behind(ip: IPAddress) -> list[IPAddress]:
    """The address itself and every IPv4 address an IPv6 address embeds (mapped, compatible,
    translated, NAT64, 6to4, Teredo server and client): a packet to it reaches those too."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    behind: list[IPAddress] = [ip]
    if any(ip in network for network in _IPV4_IN_LOW_BITS):
        behind.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        behind.append(ip.sixtofour)
    if ip.teredo is not None:
        behind.extend(ip.teredo)
    return behind


def is_public(address: str) -> bool:
    """A global unicast address: not loopback, private, link-local (metadata services),
    shared (CGNAT), reserved, multicast or unspecified. IPv6 forms that carry an IPv4 address
    (mapped, compatible, translated, NAT64, 6to4, Teredo) are judged by that address too, and
    local-use NAT64 is never public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip in _LOCAL_NAT64:
        return False
    return all(behind.is_global and not behind.is_multicast for behind in _addresses_behind(ip))


def _literal_address(host: str) -> list[str]:
    """The address a host names by itself, including the decimal, octal, hexadecimal and
    short IPv4 forms (2130706433, 0177.0.0.1, 0x7f000001, 127.1) that resolvers accept."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        return [socket.inet_ntoa(socket.inet_aton(host))]
    except (OSError, UnicodeError):
        return []


def check_target(
    url: str, *, allow_private: bool = False, resolve: Resolver = system_resolver
) -> WebhookTarget:
    """Where to deliver `url`, resolved once and checked; raises WebhookRefused."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise WebhookRefused(f"webhook URLs must use https: {url}")
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused("webhook URLs must not carry credentials")
    host = parts.hostname
    if not host:
        raise WebhookRefused(f"webhook URL has no host: {url}")
    try:
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused(f"webhook URL has an invalid port: {url}") from None
    if not allow_private and port not in WEB_PORTS and port < FIRST_UNPRIVILEGED_PORT:
        raise WebhookRefused(
            f"webhook URLs use port 443, 80 or {FIRST_UNPRIVILEGED_PORT} and above, not {port}"
        )
    addresses = _literal_address(host)
    if not addresses:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as error:
            raise WebhookFailed(f"cannot resolve {host}: {error}") from error
    if not addresses:
        raise WebhookFailed(f"{host} resolves to no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise WebhookRefused(f"webhook host {host} resolves to a non-public address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(parts.scheme, host, port, path, addresses[0])


def post_notice(
    target: WebhookTarget,
    body: bytes,
    headers: dict[str, str],
    *,
    deadline_seconds: float = DELIVERY_DEADLINE_SECONDS,
) -> int:
    """POST to the checked address, naming the original host for TLS and Host; return the
    status code. The whole try (connect, TLS, sending, the answer) has `deadline_seconds`, and at
    most MAX_ANSWER_BYTES of the answer are read: a slower or larger answer is a failed try. No
    redirects, no retries here (the queue retries)."""
    from kidstory import deadline_http

    try:
        answer = deadline_http.post(
            scheme=target.scheme,
            address=target.address,
            port=target.port,
            server_name=target.host,
            path=target.path,
            body=body,
            headers=headers | {"Host": target.host_header},
            deadline_seconds=deadline_seconds,
            connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
            max_answer_bytes=MAX_ANSWER_BYTES,
        )
    except (
        deadline_http.DeadlineExceeded,
        deadline_http.AnswerTooLarge,
        deadline_http.RequestFailed,
    ) as error:
        raise WebhookFailed(f"{target.host}: {error}") from error
    return answer.status


def message_id(event: StoryEvent) -> str:
    """One id per job outcome: the same across retries and re-announcements, so receivers
    can drop repeats."""
    return f"msg_{event.job_id}_{event.status.value}"


def signed_headers(message: str, payload: str, keys: list[str], when: datetime) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": " ".join(
            Webhook(key).sign(msg_id=message, timestamp=when, data=payload) for key in keys
        ),
    }


class WebhookJobs(Protocol):
    """The jobs delivery reads and records its attempts on (kidstory.store.jobs.Jobs)."""

    def get_job(self, job_id: str) -> Job | None: ...

    def record_webhook_attempt(self, job_id: str, attempt: WebhookAttempt) -> None: ...


class SigningSecrets(Protocol):
    """Where the owners' signing secrets are (kidstory.store.webhook_secrets)."""

    def webhook_secrets(self, owner: str) -> WebhookSecrets: ...


def deliver(
    envelope: EventEnvelope,
    jobs: WebhookJobs,
    signing: SigningSecrets,
    *,
    allow_private: bool = False,
    resolve: Resolver = system_resolver,
) -> WebhookAttempt | None:
    """Deliver one queued event to its job's webhook, if the job has one; raise WebhookFailed
    when it should be tried again."""
    job = jobs.get_job(envelope.detail.job_id)
    if job is None or job.request.webhook_url is None:
        return None
    now = utc_now()
    notice = WebhookNotice(
        event=envelope.detail_type,
        job_id=job.job_id,
        story_id=envelope.detail.story_id,
        status=envelope.detail.status,
        error=envelope.detail.error,
        occurred_at=envelope.time,
        cost=envelope.detail.cost,
    )
    attempt = WebhookAttempt(at=now, event=envelope.detail_type)
    try:
        target = check_target(
            str(job.request.webhook_url), allow_private=allow_private, resolve=resolve
        )
        payload = notice.model_dump_json()
        keys = signing.webhook_secrets(job.owner).signing_keys(now)
        headers = signed_headers(message_id(envelope.detail), payload, keys, now)
        attempt.status_code = post_notice(target, payload.encode(), headers)
    except WebhookRefused as refused:
        attempt.error = f"refused: {refused}"
        jobs.record_webhook_attempt(job.job_id, attempt)
        return attempt
    except WebhookFailed as failed:
        attempt.error = str(failed)
        jobs.record_webhook_attempt(job.job_id, attempt)
        raise
    jobs.record_webhook_attempt(job.job_id, attempt)
    if not attempt.delivered:
        raise WebhookFailed(f"{target.host} answered {attempt.status_code}")
    return attempt
