"""The cost ledger's lines (kidstory.ledger), in their job's partition: written once per
report, read to sum a job's cost."""

from __future__ import annotations

from kidstory.ledger import LedgerLine
from kidstory.store.table import USAGE_PREFIX, Table, from_item, to_item, usage_line_key


class LedgerLines(Table):
    """JOB#<job_id> / USAGE#<step>#<line_id> items."""

    def put_line(self, line: LedgerLine) -> None:
        """Write one line; written again (a replayed request), it is the same item."""
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                usage_line_key(line.job_id, line.step, line.line_id),
                line.model_dump(mode="json") | self._expiry(line.at),
            ),
        )

    def lines(self, job_id: str) -> list[LedgerLine]:
        """The job's lines, by step."""
        return [LedgerLine.model_validate(item) for item in self._usage_items(job_id, "")]

    def has_lines(self, job_id: str, step: str) -> bool:
        """Whether an earlier attempt of `step` wrote lines (this attempt is then a retry)."""
        return bool(self._usage_items(job_id, f"{step}#", limit=1))

    def _usage_items(self, job_id: str, after: str, limit: int | None = None) -> list[dict]:
        query = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"JOB#{job_id}"},
                ":prefix": {"S": f"{USAGE_PREFIX}{after}"},
            },
            "ConsistentRead": True,
        }
        if limit is not None:
            found = self._client.query(**query, Limit=limit)
            return [from_item(item) for item in found["Items"]]
        items: list[dict] = []
        for page in self._client.get_paginator("query").paginate(**query):
            items.extend(from_item(item) for item in page["Items"])
        return items
