"""The embedded metric format (EMF): the metrics CloudWatch Logs extracts from one log event's message.

As the CloudWatch user guide specifies it ("Specification: Embedded metric format"): the message is one JSON object
(nothing before or after it) whose ``_aws`` member holds ``Timestamp`` (epoch milliseconds, the metrics' time) and
``CloudWatchMetrics``, an array of MetricDirectives. A directive names a ``Namespace``, ``Dimensions`` (an array of
DimensionSets, at least one; a set lists 0-30 dimension keys) and ``Metrics`` (at most 100 MetricDefinitions:
``Name``, optional ``Unit``, a CloudWatch unit, "None" when not given, and optional ``StorageResolution``, 1 or 60).
Keys and names reference *target members* of the root object (top-level only, never nested): a dimension target is
a string, a metric target a number or an array of 1-100 numbers. Every DimensionSet of a directive is a metric of
its own: each metric of a directive is extracted once per set, each value of an array as a value of its own.

Beyond the specification, what CloudWatch accepts of any datapoint (the PutMetricData reference): names of 1-255
characters (a namespace or a dimension name not starting with ":"), dimension values of 1-1024, values finite and
within +/-2^360, a timestamp at most two weeks old and at most two hours ahead. A message that is not a JSON object
with ``_aws`` is not EMF; an EMF document that breaks any of these rules is invalid as a whole
(:class:`InvalidEmf`): CloudWatch Logs keeps the log event and extracts no metric from it. Not modelled: the
``AWS/Logs`` ``EMFValidationErrors`` and ``EMFParsingErrors`` metrics counting such events, and the
``x-amzn-logs-format: json/emf`` header (not required).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

MAX_METRIC_DEFINITIONS = 100  # per MetricDirective
MAX_DIMENSION_KEYS = 30  # per DimensionSet
MAX_VALUES = 100  # per array metric target
MAX_NAME_LENGTH = 255  # namespace, metric name, dimension name
MAX_DIMENSION_VALUE_LENGTH = 1024
MAX_MAGNITUDE = 2.0**360
MAX_AGE = timedelta(weeks=2)
MAX_AHEAD = timedelta(hours=2)
STORAGE_RESOLUTIONS = (1, 60)
UNITS = frozenset(
    {
        *("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "Count/Second", "None"),
        *("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes"),
        *("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits"),
        *("Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second"),
        *("Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second"),
    }
)


class InvalidEmf(ValueError):
    """An EMF document the specification refuses: no metric is extracted from its log event."""


@dataclass(frozen=True)
class ExtractedMetric:
    """The values of one metric (namespace, name, one dimension set) that one log event carries."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value), in the DimensionSet's order
    values: tuple[float, ...]
    unit: str
    storage_resolution: int
    timestamp: datetime  # aware, UTC


def extract(message: str, now: datetime | None = None) -> list[ExtractedMetric]:
    """The metrics of a log event's message: none for a message that is not EMF or is invalid EMF."""
    root = document(message)
    if root is None:
        return []
    try:
        return metrics(root, now or datetime.now(UTC))
    except InvalidEmf as exc:
        logger.debug("EMF log event: no metric extracted: %s", exc)
        return []


def document(message: str) -> dict[str, Any] | None:
    """The EMF document a message is: a JSON object with an ``_aws`` member; None for any other message."""
    if not message.lstrip().startswith("{"):
        return None
    try:
        root = json.loads(message, parse_constant=_not_json)
    except ValueError:
        return None
    return root if isinstance(root, dict) and "_aws" in root else None


def metrics(root: Mapping[str, Any], now: datetime) -> list[ExtractedMetric]:
    """Every metric of the document (raises :class:`InvalidEmf`: then none is)."""
    metadata = _object(root["_aws"], "_aws")
    timestamp = _timestamp(metadata.get("Timestamp"), now)
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        raise InvalidEmf("_aws.CloudWatchMetrics must be an array of MetricDirectives")
    return [metric for d in directives for metric in _directive(root, _object(d, "MetricDirective"), timestamp)]


def _directive(root: Mapping[str, Any], directive: Mapping[str, Any], timestamp: datetime) -> list[ExtractedMetric]:
    namespace = _name(directive.get("Namespace"), "Namespace", colon=False)
    dimension_sets = directive.get("Dimensions")
    if not isinstance(dimension_sets, list) or not dimension_sets:
        raise InvalidEmf("Dimensions must be an array of at least one DimensionSet")
    sets = [_dimension_set(root, keys) for keys in dimension_sets]
    definitions = directive.get("Metrics")
    if not isinstance(definitions, list) or len(definitions) > MAX_METRIC_DEFINITIONS:
        raise InvalidEmf(f"Metrics must be an array of at most {MAX_METRIC_DEFINITIONS} MetricDefinitions")
    return [
        ExtractedMetric(namespace, name, dimensions, values, unit, resolution, timestamp)
        for name, values, unit, resolution in (_definition(root, d) for d in definitions)
        for dimensions in sets
    ]


def _dimension_set(root: Mapping[str, Any], keys: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(keys, list) or len(keys) > MAX_DIMENSION_KEYS:
        raise InvalidEmf(f"a DimensionSet must be an array of at most {MAX_DIMENSION_KEYS} dimension keys")
    dimensions = []
    for key in keys:
        name = _name(key, "dimension key", colon=False)
        value = root.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_DIMENSION_VALUE_LENGTH:
            raise InvalidEmf(f"dimension {name!r}: the root must hold a string of 1-{MAX_DIMENSION_VALUE_LENGTH} chars")
        dimensions.append((name, value))
    return tuple(dimensions)


def _definition(root: Mapping[str, Any], definition: Any) -> tuple[str, tuple[float, ...], str, int]:
    definition = _object(definition, "MetricDefinition")
    name = _name(definition.get("Name"), "metric Name")
    unit = definition.get("Unit", "None")
    if unit not in UNITS:
        raise InvalidEmf(f"metric {name!r}: {unit!r} is not a CloudWatch unit")
    resolution = definition.get("StorageResolution", 60)
    if isinstance(resolution, bool) or resolution not in STORAGE_RESOLUTIONS:
        raise InvalidEmf(f"metric {name!r}: StorageResolution must be 1 or 60")
    return name, _values(root, name), unit, int(resolution)


def _values(root: Mapping[str, Any], name: str) -> tuple[float, ...]:
    if name not in root:
        raise InvalidEmf(f"metric {name!r}: the root has no such member")
    target = root[name]
    values = target if isinstance(target, list) else [target]
    if not 1 <= len(values) <= MAX_VALUES or not all(_is_number(v) for v in values):
        raise InvalidEmf(f"metric {name!r}: must be a number or an array of 1-{MAX_VALUES} numbers")
    if not all(math.isfinite(v) and abs(v) <= MAX_MAGNITUDE for v in values):
        raise InvalidEmf(f"metric {name!r}: values must be finite and within +/-2^360")
    return tuple(float(v) for v in values)


def _timestamp(value: Any, now: datetime) -> datetime:
    if not _is_number(value):
        raise InvalidEmf("_aws.Timestamp must be a number (epoch milliseconds)")
    try:
        moment = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidEmf(f"_aws.Timestamp {value} is out of range") from exc
    if not now - MAX_AGE <= moment <= now + MAX_AHEAD:
        raise InvalidEmf(f"_aws.Timestamp {value} is more than two weeks old or two hours ahead")
    return moment


def _name(value: Any, what: str, *, colon: bool = True) -> str:
    """A string of 1-255 characters (not starting with ":" unless ``colon``)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME_LENGTH or (not colon and value[0] == ":"):
        raise InvalidEmf(
            f"{what} must be a string of 1-{MAX_NAME_LENGTH} characters" + ("" if colon else ", not ':...'")
        )
    return value


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidEmf(f"{what} must be an object")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # NaN / Infinity: Python's extension, not RFC 8259
