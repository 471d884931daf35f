"""Value objects of the stage gate (pure): what it reads of a version and of the endpoint, the evidence of a bake,
and the event the bake's schedule invokes it with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from sm_lifecycle.kernel.events import PascalDetail, SageMakerEvent, UtcDatetime
from sm_lifecycle.kernel.stages import LifeCycle, Stage

BAKE_SOURCE = "sm-lifecycle.stage-gate"
BAKE_DETAIL_TYPE = "Stage Bake Complete"


class BakeCompleteDetail(PascalDetail):
    """What the schedule names; the gate reads every fact again (the registry, the endpoint, CloudWatch)."""

    model_package_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+/\d+$")
    stage: Stage
    endpoint_name: str = Field(min_length=1, max_length=63)


class BakeCompleteEvent(SageMakerEvent):
    """The input of a bake's one-time schedule (EventBridge Scheduler fills in ``id`` and ``time``)."""

    DETAIL_TYPE = BAKE_DETAIL_TYPE
    source: Literal["sm-lifecycle.stage-gate"]  # type: ignore[assignment]  # not a SageMaker event: the gate's own
    detail_type: Literal["Stage Bake Complete"] = Field(alias="detail-type")
    time: UtcDatetime
    detail: BakeCompleteDetail


@dataclass(frozen=True)
class Version:
    """A package version as the registry shows it now."""

    arn: str
    number: int
    approval_status: str
    lifecycle: LifeCycle | None


@dataclass(frozen=True)
class BakeEvidence:
    """What the endpoint did over the bake window, and whether that is healthy by the stage's policy."""

    start: datetime
    end: datetime
    alarms: dict[str, str]  # alarm name -> the worst state seen in the window (ALARM, or its state now)
    invocations: float
    errors_5xx: float
    latency_microseconds: float | None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def error_rate(self) -> float:
        return self.errors_5xx / self.invocations if self.invocations else 0.0

    def summary(self) -> str:
        latency = "n/a" if self.latency_microseconds is None else f"{self.latency_microseconds:.0f} us"
        alarms = ", ".join(f"{name} {state}" for name, state in sorted(self.alarms.items())) or "none"
        return (
            f"bake {self.start:%Y-%m-%dT%H:%M:%SZ}..{self.end:%Y-%m-%dT%H:%M:%SZ}: alarms {alarms}; "
            f"{self.invocations:.0f} invocations, {self.errors_5xx:.0f} 5xx ({self.error_rate:.2%}), "
            f"average ModelLatency {latency}" + (f"; {'; '.join(self.problems)}" if self.problems else "")
        )


def bake_due(since: datetime, bake: timedelta) -> datetime:
    """When a version live since ``since`` has baked for ``bake``."""
    return since + bake
