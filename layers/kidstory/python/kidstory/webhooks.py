"""Webhook delivery: tells a client's URL that its story finished (or failed).

Delivery runs from an SQS queue fed by the EventBridge rule, so a failed attempt is retried by
the queue with a growing delay and ends in the dead-letter queue (docs/design.md)."""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from kidstory.models import JobStatus
from kidstory.repository import StoryTable

EVENT_SOURCE = "kidstory"
DELIVERY_TIMEOUT_SECONDS = 10.0


class StoryEvent(BaseModel):
    """The detail of a story.completed or story.failed event."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    story_id: str | None = None
    status: JobStatus
    error: str | None = None


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


class WebhookRefused(Exception):
    """The URL is not one we deliver to (not http(s), or not a public address)."""


class WebhookFailed(Exception):
    """The receiver did not accept the notice; the queue will retry it."""


def check_target(url: str, *, allow_private: bool = False) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused(f"webhook URL must be http(s) with a host: {url}")
    if allow_private:
        return
    try:
        resolved = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise WebhookFailed(f"cannot resolve {parts.hostname}: {error}") from error
    for *_, sockaddr in resolved:
        address = ipaddress.ip_address(sockaddr[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global:
            raise WebhookRefused(f"webhook host {parts.hostname} is not a public address")


def deliver(body: str, table: StoryTable, *, allow_private: bool = False) -> WebhookNotice | None:
    """Deliver one queued event to its job's webhook, if the job has one."""
    import urllib3

    envelope = EventEnvelope.model_validate_json(body)
    job = table.get_job(envelope.detail.job_id)
    if job is None or job.request.webhook_url is None:
        return None
    url = str(job.request.webhook_url)
    notice = WebhookNotice(
        event=envelope.detail_type,
        job_id=envelope.detail.job_id,
        story_id=envelope.detail.story_id,
        status=envelope.detail.status,
        error=envelope.detail.error,
        occurred_at=envelope.time,
    )
    try:
        check_target(url, allow_private=allow_private)
    except WebhookRefused:
        return None  # retrying cannot help; the job itself is unaffected
    response = urllib3.request(
        "POST",
        url,
        body=notice.model_dump_json().encode(),
        headers={"Content-Type": "application/json", "webhook-id": envelope.id},
        timeout=DELIVERY_TIMEOUT_SECONDS,
        redirect=False,
        retries=False,
    )
    if not 200 <= response.status < 300:
        raise WebhookFailed(f"{url} answered {response.status}")
    return notice
