"""The languages a writer is asked to write in: a BCP 47 tag, named in English for the model."""

from __future__ import annotations

# English names of common primary language subtags; a tag not listed is given to the model as
# it is (models read BCP 47 tags), and any valid tag may be asked for.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bn": "Bengali",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nb": "Norwegian Bokmål",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "sw": "Swahili",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def primary_language(tag: str) -> str:
    """The tag's language subtag, lower case: "pt" for "pt-BR"."""
    return tag.partition("-")[0].lower()


def is_english(tag: str) -> bool:
    return primary_language(tag) == "en"


def describe_language(tag: str) -> str:
    """How the writer is told the language: `Spanish (BCP 47 "es")`, or the tag alone."""
    name = LANGUAGE_NAMES.get(primary_language(tag))
    return f'{name} (BCP 47 "{tag}")' if name else f'the language with BCP 47 tag "{tag}"'
