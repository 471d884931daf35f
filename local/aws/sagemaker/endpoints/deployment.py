"""``UpdateEndpoint`` over time, as a blue/green deployment goes: new fleet, traffic shift, bake, then done.

An update leaves the endpoint ``Updating`` on its old config, with the new one under ``PendingDeploymentSummary``;
at 40 % of ``Timings.endpoint_update`` traffic is activated on the new fleet (canary capacity if the deployment
config says so), at 60 % it bakes (``TerminationWaitInSeconds``), and at 100 % the endpoint is ``InService`` on the
new config. An injected fault makes the update fail, or a guardrail alarm roll it back: the endpoint returns to
``InService`` on its old config with ``FailureReason`` set ("the status is InService but update operation fails");
the rollback alarms that exist in CloudWatch go to ``ALARM`` while the new fleet bakes and back to ``OK`` once
traffic is back on the old fleet (their alarm history shows it).
Each phase sends "SageMaker Endpoint Deployment State Change"; each status change "SageMaker Endpoint State Change".
A rollout the API reference does not allow (:func:`validate_rollout`) is refused before anything changes.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend

from local.aws.cloudwatch.models import history as alarm_history
from local.aws.faults import Fault
from local.aws.runtime import RUNTIME
from local.aws.sagemaker.endpoints.events import emit_deployment_state, emit_endpoint_state, set_status
from local.aws.sagemaker.endpoints.state import extras, schedule, variant_summaries

DEFAULT_FAILURE_REASON = (
    "The primary container for production variant {variant} did not pass the ping health check. "
    "Please check CloudWatch logs for this endpoint."
)
DEFAULT_ROLLBACK_REASON = (
    "Deployment rolled back to endpoint configuration {old_config}: auto-rollback alarm(s) {alarms} "
    "went into ALARM state during the deployment of {new_config}."
)
ACTIVATE_AT, BAKE_AT = 0.4, 0.6  # fractions of Timings.endpoint_update


# -- the deployment config ----------------------------------------------------------------------------------------
def capacity(variant: dict[str, Any]) -> int:
    return int(variant.get("DesiredInstanceCount") or 1)


def canary_instances(deployment_config: dict[str, Any] | None, total: int) -> int | None:
    """How many instances take the canary traffic (``None``: no canary, all at once)."""
    routing = ((deployment_config or {}).get("BlueGreenUpdatePolicy") or {}).get("TrafficRoutingConfiguration") or {}
    size = routing.get("CanarySize") if routing.get("Type") == "CANARY" else None
    if not size:
        return None
    if size.get("Type") == "INSTANCE_COUNT":
        return max(1, min(total, int(size.get("Value", 1))))
    return max(1, math.ceil(total * float(size.get("Value", 10)) / 100))


def bake_seconds(deployment_config: dict[str, Any] | None) -> int:
    policy = (deployment_config or {}).get("BlueGreenUpdatePolicy") or {}
    return int(policy.get("TerminationWaitInSeconds", 0))


def _share(size: dict[str, Any], total: int) -> float:
    """A CapacitySize as a share of a variant's ``total`` instances."""
    value = float(size.get("Value", 0))
    return value / 100 if size.get("Type") == "CAPACITY_PERCENT" else value / max(total, 1)


def validate_rollout(deployment_config: dict[str, Any] | None, instance_counts: list[int]) -> None:
    """The rules of TrafficRoutingConfig and BlueGreenUpdatePolicy (API reference): CanarySize at most 50 % of a
    variant's instances, LinearStepSize 10-50 %, MaximumExecutionTimeoutInSeconds larger than the waiting time of
    WaitIntervalInSeconds and TerminationWaitInSeconds. A ValidationException names the offending field."""
    policy = (deployment_config or {}).get("BlueGreenUpdatePolicy")
    if not policy:
        return
    routing = policy.get("TrafficRoutingConfiguration") or {}
    rules = {"CanarySize": (0.0, 0.5, "less than or equal to 50%"), "LinearStepSize": (0.1, 0.5, "10-50%")}
    for field, (low, high, words) in rules.items():
        size: dict[str, Any] = routing.get(field) or {}
        for total in instance_counts if size else []:
            if not low <= _share(size, total) <= high:
                raise ValidationError(
                    f"Invalid {field} {size.get('Value')} ({size.get('Type')}): the value must be {words} of the "
                    f"variant's total instance count ({total})."
                )
    waiting = int(routing.get("WaitIntervalInSeconds", 0)) + int(policy.get("TerminationWaitInSeconds", 0))
    timeout = policy.get("MaximumExecutionTimeoutInSeconds")
    if timeout is not None and int(timeout) <= waiting:
        raise ValidationError(
            f"Invalid MaximumExecutionTimeoutInSeconds {timeout}: it must be larger than the total waiting time of "
            f"WaitIntervalInSeconds and TerminationWaitInSeconds ({waiting} seconds)."
        )


def alarm_names(deployment_config: dict[str, Any] | None) -> list[str]:
    alarms = ((deployment_config or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    return [a["AlarmName"] for a in alarms if a.get("AlarmName")]


# -- the variants -------------------------------------------------------------------------------------------------
def retain_variant_properties(target: list[dict[str, Any]], running: list[dict[str, Any]], excluded: set[str]) -> None:
    """``RetainAllVariantProperties``: keep the running capacity and weights, except the ``excluded`` properties."""
    previous = {v["VariantName"]: v for v in running}
    for variant in target:
        before = previous.get(variant["VariantName"])
        if not before:
            continue
        if "DesiredInstanceCount" not in excluded and "DesiredInstanceCount" in before:
            variant["DesiredInstanceCount"] = variant["CurrentInstanceCount"] = before["DesiredInstanceCount"]
        if "DesiredWeight" not in excluded and "DesiredWeight" in before:
            variant["DesiredWeight"] = variant["CurrentWeight"] = before["DesiredWeight"]


def pending_summary(config_name: str, target: list[dict[str, Any]], start: datetime) -> dict[str, Any]:
    """The PendingDeploymentSummary of a new fleet being launched: no capacity, no traffic yet."""
    variants = []
    for variant in target:
        pending = copy.deepcopy(variant)
        pending["CurrentWeight"] = 0.0
        if "CurrentInstanceCount" in pending:
            pending["CurrentInstanceCount"] = 0
        message = f"Launching {capacity(variant)} instance(s)."
        pending["VariantStatus"] = [{"Status": "Creating", "StatusMessage": message, "StartTime": start}]
        variants.append(pending)
    return {"EndpointConfigName": config_name, "StartTime": start, "ProductionVariants": variants}


# -- the update ---------------------------------------------------------------------------------------------------
@dataclass
class EndpointUpdate:
    """One accepted ``UpdateEndpoint`` of an ``InService`` endpoint, from its running config to ``new_config``."""

    backend: SageMakerModelBackend
    new_config: FakeEndpointConfig
    old_config_name: str
    old_variants: list[dict[str, Any]]
    target_variants: list[dict[str, Any]]
    deployment_config: dict[str, Any] | None
    keeps_capture: bool  # RetainAllVariantProperties keeps the running DataCaptureConfig
    fault: Fault | None = None
    started: datetime | None = None
    breached: bool = False  # rolled back by alarms that really went off (not an injected rollback)

    @classmethod
    def of(
        cls,
        backend: SageMakerModelBackend,
        endpoint: FakeEndpoint,
        new_config: FakeEndpointConfig,
        *,
        retain_all_variant_properties: bool,
        excluded: set[str],
        deployment_config: dict[str, Any] | None,
    ) -> EndpointUpdate:
        old_variants = copy.deepcopy(endpoint.production_variants)
        target = variant_summaries(backend, new_config, current=True)
        if retain_all_variant_properties:
            retain_variant_properties(target, old_variants, excluded)
        keeps_capture = bool(
            retain_all_variant_properties and "DataCaptureConfig" not in excluded and endpoint.data_capture_config
        )
        return cls(
            backend, new_config, endpoint.endpoint_config_name, old_variants, target, deployment_config, keeps_capture
        )

    @property
    def new_config_name(self) -> str:
        return str(self.new_config.endpoint_config_name)

    def start(self, endpoint: FakeEndpoint) -> None:
        """The endpoint goes ``Updating`` now; the phases and the end are scheduled."""
        start = utcnow()
        self.started = start
        extras(endpoint).pending = pending_summary(self.new_config_name, self.target_variants, start)
        self.fault = RUNTIME.faults.take(endpoint.endpoint_name, "update")
        endpoint.endpoint_status = "Updating"
        endpoint.failure_reason = None
        endpoint.last_modified_time = start
        emit_endpoint_state(self.backend, endpoint)
        emit_deployment_state(self.backend, endpoint)
        duration = RUNTIME.timings.endpoint_update
        schedule(self.backend, endpoint, duration * ACTIVATE_AT, self._phase("ActivatingTraffic"), "activate")
        schedule(self.backend, endpoint, duration * BAKE_AT, self._phase("Baking"), "bake")
        schedule(self.backend, endpoint, duration, self._finish, "update")

    # -- phases
    def _traffic_scope(self, pv: dict[str, Any]) -> str:
        total = capacity(pv)
        canary = canary_instances(self.deployment_config, total)
        return f"canary capacity of {canary}" if canary else f"full capacity of {total}"

    def _message(self, status: str, pv: dict[str, Any]) -> str:
        if status == "ActivatingTraffic":
            return f"Activating traffic on {self._traffic_scope(pv)} instance(s)."
        return (
            f"Baking for {bake_seconds(self.deployment_config)} seconds (TerminationWaitInSeconds) "
            f"with traffic enabled on {self._traffic_scope(pv)} instance(s)."
        )

    def _phase(self, status: str) -> Callable[[FakeEndpoint], None]:
        def step(endpoint: FakeEndpoint) -> None:
            pending = extras(endpoint).pending
            if not pending:
                return
            if status == "Baking" and self.fault is not None and self.fault.kind == "rollback":
                self._set_alarms("ALARM", f"the new fleet of {self.new_config_name} breached the alarm while baking")
            now = utcnow()
            for pv in pending["ProductionVariants"]:
                pv["CurrentInstanceCount"] = pv.get("DesiredInstanceCount", pv.get("CurrentInstanceCount"))
                pv["CurrentWeight"] = pv["DesiredWeight"]
                pv["VariantStatus"] = [{"Status": status, "StatusMessage": self._message(status, pv), "StartTime": now}]
            emit_deployment_state(self.backend, endpoint)

        return step

    # -- the end
    def _finish(self, endpoint: FakeEndpoint) -> None:
        extras(endpoint).pending = None
        breached = self._breached_alarms() if self.fault is None else []
        if breached:  # SageMaker watches the rollback alarms while the new fleet takes traffic and bakes
            reason = DEFAULT_ROLLBACK_REASON.format(
                old_config=self.old_config_name, new_config=self.new_config_name, alarms=", ".join(breached)
            )
            self.fault = Fault(kind="rollback", operation="update", reason=reason, alarm_name=breached[0])
            self.breached = True
        if self.fault is None:
            endpoint.endpoint_config_name = self.new_config_name
            endpoint.production_variants = self.target_variants
            if not self.keeps_capture:
                endpoint.data_capture_config = self.new_config.data_capture_config
            set_status(self.backend, endpoint, "InService")
            return
        endpoint.endpoint_config_name = self.old_config_name
        endpoint.production_variants = self.old_variants
        set_status(self.backend, endpoint, "InService", self._failure_reason(self.fault))
        if self.fault.kind == "rollback" and not self.breached:  # real alarms go back to OK by their own metrics
            self._set_alarms("OK", f"traffic is back on {self.old_config_name}")

    def _breached_alarms(self) -> list[str]:
        """The deployment's rollback alarms that were in ``ALARM`` since the update started (now, or in their
        history): what makes SageMaker roll an update back without an injected fault."""
        cloudwatch = cloudwatch_backends[self.backend.account_id][self.backend.region_name]
        breached = []
        for name in alarm_names(self.deployment_config):
            alarm = cloudwatch.alarms.get(name)
            if alarm is None:
                continue
            went_off = any(state == "ALARM" for state in _new_states(cloudwatch, name, since=self.started))
            if alarm.state_value == "ALARM" or went_off:
                breached.append(name)
        return breached

    def _rollback_alarms(self) -> list[str]:
        if self.fault is not None and self.fault.alarm_name:
            return [self.fault.alarm_name]
        return alarm_names(self.deployment_config)

    def _set_alarms(self, state: str, why: str) -> None:
        """The rollback alarms that exist in CloudWatch go to ``state`` (SetAlarmState: their history records it)."""
        cloudwatch = cloudwatch_backends[self.backend.account_id][self.backend.region_name]
        for name in self._rollback_alarms():
            if name in cloudwatch.alarms and cloudwatch.alarms[name].state_value != state:
                reason = f"Threshold Crossed: {why} (injected guardrail rollback)."
                cloudwatch.set_alarm_state(name, reason, json.dumps({"version": "1.0"}), state)

    def _failure_reason(self, fault: Fault) -> str:
        if fault.kind == "rollback":
            alarms = self._rollback_alarms()
            return fault.reason or DEFAULT_ROLLBACK_REASON.format(
                old_config=self.old_config_name,
                new_config=self.new_config_name,
                alarms=", ".join(alarms) if alarms else "(none configured)",
            )
        variant = self.target_variants[0]["VariantName"] if self.target_variants else ""
        return fault.reason or DEFAULT_FAILURE_REASON.format(variant=variant)


def _new_states(cloudwatch: Any, alarm_name: str, *, since: datetime | None) -> list[str]:
    """The states ``alarm_name`` went to since ``since`` (its alarm history: :mod:`local.aws.cloudwatch`)."""
    floor = (since or datetime.min).replace(tzinfo=UTC)
    states = []
    for item in alarm_history(cloudwatch):
        moment = item["Timestamp"] if item["Timestamp"].tzinfo else item["Timestamp"].replace(tzinfo=UTC)
        if item["AlarmName"] == alarm_name and moment >= floor:
            states.append(str(json.loads(item["HistoryData"])["newState"]["stateValue"]))
    return states
