"""The table (kidstory.store)."""
