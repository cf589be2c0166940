"""The local stack (infra.local)."""
