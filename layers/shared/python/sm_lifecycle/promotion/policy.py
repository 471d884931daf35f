"""Promotion policy of an environment: thresholds, champion comparison and mode, read from environment variables.

The template passes the stack parameters through (``PROMOTION_MODE``, ``PROMOTION_THRESHOLDS``,
``PROMOTION_PRIMARY_METRIC``, ``PROMOTION_MARGIN``, ``PROMOTION_TOLERANCE``). Every setting is validated when the
function starts; a bad one raises ``ConfigurationError`` naming the variable.

Metric names are those of SageMaker's model-quality statistics report (``binary_classification_metrics``,
``multiclass_classification_metrics``, ``regression_metrics``). Each metric has a direction (higher or lower is
better), which the champion comparison uses.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sm_lifecycle.kernel.errors import ConfigurationError
from sm_lifecycle.kernel.settings import non_negative

BINARY = "binary_classification_metrics"
MULTICLASS = "multiclass_classification_metrics"
REGRESSION = "regression_metrics"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)


@dataclass(frozen=True)
class MetricSpec:
    """What the policy knows about a metric: better direction, valid range, report sections that carry it."""

    name: str
    higher_is_better: bool
    sections: frozenset[str]
    minimum: float = -math.inf
    maximum: float = math.inf


def _rate(name: str, *sections: str, higher: bool = True) -> MetricSpec:
    return MetricSpec(name, higher, frozenset(sections), 0.0, 1.0)


# SageMaker model-quality metrics ("Model quality metrics and Amazon CloudWatch monitoring" in the SageMaker guide).
METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        _rate("accuracy", BINARY, MULTICLASS),
        _rate("precision", BINARY),
        _rate("recall", BINARY),
        _rate("f0_5", BINARY),
        _rate("f1", BINARY),
        _rate("f2", BINARY),
        _rate("auc", BINARY),
        _rate("true_positive_rate", BINARY),
        _rate("true_negative_rate", BINARY),
        _rate("false_positive_rate", BINARY, higher=False),
        _rate("false_negative_rate", BINARY, higher=False),
        _rate("weighted_recall", MULTICLASS),
        _rate("weighted_precision", MULTICLASS),
        _rate("weighted_f0_5", MULTICLASS),
        _rate("weighted_f1", MULTICLASS),
        _rate("weighted_f2", MULTICLASS),
        MetricSpec("mae", False, frozenset({REGRESSION}), 0.0),
        MetricSpec("mse", False, frozenset({REGRESSION}), 0.0),
        MetricSpec("rmse", False, frozenset({REGRESSION}), 0.0),
        MetricSpec("r2", True, frozenset({REGRESSION}), maximum=1.0),
    )
}

# Differences below this are float noise (0.93 - 0.92 is 0.010000000000000009).
EPSILON = 1e-9

_THRESHOLD = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(>=|<=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class Mode(StrEnum):
    AUTO = "auto"  # approve or reject
    RECOMMEND = "recommend"  # leave pending, send the comparison to the approvers
    OFF = "off"  # do nothing


@dataclass(frozen=True)
class Threshold:
    metric: str
    operator: str
    bound: float

    def passes(self, value: float) -> bool:
        return {
            ">=": value >= self.bound,
            ">": value > self.bound,
            "<=": value <= self.bound,
            "<": value < self.bound,
        }[self.operator]

    def __str__(self) -> str:
        return f"{self.metric}{self.operator}{self.bound:g}"


def parse_thresholds(text: str, *, setting: str = "PROMOTION_THRESHOLDS") -> tuple[Threshold, ...]:
    """``"auc>=0.90,false_positive_rate<=0.05"`` -> thresholds; ``ConfigurationError`` naming ``setting`` if bad."""
    thresholds: list[Threshold] = []
    for part in text.split(","):
        if not part.strip():
            raise ConfigurationError(f"{setting}: empty threshold in {text!r} (expected e.g. 'auc>=0.90,f1>=0.6')")
        match = _THRESHOLD.match(part)
        if match is None:
            raise ConfigurationError(f"{setting}: cannot parse {part.strip()!r} (expected METRIC>=|>|<=|<NUMBER)")
        metric, operator, bound_text = match.groups()
        spec = _known(metric, setting)
        bound = float(bound_text)
        if not spec.minimum <= bound <= spec.maximum:
            raise ConfigurationError(
                f"{setting}: bound {bound_text} of {metric} is outside its range [{spec.minimum:g}, {spec.maximum:g}]"
            )
        if any(t.metric == metric and t.operator[0] == operator[0] for t in thresholds):
            raise ConfigurationError(f"{setting}: {metric} has two {operator[0]} bounds")
        thresholds.append(Threshold(metric, operator, bound))
    return tuple(thresholds)


def _known(metric: str, setting: str) -> MetricSpec:
    spec = METRICS.get(metric)
    if spec is None:
        raise ConfigurationError(f"{setting}: unknown metric {metric!r} (known: {', '.join(sorted(METRICS))})")
    return spec


@dataclass(frozen=True)
class PromotionPolicy:
    """An environment's rule for judging a newly registered model package."""

    mode: Mode
    thresholds: tuple[Threshold, ...]
    primary_metric: str
    margin: float  # the challenger must beat the champion's primary metric by at least this (absolute)
    tolerance: float  # any other policy metric may be worse than the champion's by at most this (absolute)

    def __post_init__(self) -> None:
        sections = frozenset(PROBLEM_TYPES)
        for metric in self.metrics:
            sections &= METRICS[metric].sections
        if not sections:
            raise ConfigurationError(
                "PROMOTION_THRESHOLDS / PROMOTION_PRIMARY_METRIC: metrics "
                f"{', '.join(self.metrics)} never appear in one report (mixed problem types)"
            )

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric the policy reads, primary first, each once."""
        names = [self.primary_metric, *(t.metric for t in self.thresholds)]
        return tuple(dict.fromkeys(names))

    @property
    def higher_is_better(self) -> bool:
        return METRICS[self.primary_metric].higher_is_better

    def describe(self) -> str:
        thresholds = ",".join(str(t) for t in self.thresholds)
        return (
            f"mode={self.mode}; thresholds {thresholds}; champion: {self.primary_metric} better by "
            f">={self.margin:g}, others worse by <={self.tolerance:g}"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PromotionPolicy:
        env = os.environ if env is None else env
        mode_text = env.get("PROMOTION_MODE", "").strip() or Mode.RECOMMEND.value
        try:
            mode = Mode(mode_text)
        except ValueError:
            raise ConfigurationError(
                f"PROMOTION_MODE: {mode_text!r} is not one of {', '.join(m.value for m in Mode)}"
            ) from None
        thresholds_text = env.get("PROMOTION_THRESHOLDS", "").strip()
        if not thresholds_text:
            raise ConfigurationError("PROMOTION_THRESHOLDS: not set; at least one threshold is required")
        thresholds = parse_thresholds(thresholds_text)
        primary = env.get("PROMOTION_PRIMARY_METRIC", "").strip() or thresholds[0].metric
        _known(primary, "PROMOTION_PRIMARY_METRIC")
        return cls(
            mode=mode,
            thresholds=thresholds,
            primary_metric=primary,
            margin=non_negative(env, "PROMOTION_MARGIN", "0"),
            tolerance=non_negative(env, "PROMOTION_TOLERANCE", "0"),
        )
