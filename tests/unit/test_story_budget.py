"""WriteStory's longest story is counted from what the story graph can ask for."""

from kidstory.models import MAX_ILLUSTRATIONS
from kidstory.providers.prompts import AGE_GUIDES
from kidstory.story_budget import MOST_PAGES_ASKED


def test_the_most_pages_asked_is_the_longest_age_groups_or_one_per_illustration():
    assert (
        max(MAX_ILLUSTRATIONS, *(guide.pages[1] for guide in AGE_GUIDES.values()))
        == MOST_PAGES_ASKED
    )
