"""The story workflow: StoryWorkflow, its definition, its functions and its orphaned-job rule."""

from infra.workflow.state_machine import StoryWorkflow

__all__ = ["StoryWorkflow"]
