"""The stage gate's settings, read from the environment variables template.yaml declares (StageGateFunction)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sm_lifecycle.kernel.errors import ConfigurationError
from sm_lifecycle.kernel.settings import Settings, integer, non_negative, required
from sm_lifecycle.kernel.stages import Stage

POLICIES = ("auto", "recommend")


@dataclass(frozen=True)
class GateSettings:
    """What the stage gate needs beyond the common :class:`Settings`."""

    common: Settings
    stage: Stage  # LIFECYCLE_STAGE: the stage this environment's endpoint serves
    policy: str  # STAGE_POLICY: auto (the gate approves) | recommend (a person approves)
    bake: timedelta  # BAKE_MINUTES
    max_5xx_rate: float  # BAKE_MAX_5XX_RATE: Invocation5XXErrors / Invocations over the bake
    max_latency_microseconds: float  # BAKE_MAX_LATENCY_MICROSECONDS: average ModelLatency over the bake
    rollback_alarm_names: tuple[str, ...]  # ROLLBACK_ALARM_NAMES: none of them may have been in ALARM
    schedule_group: str  # SCHEDULE_GROUP_NAME
    scheduler_role_arn: str  # SCHEDULER_ROLE_ARN: the role Scheduler invokes the gate with

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GateSettings:
        env = os.environ if env is None else env
        try:
            stage = Stage(required(env, "LIFECYCLE_STAGE"))
        except ValueError:
            raise ConfigurationError(f"LIFECYCLE_STAGE must be one of {', '.join(Stage)}") from None
        policy = env.get("STAGE_POLICY", "auto").strip() or "auto"
        if policy not in POLICIES:
            raise ConfigurationError(f"STAGE_POLICY must be one of {', '.join(POLICIES)}, got {policy!r}")
        return cls(
            common=Settings.from_env(env),
            stage=stage,
            policy=policy,
            bake=timedelta(minutes=integer(env, "BAKE_MINUTES", 60, 1, 43200)),
            max_5xx_rate=non_negative(env, "BAKE_MAX_5XX_RATE", "0.01"),
            max_latency_microseconds=non_negative(env, "BAKE_MAX_LATENCY_MICROSECONDS", "200000"),
            rollback_alarm_names=tuple(a.strip() for a in env.get("ROLLBACK_ALARM_NAMES", "").split(",") if a.strip()),
            schedule_group=required(env, "SCHEDULE_GROUP_NAME"),
            scheduler_role_arn=required(env, "SCHEDULER_ROLE_ARN"),
        )

    @property
    def endpoint_name(self) -> str:
        return self.common.endpoint_name
