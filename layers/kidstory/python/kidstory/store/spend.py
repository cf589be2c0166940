"""Monthly spend per owner: US dollars and units of the jobs that ended in each calendar month
(UTC), counted once per job, in the write that ends it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kidstory.store.table import Table, from_item, serialize, spend_key, to_item


class MonthSpend(BaseModel):
    month: str
    usd: float = 0.0
    units: int = 0
    jobs: int = 0
    unpriced_jobs: int = 0


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def spend_update(
    table_name: str, owner: str, month: str, usd: float | None, units: int
) -> dict[str, Any]:
    """The update that counts one ended job in its owner's month (a job whose cost has an
    unpriced item counts its units, and as unpriced)."""
    counted = {"jobs": 1, "units": units, "usd": usd or 0.0, "unpriced_jobs": int(usd is None)}
    return {
        "TableName": table_name,
        "Key": to_item(spend_key(owner, month), {}),
        "UpdateExpression": "ADD " + ", ".join(f"#{name} :{name}" for name in counted),
        "ExpressionAttributeNames": {f"#{name}": name for name in counted},
        "ExpressionAttributeValues": {f":{name}": serialize(v) for name, v in counted.items()},
    }


class MonthlySpend(Table):
    """SPEND#<owner>#<YYYY-MM> / SPEND items."""

    def month_spend(self, owner: str, month: str) -> MonthSpend:
        found = self._client.get_item(
            TableName=self._table, Key=to_item(spend_key(owner, month), {}), ConsistentRead=True
        )
        if "Item" not in found:
            return MonthSpend(month=month)
        item = from_item(found["Item"])
        return MonthSpend(
            month=month,
            usd=round(float(item.get("usd", 0)), 6),
            units=int(item.get("units", 0)),
            jobs=int(item.get("jobs", 0)),
            unpriced_jobs=int(item.get("unpriced_jobs", 0)),
        )
