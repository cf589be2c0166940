"""Which scene a prompt describes: its time of day and setting, chosen by keyword (or, failing
that, by the prompt's digest, so the same prompt always gets the same scene)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kidstory.providers.offline_media.canvas import seed_digest


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TIME_KEYWORDS: dict[str, frozenset[str]] = {
    "night": _vocabulary(
        "night nights nighttime midnight moon moons moonlight moonlit star stars starry starlight "
        "dark bedtime sleep sleepy sleeping asleep dream dreams dreaming owl owls lullaby goodnight"
    ),
    "sunset": _vocabulary("sunset sundown evening dusk twilight"),
    "morning": _vocabulary("morning dawn sunrise breakfast"),
    "day": _vocabulary("day daytime sunny sun sunshine noon afternoon picnic rainbow"),
}


_SETTING_KEYWORDS: dict[str, frozenset[str]] = {
    "sea": _vocabulary(
        "sea seas ocean oceans beach beaches boat boats sail sailing island islands wave waves "
        "fish shore seaside pirate pirates lake river mermaid whale whales harbor harbour swim "
        "swimming"
    ),
    "forest": _vocabulary(
        "forest forests wood woods woodland tree trees jungle grove mushroom mushrooms"
    ),
    "home": _vocabulary("home house houses cottage bedroom room kitchen village farm barn"),
    "snow": _vocabulary(
        "snow snowy snowman snowflake snowflakes winter ice icy frost frosty frozen christmas sled"
    ),
    "meadow": _vocabulary(
        "meadow field fields garden gardens flower flowers park hill hills grass bee bees "
        "butterfly butterflies"
    ),
}


_FALLBACK_TIMES = ("day", "day", "day", "morning", "sunset")


_FALLBACK_SETTINGS = ("meadow", "meadow", "forest", "sea", "home", "snow")


@dataclass(frozen=True)
class Scene:
    time_of_day: str
    setting: str
    rng_seed: int
    words: frozenset[str]


def scene_for(prompt: str) -> Scene:
    words = re.findall(r"[a-z]+", prompt.casefold())
    digest = seed_digest("scene", " ".join(prompt.split()))
    seed = int.from_bytes(digest[:8], "big")
    time_of_day = _first_keyword_match(words, _TIME_KEYWORDS, priority=True)
    setting = _first_keyword_match(words, _SETTING_KEYWORDS, priority=False)
    if time_of_day is None:
        time_of_day = _FALLBACK_TIMES[digest[8] % len(_FALLBACK_TIMES)]
    if setting is None:
        setting = _FALLBACK_SETTINGS[digest[9] % len(_FALLBACK_SETTINGS)]
    return Scene(time_of_day=time_of_day, setting=setting, rng_seed=seed, words=frozenset(words))


def _first_keyword_match(
    words: list[str], keywords: dict[str, frozenset[str]], *, priority: bool
) -> str | None:
    """Pick a category: by dictionary order if `priority`, else by first mention in the prompt."""
    if priority:
        present = set(words)
        return next((name for name, vocab in keywords.items() if vocab & present), None)
    for word in words:
        for name, vocab in keywords.items():
            if word in vocab:
                return name
    return None
