"""The endpoint invocation metrics SageMaker publishes to CloudWatch, one datapoint set per ``InvokeEndpoint``.

As the SageMaker developer guide lists them ("Amazon SageMaker AI endpoint invocation metrics"), in the namespace
``AWS/SageMaker`` with the dimensions ``EndpointName`` and ``VariantName``: ``Invocations`` (each request the
variant received: 1), ``Invocation4XXErrors`` / ``Invocation5XXErrors`` (1 when the model answered with a 4xx /
5xx, else 0), ``ModelLatency`` and ``OverheadLatency`` (microseconds; the model's time answering, and SageMaker's
around it). SageMaker aggregates them per minute; here each invocation is its own datapoint at its time, which
``GetMetricStatistics`` / ``GetMetricData`` aggregate over any period. Requests refused before a variant is chosen
(unknown endpoint, endpoint not serving) have no variant and publish nothing.
"""

from __future__ import annotations

import logging

from moto.cloudwatch.models import cloudwatch_backends

logger = logging.getLogger(__name__)

NAMESPACE = "AWS/SageMaker"


def publish(
    account: str,
    region: str,
    endpoint: str,
    variant: str,
    *,
    status: int,
    model_latency_us: float,
    overhead_latency_us: float,
) -> None:
    """The datapoints of one invocation of ``variant`` answered with HTTP ``status`` by the model."""
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    values = {
        "Invocations": (1.0, "None"),
        "Invocation4XXErrors": (1.0 if 400 <= status < 500 else 0.0, "None"),
        "Invocation5XXErrors": (1.0 if status >= 500 else 0.0, "None"),
        "ModelLatency": (float(model_latency_us), "Microseconds"),
        "OverheadLatency": (float(overhead_latency_us), "Microseconds"),
    }
    data = [
        {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": unit}  # timestamped now by moto
        for name, (value, unit) in values.items()
    ]
    try:
        cloudwatch_backends[account][region].put_metric_data(NAMESPACE, data)
    except Exception:  # metrics never fail an invocation
        logger.warning("endpoint %s: invocation metrics not recorded", endpoint, exc_info=True)
