"""StoryTable: every piece of the store over one table, for the API (its library and routes)
and the key admin; the functions take only the pieces they use."""

from __future__ import annotations

from kidstory.store.api_keys import ApiKeys
from kidstory.store.jobs import Jobs
from kidstory.store.page_versions import PageVersions
from kidstory.store.quota import Quota
from kidstory.store.spend import MonthlySpend
from kidstory.store.stories import Stories
from kidstory.store.webhook_secrets import WebhookSecretStore


class StoryTable(Jobs, PageVersions, Stories, ApiKeys, Quota, WebhookSecretStore, MonthlySpend):
    """Jobs, stories and assets (and their pages' versions), API keys, limits, webhook secrets
    and monthly spend: the API reads and writes them all (one client, one table name, the same
    retention and conflict retry)."""
