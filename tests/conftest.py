"""Every tier: `--clock-ahead-days N` runs the tests with the wall clock moved N days ahead, so
a test (or product code) that depends on today's date fails now rather than on that day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-ahead-days",
        type=int,
        default=0,
        help="move the wall clock this many days ahead for the whole run (time-machine)",
    )


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-ahead-days")
    if not days:
        return
    import time_machine

    traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--clock-ahead-days")
    return f"wall clock moved {days} days ahead: {datetime.now(UTC).isoformat()}" if days else None
