"""The API (functions/api)."""
