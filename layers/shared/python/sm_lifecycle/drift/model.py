"""Value objects of the drift loop (pure): the check's window, the event its schedule sends, and what a check found.

A check's ``summary.json`` is read as data, not trusted: :meth:`DriftResult.parse` keeps the fields the monitor
acts on, each of its type (numbers finite, feature names cleaned and cut), and refuses a summary without them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from sm_lifecycle.kernel.events import PascalDetail, SageMakerEvent, UtcDatetime
from sm_lifecycle.kernel.text import FieldLimit, clean

DUE_SOURCE = "sm-lifecycle.drift"
DUE_DETAIL_TYPE = "Drift Check Due"
FEATURE_NAME = FieldLimit("feature name", 128)
RETRAIN_FAILURE = FieldLimit("retraining failure", 600)
STATUSES = ("ok", "insufficient-data")
CHECK_DISPLAY_PREFIX = "drift-"  # a check's execution display name: drift-<window name> (both starters name it so)
_WINDOW_NAME = re.compile(r"^(\d{8}T\d{6}Z)-(\d{8}T\d{6}Z)$")
_WINDOW_TIME = "%Y%m%dT%H%M%SZ"


class DriftCheckDueDetail(PascalDetail):
    """What the schedule names; the starter reads everything else itself (its settings, the endpoint, the registry)."""

    endpoint_name: str = Field(min_length=1, max_length=63)


class DriftCheckDueEvent(SageMakerEvent):
    """The input of the recurring drift-check schedule (EventBridge Scheduler fills in ``id`` and ``time``)."""

    DETAIL_TYPE = DUE_DETAIL_TYPE
    source: Literal["sm-lifecycle.drift"]  # type: ignore[assignment]  # not a SageMaker event: the schedule's
    detail_type: Literal["Drift Check Due"] = Field(alias="detail-type")
    time: UtcDatetime
    detail: DriftCheckDueDetail


@dataclass(frozen=True)
class Window:
    """The captured requests a check reads: ``[start, end)``, in whole seconds."""

    start: datetime
    end: datetime

    @classmethod
    def last(cls, length: timedelta, now: datetime | None = None) -> Window:
        # whole seconds, rounded up: a request of this very second is inside the window
        end = ((now or datetime.now(UTC)) + timedelta(seconds=1)).replace(microsecond=0)
        return cls(end - length, end)

    @classmethod
    def named(cls, name: str) -> Window | None:
        """The window whose :attr:`name` is ``name``; None for anything else (an empty or reversed window too)."""
        found = _WINDOW_NAME.match(name)
        if found is None:
            return None
        try:
            start, end = (datetime.strptime(t, _WINDOW_TIME).replace(tzinfo=UTC) for t in found.groups())
        except ValueError:
            return None
        return cls(start, end) if start < end else None

    @property
    def name(self) -> str:
        """The window's folder under ``drift/<endpoint>/``."""
        return f"{self.start:{_WINDOW_TIME}}-{self.end:{_WINDOW_TIME}}"

    def result_folder(self, endpoint: str) -> str:
        """Where a check of ``endpoint`` over this window writes its summary and report (its ``OutputUri``)."""
        return f"drift/{endpoint}/{self.name}/result"

    @staticmethod
    def iso(at: datetime) -> str:
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    score: float
    method: str
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class DriftResult:
    """What one check found (the latest version's segment of the window)."""

    status: str  # ok | insufficient-data
    records: int
    drift_detected: bool
    drift_share: float
    version: int | None
    features: tuple[FeatureDrift, ...]
    missing_columns: tuple[str, ...]
    has_report: bool

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        """The drifted features, highest score first."""
        return tuple(sorted((f for f in self.features if f.drifted), key=lambda f: -f.score))

    @classmethod
    def parse(cls, summary: object) -> DriftResult:
        """``summary.json`` as the job writes it; ``ValueError`` naming the field that is missing or wrong."""
        if not isinstance(summary, dict):
            raise ValueError("summary: not a JSON object")
        status = summary.get("status")
        if status not in STATUSES:
            raise ValueError(f"summary.status: {clean(status, FEATURE_NAME)!r} is not one of {', '.join(STATUSES)}")
        features = summary.get("features") or {}
        if not isinstance(features, dict):
            raise ValueError("summary.features: not an object")
        version = summary.get("version")
        return cls(
            status=str(status),
            records=_count(summary.get("records"), "records"),
            drift_detected=summary.get("drift_detected") is True,
            drift_share=_number(summary.get("drift_share", 0.0), "drift_share"),
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
            features=tuple(_feature(name, value) for name, value in features.items()),
            missing_columns=tuple(clean(c, FEATURE_NAME) for c in summary.get("missing_columns") or ()),
            has_report=bool(summary.get("report")),
        )


def _feature(name: object, value: Any) -> FeatureDrift:
    label = clean(name, FEATURE_NAME)
    if not isinstance(value, dict):
        raise ValueError(f"summary.features.{label}: not an object")
    return FeatureDrift(
        name=label,
        score=_number(value.get("score"), f"features.{label}.score"),
        method=clean(value.get("method", ""), FEATURE_NAME),
        threshold=_number(value.get("threshold"), f"features.{label}.threshold"),
        drifted=value.get("drifted") is True,
    )


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"summary.{field}: {clean(value, FEATURE_NAME)!r} is not a finite number")
    return float(value)


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"summary.{field}: {clean(value, FEATURE_NAME)!r} is not a count")
    return value


@dataclass(frozen=True)
class Retraining:
    """What the retrain policy did: ``started``, held (``in-flight``, ``cooldown``), or ``failed`` (``reason``)."""

    status: str
    execution_arn: str | None
    until: datetime | None = None
    reason: str | None = None
