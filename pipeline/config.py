"""Where the pipeline goes (stack outputs) and how it is sized (per-environment parameter files)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from pipeline import PACKAGE_DIR, PARAMS_DIR
from tools.samconfig import SamConfigError
from tools.stackinfo import cloudformation_outputs

ENVIRONMENTS = ("dev", "staging", "prod")
REPO_DIR = PACKAGE_DIR.parent

# Stack output name -> environment variable that may stand in for it.
OUTPUT_ENV = {
    "PipelineName": "PIPELINE_NAME",
    "SageMakerPipelineRoleArn": "SAGEMAKER_PIPELINE_ROLE_ARN",
    "SageMakerJobRoleArn": "SAGEMAKER_JOB_ROLE_ARN",
    "ArtifactBucketName": "ARTIFACT_BUCKET",
    "ModelPackageGroupName": "MODEL_PACKAGE_GROUP_NAME",
    "EndpointInstanceType": "ENDPOINT_INSTANCE_TYPE",
}


class ConfigError(Exception):
    """The pipeline cannot be configured (missing stack outputs, unknown environment, bad parameter file)."""


@dataclass(frozen=True)
class PipelineParams:
    """Per-environment settings from ``pipeline/params/<env>.json`` (the instance type packages are registered for
    is the stack's ``EndpointInstanceType``: :class:`Target`)."""

    environment: str
    processing_instance_type: str
    training_instance_type: str
    transform_instance_types: list[str]
    use_spot_instances: bool
    max_run_seconds: int
    max_wait_seconds: int
    job_retry_max_attempts: int
    cache_expire_after: str
    xgboost_version: str
    sklearn_version: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, environment: str, directory: Path = PARAMS_DIR) -> PipelineParams:
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"environment must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
        path = directory / f"{environment}.json"
        try:
            params = cls(environment=environment, **json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        if params.use_spot_instances and params.max_wait_seconds < params.max_run_seconds:
            raise ConfigError(f"{path}: max_wait_seconds must be >= max_run_seconds for Spot training")
        return params


@dataclass(frozen=True)
class Target:
    """The stack the pipeline belongs to (its outputs)."""

    pipeline_name: str
    role_arn: str  # the pipeline's role (it starts the step jobs and registers models)
    bucket: str
    model_package_group_name: str
    region: str
    # the endpoint's instance type: the one type packages are registered for (the deployer refuses others)
    endpoint_instance_type: str
    job_role_arn: str = ""  # the role the step jobs run as (the pipeline's role when not given)
    # every stage's endpoint type when one version is promoted through several (the InferenceInstanceTypes output)
    inference_instance_types: tuple[str, ...] = ()

    @property
    def registered_instance_types(self) -> list[str]:
        """The real-time instance types a package is registered for: every stage's, else the endpoint's."""
        return list(self.inference_instance_types or (self.endpoint_instance_type,))

    @property
    def step_role_arn(self) -> str:
        return self.job_role_arn or self.role_arn

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, str], region: str) -> Target:
        missing = [name for name in OUTPUT_ENV if not outputs.get(name)]
        if missing:
            raise ConfigError(f"stack outputs missing: {', '.join(missing)}")
        return cls(
            pipeline_name=outputs["PipelineName"],
            role_arn=outputs["SageMakerPipelineRoleArn"],
            job_role_arn=outputs["SageMakerJobRoleArn"],
            bucket=outputs["ArtifactBucketName"],
            model_package_group_name=outputs["ModelPackageGroupName"],
            region=region,
            endpoint_instance_type=outputs["EndpointInstanceType"],
            inference_instance_types=tuple(
                t.strip() for t in str(outputs.get("InferenceInstanceTypes") or "").split(",") if t.strip()
            ),
        )


def load_outputs(value: str) -> dict[str, str]:
    """Outputs from a JSON file or string: a plain ``{name: value}`` map or one with an ``outputs`` key
    (the line ``python -m local serve`` prints)."""
    text = Path(value).read_text(encoding="utf-8") if Path(value).is_file() else value
    data = json.loads(text.strip().splitlines()[0] if text.strip() else "{}")
    for key in ("outputs", "Outputs"):
        if isinstance(data.get(key), dict):
            data = {**data, **data[key]}
    return {k: str(v) for k, v in data.items() if isinstance(v, str | int | float)}


def resolve_outputs(
    environment: str,
    *,
    outputs: str | Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    session: boto3.session.Session | None = None,
) -> tuple[Mapping[str, str], str]:
    """The stack outputs and the region: given (a map, or a JSON file / string), else environment variables, else
    the CloudFormation stack named in samconfig.toml for ``environment``."""
    environ = os.environ if environ is None else environ
    session = session or boto3.session.Session()
    region = session.region_name or environ.get("AWS_REGION") or "us-east-1"
    if isinstance(outputs, str):
        outputs = load_outputs(outputs)
    if outputs:
        return outputs, region
    from_env = {name: environ.get(var, "") for name, var in OUTPUT_ENV.items()}
    if all(from_env.values()):
        return from_env, region
    try:
        return cloudformation_outputs(environment, session), region
    except SamConfigError as exc:
        raise ConfigError(str(exc)) from exc


def resolve_target(
    environment: str,
    *,
    outputs: str | Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    session: boto3.session.Session | None = None,
) -> Target:
    """The pipeline's target, from the stack outputs :func:`resolve_outputs` finds."""
    return Target.from_outputs(*resolve_outputs(environment, outputs=outputs, environ=environ, session=session))


def git_sha(default: str = "unknown") -> str:
    """Short SHA of the checked-out commit (``GIT_SHA`` wins when set, e.g. in CI)."""
    if os.environ.get("GIT_SHA"):
        return os.environ["GIT_SHA"]
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return default
    return result.stdout.strip() or default
