"""What both book formats say beyond the story itself (the offline notice, the credit line,
"The End") and which way a language's text runs."""

from __future__ import annotations

MADE_BY = "Kids Story Agent"

OFFLINE_NOTICE = (
    "Offline output: some or all of this book was made by the built-in offline provider, "
    "not by an AI model."
)

# Languages written right to left (BCP 47 primary subtags).
_RTL_LANGUAGES = frozenset({"ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})

_THE_END = {
    "de": "Ende",
    "en": "The End",
    "es": "Fin",
    "fr": "Fin",
    "he": "סוף",
    "it": "Fine",
    "nl": "Einde",
    "pt": "Fim",
}


def primary_language(language: str) -> str:
    """The primary subtag of a BCP 47 tag, lower case: "pt" for "pt-BR"."""
    return language.strip().replace("_", "-").split("-")[0].lower()


def is_rtl(language: str) -> bool:
    """True when the language is written right to left."""
    return primary_language(language) in _RTL_LANGUAGES


def the_end(language: str) -> str:
    """ "The End" in the book's language, or a plain ornament for a language not listed."""
    return _THE_END.get(primary_language(language), "* * *")


def notice_language(language: str) -> str | None:
    """The language tag to mark the (English) notices with, None when the book is English."""
    return None if primary_language(language) == "en" else "en"
