"""The HTTP API (FastAPI): the version it reports and the path its stories are served under."""

VERSION = "1.0.0"
PREFIX = "/api/v1/stories"
