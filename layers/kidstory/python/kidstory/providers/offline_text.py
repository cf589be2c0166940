"""The offline story writer: a readable, age-appropriate story built from the prompt alone,
deterministic, with no network and no model. Its output is always labelled as offline."""

from __future__ import annotations

import hashlib
import re
import time

from kidstory import usage
from kidstory.models import AgeGroup, Character, ScenePrompt, StoryText, picture_page
from kidstory.providers.base import Medium, PageBrief, StoryBrief, VersionBrief
from kidstory.providers.offline_versions import mark_untranslated, relevel, unmarked

SPECIES = (
    "mouse",
    "cat",
    "kitten",
    "dog",
    "puppy",
    "fox",
    "bear",
    "rabbit",
    "bunny",
    "owl",
    "dragon",
    "unicorn",
    "elephant",
    "lion",
    "tiger",
    "penguin",
    "turtle",
    "frog",
    "duck",
    "pig",
    "robot",
    "dinosaur",
    "whale",
    "fish",
    "bird",
    "squirrel",
    "hedgehog",
    "monkey",
    "giraffe",
    "wolf",
    "horse",
    "pony",
    "dolphin",
    "octopus",
    "bee",
    "butterfly",
    "girl",
    "boy",
    "princess",
    "prince",
    "knight",
    "wizard",
    "fairy",
    "astronaut",
    "pirate",
    "koala",
    "panda",
    "otter",
)
ADJECTIVES = (
    "brave",
    "curious",
    "kind",
    "clever",
    "shy",
    "gentle",
    "cheerful",
    "tiny",
    "sleepy",
    "adventurous",
    "friendly",
    "playful",
    "helpful",
    "bold",
    "quiet",
    "happy",
    "little",
)
NAMES = {
    "a": "Alba",
    "b": "Benny",
    "c": "Coco",
    "d": "Daisy",
    "e": "Eddie",
    "f": "Fern",
    "g": "Gus",
    "h": "Hazel",
    "i": "Iggy",
    "j": "Juno",
    "k": "Kit",
    "l": "Lulu",
    "m": "Milo",
    "n": "Nell",
    "o": "Ollie",
    "p": "Pip",
    "q": "Quinn",
    "r": "Rosie",
    "s": "Sunny",
    "t": "Toby",
    "u": "Una",
    "v": "Vera",
    "w": "Wren",
    "x": "Xavi",
    "y": "Yara",
    "z": "Ziggy",
}
PLACES = {
    "forest": "a whispering forest",
    "wood": "a whispering forest",
    "sea": "the sparkling sea",
    "ocean": "the sparkling sea",
    "beach": "a sunny beach",
    "mountain": "the tall blue mountains",
    "space": "the starry sky",
    "moon": "the starry sky",
    "star": "the starry sky",
    "city": "a busy little town",
    "town": "a busy little town",
    "garden": "a flower garden",
    "farm": "a green farm",
    "jungle": "a leafy jungle",
    "snow": "a snowy valley",
    "castle": "an old stone castle",
    "river": "a winding river",
    "desert": "a golden desert",
}
COLOURS = ("red", "yellow", "blue", "green", "orange", "purple", "teal", "pink")
CLOTHES = ("scarf", "cap", "backpack", "raincoat", "bow", "pair of boots", "cape", "sweater")
FRIENDS = (
    "a wise old tortoise",
    "a chatty blue bird",
    "a friendly frog",
    "a giggling squirrel",
    "a gentle deer",
    "a busy beaver",
)
OBSTACLES = (
    "a wide, rushing stream",
    "a tall hill covered in brambles",
    "a dark and echoing cave",
    "a rickety wooden bridge",
    "a thick patch of fog",
)
SNACKS = ("crunchy apples", "warm muffins", "honey sandwiches", "sweet berries")
MIDDLE_PAGES = (
    "The path curled past {sights}. {name} stopped to look and listen, then hurried on.",
    "When the wind grew cold, {name} and the {friend_short} shared {snack} and told silly jokes.",
    "{name} found a trail of shiny pebbles and followed it, one careful step at a time.",
    "A little rain began to fall, so {name} and the {friend_short} hid under a big leaf "
    "and waited.",
    "{name} counted the clouds and sang a song to keep everyone's spirits high.",
)
SIGHTS = ("tall sunflowers", "humming bees", "bright mushrooms", "sleepy ducks", "old stones")
PAGE_COUNT = {AgeGroup.PRESCHOOL: 6, AgeGroup.EARLY_READER: 7, AgeGroup.MIDDLE_GRADE: 8}
DETAIL = {
    AgeGroup.PRESCHOOL: "",
    AgeGroup.EARLY_READER: " {name} felt a little flutter of excitement.",
    AgeGroup.MIDDLE_GRADE: (
        " {name} noticed how the light changed, and wondered what the day would bring."
        " It felt like the first page of a story that had been waiting to be told."
    ),
}
# A page written again offline: one of these, picked by the page, the wish and the try, so the
# same request gives the same page; the story stays labelled offline (Story.offline).
REWRITTEN_PAGES = (
    "{name} stopped for a moment and looked all around. Everything felt new and bright.",
    "{name} took a slow, happy breath. There was so much to see and do!",
    "{name} smiled up at the sky and hummed a little tune. Then off {name} went again.",
    "{name} listened to the gentle sounds nearby. It was a good day to be brave.",
    "{name} gave a little skip and a hop. Good things were waiting just ahead.",
)
ART_STYLE = "soft watercolour picture-book illustration, warm light, rounded shapes"


def _pick(options: tuple[str, ...], seed: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}:{seed}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _words(prompt: str) -> list[str]:
    return re.findall(r"[a-z]+", prompt.lower())


def _hero(prompt: str) -> tuple[str, str]:
    words = _words(prompt)
    species = next((word for word in words if word in SPECIES), None) or _pick(
        ("fox", "bear", "rabbit", "owl"), prompt, "species"
    )
    adjective = next((word for word in words if word in ADJECTIVES and word != "little"), None)
    return species, adjective or _pick(ADJECTIVES[:6], prompt, "adjective")


def _goal(prompt: str, place: str) -> str:
    match = re.search(r"\bto (?P<goal>[^.!?]+)", prompt, flags=re.IGNORECASE)
    if match is None:
        return "explore " + re.sub(r"^(a|an) ", "the ", place)
    return match.group("goal").strip().rstrip(",;:").lower()


def _place(prompt: str) -> str:
    for word in _words(prompt):
        for key, place in PLACES.items():
            if word.startswith(key):
                return place
    return _pick(tuple(PLACES.values()), prompt, "place")


def offline_pages(age_group: AgeGroup, min_pages: int) -> int:
    """How many pages the offline writer writes: its template's, or more for more pictures."""
    return max(PAGE_COUNT[age_group], min_pages)


def _returning_hero(brief: StoryBrief, values: dict[str, str]) -> dict[str, str]:
    """A sequel's hero as the story before described it (the offline look names its colour
    and clothes: "... wearing a red scarf")."""
    hero = brief.character
    assert hero is not None
    worn = re.search(r"wearing an? (?P<colour>\w+) (?P<clothing>.+)$", hero.look)
    return {
        "name": hero.name,
        "species": hero.species,
        "look": hero.look,
        "colour": worn.group("colour") if worn else values["colour"],
        "clothing": worn.group("clothing") if worn else values["clothing"],
    }


class OfflineTextProvider:
    """Writes from templates; the same prompt gives the same story."""

    name = "offline"
    model = "offline-storyteller-1"

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self._latency = latency_seconds

    def write_story(self, brief: StoryBrief) -> StoryText:
        time.sleep(self._latency)
        prompt = brief.prompt
        species, adjective = _hero(prompt)
        name = NAMES.get(species[0], "Pip")
        colour = _pick(COLOURS, prompt, "colour")
        clothing = _pick(CLOTHES, prompt, "clothes")
        friend = _pick(FRIENDS, prompt, "friend")
        place = _place(prompt)
        values = {
            "name": name,
            "species": species,
            "adjective": adjective,
            "goal": _goal(prompt, place),
            "place": place,
            "friend": friend,
            "friend_short": friend.split(" ", 1)[1],
            "obstacle": _pick(OBSTACLES, prompt, "obstacle"),
            "snack": _pick(SNACKS, prompt, "snack"),
            "colour": colour,
            "clothing": clothing,
            "sights": _pick(SIGHTS, prompt, "sights"),
        }
        if brief.character is not None:  # a sequel: the same hero, back for more
            values |= _returning_hero(brief, values)
        detail = DETAIL[brief.age_group]
        opening = [
            "Once upon a time, there was a {adjective} little {species} named {name}. "
            "{name} lived in a cozy home near {place} and always wore a {colour} {clothing}."
            + detail,
            'One bright morning, {name} had a big idea. "Today I am going to {goal}!" '
            "{name} said, and packed some {snack} for the trip.",
            'On the way, {name} met {friend}. "Where are you going?" asked the {friend_short}. '
            '"I want to {goal}," said {name}. "Will you come with me?"',
        ]
        ending = [
            "Soon they came to {obstacle}. It looked much too big for a little {species}. "
            '{name} took a deep breath. "We can do it together," {name} said, and step by '
            "step, they found a way.",
            "And there, at last, {name} was able to {goal}. {name} laughed and twirled, "
            "and the {friend_short} cheered.",
            "That night, {name} curled up at home, tired and happy. Being {adjective} is "
            "easier with a good friend beside you. The End.",
        ]
        wanted = offline_pages(brief.age_group, brief.min_pages)
        middle = [
            MIDDLE_PAGES[index % len(MIDDLE_PAGES)]
            for index in range(max(0, wanted - len(opening) - len(ending)))
        ]
        if brief.character is not None:
            opening[0] = (
                "Do you remember {name}, {look}? {name} still lived in a cozy home, and "
                "after the last adventure, {name} was ready for a new one." + detail
            )
        pages = [page.format(**values) for page in opening + middle + ending]
        written = StoryText(
            title=f"{values['name']} the {adjective.capitalize()} {values['species'].capitalize()}",
            pages=pages,
            character=Character(
                name=name,
                species=species,
                look=f"a small {adjective} {species} with bright eyes, wearing a {colour} "
                f"{clothing}",
            ),
            art_style=ART_STYLE,
        )
        story = mark_untranslated(brief.hero_kept(written), brief.language)
        if brief.scenes:  # planned with the story, as a model asked for both answers both
            story.scene_plan = {
                medium: _scenes(story, medium, brief.scenes) for medium in ("image", "video")
            }
        self._used(f"{brief.prompt} {brief.revision_notes or ''}", story.model_dump_json())
        return story

    def _used(self, asked: str, answer: str) -> None:
        """Tokens as a model would count them, about four characters each: deterministic, and
        free (the offline price)."""
        usage.report(self.name, self.model, usage.INPUT_TOKENS, -(-len(asked) // 4))
        usage.report(self.name, self.model, usage.OUTPUT_TOKENS, -(-len(answer) // 4))

    def write_version(self, brief: VersionBrief) -> StoryText:
        """The same pages re-levelled for the version's ages (kidstory.providers.
        offline_versions); for another language than English, marked as not translated."""
        time.sleep(self._latency)
        title, pages = unmarked(brief.title, list(brief.pages))
        version = mark_untranslated(
            StoryText(
                title=title,
                pages=relevel(pages, brief.from_age_group, brief.age_group),
                character=brief.character,
                art_style=brief.art_style,
            ),
            brief.language,
        )
        self._used(f"{brief.title} {' '.join(brief.pages)}", version.model_dump_json())
        return version

    def plan_scenes(
        self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
    ) -> list[ScenePrompt]:
        scenes = _scenes(story, medium, count)
        self._used(story.content, "".join(scene.model_dump_json() for scene in scenes))
        return scenes

    def rewrite_page(self, brief: PageBrief) -> str:
        """A calm page about the hero, that fits anywhere in the story (the offline writer
        cannot follow a wish, and does not pretend to); never the page's current text."""
        time.sleep(self._latency)
        seed = "|".join((brief.title, brief.current_text, brief.instructions or ""))
        # each try sent back starts one further on, so it never repeats the try before
        start = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") + brief.attempt
        candidates = [
            REWRITTEN_PAGES[(start + step) % len(REWRITTEN_PAGES)].format(name=brief.character.name)
            for step in range(len(REWRITTEN_PAGES))
        ]
        text = next(text for text in candidates if text != brief.current_text.strip())
        self._used(f"{brief.current_text} {brief.instructions or ''}", text)
        return text


def _scenes(story: StoryText, medium: Medium, count: int) -> list[ScenePrompt]:
    """One scene per chosen page, spread evenly over the story."""
    pages = story.pages
    chosen = [picture_page(index, count, len(pages)) for index in range(count)]
    scenes = []
    for page_index in chosen:
        first_sentence = re.split(r"(?<=[.!?])\s", pages[page_index], maxsplit=1)[0]
        action = "gently moving, a slow camera pan" if medium == "video" else "still picture"
        scenes.append(
            ScenePrompt(
                scene_description=first_sentence,
                prompt=(
                    f"{first_sentence} Characters: {story.character.name}, "
                    f"{story.character.look}. Style: {story.art_style}; {action}."
                ),
            )
        )
    return scenes
