"""A finished story as a book: EPUB 3 (with read-along media overlays when narrated) and a
print-ready and a screen PDF, built from a story's text, pictures and narration, and kept in the
media bucket beside its pictures."""

# The books' file names: in the API's paths (/stories/{id}/<name>) and in the bucket.
EPUB, PRINT_PDF, SCREEN_PDF = "book.epub", "book.pdf", "book-screen.pdf"
BOOK_FILES = (EPUB, PRINT_PDF, SCREEN_PDF)


def book_key(story_id: str, name: str, revision: str | None = None) -> str:
    """Where a story's book `name` is kept: as first written, or as a page change (`revision`,
    its job id) left it (Story.changed_by)."""
    if revision is not None:
        return f"stories/{story_id}/{revision}/{name}"
    return f"stories/{story_id}/{name}"


def book_keys(story_id: str, revision: str | None = None) -> list[str]:
    """Where all of a story's books are kept (deleted with it)."""
    return [book_key(story_id, name, revision) for name in BOOK_FILES]
