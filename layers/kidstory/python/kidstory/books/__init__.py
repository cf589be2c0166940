"""A finished story as a book: EPUB 3 (with read-along media overlays when narrated) and a
print-ready PDF, built from a story's text, pictures and narration."""
