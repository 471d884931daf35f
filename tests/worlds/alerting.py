"""Failures as SageMaker knows them, made on the embedded AWS (or moto in process), for the alert function to find.

The alert function takes its facts from SageMaker, not from events: a sample event (``events/*.json``) is only a
pointer, and what it points at must exist first. A :class:`Failures` world creates, through the API:

- a pipeline execution (``CreatePipeline`` once, ``StartPipelineExecution``) whose status, reason and steps the
  embedded SageMaker's store then reports (``set_pipeline_execution_status``, ``record_step``), and
  :meth:`Execution.event` points a sample event at it;
- a training job (``CreateTrainingJob``) whose status, reason, secondary status and transitions are then set on the
  in-process backend, as a job's run would leave them (so: in process only).

A served stack (``make serve``, another process) has its store behind the control API: :class:`ControlStore`.

    world = Failures(sagemaker, store)
    run = world.execution("Failed", steps=[failed_step("Training", "AlgorithmError: boom", job=name)])
    event = run.event(sample("pipeline-execution-failed"))
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.sagemaker.models import sagemaker_backends

PIPELINE = "fraud-pipeline-dev"
ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-lifecycle-dev-sagemaker-job"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
DEFINITION = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [{"Name": "Training", "Type": "Fail", "Arguments": {"ErrorMessage": "AlgorithmError: boom"}}],
    }
)
"""Where a pipeline runner is installed (``make serve``), an execution runs this: it fails at its Training step."""
JOB_ARN_PREFIX = "arn:aws:sagemaker:us-east-1:123456789012:training-job/"
SAMPLE_JOB = "pipelines-7k2m9q4x1b3c-training-gx7q2rtz1a"  # the training job of the samples
STARTED = datetime(2025, 11, 20, 10, 2, 11, tzinfo=UTC)


class Store(Protocol):
    """What the embedded SageMaker reports of executions (``SageMakerStore``, ``aws.control``)."""

    def record_step(self, execution_arn: str, step: dict[str, Any]) -> Any: ...

    def set_pipeline_execution_status(
        self, execution_arn: str, status: str, failure_reason: str | None = None
    ) -> Any: ...


class ControlStore:
    """The :class:`Store` of an embedded AWS in another process (``make serve``), through its control API."""

    def __init__(self, control: Any) -> None:
        self.control = control  # a local.aws.control_client.ControlClient

    def record_step(self, execution_arn: str, step: dict[str, Any]) -> Any:
        sent = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in step.items()}
        return self.control.call("record_step", execution_arn=execution_arn, step=sent)

    def set_pipeline_execution_status(self, execution_arn: str, status: str, failure_reason: str | None = None) -> Any:
        return self.control.call(
            "set_pipeline_execution_status", execution_arn=execution_arn, status=status, failure_reason=failure_reason
        )


def failed_step(
    name: str = "Training", reason: str | None = None, *, job: str | None = None, status: str = "Failed"
) -> dict[str, Any]:
    """A step as ``ListPipelineExecutionSteps`` reports it; ``job``: the name of its training job."""
    step: dict[str, Any] = {"StepName": name, "StepStatus": status, "StartTime": STARTED, "EndTime": STARTED}
    if reason:
        step["FailureReason"] = reason
    if job:
        step["Metadata"] = {"TrainingJob": {"Arn": JOB_ARN_PREFIX + job.lower()}}
    return step


@dataclass(frozen=True)
class Execution:
    arn: str
    execution_id: str

    def event(self, sample: dict[str, Any], **detail: Any) -> dict[str, Any]:
        """``sample`` (an execution or step event) pointing at this execution, with ``detail`` changed."""
        event = copy.deepcopy(sample)
        old = event["detail"]["pipelineExecutionArn"]
        event["resources"] = [self.arn if resource == old else resource for resource in event.get("resources", [])]
        event["detail"]["pipelineExecutionArn"] = self.arn
        event["detail"].update(detail)
        return event


class Failures:
    """Creates failures in one account through ``sagemaker`` (a client), reported by ``store``."""

    def __init__(self, sagemaker: Any, store: Store, pipeline: str = PIPELINE) -> None:
        self.sm, self.store, self.pipeline = sagemaker, store, pipeline
        known = [p["PipelineName"] for p in self.sm.list_pipelines(PipelineNamePrefix=pipeline)["PipelineSummaries"]]
        if pipeline not in known:
            self.sm.create_pipeline(PipelineName=pipeline, PipelineDefinition=DEFINITION, RoleArn=ROLE_ARN)

    def execution(
        self,
        status: str = "Failed",
        reason: str | None = None,
        *,
        steps: Iterable[dict[str, Any]] = (),
        display_name: str = "execution-1763634000",
        description: str = "git 3f2c1e9",
    ) -> Execution:
        """An execution of the pipeline that SageMaker reports with ``status``, ``reason`` and ``steps``."""
        arn = self.sm.start_pipeline_execution(
            PipelineName=self.pipeline,
            PipelineExecutionDisplayName=display_name,
            PipelineExecutionDescription=description,
            ClientRequestToken=uuid.uuid4().hex,
        )["PipelineExecutionArn"]
        for step in steps:
            self.store.record_step(arn, step)
        self.store.set_pipeline_execution_status(arn, status, reason)
        return Execution(arn, arn.rsplit("/", 1)[-1])

    def training_job(
        self,
        name: str = SAMPLE_JOB,
        status: str = "Failed",
        reason: str | None = None,
        *,
        secondary: str | None = None,
        transitions: Iterable[dict[str, Any]] = (),
        spot: bool = False,
        max_wait: int | None = None,
        role_arn: str = ROLE_ARN,
    ) -> str:
        """A training job that ended with ``status`` (secondary status ``secondary``, default the same); its ARN."""
        stopping: dict[str, int] = {"MaxRuntimeInSeconds": 3600}
        if max_wait:
            stopping["MaxWaitTimeInSeconds"] = max_wait
        arn = self.sm.create_training_job(
            TrainingJobName=name,
            RoleArn=role_arn,
            AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
            StoppingCondition=stopping,
            EnableManagedSpotTraining=spot,
        )["TrainingJobArn"]
        account, region = arn.split(":")[4], arn.split(":")[3]
        job = sagemaker_backends[account][region].training_jobs[name]
        job.training_job_status = status
        job.secondary_status = secondary or status
        job.failure_reason = reason
        job.secondary_status_transitions = [*transitions] or [
            {"Status": job.secondary_status, "StartTime": STARTED, "EndTime": STARTED, "StatusMessage": reason or ""}
        ]
        return str(arn)

    def failure_for(self, sample: dict[str, Any]) -> dict[str, Any]:
        """What a sample event (``events/*.json``) reports, made true in SageMaker; the event, pointing at it.

        An execution event: an execution with the event's status (its Training step failed, with the step sample's
        reason, when the status means a step failed); a step event: a failed execution whose step failed with the
        event's reason and job; a training job event: the job, with the event's status, reason and secondary status.
        """
        detail = sample["detail"]
        if "TrainingJobName" in detail:
            transitions = [_times_of(t) for t in detail.get("SecondaryStatusTransitions", [])]
            self.training_job(
                detail["TrainingJobName"],
                detail["TrainingJobStatus"],
                detail.get("FailureReason"),
                secondary=detail.get("SecondaryStatus"),
                transitions=transitions,
                spot=bool(detail.get("EnableManagedSpotTraining")),
                max_wait=(detail.get("StoppingCondition") or {}).get("MaxWaitTimeInSeconds"),
                role_arn=detail.get("RoleArn") or ROLE_ARN,
            )
            return copy.deepcopy(sample)
        if "stepName" in detail:
            step = failed_step(detail["stepName"], detail.get("failureReason"), job=SAMPLE_JOB)
            return self.execution("Failed", steps=[step]).event(sample)
        status = detail["currentPipelineExecutionStatus"]
        steps = (
            [failed_step("Training", STEP_REASON, job=SAMPLE_JOB)]
            if status in ("Failed", "CompletedWithFailures")
            else []
        )
        return self.execution(status, steps=steps).event(sample)


STEP_REASON = "ClientError: AlgorithmError: XGBoostError: label must be in [0,1] for logistic regression, exit code: 1"
"""The failure reason of the step sample (``events/pipeline-step-failed.json``)."""


def _times_of(transition: dict[str, Any]) -> dict[str, Any]:
    """A secondary status transition of an event (epoch milliseconds) as the API has it (datetimes)."""
    return {
        key: datetime.fromtimestamp(int(value) / 1000, tz=UTC) if key.endswith("Time") else value
        for key, value in transition.items()
    }
