"""Callers' limits: the units each charge counts in its fixed windows, charged all or none,
and refunded when a request made nothing."""

from __future__ import annotations

import contextlib
from typing import Any

from kidstory.access import Charge, RateLimited, Window
from kidstory.store.table import Table, limit_key, serialize, to_item
from kidstory.transactions import CONDITION_FAILED, cancellation_codes


def _limit_item_key(charge: Charge, window: Window) -> dict[str, Any]:
    return to_item(limit_key(window.key(charge.owner, charge.at)), {})


def charge_updates(table_name: str, charge: Charge) -> list[dict[str, Any]]:
    """The conditional updates that count a charge in each of its windows (RateLimited at
    once for a charge bigger than a whole window); a new job's transaction carries them too."""
    over = [window for window in charge.windows if charge.units > window.limit]
    if over:
        raise RateLimited(_over_message(over[0], charge.units), over[0].resets_in(charge.at))
    return [
        {
            "Update": {
                "TableName": table_name,
                "Key": _limit_item_key(charge, window),
                "UpdateExpression": "ADD used :units SET expires_at = :expires",
                "ConditionExpression": "attribute_not_exists(used) OR used <= :room",
                "ExpressionAttributeValues": {
                    ":units": serialize(charge.units),
                    ":room": serialize(window.limit - charge.units),
                    ":expires": serialize(window.expires_at(charge.at)),
                },
            }
        }
        for window in charge.windows
    ]


def refusal(charge: Charge, codes: list[str]) -> RateLimited | None:
    """RateLimited naming the first full window, when the charge's updates (`codes`, one per
    window) were refused; None when they were not."""
    full = [w for w, code in zip(charge.windows, codes, strict=False) if code == CONDITION_FAILED]
    if not full:
        return None
    return RateLimited(_over_message(full[0], charge.units), full[0].resets_in(charge.at))


def _over_message(window: Window, units: int) -> str:
    return (
        f"Over the {window.name} limit of {window.limit} units "
        f"(this request costs {units}: 1 per story, 1 per picture, 4 per clip, 2 for narration)"
    )


class Quota(Table):
    """The LIMIT# counters: one item per owner and fixed window."""

    def charge(self, charge: Charge) -> None:
        """Count a charge against every window of its owner, all or none; raise RateLimited
        naming the first window that has no room left."""
        try:
            self._write("transact_write_items", TransactItems=charge_updates(self._table, charge))
        except self._client.exceptions.TransactionCanceledException as error:
            refused = refusal(charge, cancellation_codes(error))
            if refused is None:
                raise
            raise refused from None

    def refund(self, charge: Charge) -> None:
        """Give a charge's units back to the windows it was counted in (for a request that
        was charged but made nothing)."""
        for window in charge.windows:
            with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
                self._write(
                    "update_item",
                    TableName=self._table,
                    Key=_limit_item_key(charge, window),
                    UpdateExpression="ADD used :refund",
                    ConditionExpression="attribute_exists(used)",  # not a window long gone
                    ExpressionAttributeValues={":refund": serialize(-charge.units)},
                )
