"""What ``python -m pipeline`` does, as functions (the local runner and the tests call them too)."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3

from pipeline.config import ConfigError, PipelineParams, Target, git_sha
from pipeline.data import upload_raw_data
from pipeline.definition import build_pipeline, data_uri, session_for
from sm_lifecycle.kernel.registry import GIT_SHA

TERMINAL = ("Succeeded", "Failed", "Stopped", "CompletedWithFailures")
# Building under a PipelineSession is the point; the SDK warns about it on every job step.
warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)


def pipeline_for(target: Target, environment: str, boto_session: boto3.session.Session | None = None):
    return build_pipeline(target, PipelineParams.load(environment), session_for(target, boto_session))


def definition(target: Target, environment: str, boto_session: boto3.session.Session | None = None) -> dict:
    """The pipeline definition JSON (uploads the step code to the artifact bucket, as ``upsert`` does)."""
    return json.loads(pipeline_for(target, environment, boto_session).definition())


def upsert(target: Target, environment: str, boto_session: boto3.session.Session | None = None) -> str:
    """Create or update the pipeline; returns its ARN."""
    pipeline = pipeline_for(target, environment, boto_session)
    response = pipeline.upsert(
        role_arn=target.role_arn,
        description=f"Credit-card default model ({environment}), trained on Spot, registered for approval",
        tags=[{"Key": "environment", "Value": environment}],
    )
    return response["PipelineArn"]


def upsert_drift_check(
    outputs: Mapping[str, str], region: str, boto_session: boto3.session.Session | None = None
) -> str:
    """Create or update the stack's drift-check pipeline (its scheduled checks start it); returns its ARN."""
    from pipeline.drift.definition import DriftTarget, upsert  # noqa: PLC0415 - the SDK, imported when needed

    missing = [n for n in ("DriftCheckPipelineName", "DriftCheckPipelineRoleArn") if not outputs.get(n)]
    if missing:
        raise ConfigError(f"stack outputs missing: {', '.join(missing)}")
    account = outputs["DriftCheckPipelineRoleArn"].split(":")[4]
    return upsert(DriftTarget.from_outputs(dict(outputs), account, region), boto_session)


def start(
    target: Target,
    *,
    sha: str | None = None,
    parameters: dict[str, Any] | None = None,
    boto_session: boto3.session.Session | None = None,
) -> str:
    """Start an execution tagged with the git SHA (parameter ``GitSha``, which tagging and deployment read; the
    display name and description carry it for people)."""
    sha = sha or git_sha()
    session = boto_session or boto3.session.Session(region_name=target.region)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    values = {GIT_SHA: sha, **(parameters or {})}
    response = session.client("sagemaker").start_pipeline_execution(
        PipelineName=target.pipeline_name,
        PipelineExecutionDisplayName=f"git-{sha}-{stamp}"[:82],
        PipelineExecutionDescription=f"git {sha}",
        PipelineParameters=[{"Name": k, "Value": str(v)} for k, v in values.items()],
        ClientRequestToken=str(uuid.uuid4()),  # one token per start: an SDK retry of this call starts one execution
    )
    return response["PipelineExecutionArn"]


def wait(
    execution_arn: str, *, timeout: float = 3600.0, poll: float = 2.0, boto_session: boto3.session.Session | None = None
) -> dict[str, Any]:
    """Poll DescribePipelineExecution until the execution ends."""
    client = (boto_session or boto3.session.Session()).client("sagemaker")
    deadline = time.monotonic() + timeout
    while True:
        described = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        if described["PipelineExecutionStatus"] in TERMINAL:
            return dict(described)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still {described['PipelineExecutionStatus']} after {timeout} s")
        time.sleep(poll)


def upload_data(target: Target, uri: str | None = None, boto_session: boto3.session.Session | None = None) -> str:
    """Upload the raw ``Default`` data set to the pipeline's default input location (or ``uri``)."""
    session = boto_session or boto3.session.Session(region_name=target.region)
    return upload_raw_data(session.client("s3"), uri or data_uri(target.bucket))


def ensure_data(target: Target, boto_session: boto3.session.Session | None = None) -> str | None:
    """Upload the raw data set to the default input location when nothing is there yet; returns what it uploaded."""
    session = boto_session or boto3.session.Session(region_name=target.region)
    s3 = session.client("s3")
    bucket, _, prefix = data_uri(target.bucket).removeprefix("s3://").partition("/")
    if s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rsplit("/", 1)[0] + "/", MaxKeys=1).get("KeyCount", 0):
        return None
    return upload_data(target, boto_session=session)
