"""The drift-check pipeline (SageMaker SDK v2): one processing step running ``check.py`` in the drift-check image.

Its parameters say what to check: the endpoint, the window, which captured requests (``CaptureManifestUri``: a
manifest of the window's capture files, SageMaker's ``ManifestFile`` input, keys relative to
``data-capture/<endpoint>/`` so each keeps its version's folder),
where the baselines of the versions that served them were staged (``BaselinesUri``: ``v<N>/`` folders and
``served.json``) and where the result goes (``OutputUri``: ``summary.json``, ``report.html``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagemaker.workflow.steps import ProcessingStep

from pipeline import sdk_config
from pipeline.drift import DRIFT_DIR, IMAGE_REPOSITORY

sdk_config.use_prepared_validator()

STEP_NAME = "DriftCheck"
IMAGE_TAG = "1"  # the image built from requirements.txt (make drift-image on AWS)


@dataclass(frozen=True)
class DriftTarget:
    """The stack the drift check belongs to (its outputs)."""

    pipeline_name: str
    role_arn: str  # the pipeline's role (it starts the job)
    job_role_arn: str  # the role the job runs as
    bucket: str
    endpoint_name: str
    account_id: str
    region: str

    @property
    def image_uri(self) -> str:
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{IMAGE_REPOSITORY}:{IMAGE_TAG}"

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any], account_id: str, region: str) -> DriftTarget:
        return cls(
            pipeline_name=outputs["DriftCheckPipelineName"],
            role_arn=outputs["DriftCheckPipelineRoleArn"],
            job_role_arn=outputs["DriftCheckJobRoleArn"],
            bucket=outputs["ArtifactBucketName"],
            endpoint_name=outputs["EndpointName"],
            account_id=account_id,
            region=region,
        )


def build_drift_pipeline(target: DriftTarget, session: PipelineSession) -> Pipeline:
    endpoint = ParameterString("EndpointName", default_value=target.endpoint_name)
    capture_manifest_uri = ParameterString("CaptureManifestUri")
    baselines_uri = ParameterString("BaselinesUri")
    output_uri = ParameterString("OutputUri")
    window_start = ParameterString("WindowStart", default_value="")
    window_end = ParameterString("WindowEnd", default_value="")
    min_records = ParameterInteger("MinRecords", default_value=100)
    drift_share = ParameterFloat("DriftShare", default_value=0.5)
    instance_type = ParameterString("ProcessingInstanceType", default_value="ml.m5.large")
    processor = ScriptProcessor(
        image_uri=target.image_uri,
        command=["python3"],
        role=target.job_role_arn,
        instance_type=instance_type,
        instance_count=1,
        base_job_name=target.pipeline_name,
        sagemaker_session=session,
    )
    check = ProcessingStep(
        name=STEP_NAME,
        step_args=processor.run(
            code=str(DRIFT_DIR / "check.py"),
            inputs=[
                ProcessingInput(
                    input_name="capture",
                    source=capture_manifest_uri,
                    destination="/opt/ml/processing/capture",
                    s3_data_type="ManifestFile",
                ),
                ProcessingInput(
                    input_name="baselines", source=baselines_uri, destination="/opt/ml/processing/baselines"
                ),
            ],
            outputs=[
                ProcessingOutput(output_name="result", source="/opt/ml/processing/output", destination=output_uri)
            ],
            arguments=[
                *("--endpoint", endpoint),
                *("--window-start", window_start),
                *("--window-end", window_end),
                *("--min-records", min_records.to_string()),
                *("--drift-share", drift_share.to_string()),
            ],
        ),
    )
    return Pipeline(
        name=target.pipeline_name,
        parameters=[
            endpoint,
            capture_manifest_uri,
            baselines_uri,
            output_uri,
            window_start,
            window_end,
            min_records,
            drift_share,
            instance_type,
        ],
        steps=[check],
        sagemaker_session=session,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=False),
        pipeline_experiment_config=None,
    )


def upsert(target: DriftTarget, boto_session: boto3.session.Session | None = None) -> str:
    """Create or update the drift-check pipeline (uploads ``check.py``); its ARN."""
    session = PipelineSession(
        boto_session=boto_session or boto3.session.Session(region_name=target.region), default_bucket=target.bucket
    )
    pipeline = build_drift_pipeline(target, session)
    response = pipeline.upsert(
        role_arn=target.role_arn, description=f"Drift check of {target.endpoint_name}'s captured requests"
    )
    return str(response["PipelineArn"])
