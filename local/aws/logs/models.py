"""CloudWatch Logs extracts the metrics of embedded-metric-format (EMF) log events; moto only stores the events.

Each log event ``PutLogEvents`` stores (moto refuses those more than 14 days old or 2 hours ahead: they extract
nothing) is read as CloudWatch Logs reads it (:mod:`local.aws.cloudwatch.emf`); its metrics are published to
CloudWatch in the log group's account and Region, as ``PutMetricData`` would: one datapoint per value, at the EMF
``Timestamp``, with the metric's unit and storage resolution, once per DimensionSet. The event is stored whether or
not it is EMF and whether or not its EMF is valid, exactly as sent. The metrics exist as soon as ``PutLogEvents``
answers (CloudWatch takes a moment); publishing them never fails the request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.logs.models import LogStream

from local.aws.cloudwatch.emf import ExtractedMetric, extract
from local.aws.patches import methods

logger = logging.getLogger(__name__)

_moto_put_log_events = LogStream.put_log_events


def datum(metric: ExtractedMetric) -> dict[str, Any]:
    """The ``PutMetricData`` MetricDatum of an extracted metric (moto keeps UTC times naive)."""
    return {
        "MetricName": metric.name,
        "Dimensions": [{"Name": name, "Value": value} for name, value in metric.dimensions],
        "Timestamp": metric.timestamp.astimezone(UTC).replace(tzinfo=None),
        "Values": list(metric.values),
        "Unit": metric.unit,
        "StorageResolution": metric.storage_resolution,
    }


def publish(account: str, region: str, messages: Iterable[str]) -> None:
    """The metrics of the log events' ``messages``, put into CloudWatch of ``account`` and ``region``."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        for metric in extract(message):
            by_namespace.setdefault(metric.namespace, []).append(datum(metric))
    backend = cloudwatch_backends[account][region]
    for namespace, data in by_namespace.items():
        try:
            backend.put_metric_data(namespace, data)
        except Exception:  # extraction never fails PutLogEvents
            logger.warning("EMF metrics of namespace %s not recorded", namespace, exc_info=True)


class EmfLogStream(LogStream):
    """Metric extraction when log events are stored (installed on ``LogStream``)."""

    def put_log_events(self, log_events: list[dict[str, Any]]) -> str:
        token = _moto_put_log_events(self, log_events)
        publish(self.account_id, self.region, (str(event["message"]) for event in log_events))
        return token


PATCHES = methods(
    LogStream,
    EmfLogStream,
    {"put_log_events": "CloudWatch Logs extracts the metrics of embedded-metric-format log events; moto does not"},
)
