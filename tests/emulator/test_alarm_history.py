"""Contract tests: CloudWatch alarm history (DescribeAlarmHistory) as a bake check reads it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

ALARM = "churn-staging-5xx"


@pytest.fixture
def cloudwatch(embedded_aws: Any) -> Any:
    client = embedded_aws.client("cloudwatch")
    for name in (ALARM, "churn-staging-latency"):
        client.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/SageMaker",
            MetricName="Invocation5XXErrors",
            Dimensions=[{"Name": "EndpointName", "Value": "churn-staging"}, {"Name": "VariantName", "Value": "v1"}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
    return client


def set_state(cloudwatch: Any, state: str, reason: str, name: str = ALARM, **data: Any) -> None:
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason, StateReasonData=json.dumps(data))
    time.sleep(0.002)  # distinct timestamps


def history(cloudwatch: Any, **request: Any) -> list[dict[str, Any]]:
    return cloudwatch.describe_alarm_history(**request)["AlarmHistoryItems"]


def test_each_state_change_is_a_state_update_item_in_cloudwatch_shape(cloudwatch):
    # WHEN the alarm trips and recovers (and is set to the state it is already in once)
    set_state(cloudwatch, "ALARM", "Threshold Crossed: 1 datapoint [4.0] was greater than the threshold", value=4.0)
    set_state(cloudwatch, "ALARM", "still breaching")
    set_state(cloudwatch, "OK", "Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold")

    # THEN two items, newest first, each naming the old and the new state
    recovered, tripped = history(cloudwatch, AlarmName=ALARM)
    assert (tripped["AlarmName"], tripped["AlarmType"], tripped["HistoryItemType"]) == (
        ALARM,
        "MetricAlarm",
        "StateUpdate",
    )
    assert tripped["HistorySummary"] == "Alarm updated from OK to ALARM"
    assert recovered["HistorySummary"] == "Alarm updated from ALARM to OK"
    data = json.loads(tripped["HistoryData"])
    assert data["version"] == "1.0"
    assert data["oldState"]["stateValue"] == "OK"
    assert data["newState"] == {
        "stateValue": "ALARM",
        "stateReason": "Threshold Crossed: 1 datapoint [4.0] was greater than the threshold",
        "stateReasonData": {"value": 4.0},
    }
    assert json.loads(recovered["HistoryData"])["oldState"]["stateReason"] == "still breaching"
    assert tripped["Timestamp"] < recovered["Timestamp"]


def test_history_filters_by_alarm_window_type_and_order(cloudwatch):
    set_state(cloudwatch, "ALARM", "before the window")
    set_state(cloudwatch, "OK", "before the window")
    window_start = datetime.now(UTC)
    time.sleep(0.01)
    set_state(cloudwatch, "ALARM", "during the bake")
    set_state(cloudwatch, "ALARM", "latency", name="churn-staging-latency")
    set_state(cloudwatch, "OK", "during the bake")

    in_window = history(cloudwatch, AlarmName=ALARM, StartDate=window_start, ScanBy="TimestampAscending")
    assert [json.loads(i["HistoryData"])["newState"]["stateValue"] for i in in_window] == ["ALARM", "OK"]
    assert {i["AlarmName"] for i in history(cloudwatch)} == {ALARM, "churn-staging-latency"}
    assert history(cloudwatch, AlarmName=ALARM, EndDate=window_start - timedelta(minutes=1)) == []
    assert history(cloudwatch, HistoryItemType="ConfigurationUpdate") == []
    assert history(cloudwatch, AlarmTypes=["CompositeAlarm"]) == []


def test_a_bake_window_question_was_the_alarm_in_alarm(cloudwatch):
    """The gate's question, answered from the history: the state at the window's start and every change in it."""
    set_state(cloudwatch, "ALARM", "breach before the bake")
    bake_start = datetime.now(UTC)
    time.sleep(0.01)
    set_state(cloudwatch, "OK", "recovered during the bake")
    bake_end = datetime.now(UTC)

    changes = history(cloudwatch, AlarmName=ALARM, StartDate=bake_start, EndDate=bake_end, ScanBy="TimestampAscending")
    state_at_start = json.loads(changes[0]["HistoryData"])["oldState"]["stateValue"]
    assert state_at_start == "ALARM"  # it was in ALARM when the bake began, though OK at its end
    clean = history(cloudwatch, AlarmName="churn-staging-latency", StartDate=bake_start, EndDate=bake_end)
    assert clean == []


def test_history_pages_with_max_records_and_next_token(cloudwatch):
    for i in range(5):
        set_state(cloudwatch, "ALARM" if i % 2 == 0 else "OK", f"change {i}")
    first = cloudwatch.describe_alarm_history(AlarmName=ALARM, MaxRecords=2)
    assert len(first["AlarmHistoryItems"]) == 2
    rest = cloudwatch.describe_alarm_history(AlarmName=ALARM, MaxRecords=2, NextToken=first["NextToken"])
    pages = list(cloudwatch.get_paginator("describe_alarm_history").paginate(AlarmName=ALARM))
    assert sum(len(p["AlarmHistoryItems"]) for p in pages) == 5
    reasons = [json.loads(i["HistoryData"])["newState"]["stateReason"] for i in first["AlarmHistoryItems"]]
    assert reasons == ["change 4", "change 3"]
    assert json.loads(rest["AlarmHistoryItems"][0]["HistoryData"])["newState"]["stateReason"] == "change 2"


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"NextToken": "not-a-token"}, "InvalidNextToken"),
        ({"MaxRecords": 101}, "ValidationError"),
        ({"ScanBy": "Sideways"}, "ValidationError"),
    ],
)
def test_invalid_history_requests_are_refused(cloudwatch, request_, code):
    with pytest.raises(ClientError) as refused:
        cloudwatch.describe_alarm_history(**request_)
    assert refused.value.response["Error"]["Code"] == code
