"""The drift loop's settings, read from the environment variables template.yaml declares (DriftCheckFunction,
DriftMonitorFunction)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sm_lifecycle.kernel.errors import ConfigurationError
from sm_lifecycle.kernel.settings import Settings, integer, non_negative, required

POLICIES = ("off", "alert", "retrain")


@dataclass(frozen=True)
class DriftSettings:
    """What the drift check's starter and monitor need beyond the common :class:`Settings`."""

    common: Settings
    drift_pipeline_name: str  # DRIFT_CHECK_PIPELINE_NAME: the one-step drift-check pipeline
    bucket: str  # ARTIFACT_BUCKET: checks (drift/)
    capture_uri: str | None  # DATA_CAPTURE_S3_URI (the starter's): where the endpoint's configs capture
    window: timedelta  # DRIFT_WINDOW_HOURS: a check reads the last window of captured requests
    min_records: int  # DRIFT_MIN_RECORDS: fewer records in the window is "insufficient data"
    drift_share: float  # DRIFT_SHARE: the share of drifted features that is drift of the dataset
    policy: str  # DRIFT_POLICY: off (metrics only) | alert | retrain (alert, then retrain)
    cooldown: timedelta  # DRIFT_RETRAIN_COOLDOWN_HOURS: no retraining within this time of the last training
    retrain_data_uri: str | None  # DRIFT_RETRAIN_DATA_URI: the training data (None: the pipeline's default)
    # DRIFT_RETRAIN_ROLE_ARN (deployment stacks): the registry's role that starts its training pipeline for them
    retrain_role_arn: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DriftSettings:
        env = os.environ if env is None else env
        policy = env.get("DRIFT_POLICY", "alert").strip() or "alert"
        if policy not in POLICIES:
            raise ConfigurationError(f"DRIFT_POLICY must be one of {', '.join(POLICIES)}, got {policy!r}")
        share = non_negative(env, "DRIFT_SHARE", "0.5")
        if not 0.0 < share <= 1.0:
            raise ConfigurationError(f"DRIFT_SHARE must be in (0, 1], got {share}")
        data_uri = env.get("DRIFT_RETRAIN_DATA_URI", "").strip() or None
        if data_uri is not None and not data_uri.startswith("s3://"):
            raise ConfigurationError(f"DRIFT_RETRAIN_DATA_URI must be an s3:// URI, got {data_uri!r}")
        role_arn = env.get("DRIFT_RETRAIN_ROLE_ARN", "").strip() or None
        if role_arn is not None and not (role_arn.startswith("arn:") and ":role/" in role_arn):
            raise ConfigurationError(f"DRIFT_RETRAIN_ROLE_ARN must be an IAM role ARN, got {role_arn!r}")
        return cls(
            common=Settings.from_env(env),
            drift_pipeline_name=required(env, "DRIFT_CHECK_PIPELINE_NAME"),
            bucket=required(env, "ARTIFACT_BUCKET"),
            capture_uri=env.get("DATA_CAPTURE_S3_URI", "").strip().rstrip("/") or None,
            window=timedelta(hours=integer(env, "DRIFT_WINDOW_HOURS", 24, 1, 24 * 31)),
            min_records=integer(env, "DRIFT_MIN_RECORDS", 100, 1, 10_000_000),
            drift_share=share,
            policy=policy,
            cooldown=timedelta(hours=integer(env, "DRIFT_RETRAIN_COOLDOWN_HOURS", 24, 0, 24 * 31)),
            retrain_data_uri=data_uri,
            retrain_role_arn=role_arn,
        )

    def required_capture_uri(self) -> str:
        """DATA_CAPTURE_S3_URI, which the starter needs (the monitor does not read captures)."""
        if not self.capture_uri or not self.capture_uri.startswith("s3://"):
            raise ConfigurationError(f"DATA_CAPTURE_S3_URI must be an s3:// URI, got {self.capture_uri!r}")
        return self.capture_uri

    @property
    def endpoint_name(self) -> str:
        return self.common.endpoint_name

    @property
    def prefix(self) -> str:
        """Where this endpoint's checks live in the bucket."""
        return f"drift/{self.endpoint_name}/"
