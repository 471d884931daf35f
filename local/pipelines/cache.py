"""Step caching (``CacheConfig``) as SageMaker Pipelines does it.

A step whose cache-key attributes (the ones SageMaker documents per step type as "Default cache key attributes by
pipeline step type"; outputs are not part of the key) match a successful run of the same step of the same pipeline
within ``ExpireAfter`` reuses that run's results and reports ``CacheHitResult`` instead of starting a job.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local.aws.timestamps import with_iso_times
from local.pipelines.execution import Execution, StepRecord
from local.pipelines.expressions import ExpressionError

CACHE_KEY_ATTRIBUTES = {
    "Processing": ("AppSpecification", "Environment", "ProcessingInputs"),
    "Training": (
        "AlgorithmSpecification",
        "CheckpointConfig",
        "DebugHookConfig",
        "DebugRuleConfigurations",
        "Environment",
        "HyperParameters",
        "InputDataConfig",
    ),
}
_DURATION = re.compile(
    r"^P?(?:(?P<Y>\d+)Y)?(?:(?P<MO>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+)S)?)?$",
    re.IGNORECASE,
)
_SECONDS = {"Y": 365 * 86400, "MO": 30 * 86400, "W": 7 * 86400, "D": 86400, "H": 3600, "MI": 60, "S": 1}


def expire_after_seconds(value: str | None) -> float:
    """``CacheConfig.ExpireAfter`` (an ISO 8601 duration such as ``P30D`` or ``PT1H``) in seconds; none: forever."""
    if not value:
        return float("inf")
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        raise ExpressionError(f"CacheConfig.ExpireAfter {value!r} is not an ISO 8601 duration")
    return float(sum(int(n) * _SECONDS[unit] for unit, n in match.groupdict().items() if n))


def cache_key(execution: Execution, step: Mapping[str, Any], arguments: Mapping[str, Any]) -> str | None:
    """The step's cache key (``None``: the step is not cached)."""
    attributes = CACHE_KEY_ATTRIBUTES.get(step["Type"])
    if not attributes or not (step.get("CacheConfig") or {}).get("Enabled"):
        return None
    key = {"pipeline": execution.pipeline_name, "step": step["Name"], "type": step["Type"]}
    key |= {name: arguments.get(name) for name in attributes}
    return json.dumps(with_iso_times(key), sort_keys=True)


@dataclass
class CachedStep:
    """A successful step run that later runs with the same cache key reuse."""

    execution_arn: str
    finished: float
    properties: dict[str, Any]
    metadata: dict[str, Any]


class StepCache:
    """The successful runs of cached steps, by cache key (for the runner's lifetime)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, list[CachedStep]] = {}

    def hit(self, execution: Execution, step: Mapping[str, Any], arguments: Mapping[str, Any]) -> CachedStep | None:
        """The newest successful run of this step with the same cache key, within ``ExpireAfter``."""
        key = cache_key(execution, step, arguments)
        if key is None:
            return None
        oldest = time.time() - expire_after_seconds(step["CacheConfig"].get("ExpireAfter"))
        with self._lock:
            runs = [run for run in self._runs.get(key, []) if run.finished >= oldest]
        return runs[-1] if runs else None

    def remember(
        self,
        execution: Execution,
        step: Mapping[str, Any],
        arguments: Mapping[str, Any],
        properties: dict[str, Any],
        record: StepRecord,
    ) -> None:
        key = cache_key(execution, step, arguments)
        if key is not None:
            run = CachedStep(execution.arn, time.time(), copy.deepcopy(properties), copy.deepcopy(record.metadata))
            with self._lock:
                self._runs.setdefault(key, []).append(run)
