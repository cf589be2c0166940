"""Keeps the keys Powertools appends to log lines per invocation in the local stack.

On Lambda each function has its own process, so the keys a handler appends (its Lambda context,
the job id) can only reach its own lines. Here every function and the API share one process and
one formatter, and run on threads at once: one invocation's `function_name` would show on
another's lines. With `keep_log_keys_per_invocation`, the formatter's keys live in a context
variable: each invocation (a thread of its own, or a copied context) starts from the keys the
process set up at import and changes only its own copy."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

_keys: ContextVar[dict[str, Any] | None] = ContextVar("kidstory_local_log_keys", default=None)


class _KeysPerContext:
    """`LambdaPowertoolsFormatter.log_format`, one dict per context: a context that has not set
    its own starts from a copy of the process's (the formatter's value when installed)."""

    def __get__(self, formatter: Any, owner: type | None = None) -> Any:
        if formatter is None:
            return self
        current = _keys.get()
        if current is None:
            current = dict(formatter.__dict__.get("log_format") or {})
            _keys.set(current)
        return current

    def __set__(self, formatter: Any, value: dict[str, Any]) -> None:
        formatter.__dict__.setdefault("log_format", value)  # the process's, set at import
        _keys.set(value)


def keep_log_keys_per_invocation() -> None:
    if not isinstance(LambdaPowertoolsFormatter.__dict__.get("log_format"), _KeysPerContext):
        LambdaPowertoolsFormatter.log_format = _KeysPerContext()  # type: ignore[assignment]
