"""How a step meets a throttled provider: counted, and the wait it asked for honoured (bounded)
before the error goes to the state machine's Retry."""

from __future__ import annotations

from collections.abc import Callable

from kidstory import observability
from kidstory.providers.errors import ProviderThrottled

# A throttled provider that says how long to wait (Retry-After) is waited for, up to this long,
# before the error goes to the state machine, whose Retry intervals are fixed and short. The
# functions' timeouts leave room for it.
LONGEST_HONOURED_WAIT_SECONDS = 20.0


def wait_out(error: ProviderThrottled, sleep: Callable[[float], None]) -> None:
    """Count it, and wait as long as the provider asked (bounded) before the retry."""
    observability.count("ProviderThrottled")
    if error.retry_after_seconds:
        sleep(min(error.retry_after_seconds, LONGEST_HONOURED_WAIT_SECONDS))
