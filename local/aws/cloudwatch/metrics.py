"""CloudWatch metrics told apart as CloudWatch tells them: by namespace, name and the whole set of dimensions.

The CloudWatch API reference ("Dimension"): "dimensions are part of the unique identifier for a metric, whenever you
add a unique name/value pair to one of your metrics, you are creating a new variation of that metric". moto matches
loosely: a ``GetMetricData`` MetricStat with dimensions ignores its namespace and compares the dimensions sorted by
a broken ordering (so the order they are listed in matters), one without dimensions reads every metric of that name
whatever its dimensions; ``GetMetricStatistics`` reads every metric whose dimensions include the asked ones;
``ListMetrics`` lists a metric with no dimension, or with two or more, once per datapoint. Here:

* a MetricStat (``GetMetricData``) and ``GetMetricStatistics`` read the one metric of exactly that namespace, name
  and dimension set, listed in any order; a datapoint put without a unit has the unit "None" for a ``Unit`` filter;
* ``ListMetrics`` lists each metric once (its ``Dimensions`` filter stays moto's: metrics having those dimensions);
* ``GetMetricData`` answers in the order of its queries, without those whose ``ReturnData`` is false.

Kept from moto: periods counted from ``StartTime``, the default label "<name> <stat>", the statistics moto computes
(Sum, Average, Minimum, Maximum, SampleCount), its Metric Math (an expression that is the Id of a MetricStat query)
and its rough Metrics Insights ``SELECT`` (the sum of every datapoint). Not modelled: storage resolution (every
datapoint is kept at its own time, so any period reads it), percentiles, rounding of the window's edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.metric_data_expression_parser import parse_expression
from moto.cloudwatch.models import CloudWatchBackend, MetricDatumBase, Statistics

MetricKey = tuple[str, str, frozenset[tuple[str | None, str | None]]]

_moto_get_metric_data = CloudWatchBackend.get_metric_data
_moto_get_metric_statistics = CloudWatchBackend.get_metric_statistics


def metric_key(namespace: str, name: str, dimensions: Iterable[Mapping[str, Any]]) -> MetricKey:
    """A metric's identity from the ``[{"Name": ..., "Value": ...}]`` dimensions of a request."""
    return namespace, name, frozenset((d["Name"], d["Value"]) for d in dimensions)


def key_of(datum: MetricDatumBase) -> MetricKey:
    """The identity of the metric a stored datapoint belongs to."""
    return datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions)


def unit_of(datum: MetricDatumBase) -> str:
    return str(datum.unit) if datum.unit else "None"


class _OneMetric:
    """A CloudWatch backend seen through one metric: moto's statistics code reads only that metric's datapoints."""

    def __init__(self, backend: CloudWatchBackend, key: MetricKey) -> None:
        self.backend = backend
        self.key = key

    def get_all_metrics(self) -> list[MetricDatumBase]:
        return [datum for datum in self.backend.get_all_metrics() if key_of(datum) == self.key]


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = start.replace(microsecond=0), end.replace(microsecond=0)
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    return start, end


def _result(query: Mapping[str, Any], label: str, values: list[Any], timestamps: list[datetime]) -> dict[str, Any]:
    return {"id": query["Id"], "label": label, "values": values, "timestamps": timestamps, "status_code": "Complete"}


def _periods(
    data: list[MetricDatumBase], start: datetime, end: datetime, period: timedelta, stat: str
) -> tuple[list[Any], list[datetime]]:
    """The statistic of each period from ``start`` (up to ``end``) that holds datapoints, oldest first."""
    values: list[Any] = []
    timestamps: list[datetime] = []
    begin = start
    while begin <= end:
        inside = [datum for datum in data if begin <= datum.timestamp < begin + period]
        if inside:
            statistics = Statistics([stat], begin)
            statistics.metric_data = inside
            values.append(statistics.get_statistics_for_type(stat))
            timestamps.append(begin)
        begin += period
    return values, timestamps


def metric_stat(
    query: Mapping[str, Any], data: list[MetricDatumBase], start: datetime, end: datetime, scan_by: str
) -> dict[str, Any]:
    """The result of one MetricStat query over the datapoints ``data`` of the window."""
    stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
    key = metric_key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions") or [])
    unit = stat.get("Unit")
    matching = [datum for datum in data if key_of(datum) == key and unit in (None, unit_of(datum))]
    values, timestamps = _periods(matching, start, end, timedelta(seconds=int(stat["Period"])), stat["Stat"])
    if scan_by == "TimestampDescending":
        values.reverse()
        timestamps.reverse()
    return _result(query, query.get("Label") or f"{metric['MetricName']} {stat['Stat']}", values, timestamps)


class MetricIdentityBackend(CloudWatchBackend):
    """Reading metrics by their identity (installed on ``CloudWatchBackend``)."""

    def get_metric_data(
        self,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        start, end = _window(start_time, end_time)
        data = [datum for datum in self.get_all_metrics() if start <= datum.timestamp < end]
        results = {q["Id"]: metric_stat(q, data, start, end, scan_by) for q in queries if "MetricStat" in q}
        stats = list(results.values())
        for query in (q for q in queries if "Expression" in q):
            if query["Expression"].startswith("SELECT"):
                results[query["Id"]] = _moto_get_metric_data(self, [query], start, end, scan_by)[0]
            else:
                values, timestamps = parse_expression(query["Expression"], stats)
                results[query["Id"]] = _result(query, query.get("Label") or query["Id"], values, timestamps)
        return [results[q["Id"]] for q in queries if q["Id"] in results and q.get("ReturnData", True) is not False]

    def get_metric_statistics(  # noqa: PLR0917 - moto's signature
        self,
        namespace: str,
        metric_name: str,
        start_time: datetime,
        end_time: datetime,
        period: int,
        stats: list[str],
        dimensions: list[dict[str, str]],
        unit: str | None = None,
    ) -> list[Statistics]:
        one = cast(CloudWatchBackend, _OneMetric(self, metric_key(namespace, metric_name, dimensions or [])))
        return _moto_get_metric_statistics(one, namespace, metric_name, start_time, end_time, period, stats, [], unit)

    def get_filtered_metrics(
        self, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
    ) -> list[MetricDatumBase]:
        listed: dict[MetricKey, MetricDatumBase] = {}
        for datum in self.get_all_metrics():
            key = key_of(datum)
            if key not in listed and datum.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
                listed[key] = datum
        return list(listed.values())
