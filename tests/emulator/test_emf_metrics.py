"""Contract tests: CloudWatch Logs extracts the metrics of embedded-metric-format (EMF) log events put with
PutLogEvents, as the functions' Powertools ``Metrics`` print them, and GetMetricData / ListMetrics read them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

NAMESPACE = "SageMakerLifecycle"
GROUP = "/aws/lambda/promote"
STREAM = "2026/01/01/[$LATEST]abc"
SERVICE = [{"Name": "service", "Value": "promote"}]
OTHER_ACCOUNT = "111122223333"


def now_ms() -> int:
    return int(time.time() * 1000)


def emf(metrics: dict[str, Any], dimensions: list[list[str]], timestamp: int | None = None, **members: Any) -> str:
    """An EMF line as Powertools builds it: one directive, the metrics' values and dimension values at the root."""
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": dimensions,
        "Metrics": [{"Name": name, "Unit": "Count"} for name in metrics],
    }
    metadata = {"Timestamp": now_ms() if timestamp is None else timestamp, "CloudWatchMetrics": [directive]}
    return json.dumps({"_aws": metadata, "service": "promote", **members, **metrics})


@pytest.fixture
def put_lines(embedded_aws: Any) -> Any:
    """``put_lines(*lines, account_id=None)``: the lines put as log events of ``GROUP`` (created on first use)."""
    created: set[str | None] = set()

    def put(*lines: str, account_id: str | None = None) -> Any:
        logs = embedded_aws.client("logs", account_id=account_id)
        if account_id not in created:
            logs.create_log_group(logGroupName=GROUP)
            logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
            created.add(account_id)
        events = [{"timestamp": now_ms(), "message": line} for line in lines]
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=events)
        return logs

    return put


def metric_data(
    cloudwatch: Any,
    name: str,
    stat: str = "Sum",
    *,
    dimensions: list[dict[str, str]] = SERVICE,
    start: datetime | None = None,
    end: datetime | None = None,
    **metric_stat: Any,
) -> list[float]:
    """The values of GetMetricData for one metric over the last five minutes (one period)."""
    now = datetime.now(UTC)
    query = {
        "Id": "q",
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": dimensions},
            "Period": 600,
            "Stat": stat,
            **metric_stat,
        },
    }
    results = cloudwatch.get_metric_data(
        MetricDataQueries=[query],
        StartTime=start or now - timedelta(minutes=5),
        EndTime=end or now + timedelta(minutes=1),
    )["MetricDataResults"]
    return [float(v) for v in results[0]["Values"]]


def listed(cloudwatch: Any, **request: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
    metrics = cloudwatch.list_metrics(**request)["Metrics"]
    return sorted(
        (m["Namespace"], m["MetricName"], sorted((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
        for m in metrics
    )


def test_a_powertools_single_metric_line_is_read_by_get_metric_data(embedded_aws, put_lines, capsys, monkeypatch):
    # GIVEN the EMF line Powertools prints for a single metric of the function ``promote``
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "promote")
    with single_metric(name="Promoted", unit=MetricUnit.Count, value=1, namespace=NAMESPACE):
        pass
    line = capsys.readouterr().out.strip()
    assert json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]

    # WHEN it is put twice as log events of the function's log group
    logs = put_lines(line, line)

    # THEN the metric holds both values, under the namespace and dimension Powertools gave it
    cloudwatch = embedded_aws.client("cloudwatch")
    assert metric_data(cloudwatch, "Promoted") == [2.0]
    assert metric_data(cloudwatch, "Promoted", "Average", Unit="Count") == [1.0]
    assert listed(cloudwatch, Namespace=NAMESPACE) == [(NAMESPACE, "Promoted", [("service", "promote")])]
    # AND the log events are stored as they were sent
    events = logs.get_log_events(logGroupName=GROUP, logStreamName=STREAM)["events"]
    assert [e["message"] for e in events] == [line, line]


def test_powertools_metrics_of_one_invocation_give_a_value_per_added_metric(embedded_aws, put_lines, capsys):
    # GIVEN a handler's Metrics with one metric added three times and another once, flushed as Powertools does
    metrics = Metrics(namespace=NAMESPACE, service="promote")
    for latency in (120.0, 80.0, 100.0):
        metrics.add_metric(name="ModelLoad", unit=MetricUnit.Milliseconds, value=latency)
    metrics.add_metric(name="Promoted", unit=MetricUnit.Count, value=1)
    metrics.add_dimension(name="stage", value="prod")
    metrics.flush_metrics()
    line = capsys.readouterr().out.strip()
    assert json.loads(line)["ModelLoad"] == [120.0, 80.0, 100.0]

    # WHEN the line is put as a log event
    put_lines(line)

    # THEN each value is a datapoint of the metric (Powertools' one dimension set: service and stage)
    cloudwatch = embedded_aws.client("cloudwatch")
    dimensions = [{"Name": "stage", "Value": "prod"}, *SERVICE]
    assert metric_data(cloudwatch, "ModelLoad", "Sum", dimensions=dimensions) == [300.0]
    assert metric_data(cloudwatch, "ModelLoad", "Average", dimensions=dimensions) == [100.0]
    assert metric_data(cloudwatch, "ModelLoad", "Maximum", dimensions=dimensions) == [120.0]
    assert metric_data(cloudwatch, "ModelLoad", "SampleCount", dimensions=dimensions) == [3.0]
    assert metric_data(cloudwatch, "ModelLoad", "Sum", dimensions=dimensions, Unit="Milliseconds") == [300.0]
    assert metric_data(cloudwatch, "ModelLoad", "Sum", dimensions=dimensions, Unit="Seconds") == []
    # AND the metric is only that dimension set: not the service alone
    assert metric_data(cloudwatch, "ModelLoad") == []


def test_each_dimension_set_is_a_metric_of_its_own(embedded_aws, put_lines):
    # WHEN one EMF line names two dimension sets
    put_lines(emf({"Rejected": 3}, [["service"], ["stage", "service"]], stage="prod"))

    # THEN there are two metrics, each with the value, read by its own dimensions (listed in any order)
    cloudwatch = embedded_aws.client("cloudwatch")
    assert listed(cloudwatch, Namespace=NAMESPACE) == [
        (NAMESPACE, "Rejected", [("service", "promote")]),
        (NAMESPACE, "Rejected", [("service", "promote"), ("stage", "prod")]),
    ]
    assert metric_data(cloudwatch, "Rejected") == [3.0]
    both = [*SERVICE, {"Name": "stage", "Value": "prod"}]
    assert metric_data(cloudwatch, "Rejected", dimensions=both) == [3.0]
    assert metric_data(cloudwatch, "Rejected", dimensions=both[::-1]) == [3.0]
    # AND no metric of that name without dimensions, nor in another namespace
    assert metric_data(cloudwatch, "Rejected", dimensions=[]) == []
    assert listed(cloudwatch, Namespace="Other") == []
    assert listed(cloudwatch, Namespace=NAMESPACE, Dimensions=[{"Name": "stage"}]) == [
        (NAMESPACE, "Rejected", [("service", "promote"), ("stage", "prod")])
    ]


def test_an_empty_dimension_set_is_the_metric_without_dimensions(embedded_aws, put_lines):
    put_lines(emf({"Runs": 2}, [[]]), emf({"Runs": 5}, [[]]))

    cloudwatch = embedded_aws.client("cloudwatch")
    assert metric_data(cloudwatch, "Runs", dimensions=[]) == [7.0]
    assert listed(cloudwatch) == [(NAMESPACE, "Runs", [])]


def test_a_list_of_values_is_a_datapoint_per_value(embedded_aws, put_lines):
    put_lines(emf({"Latency": [10, 20, 60]}, [["service"]]))

    cloudwatch = embedded_aws.client("cloudwatch")
    assert metric_data(cloudwatch, "Latency", "Sum") == [90.0]
    assert metric_data(cloudwatch, "Latency", "Average") == [30.0]
    assert metric_data(cloudwatch, "Latency", "Maximum") == [60.0]
    assert metric_data(cloudwatch, "Latency", "SampleCount") == [3.0]


def test_the_datapoints_are_at_the_emf_timestamp_with_unit_none_by_default(embedded_aws, put_lines):
    # GIVEN an EMF line of an hour ago whose metric has no unit
    hour_ago = now_ms() - 3_600_000
    line = json.loads(emf({"Drifted": 1}, [["service"]], timestamp=hour_ago))
    del line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"]
    put_lines(json.dumps(line))

    # THEN the datapoint is an hour old (not in the last five minutes), with the unit None
    cloudwatch = embedded_aws.client("cloudwatch")
    then = datetime.fromtimestamp(hour_ago / 1000, UTC)
    window = {"start": then - timedelta(minutes=5), "end": then + timedelta(minutes=5)}
    assert metric_data(cloudwatch, "Drifted", **window) == [1.0]
    assert metric_data(cloudwatch, "Drifted", **window, Unit="None") == [1.0]
    assert metric_data(cloudwatch, "Drifted") == []


def _invalid(change: str) -> str:
    """A valid Powertools-shaped line, broken one way."""
    root = json.loads(emf({"Broken": 1}, [["service"]]))
    directive = root["_aws"]["CloudWatchMetrics"][0]
    if change == "no namespace":
        del directive["Namespace"]
    elif change == "value not a number":
        root["Broken"] = "1"
    elif change == "value a boolean":
        root["Broken"] = True
    elif change == "dimension member missing":
        directive["Dimensions"] = [["service", "stage"]]
    elif change == "dimension value not a string":
        root["service"] = 7
    elif change == "metric member missing":
        del root["Broken"]
    elif change == "no timestamp":
        del root["_aws"]["Timestamp"]
    elif change == "timestamp three weeks old":
        root["_aws"]["Timestamp"] = now_ms() - 21 * 86_400_000
    elif change == "unknown unit":
        directive["Metrics"][0]["Unit"] = "Furlongs"
    elif change == "storage resolution 30":
        directive["Metrics"][0]["StorageResolution"] = 30
    elif change == "101 values":
        root["Broken"] = list(range(101))
    elif change == "31 dimensions":
        directive["Dimensions"] = [[f"d{i}" for i in range(31)]]
        root.update({f"d{i}": "x" for i in range(31)})
    elif change == "101 metrics":
        directive["Metrics"] = [{"Name": f"m{i}"} for i in range(101)]
        root.update({f"m{i}": 1 for i in range(101)})
    elif change == "no dimension set":
        directive["Dimensions"] = []
    elif change == "dimension name starting with a colon":
        directive["Dimensions"] = [[":service"]]
        root[":service"] = "promote"
    return json.dumps(root)


INVALID = [
    "no namespace",
    "value not a number",
    "value a boolean",
    "dimension member missing",
    "dimension value not a string",
    "metric member missing",
    "no timestamp",
    "timestamp three weeks old",
    "unknown unit",
    "storage resolution 30",
    "101 values",
    "31 dimensions",
    "101 metrics",
    "no dimension set",
    "dimension name starting with a colon",
]


@pytest.mark.parametrize("change", INVALID)
def test_invalid_emf_extracts_nothing_and_the_log_event_is_kept(embedded_aws, put_lines, change):
    # GIVEN a valid directive beside the broken one in the same document
    root = json.loads(_invalid(change))
    root["_aws"]["CloudWatchMetrics"].append({"Namespace": NAMESPACE, "Dimensions": [[]], "Metrics": [{"Name": "Ok"}]})
    root["Ok"] = 1
    line = json.dumps(root)

    logs = put_lines(line)

    # THEN no metric at all is extracted from the document, and the log event is stored as sent
    assert listed(embedded_aws.client("cloudwatch")) == []
    events = logs.get_log_events(logGroupName=GROUP, logStreamName=STREAM)["events"]
    assert [e["message"] for e in events] == [line]


@pytest.mark.parametrize(
    "line",
    [
        "START RequestId: 8f5e Version: $LATEST",
        '{"level": "INFO", "message": "handled: promoted", "service": "promote"}',
        '[{"_aws": {}}]',
        'prefix {"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}}',
        '{"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "x": NaN}',
    ],
)
def test_a_line_that_is_not_an_emf_object_extracts_nothing(embedded_aws, put_lines, line):
    logs = put_lines(line)

    assert listed(embedded_aws.client("cloudwatch")) == []
    assert logs.get_log_events(logGroupName=GROUP, logStreamName=STREAM)["events"][0]["message"] == line


def test_the_metric_lands_in_the_log_groups_account_only(embedded_aws, put_lines):
    # WHEN another account's function logs an EMF line
    put_lines(emf({"Promoted": 1}, [["service"]]), account_id=OTHER_ACCOUNT)

    # THEN that account has the metric, the default account has none
    theirs = embedded_aws.client("cloudwatch", account_id=OTHER_ACCOUNT)
    assert metric_data(theirs, "Promoted") == [1.0]
    assert listed(embedded_aws.client("cloudwatch")) == []


def test_put_metric_data_metrics_are_told_apart_by_namespace_and_dimensions(embedded_aws):
    # GIVEN the same metric name put with two dimension sets, none, and in another namespace
    cloudwatch = embedded_aws.client("cloudwatch")
    both = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "v1"}]
    for namespace, dimensions, value in ((NAMESPACE, both, 1), (NAMESPACE, [], 10), ("Other", both, 100)):
        for _ in range(2):
            cloudwatch.put_metric_data(
                Namespace=namespace, MetricData=[{"MetricName": "Calls", "Dimensions": dimensions, "Value": value}]
            )

    # THEN each is a metric of its own, listed once, whatever the order its dimensions are asked in
    assert metric_data(cloudwatch, "Calls", dimensions=both[::-1]) == [2.0]
    assert metric_data(cloudwatch, "Calls", dimensions=[]) == [20.0]
    assert listed(cloudwatch, MetricName="Calls") == [
        ("Other", "Calls", [("EndpointName", "ep"), ("VariantName", "v1")]),
        (NAMESPACE, "Calls", []),
        (NAMESPACE, "Calls", [("EndpointName", "ep"), ("VariantName", "v1")]),
    ]
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="Calls",
        Dimensions=both[:1],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert points == []


def test_get_metric_data_answers_in_query_order_without_return_data_false(embedded_aws, put_lines):
    put_lines(emf({"Errors": 2, "Invocations": 8}, [["service"]]))
    now = datetime.now(UTC)

    def stat(query_id: str, name: str) -> dict[str, Any]:
        metric = {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": SERVICE}
        return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": 600, "Stat": "Sum"}, "ReturnData": False}

    results = embedded_aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {"Id": "failed", "Expression": "errors", "Label": "failed"},  # moto's math: one query's Id
            stat("errors", "Errors"),
            {**stat("invocations", "Invocations"), "ReturnData": True},
            stat("hidden", "Invocations"),
        ],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"]

    assert [(r["Id"], r["Label"], r["Values"]) for r in results] == [
        ("failed", "failed", [2.0]),
        ("invocations", "Invocations Sum", [8.0]),
    ]
