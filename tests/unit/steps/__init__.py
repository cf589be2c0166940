"""The workflow steps (kidstory.steps)."""
