"""Providers (kidstory.providers) and moderation by them."""
