"""What routes depend on, from the app's state: its settings, the story library and its table,
media access, and the caller a request speaks for (tests replace any of them through
`app.dependency_overrides`, or give their own to `create_app`)."""

from __future__ import annotations

import hmac
from functools import cached_property
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.media_access import MediaAccess
from kidstory.access import (
    ANONYMOUS_CALLER,
    SHARED_KEY_CALLER,
    Caller,
    parse_token,
    secret_matches,
)
from kidstory.config.settings import Settings
from kidstory.library import StoryLibrary
from kidstory.media_store import MediaStore
from kidstory.page_editing import PageEditing
from kidstory.store.story_table import StoryTable


class Services:
    """What one app works with, built from its settings at first use rather than at cold start
    (a request needs few of them; none needs a provider SDK before it asks), unless given; kept
    by the app, not the process."""

    def __init__(
        self,
        settings: Settings,
        *,
        library: StoryLibrary | None = None,
        table: StoryTable | None = None,
    ) -> None:
        self.settings = settings
        self._library = library
        self._table = table

    @cached_property
    def table(self) -> StoryTable:
        """Stories, jobs and API keys (DynamoDB)."""
        if self._table is not None:
            return self._table
        import boto3

        settings = self.settings
        return StoryTable(
            boto3.client("dynamodb"),
            settings.table_name,
            retention_days=settings.story_retention_days,
        )

    @cached_property
    def media_store(self) -> MediaStore:
        """The stories' pictures and clips (S3)."""
        import boto3

        return MediaStore(boto3.client("s3"), self.settings.media_bucket)

    @cached_property
    def library(self) -> StoryLibrary:
        """What clients ask of the service, with the moderation the settings choose."""
        if self._library is not None:
            return self._library
        import boto3

        from kidstory.estimate import estimate
        from kidstory.executions import WorkflowStarter
        from kidstory.providers import text_moderator

        settings = self.settings
        starter = WorkflowStarter(
            boto3.client("stepfunctions"), settings.require_state_machine_arn()
        )
        return StoryLibrary(
            self.table,
            starter,
            self.media_store,
            per_minute=settings.rate_limit_per_minute,
            daily=settings.daily_quota,
            moderator=text_moderator(settings, "INPUT"),
            private_webhooks=settings.webhook_allow_private_targets,
            estimator=lambda request: estimate(request, settings),
        )

    @cached_property
    def page_editing(self) -> PageEditing:
        """Page changes and versions, through the library (charged and started as any job)."""
        return PageEditing(self.library, self.table)

    @cached_property
    def media_access(self) -> MediaAccess:
        return MediaAccess(self.settings)


def services(request: Request) -> Services:
    """The services of the app serving `request` (set by create_app)."""
    found: Services = request.app.state.services
    return found


def app_settings(request: Request) -> Settings:
    return services(request).settings


def story_library(request: Request) -> StoryLibrary:
    return services(request).library


def page_editing(request: Request) -> PageEditing:
    return services(request).page_editing


def media_access(request: Request) -> MediaAccess:
    return services(request).media_access


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]


def authenticate(request: Request, credentials: BearerDep) -> Caller:
    """The caller a request speaks for (`caller_for`)."""
    return caller_for(services(request), credentials, sent="authorization" in request.headers)


def caller_for(
    found: Services, credentials: HTTPAuthorizationCredentials | None, *, sent: bool
) -> Caller:
    """A stored key's owner, the shared API_KEY's, or, when authentication is off and no
    credentials were `sent` at all, the anonymous caller. Credentials that are sent and are not
    valid (unknown, revoked, mistyped, another scheme) are refused, whatever the settings: they
    never fall back to the anonymous caller."""
    settings = found.settings
    token = credentials.credentials if credentials else ""
    if settings.api_key and hmac.compare_digest(token.encode(), settings.api_key.encode()):
        return SHARED_KEY_CALLER
    parsed = parse_token(token)
    if parsed is not None:
        key = found.table.get_api_key(parsed[0])
        if key is not None and key.revoked_at is None and secret_matches(key, parsed[1]):
            return key.caller()
    if not sent and not settings.auth_required:
        return ANONYMOUS_CALLER
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Missing or invalid API key: send Authorization: Bearer <key>",
        headers={"WWW-Authenticate": "Bearer"},
    )


CallerDep = Annotated[Caller, Depends(authenticate)]
LibraryDep = Annotated[StoryLibrary, Depends(story_library)]
MediaAccessDep = Annotated[MediaAccess, Depends(media_access)]
PageEditingDep = Annotated[PageEditing, Depends(page_editing)]
ServicesDep = Annotated[Services, Depends(services)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
