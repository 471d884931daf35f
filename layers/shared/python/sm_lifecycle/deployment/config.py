"""Deployment settings of one environment, read from the environment variables template.yaml declares.

The stack parameters (``samconfig.toml`` per environment) decide the instance fleet, data capture and the rollout
strategy; this module turns them into the SageMaker request shapes (``ProductionVariants``, ``DataCaptureConfig``,
``DeploymentConfig``) and into the deterministic names of the models and endpoint configs the deployer creates.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sm_lifecycle.kernel.endpoints import VARIANT_NAME, capture_destination
from sm_lifecycle.kernel.errors import ConfigurationError
from sm_lifecycle.kernel.settings import Settings, boolean, integer, required
from sm_lifecycle.kernel.stages import Stage

if TYPE_CHECKING:
    from types_boto3_sagemaker.literals import ProductionVariantInstanceTypeType, TrafficRoutingConfigTypeType
    from types_boto3_sagemaker.type_defs import (
        CapacitySizeTypeDef,
        DataCaptureConfigTypeDef,
        DeploymentConfigTypeDef,
        ProductionVariantTypeDef,
        TrafficRoutingConfigTypeDef,
    )

STRATEGIES = ("AllAtOnce", "Canary", "Linear")
STEP_PERCENT_LIMITS = {"Canary": (1, 50), "Linear": (10, 50)}  # CanarySize <= 50 %, LinearStepSize 10-50 %
_ROUTING: dict[str, TrafficRoutingConfigTypeType] = {"AllAtOnce": "ALL_AT_ONCE", "Canary": "CANARY", "Linear": "LINEAR"}
NAME_MAX_LENGTH = 63  # SageMaker model, endpoint config and endpoint names
CSV_CONTENT_TYPES = ("text/csv",)
JSON_CONTENT_TYPES = ("application/json",)


def lifecycle_stage(env: Mapping[str, str]) -> Stage | None:
    """``LIFECYCLE_STAGE``: the ``ModelLifeCycle`` stage whose eligible versions the endpoint serves (empty: none,
    the newest approved version is served)."""
    value = env.get("LIFECYCLE_STAGE", "").strip()
    if not value:
        return None
    try:
        return Stage(value)
    except ValueError:
        raise ConfigurationError(
            f"LIFECYCLE_STAGE must be one of {', '.join(Stage)} (or empty), got {value!r}"
        ) from None


@dataclass(frozen=True)
class DeploySettings:
    """What the deploy function needs beyond the common :class:`Settings`."""

    common: Settings
    execution_role_arn: str
    state_table_name: str
    instance_type: str
    instance_count: int
    data_capture_enabled: bool
    data_capture_sampling_percentage: int
    data_capture_s3_uri: str
    data_capture_kms_key_id: str | None
    strategy: str
    traffic_step_percent: int
    wait_interval_seconds: int
    termination_wait_seconds: int
    max_execution_timeout_seconds: int
    rollback_alarm_names: tuple[str, ...]
    claim_grace_seconds: int
    stall_alert_seconds: int
    lifecycle_stage: Stage | None = None  # LIFECYCLE_STAGE: the stage the endpoint serves; None: approval only

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeploySettings:
        env = os.environ if env is None else env
        strategy = env.get("DEPLOYMENT_STRATEGY", "AllAtOnce").strip() or "AllAtOnce"
        if strategy not in STRATEGIES:
            raise ConfigurationError(f"DEPLOYMENT_STRATEGY must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
        alarms = tuple(a.strip() for a in env.get("ROLLBACK_ALARM_NAMES", "").split(",") if a.strip())
        if len(alarms) > 10:
            raise ConfigurationError("ROLLBACK_ALARM_NAMES holds more than the 10 alarms SageMaker accepts")
        settings = cls(
            common=Settings.from_env(env),
            execution_role_arn=required(env, "SAGEMAKER_EXECUTION_ROLE_ARN"),
            state_table_name=required(env, "DEPLOYMENT_STATE_TABLE_NAME"),
            instance_type=required(env, "ENDPOINT_INSTANCE_TYPE"),
            instance_count=integer(env, "ENDPOINT_INSTANCE_COUNT", 1, 1, 100),
            data_capture_enabled=boolean(env, "DATA_CAPTURE_ENABLED", True),
            data_capture_sampling_percentage=integer(env, "DATA_CAPTURE_SAMPLING_PERCENTAGE", 20, 0, 100),
            data_capture_s3_uri=required(env, "DATA_CAPTURE_S3_URI").rstrip("/"),
            data_capture_kms_key_id=env.get("DATA_CAPTURE_KMS_KEY_ID", "").strip() or None,
            strategy=strategy,
            traffic_step_percent=integer(env, "DEPLOYMENT_TRAFFIC_STEP_PERCENT", 10, 1, 100),
            wait_interval_seconds=integer(env, "DEPLOYMENT_WAIT_INTERVAL_SECONDS", 300, 0, 3600),
            termination_wait_seconds=integer(env, "DEPLOYMENT_TERMINATION_WAIT_SECONDS", 300, 0, 3600),
            max_execution_timeout_seconds=integer(env, "DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS", 3600, 600, 28800),
            rollback_alarm_names=alarms,
            claim_grace_seconds=integer(env, "DEPLOYMENT_CLAIM_GRACE_SECONDS", 90, 0, 86400),
            stall_alert_seconds=integer(env, "DEPLOYMENT_STALL_ALERT_SECONDS", 900, 60, 604800),
            lifecycle_stage=lifecycle_stage(env),
        )
        # Fail at the first invocation, not at the first deployment, if the names or the rollout cannot work.
        settings.resource_name(version=99999, digest_of={})
        settings.check_rollout()
        return settings

    def traffic_shifts(self) -> int:
        """How many times traffic moves to the new fleet: once, twice (canary, then the rest), or once per step."""
        if self.strategy == "Linear":
            return math.ceil(100 / self.traffic_step_percent)
        return 2 if self.strategy == "Canary" else 1

    def check_rollout(self) -> None:
        """What UpdateEndpoint refuses (TrafficRoutingConfig, BlueGreenUpdatePolicy): a canary above 50 % of the
        fleet, linear steps outside 10-50 %, a MaximumExecutionTimeoutInSeconds the rollout's waits exceed (every
        traffic shift waits WaitIntervalInSeconds, then the old fleet waits TerminationWaitInSeconds)."""
        step, limits = self.traffic_step_percent, STEP_PERCENT_LIMITS.get(self.strategy)
        if limits is not None and not limits[0] <= step <= limits[1]:
            raise ConfigurationError(
                f"DEPLOYMENT_TRAFFIC_STEP_PERCENT={step}: a {self.strategy} rollout needs {limits[0]}-{limits[1]} % "
                "of the fleet (SageMaker refuses the update otherwise)"
            )
        waits = self.traffic_shifts() * self.wait_interval_seconds + self.termination_wait_seconds
        if self.max_execution_timeout_seconds <= waits:
            raise ConfigurationError(
                f"DEPLOYMENT_MAX_EXECUTION_TIMEOUT_SECONDS={self.max_execution_timeout_seconds} must be larger than "
                f"the rollout's waits ({self.traffic_shifts()} x DEPLOYMENT_WAIT_INTERVAL_SECONDS="
                f"{self.wait_interval_seconds} + DEPLOYMENT_TERMINATION_WAIT_SECONDS={self.termination_wait_seconds} "
                f"= {waits} s)"
            )

    @property
    def endpoint_name(self) -> str:
        return self.common.endpoint_name

    # ------------------------------------------------------------------ names
    def resource_name(self, *, version: int, digest_of: Mapping[str, Any]) -> str:
        """``<endpoint>-v<version>-<hash>``: the same inputs give the same name, so retries find what they made."""
        digest = hashlib.sha256(json.dumps(digest_of, sort_keys=True, default=str).encode()).hexdigest()[:8]
        name = f"{self.endpoint_name}-v{version}-{digest}"
        if len(name) > NAME_MAX_LENGTH:
            raise ConfigurationError(
                f"endpoint name {self.endpoint_name!r} is too long to derive model and config names from it "
                f"({len(name)} > {NAME_MAX_LENGTH} characters); use an endpoint name of at most 46 characters"
            )
        return name

    def model_name(self, package_arn: str, version: int) -> str:
        return self.resource_name(version=version, digest_of={"package": package_arn, "role": self.execution_role_arn})

    def endpoint_config_name(self, model_name: str, version: int) -> str:
        return self.resource_name(
            version=version,
            digest_of={
                "model": model_name,
                "variants": self.production_variants(model_name),
                "capture": self.data_capture_config(version),
            },
        )

    # ------------------------------------------------------------------ request shapes
    def production_variants(self, model_name: str) -> list[ProductionVariantTypeDef]:
        return [
            {
                "VariantName": VARIANT_NAME,
                "ModelName": model_name,
                "InitialInstanceCount": self.instance_count,
                # ENDPOINT_INSTANCE_TYPE follows the template's AllowedPattern; SageMaker refuses an unknown type
                "InstanceType": cast("ProductionVariantInstanceTypeType", self.instance_type),
                "InitialVariantWeight": 1.0,
            }
        ]

    def data_capture_config(self, version: int) -> DataCaptureConfigTypeDef:
        """Version ``version`` captures under ``<DATA_CAPTURE_S3_URI>/<endpoint>/v<version>/``, where SageMaker writes
        ``<endpoint>/<variant>/yyyy/mm/dd/hh/`` (``kernel.endpoints.capture_destination``)."""
        config: DataCaptureConfigTypeDef = {
            "EnableCapture": self.data_capture_enabled,
            "InitialSamplingPercentage": self.data_capture_sampling_percentage,
            "DestinationS3Uri": capture_destination(self.data_capture_s3_uri, self.endpoint_name, version),
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": list(CSV_CONTENT_TYPES),
                "JsonContentTypes": list(JSON_CONTENT_TYPES),
            },
        }
        if self.data_capture_kms_key_id:
            config["KmsKeyId"] = self.data_capture_kms_key_id
        return config

    def deployment_config(self) -> DeploymentConfigTypeDef:
        """Blue/green rollout of this environment, rolled back by SageMaker when an alarm fires while it bakes."""
        routing: TrafficRoutingConfigTypeDef = {
            "Type": _ROUTING[self.strategy],
            "WaitIntervalInSeconds": self.wait_interval_seconds,
        }
        step: CapacitySizeTypeDef = {"Type": "CAPACITY_PERCENT", "Value": self.traffic_step_percent}
        if self.strategy == "Canary":
            routing["CanarySize"] = step
        elif self.strategy == "Linear":
            routing["LinearStepSize"] = step
        config: DeploymentConfigTypeDef = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": self.termination_wait_seconds,
                "MaximumExecutionTimeoutInSeconds": self.max_execution_timeout_seconds,
            }
        }
        if self.rollback_alarm_names:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in self.rollback_alarm_names]}
        return config
