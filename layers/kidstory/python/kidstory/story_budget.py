"""How long WriteStory can take at most, from its settings: what its Lambda timeout is sized by.

The story graph (kidstory.story_graph) writes up to MAX_REVISIONS + 1 drafts; each draft is one
question to the text provider, asked again up to PROVIDER_REPAIR_ATTEMPTS times when the answer
is unusable, each ask waiting at most PROVIDER_TIMEOUT_SECONDS. Then the image and video scene
plans, one question each, asked side by side. With a moderation provider, the reviewer checks
the title and every page of each draft, one call each, waiting at most
MODERATION_TIMEOUT_SECONDS."""

from __future__ import annotations

from kidstory.config.settings import Settings

# Times the reviewer sends a draft back to the writer (so at most MAX_REVISIONS + 1 drafts).
MAX_REVISIONS = 2
# The most pages the writer is asked for (the 9-12 age group's; an illustration per page asks
# for at most MAX_ILLUSTRATIONS = 10), and so the most texts a draft's review checks, with the
# title.
MOST_PAGES_ASKED = 14
# Cold start (LangGraph loads), reading the job, storing the story and its asset records.
OVERHEAD_SECONDS = 60


def longest_writing_seconds(settings: Settings) -> float:
    """The text provider's part: every draft and both scene plans answered at the last second,
    after every repair."""
    asks = settings.provider_repair_attempts + 1
    drafts = MAX_REVISIONS + 1
    return (drafts + 1) * asks * settings.provider_timeout_seconds


def longest_review_seconds(settings: Settings, *, moderated: bool) -> float:
    """The moderation provider's part, when there is one (the offline word list is instant)."""
    if not moderated:
        return 0
    drafts = MAX_REVISIONS + 1
    return drafts * (1 + MOST_PAGES_ASKED) * settings.moderation_timeout_seconds


def longest_story_seconds(settings: Settings, *, moderated: bool) -> float:
    """WriteStory's worst case: writing, review (`moderated`: by a moderation provider) and the
    overhead."""
    review = longest_review_seconds(settings, moderated=moderated)
    return longest_writing_seconds(settings) + review + OVERHEAD_SECONDS
