"""The clients (kidstory.clients)."""
