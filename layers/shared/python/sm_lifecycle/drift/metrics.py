"""The drift check's CloudWatch metrics, as EMF log lines (Powertools ``single_metric``: no call to CloudWatch).

Namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimensions ``service`` and ``EndpointName``: ``DriftShare`` (0-1),
``DriftDetected`` (0 or 1), ``DriftRecordsChecked`` (Count); ``DriftFeatureScore`` per feature (dimension ``Feature``
too), for the :data:`MAX_FEATURES` highest-scored drifted features then the others, to bound the dimension's
cardinality.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from sm_lifecycle.drift.model import DriftResult

MAX_FEATURES = 20
DEFAULT_NAMESPACE = "SageMakerLifecycle"


def record(result: DriftResult, endpoint: str) -> None:
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    dimensions = {
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME") or "sagemaker-lifecycle",
        "EndpointName": endpoint,
    }
    values = (
        ("DriftRecordsChecked", MetricUnit.Count, float(result.records)),
        ("DriftShare", MetricUnit.NoUnit, result.drift_share),
        ("DriftDetected", MetricUnit.Count, 1.0 if result.drift_detected else 0.0),
    )
    for name, unit, value in values:
        with single_metric(name=name, unit=unit, value=value, namespace=namespace, default_dimensions=dimensions):
            pass
    ranked = sorted(result.features, key=lambda f: (not f.drifted, -f.score))[:MAX_FEATURES]
    for feature in ranked:
        with single_metric(
            name="DriftFeatureScore",
            unit=MetricUnit.NoUnit,
            value=feature.score,
            namespace=namespace,
            default_dimensions={**dimensions, "Feature": feature.name},
        ):
            pass
