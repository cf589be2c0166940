"""Operators see the service on a dashboard and are told by alarms when it breaks."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Synthesized


def _of_type(synthesized: Synthesized, kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in synthesized.resources.items()
        if resource["Type"] == kind
    }


def test_alarms_cover_failures_dead_letters_api_errors_throttling_and_unstarted_jobs(
    synthesized: Synthesized,
) -> None:
    alarms = _of_type(synthesized, "AWS::CloudWatch::Alarm")
    watched = {
        (props.get("Namespace"), props.get("MetricName")): props for props in alarms.values()
    }

    assert set(watched) == {
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/ApiGateway", "5XXError"),
        ("KidStory", "ProviderThrottled"),
        ("KidStory", "PendingJobsExpired"),
        ("KidStory", "PendingJobsRetryLater"),
    }
    [topic] = _of_type(synthesized, "AWS::SNS::Topic")
    for props in alarms.values():
        assert props["AlarmActions"] == [{"Ref": topic}]
        assert props["TreatMissingData"] == "notBreaching"
    dead_letters = watched[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
    assert dead_letters["Dimensions"][0]["Value"]["Fn::GetAtt"][0] == "WebhookDeadLetterQueue"


def test_alarms_on_the_functions_metrics_read_only_this_stages(synthesized: Synthesized) -> None:
    stage = synthesized.stack.config.stage
    alarms = _of_type(synthesized, "AWS::CloudWatch::Alarm").values()
    ours = [props for props in alarms if props.get("Namespace") == "KidStory"]

    assert len(ours) == 3
    for props in ours:
        assert props["Dimensions"] == [
            {"Name": "service", "Value": "kidstory"},
            {"Name": "stage", "Value": stage},
        ], props["MetricName"]


def test_the_alarm_topic_is_encrypted_and_published(synthesized: Synthesized) -> None:
    [topic] = _of_type(synthesized, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic
    outputs = synthesized.template.to_json()["Outputs"]
    assert "AlarmTopicArn" in outputs and "DashboardName" in outputs


def test_the_dashboard_shows_stories_media_executions_providers_and_the_api(
    synthesized: Synthesized,
) -> None:
    [dashboard] = _of_type(synthesized, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])

    for metric in (
        "StoriesRequested",
        "StoriesCompleted",
        "StoriesFailed",
        "ImagesGenerated",
        "VideosGenerated",
        "ProviderLatency",
        "StoryWritingTime",
        "ProviderThrottled",
        "ExecutionsStarted",
        "5XXError",
    ):
        assert metric in body, metric


def _dashboard_metrics(synthesized: Synthesized) -> list[list[Any]]:
    """Every metric line of the dashboard: namespace, name, dimension names and values, options."""
    [dashboard] = _of_type(synthesized, "AWS::CloudWatch::Dashboard").values()
    _, parts = dashboard["DashboardBody"]["Fn::Join"]
    body = json.loads("".join(part if isinstance(part, str) else "<token>" for part in parts))
    return [line for widget in body["widgets"] for line in widget["properties"].get("metrics", [])]


def test_the_dashboard_shows_this_stages_metrics_and_provider_latency_by_kind(
    synthesized: Synthesized,
) -> None:
    stage = synthesized.stack.config.stage
    ours = [line for line in _dashboard_metrics(synthesized) if line[0] == "KidStory"]

    for line in ours:
        dimensions = dict(zip(line[2:-1:2], line[3:-1:2], strict=True))
        assert {"service": "kidstory", "stage": stage}.items() <= dimensions.items(), line
    latency_kinds = {
        dict(zip(line[2:-1:2], line[3:-1:2], strict=True)).get("kind")
        for line in ours
        if line[1] == "ProviderLatency"
    }
    assert latency_kinds == {"text", "image", "video"}
