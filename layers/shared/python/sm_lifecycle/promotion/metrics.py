"""Parse a SageMaker model-quality statistics report (the ``ModelMetrics.ModelQuality.Statistics`` of a package).

Shape (SageMaker guide, "Model quality metrics"): one section per problem type, each metric an object with a
``value`` and a ``standard_deviation`` (a number, or the string ``"NaN"`` below 200 samples)::

    {"binary_classification_metrics": {
        "confusion_matrix": {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}},   # actual label -> predicted label -> n
        "auc": {"value": 0.93, "standard_deviation": 0.01}, "f1": {...}, ...}}

Anything else is refused with ``MetricsReportError`` and a reason a person can act on: no decision is ever taken
on a report that is not exactly understood. Rates missing from a binary report are derived from its confusion
matrix when it allows (e.g. ``false_positive_rate = FP / (FP + TN)``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from sm_lifecycle.kernel.errors import LifecycleError
from sm_lifecycle.promotion.policy import BINARY, METRICS, PROBLEM_TYPES, MetricSpec

MAX_REPORT_BYTES = 1024 * 1024  # a statistics report with full ROC / PR curves is a few hundred KB at most
_POSITIVE = {"1", "1.0", "true", "True", "yes"}
_NEGATIVE = {"0", "0.0", "false", "False", "no"}


class MetricsReportError(LifecycleError):
    """The report is missing, unreadable or not a model-quality statistics report; no decision can rest on it."""


@dataclass(frozen=True)
class MetricsReport:
    """The metric values of one report (``values``), for the one problem type it covers."""

    problem_type: str
    values: Mapping[str, float]
    derived: frozenset[str] = field(default_factory=frozenset)  # names computed from the confusion matrix
    source: str = ""

    def get(self, metric: str) -> float:
        try:
            return self.values[metric]
        except KeyError:
            raise MetricsReportError(
                f"metric {metric!r} is not in the {self.problem_type} report {self.source}".rstrip()
            ) from None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-standard JSON constant {name}")


def parse_report(body: bytes, *, source: str = "") -> MetricsReport:
    """Parse and validate a report's bytes; ``MetricsReportError`` says what is wrong."""
    where = f" ({source})" if source else ""
    if len(body) > MAX_REPORT_BYTES:
        raise MetricsReportError(f"report is {len(body)} bytes, more than the {MAX_REPORT_BYTES} allowed{where}")
    if not body.strip():
        raise MetricsReportError(f"report is empty{where}")
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise MetricsReportError(f"report is not valid JSON: {exc}{where}") from None
    if not isinstance(document, dict):
        kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(document), "number")
        raise MetricsReportError(f"report is a JSON {kind}, not an object{where}")
    sections = [name for name in PROBLEM_TYPES if name in document]
    if not sections:
        raise MetricsReportError(
            f"report has none of the sections {', '.join(PROBLEM_TYPES)} (keys: {', '.join(map(str, document))[:200]})"
            f"{where}"
        )
    if len(sections) > 1:
        raise MetricsReportError(f"report has several problem-type sections ({', '.join(sections)}){where}")
    problem_type = sections[0]
    section = document[problem_type]
    if not isinstance(section, dict) or not section:
        raise MetricsReportError(f"{problem_type} is not a non-empty object{where}")

    values: dict[str, float] = {}
    for name, entry in section.items():
        spec = METRICS.get(name)
        if spec is None or problem_type not in spec.sections:
            continue  # curves, best-constant baselines, matrices: not policy metrics
        values[name] = _metric_value(problem_type, spec, entry, where)

    derived: set[str] = set()
    if "confusion_matrix" in section:
        matrix = _confusion_matrix(problem_type, section["confusion_matrix"], where)
        if problem_type == BINARY:
            for name, value in _binary_rates(matrix).items():
                if name not in values:
                    values[name] = value
                    derived.add(name)
    if not values:
        raise MetricsReportError(f"{problem_type} holds no known metric{where}")
    return MetricsReport(problem_type, values, frozenset(derived), source)


def _metric_value(problem_type: str, spec: MetricSpec, entry: object, where: str) -> float:
    label, minimum, maximum = f"{problem_type}.{spec.name}", spec.minimum, spec.maximum
    if not isinstance(entry, dict) or "value" not in entry:
        raise MetricsReportError(f"{label} must be an object with a 'value'{where}")
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MetricsReportError(f"{label}.value must be a number, got {type(value).__name__} {value!r:.40}{where}")
    value = float(value)
    if not math.isfinite(value):
        raise MetricsReportError(f"{label}.value is not finite{where}")
    if not minimum <= value <= maximum:
        raise MetricsReportError(f"{label}.value {value:g} is outside [{minimum:g}, {maximum:g}]{where}")
    deviation = entry.get("standard_deviation", "NaN")
    deviation_ok = deviation == "NaN" or (
        isinstance(deviation, int | float)
        and not isinstance(deviation, bool)
        and math.isfinite(deviation)
        and deviation >= 0
    )
    if not deviation_ok:
        raise MetricsReportError(f'{label}.standard_deviation must be a number >= 0 or "NaN"{where}')
    return value


def _confusion_matrix(problem_type: str, matrix: object, where: str) -> dict[str, dict[str, int]]:
    label = f"{problem_type}.confusion_matrix"
    if not isinstance(matrix, dict) or not matrix:
        raise MetricsReportError(f"{label} must be a non-empty object{where}")
    result: dict[str, dict[str, int]] = {}
    for actual, row in matrix.items():
        if not isinstance(row, dict):
            raise MetricsReportError(f"{label}[{actual!r}] must be an object{where}")
        result[actual] = {}
        for predicted, count in row.items():
            if isinstance(count, bool) or not isinstance(count, int | float) or not math.isfinite(count):
                raise MetricsReportError(f"{label}[{actual!r}][{predicted!r}] must be a count{where}")
            if count < 0 or count != int(count):
                raise MetricsReportError(f"{label}[{actual!r}][{predicted!r}] = {count!r} is not a count{where}")
            result[actual][predicted] = int(count)
    return result


def _binary_rates(matrix: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Rates computable from a two-label matrix (actual -> predicted); those with a zero denominator are left out."""
    labels = set(matrix) | {p for row in matrix.values() for p in row}
    positive = labels & _POSITIVE
    negative = labels & _NEGATIVE
    if len(labels) != 2 or len(positive) != 1 or len(negative) != 1:
        return {}
    pos, neg = next(iter(positive)), next(iter(negative))

    def cell(actual: str, predicted: str) -> int:
        return matrix.get(actual, {}).get(predicted, 0)

    tp, fn, fp, tn = cell(pos, pos), cell(pos, neg), cell(neg, pos), cell(neg, neg)
    rates: dict[str, float] = {}

    def put(name: str, numerator: int, denominator: int) -> None:
        if denominator > 0:
            rates[name] = numerator / denominator

    put("true_positive_rate", tp, tp + fn)
    put("recall", tp, tp + fn)
    put("false_negative_rate", fn, tp + fn)
    put("true_negative_rate", tn, tn + fp)
    put("false_positive_rate", fp, tn + fp)
    put("precision", tp, tp + fp)
    put("accuracy", tp + tn, tp + tn + fp + fn)
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        b2 = beta * beta
        denominator = (1 + b2) * tp + b2 * fn + fp
        if denominator > 0:
            rates[name] = (1 + b2) * tp / denominator
    return rates
