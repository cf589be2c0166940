"""Step Functions adapter: starts one StoryWorkflow execution per job."""

from __future__ import annotations

import json
from typing import Any


class WorkflowStarter:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, job_id: str) -> str:
        """Start the workflow for a job; the execution is named after the job, so a job can
        never run twice."""
        try:
            started = self._client.start_execution(
                stateMachineArn=self._arn, name=job_id, input=json.dumps({"job_id": job_id})
            )
        except self._client.exceptions.ExecutionAlreadyExists:
            return f"{self._arn.replace(':stateMachine:', ':execution:')}:{job_id}"
        return str(started["executionArn"])
