"""Settings of a function, from the environment that template.yaml declares (read in the handler, not at import).

:class:`Settings` is what every function knows about its stack; the readers (:func:`required`, :func:`integer`,
:func:`boolean`, :func:`non_negative`) are how every feature reads its own variables, each error naming the variable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sm_lifecycle.kernel.errors import ConfigurationError

__all__ = ["ENVIRONMENTS", "Settings", "boolean", "integer", "non_negative", "required"]

ENVIRONMENTS = ("dev", "staging", "prod")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def required(env: Mapping[str, str], name: str) -> str:
    """The non-empty value of ``name`` in ``env``, else a ConfigurationError naming it."""
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set (declared in template.yaml)")
    return value


def integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``name`` as an integer in ``[low, high]`` (``default`` when unset or empty)."""
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value


def boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    """``name`` as a flag: true/1/yes/on or false/0/no/off (any case; ``default`` when unset or empty)."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def non_negative(env: Mapping[str, str], name: str, default: str) -> float:
    """``name`` as a finite number >= 0 (``default`` when unset or empty)."""
    text = env.get(name, "").strip() or default
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"{name}: {text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0.0):
        raise ConfigurationError(f"{name}: {text!r} must be a finite number >= 0")
    return value


@dataclass(frozen=True)
class Settings:
    """What every function knows about its stack."""

    environment: str
    team: str
    git_sha: str
    pipeline_name: str
    model_package_group_name: str
    endpoint_name: str
    alert_topic_arn: str
    idempotency_table_name: str
    dead_letter_queue_url: str | None
    region: str
    job_role_arn: str | None = None  # the role the pipeline's jobs run as (SAGEMAKER_JOB_ROLE_ARN), if given
    # The model registry the stack deploys from when it is another account's (REGISTRY_ACCOUNT_ID; None: its own),
    # and the ARN of its model package group (MODEL_PACKAGE_GROUP_ARN): another account's group is named by ARN.
    registry_account_id: str | None = None
    model_package_group_arn: str | None = None
    # the stack's drift-check pipeline (DRIFT_CHECK_PIPELINE_NAME), for the functions that watch it too
    drift_check_pipeline_name: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        environment = required(env, "ENVIRONMENT")
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
        return cls(
            environment=environment,
            team=required(env, "TEAM"),
            git_sha=env.get("GIT_SHA", "unknown") or "unknown",
            pipeline_name=required(env, "PIPELINE_NAME"),
            model_package_group_name=required(env, "MODEL_PACKAGE_GROUP_NAME"),
            endpoint_name=required(env, "ENDPOINT_NAME"),
            alert_topic_arn=required(env, "ALERT_TOPIC_ARN"),
            idempotency_table_name=required(env, "IDEMPOTENCY_TABLE_NAME"),
            dead_letter_queue_url=env.get("DEAD_LETTER_QUEUE_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            job_role_arn=env.get("SAGEMAKER_JOB_ROLE_ARN") or None,
            registry_account_id=env.get("REGISTRY_ACCOUNT_ID", "").strip() or None,
            model_package_group_arn=env.get("MODEL_PACKAGE_GROUP_ARN", "").strip() or None,
            drift_check_pipeline_name=env.get("DRIFT_CHECK_PIPELINE_NAME", "").strip() or None,
        )

    @property
    def watched_pipelines(self) -> tuple[str, ...]:
        """The pipelines whose failures are this stack's: the training pipeline, and its drift check if any."""
        return tuple(n for n in (self.pipeline_name, self.drift_check_pipeline_name) if n)

    @property
    def model_package_group(self) -> str:
        """How to name the group in SageMaker requests: its ARN when it is another account's, else its name."""
        if not self.registry_account_id:
            return self.model_package_group_name
        if not self.model_package_group_arn or f":{self.registry_account_id}:" not in self.model_package_group_arn:
            raise ConfigurationError(
                f"REGISTRY_ACCOUNT_ID={self.registry_account_id} needs MODEL_PACKAGE_GROUP_ARN, the ARN of that "
                f"account's group {self.model_package_group_name!r}"
            )
        return self.model_package_group_arn

    def console_url(self, path: str) -> str:
        """A link into the SageMaker console of this stack's region (``path`` after ``#/``)."""
        return f"https://{self.region}.console.aws.amazon.com/sagemaker/home?region={self.region}#/{path.lstrip('/')}"
