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
