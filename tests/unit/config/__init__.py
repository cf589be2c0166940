"""Configuration (kidstory.config)."""
