"""Runs SageMaker pipeline executions for real inside the embedded AWS.

moto stores a pipeline's definition and records ``StartPipelineExecution`` but executes nothing. Installed on an
embedded AWS, :class:`PipelineRunner` hooks that operation: each new execution runs, in a background thread, the
definition JSON the execution was started with (the one ``DescribePipelineDefinitionForExecution`` returns), as
SageMaker Pipelines does:

- the step graph from ``DependsOn`` and data dependencies (``Get: Steps.X...``), condition branches;
- parameters (defaults overridden by the execution's ``PipelineParameters``), execution variables, ``Std:Join``,
  ``Std:JsonGet`` on property files, conditions;
- Processing and Training steps create real jobs (``CreateProcessingJob`` / ``CreateTrainingJob`` on the embedded
  AWS) whose status moves over time (``InProgress`` -> ``Completed`` / ``Failed``, secondary status transitions,
  ``ModelArtifacts``, ``FailureReason`` / ``ExitMessage``) while the step's script runs in a subprocess with the
  container's conventions (see :mod:`local.pipelines.containers`);
- Spot training: checkpoints are synced to ``CheckpointConfig.S3Uri``; an injected interruption stops the job's
  process, the job goes ``Interrupted`` -> ``Restarting`` and restarts on a fresh "instance" that gets the
  checkpoints back from S3;
- retry policies (``SageMaker.CAPACITY_ERROR`` ... by the job's failure reason);
- step caching (``CacheConfig``): a step whose cache-key attributes (the ones SageMaker documents per step type)
  match a successful run of the same step of the same pipeline within ``ExpireAfter`` reuses that run's results
  and reports ``CacheHitResult`` instead of starting a job;
- RegisterModel steps call ``CreateModelPackage``; Fail steps fail the execution with their message;
- the events SageMaker sends (pipeline execution and step status, training and processing job state) through the
  embedded AWS's EventBridge, and the steps for ``ListPipelineExecutionSteps``.

The SDK's own ``sagemaker.local.pipeline.LocalPipelineExecutor`` needs the Python ``Pipeline`` object and runs jobs
in Docker; this runner executes the stored definition, which is what SageMaker itself receives.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import random
import re
import string
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.sagemaker.models import sagemaker_backends

from local.aws.sagemaker.events import models as events
from local.aws.sagemaker.pipelines import executors
from local.pipelines.containers import (
    OPT_ML,
    CheckpointSync,
    Container,
    S3Transfer,
    pack_model,
    script_mode_args,
)
from local.pipelines.expressions import Context, ExpressionError, condition, references, resolve

logger = logging.getLogger(__name__)

EXECUTING, SUCCEEDED, FAILED, STOPPED = "Executing", "Succeeded", "Failed", "Stopped"
STEP_STARTING, STEP_EXECUTING = "Starting", "Executing"
GENERIC_FAILURE = "Step failure: One or multiple steps failed."
CAPACITY_FAILURE = (
    "CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type."
)
RETRYABLE = {
    "SageMaker.CAPACITY_ERROR": ("CapacityError",),
    "SageMaker.JOB_INTERNAL_ERROR": ("InternalServerError", "InternalError"),
    "SageMaker.RESOURCE_LIMIT": ("ResourceLimitExceeded",),
    "Step.SERVICE_FAULT": ("ServiceFault",),
    "Step.THROTTLING": ("ThrottlingException",),
}
_TYPE_CAST: dict[str, Callable[[Any], Any]] = {
    "Integer": int,
    "Float": float,
    "Boolean": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
    "String": str,
}


def _now() -> datetime:
    return datetime.now(UTC)


class StepFailed(Exception):
    """A step ended ``Failed``; ``reason`` is its FailureReason."""

    def __init__(self, reason: str, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.metadata = metadata or {}


# ---------------------------------------------------------------------------------------------- injection
@dataclass
class SpotInterruption:
    """An armed Spot interruption: the next matching training job is interrupted once ``after_checkpoints``
    new checkpoint files exist in its checkpoint folder (i.e. mid-training, after some progress was saved)."""

    after_checkpoints: int = 1
    step_name: str | None = None
    fired: threading.Event = field(default_factory=threading.Event)
    job_name: str | None = None
    checkpoints_at_interruption: list[str] = field(default_factory=list)

    def matches(self, step_name: str) -> bool:
        return not self.fired.is_set() and self.step_name in (None, step_name)


@dataclass
class CapacityShortage:
    """The next ``times`` jobs of ``step_name`` fail to start with a capacity error (retry policy path)."""

    step_name: str
    times: int = 1


# ---------------------------------------------------------------------------------------------- execution state
@dataclass
class StepRecord:
    """One step of an execution, in the shape of ListPipelineExecutionSteps."""

    name: str
    step_type: str
    status: str = STEP_STARTING
    start_time: datetime = field(default_factory=_now)
    end_time: datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    attempt_count: int = 0
    cache_hit_source: str | None = None  # execution ARN whose results a cached step reused

    def summary(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "StepName": self.name,
            "StepDisplayName": self.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "AttemptCount": self.attempt_count,
            "Metadata": self.metadata,
        }
        if self.end_time:
            item["EndTime"] = self.end_time
        if self.failure_reason:
            item["FailureReason"] = self.failure_reason
        if self.cache_hit_source:
            item["CacheHitResult"] = {"SourcePipelineExecutionArn": self.cache_hit_source}
        return item


# Step caching: the attributes that make up a step's cache key, per step type (SageMaker documents them as "Default
# cache key attributes by pipeline step type"); outputs are not part of the key.
CACHE_KEY_ATTRIBUTES = {
    "Processing": ("AppSpecification", "Environment", "ProcessingInputs"),
    "Training": (
        "AlgorithmSpecification",
        "CheckpointConfig",
        "DebugHookConfig",
        "DebugRuleConfigurations",
        "Environment",
        "HyperParameters",
        "InputDataConfig",
    ),
}
_DURATION = re.compile(
    r"^P?(?:(?P<Y>\d+)Y)?(?:(?P<MO>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+)S)?)?$",
    re.IGNORECASE,
)
_SECONDS = {"Y": 365 * 86400, "MO": 30 * 86400, "W": 7 * 86400, "D": 86400, "H": 3600, "MI": 60, "S": 1}


def expire_after_seconds(value: str | None) -> float:
    """``CacheConfig.ExpireAfter`` (an ISO 8601 duration such as ``P30D`` or ``PT1H``) in seconds; none: forever."""
    if not value:
        return float("inf")
    match = _DURATION.match(value.strip())
    if not match or not any(match.groups()):
        raise ExpressionError(f"CacheConfig.ExpireAfter {value!r} is not an ISO 8601 duration")
    return float(sum(int(n) * _SECONDS[unit] for unit, n in match.groupdict().items() if n))


@dataclass
class CachedStep:
    """A successful step run that later runs with the same cache key reuse."""

    execution_arn: str
    finished: float
    properties: dict[str, Any]
    metadata: dict[str, Any]


@dataclass
class Execution:
    arn: str
    pipeline_arn: str
    pipeline_name: str
    execution_id: str
    definition: dict[str, Any]
    parameters: dict[str, Any]
    display_name: str | None
    description: str | None
    status: str = EXECUTING
    failure_reason: str | None = None
    start_time: datetime = field(default_factory=_now)
    end_time: datetime | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    jobs: dict[str, list[str]] = field(default_factory=dict)  # step name -> job names (one per attempt)
    step_timings: dict[str, float] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


def active_runner() -> PipelineRunner | None:
    """The installed runner, if any."""
    attached = executors.attached()
    return attached if isinstance(attached, PipelineRunner) else None


# ---------------------------------------------------------------------------------------------- runner
class PipelineRunner:
    """Executes the pipelines started on an embedded AWS (``aws``: ``endpoint_url``, ``region``, ``account_id``,
    and optionally ``emit(detail_type, detail, resources)`` and ``sagemaker_store.record_step(...)``).

    ``retry_interval_scale`` multiplies retry policies' intervals (0: retry at once); ``python`` is the
    interpreter the step scripts run with.
    """

    def __init__(
        self,
        aws: Any,
        *,
        work_dir: str | Path | None = None,
        python: str = sys.executable,
        retry_interval_scale: float = 0.0,
        keep_work: bool = False,
    ) -> None:
        self.aws = aws
        self.python = python
        self.retry_interval_scale = retry_interval_scale
        self.keep_work = keep_work
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="sm-pipelines-")
        self.work_dir = Path(work_dir) if work_dir else Path(self._tmp.name)  # type: ignore[union-attr]
        self.executions: dict[str, Execution] = {}
        self.interruptions: list[SpotInterruption] = []
        self.shortages: list[CapacityShortage] = []
        self._threads: list[threading.Thread] = []
        self._cache: dict[str, list[CachedStep]] = {}
        self._streams: set[str] = set()
        self._lock = threading.Lock()
        config = Config(retries={"max_attempts": 3, "mode": "standard"})
        kwargs = {
            "endpoint_url": aws.endpoint_url,
            "region_name": aws.region,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": config,
        }
        self.sagemaker = boto3.client("sagemaker", **kwargs)
        self.s3 = boto3.client("s3", **kwargs)
        self.logs = boto3.client("logs", **kwargs)
        self.transfer = S3Transfer(self.s3)

    # -------------------------------------------------------------------------------- public API
    def install(self) -> PipelineRunner:
        """Make this runner execute every pipeline started on the embedded AWS from now on."""
        executors.attach(self)
        return self

    def uninstall(self, timeout: float = 60.0) -> None:
        executors.detach(self)
        for thread in list(self._threads):
            thread.join(timeout)
        if self._tmp is not None and not self.keep_work:
            self._tmp.cleanup()

    def __enter__(self) -> PipelineRunner:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def start(
        self,
        pipeline_name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        display_name: str | None = None,
        description: str | None = None,
    ) -> str:
        """``StartPipelineExecution`` through the API; returns the execution ARN."""
        request: dict[str, Any] = {
            "PipelineName": pipeline_name,
            "PipelineParameters": [{"Name": k, "Value": str(v)} for k, v in (parameters or {}).items()],
        }
        if display_name:
            request["PipelineExecutionDisplayName"] = display_name
        if description:
            request["PipelineExecutionDescription"] = description
        return self.sagemaker.start_pipeline_execution(**request)["PipelineExecutionArn"]

    def wait(self, execution_arn: str, timeout: float = 300.0) -> dict[str, Any]:
        """Block until the execution ends; returns ``DescribePipelineExecution``."""
        execution = self.executions.get(execution_arn)
        if execution is None:
            raise KeyError(f"{execution_arn} was not started while this runner was installed")
        if not execution.done.wait(timeout):
            raise TimeoutError(f"{execution_arn} still {execution.status} after {timeout} s")
        return self.sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)

    def list_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """The execution's steps, newest first (as ListPipelineExecutionSteps returns them)."""
        execution = self.executions[execution_arn]
        records = sorted(execution.steps.values(), key=lambda s: s.start_time, reverse=True)
        return [r.summary() for r in records]

    def interrupt_training(self, *, after_checkpoints: int = 1, step_name: str | None = None) -> SpotInterruption:
        """Arm a Spot interruption of the next training job (of ``step_name``, if given)."""
        interruption = SpotInterruption(after_checkpoints=after_checkpoints, step_name=step_name)
        with self._lock:
            self.interruptions.append(interruption)
        return interruption

    def fail_capacity(self, step_name: str, times: int = 1) -> CapacityShortage:
        """Make the next ``times`` jobs of ``step_name`` fail with ``CapacityError`` (exercises retry policies)."""
        shortage = CapacityShortage(step_name, times)
        with self._lock:
            self.shortages.append(shortage)
        return shortage

    def job_logs(self, job_name: str, kind: str = "TrainingJobs") -> dict[str, list[str]]:
        """The job's CloudWatch log streams (one per instance start) and their messages."""
        group = f"/aws/sagemaker/{kind}"
        streams = self.logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job_name + "/")
        result = {}
        for stream in sorted(streams.get("logStreams", []), key=lambda s: s["logStreamName"]):
            name = stream["logStreamName"]
            found = self.logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
            result[name] = [e["message"] for e in found["events"]]
        return result

    # -------------------------------------------------------------------------------- launch
    def launch(self, backend: Any, pipeline_name: str, execution_arn: str) -> None:
        pipeline = backend.pipelines[pipeline_name]
        fake = pipeline.pipeline_executions[execution_arn]
        fake.pipeline_execution_status = EXECUTING
        definition = json.loads(fake.pipeline_definition_for_execution)
        try:
            parameters = self._parameters(definition, fake.pipeline_parameters or [])
        except (KeyError, ValueError) as exc:
            parameters = {}
            failure = f"Invalid pipeline parameters: {exc}"
        else:
            failure = None
        execution = Execution(
            arn=execution_arn,
            pipeline_arn=pipeline.arn,
            pipeline_name=pipeline.pipeline_name,
            execution_id=execution_arn.rsplit("/", 1)[-1],
            definition=definition,
            parameters=parameters,
            display_name=fake.pipeline_execution_display_name,
            description=fake.pipeline_execution_description,
        )
        self.executions[execution_arn] = execution
        thread = threading.Thread(
            target=self._run, args=(backend, fake, execution, failure), name=f"pipeline-{execution.execution_id}"
        )
        thread.daemon = True
        self._threads.append(thread)
        thread.start()

    @staticmethod
    def _parameters(definition: Mapping[str, Any], overrides: Iterable[Mapping[str, str]]) -> dict[str, Any]:
        declared = {p["Name"]: p for p in definition.get("Parameters", [])}
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if "DefaultValue" in spec:
                values[name] = _TYPE_CAST[spec.get("Type", "String")](spec["DefaultValue"])
        for item in overrides:
            name = item["Name"]
            if name not in declared:
                raise KeyError(f"{name} is not a parameter of the pipeline")
            values[name] = _TYPE_CAST[declared[name].get("Type", "String")](item["Value"])
        missing = [n for n in declared if n not in values]
        if missing:
            raise ValueError(f"no value for {', '.join(missing)}")
        return values

    # -------------------------------------------------------------------------------- execution
    def _run(self, backend: Any, fake: Any, execution: Execution, failure: str | None) -> None:
        started = time.monotonic()
        try:
            self._emit_execution(execution, None)
            if failure is None:
                failure = self._run_steps(execution)
        except Exception as exc:
            logger.exception("pipeline execution %s crashed", execution.arn)
            failure = f"InternalError: {type(exc).__name__}: {exc}"
        finally:
            execution.end_time = _now()
            previous = execution.status
            execution.status = FAILED if failure else SUCCEEDED
            execution.failure_reason = failure
            execution.step_timings["_total"] = time.monotonic() - started
            try:
                self._set_status(fake, execution)
                self._emit_execution(execution, previous)
            finally:
                execution.done.set()

    def _set_status(self, fake: Any, execution: Execution) -> None:
        store = getattr(self.aws, "sagemaker_store", None)
        if store is not None and hasattr(store, "set_pipeline_execution_status"):
            store.set_pipeline_execution_status(execution.arn, execution.status, execution.failure_reason)
        else:
            fake.pipeline_execution_status = execution.status
            fake.pipeline_execution_failure_reason = execution.failure_reason
        fake.last_modified_time = execution.end_time or _now()

    def _flatten(self, definition: Mapping[str, Any]) -> tuple[dict[str, dict], dict[str, tuple[str, str]]]:
        steps: dict[str, dict] = {}
        branch_of: dict[str, tuple[str, str]] = {}

        def _add(step: dict, parent: tuple[str, str] | None) -> None:
            steps[step["Name"]] = step
            if parent:
                branch_of[step["Name"]] = parent
            if step.get("Type") == "Condition":
                for key in ("IfSteps", "ElseSteps"):
                    for child in step.get("Arguments", {}).get(key, []):
                        _add(child, (step["Name"], key))

        for step in definition.get("Steps", []):
            _add(step, None)
        return steps, branch_of

    def _run_steps(self, execution: Execution) -> str | None:
        steps, branch_of = self._flatten(execution.definition)
        dependencies: dict[str, set[str]] = {}
        for name, step in steps.items():
            arguments = {k: v for k, v in step.get("Arguments", {}).items() if k not in ("IfSteps", "ElseSteps")}
            deps = set(step.get("DependsOn", [])) | references(arguments)
            deps |= {ref.split(".")[1] for ref in _property_file_refs(arguments)}
            if name in branch_of:
                deps.add(branch_of[name][0])
            dependencies[name] = deps - {name}
        ctx = Context(
            parameters=execution.parameters,
            execution={
                "PipelineExecutionId": execution.execution_id,
                "PipelineExecutionArn": execution.arn,
                "PipelineName": execution.pipeline_name,
                "PipelineArn": execution.pipeline_arn,
                "StartDateTime": execution.start_time.isoformat(),
            },
            read_s3=self.transfer.read,
        )
        done: set[str] = set()
        skipped: set[str] = set()
        failed: list[tuple[str, str]] = []
        pending = list(steps)
        while pending and not failed:
            ready = [n for n in pending if dependencies[n] <= (done | skipped)]
            if not ready:
                break
            name = ready[0]
            pending.remove(name)
            if dependencies[name] & skipped or self._not_taken(name, branch_of, ctx):
                skipped.add(name)
                continue
            step = steps[name]
            began = time.monotonic()
            try:
                self._execute(execution, step, ctx)
            except StepFailed as exc:
                failed.append((name, exc.reason))
            else:
                done.add(name)
            execution.step_timings[name] = time.monotonic() - began
        if failed:
            name, reason = failed[0]
            return reason if steps[name].get("Type") == "Fail" else GENERIC_FAILURE
        return None

    @staticmethod
    def _not_taken(name: str, branch_of: Mapping[str, tuple[str, str]], ctx: Context) -> bool:
        if name not in branch_of:
            return False
        parent, branch = branch_of[name]
        outcome = ctx.steps.get(parent, {}).get("Outcome")
        return (branch == "IfSteps") != bool(outcome)

    def _execute(self, execution: Execution, step: Mapping[str, Any], ctx: Context) -> None:
        name, kind = step["Name"], step["Type"]
        record = StepRecord(name=name, step_type=kind)
        execution.steps[name] = record
        policies = step.get("RetryPolicies", [])
        attempts: dict[int, int] = {}
        while True:
            record.attempt_count += 1
            previous = record.status if record.attempt_count > 1 else None
            record.status = STEP_EXECUTING
            self._record(execution, record, previous)
            try:
                arguments = resolve(
                    {k: v for k, v in step.get("Arguments", {}).items() if k not in ("IfSteps", "ElseSteps")}, ctx
                )
                hit = self._cache_hit(execution, step, arguments) if record.attempt_count == 1 else None
                if hit is not None:
                    properties = copy.deepcopy(hit.properties)
                    record.metadata = copy.deepcopy(hit.metadata)
                    record.cache_hit_source = hit.execution_arn
                else:
                    properties = self._handler(kind)(execution, step, arguments, record, ctx)
                    self._remember(execution, step, arguments, properties, record)
            except ExpressionError as exc:
                self._finish(execution, record, FAILED, f"ClientError: {exc}")
                raise StepFailed(str(exc)) from exc
            except StepFailed as exc:
                record.metadata.update(exc.metadata)
                policy_index = _matching_policy(policies, exc.reason)
                if policy_index is not None:
                    policy = policies[policy_index]
                    count = attempts.get(policy_index, 0) + 1
                    attempts[policy_index] = count
                    if count < int(policy.get("MaxAttempts", 1)):
                        delay = float(policy.get("IntervalSeconds", 1)) * float(policy.get("BackoffRate", 1.0)) ** (
                            count - 1
                        )
                        time.sleep(delay * self.retry_interval_scale)
                        continue
                self._finish(execution, record, FAILED, exc.reason)
                raise
            ctx.steps[name] = properties
            for file in step.get("PropertyFiles", []):
                output = next(
                    o for o in properties["ProcessingOutputConfig"]["Outputs"] if o["OutputName"] == file["OutputName"]
                )
                ctx.property_files[f"{name}.{file['PropertyFileName']}"] = {
                    "S3Uri": output["S3Output"]["S3Uri"].rstrip("/") + "/" + file["FilePath"]
                }
            self._finish(execution, record, SUCCEEDED, None)
            return

    @staticmethod
    def _cache_key(execution: Execution, step: Mapping[str, Any], arguments: Mapping[str, Any]) -> str | None:
        attributes = CACHE_KEY_ATTRIBUTES.get(step["Type"])
        if not attributes or not (step.get("CacheConfig") or {}).get("Enabled"):
            return None
        key = {"pipeline": execution.pipeline_name, "step": step["Name"], "type": step["Type"]}
        key |= {name: arguments.get(name) for name in attributes}
        return json.dumps(_jsonable(key), sort_keys=True)

    def _cache_hit(self, execution: Execution, step: Mapping[str, Any], arguments: Mapping[str, Any]) -> Any:
        """The newest successful run of this step with the same cache key, within ``ExpireAfter``."""
        key = self._cache_key(execution, step, arguments)
        if key is None:
            return None
        oldest = time.time() - expire_after_seconds(step["CacheConfig"].get("ExpireAfter"))
        with self._lock:
            runs = [run for run in self._cache.get(key, []) if run.finished >= oldest]
        return runs[-1] if runs else None

    def _remember(self, execution: Execution, step: Mapping, arguments: Mapping, properties: Any, record: Any) -> None:
        key = self._cache_key(execution, step, arguments)
        if key is not None:
            run = CachedStep(execution.arn, time.time(), copy.deepcopy(properties), copy.deepcopy(record.metadata))
            with self._lock:
                self._cache.setdefault(key, []).append(run)

    def _finish(self, execution: Execution, record: StepRecord, status: str, reason: str | None) -> None:
        previous = record.status
        record.status = status
        record.failure_reason = reason
        record.end_time = _now()
        self._record(execution, record, previous)

    def _handler(self, kind: str) -> Callable[..., dict[str, Any]]:
        handlers = {
            "Processing": self._processing,
            "Training": self._training,
            "RegisterModel": self._register_model,
            "Condition": self._condition,
            "Fail": self._fail,
        }
        if kind not in handlers:

            def _unsupported(*_: Any) -> dict[str, Any]:
                raise StepFailed(f"ClientError: step type {kind} is not supported by the local pipeline runner")

            return _unsupported
        return handlers[kind]

    # -------------------------------------------------------------------------------- simple steps
    def _condition(self, execution: Execution, step: Mapping, arguments: dict, record: StepRecord, ctx: Context):
        outcome = all(condition(item, ctx) for item in step["Arguments"].get("Conditions", []))
        record.metadata = {"Condition": {"Outcome": "True" if outcome else "False"}}
        return {"Outcome": outcome}

    def _fail(self, execution: Execution, step: Mapping, arguments: dict, record: StepRecord, ctx: Context):
        message = str(arguments.get("ErrorMessage", ""))
        record.metadata = {"Fail": {"ErrorMessage": message}}
        raise StepFailed(message)

    def _register_model(self, execution: Execution, step: Mapping, arguments: dict, record: StepRecord, ctx: Context):
        request = dict(arguments)
        request.setdefault("MetadataProperties", {}).setdefault("GeneratedBy", execution.arn)
        if request.get("ModelMetrics"):
            request["ModelMetrics"] = {k: v for k, v in request["ModelMetrics"].items() if v}
        try:
            arn = self.sagemaker.create_model_package(**request)["ModelPackageArn"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise StepFailed(f"{error.get('Code', 'ClientError')}: {error.get('Message', exc)}") from exc
        record.metadata = {"RegisterModel": {"Arn": arn}}
        return {"ModelPackageArn": arn}

    # -------------------------------------------------------------------------------- jobs
    def _job_name(self, execution: Execution, step_name: str) -> str:
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=10))
        base = re.sub(r"[^a-zA-Z0-9-]", "-", step_name.lower())[: 63 - 12 - 10 - 13]
        return f"pipelines-{execution.execution_id}-{base}-{suffix}"

    def _backend(self) -> Any:
        return sagemaker_backends[self.aws.account_id][self.aws.region]

    def _take_shortage(self, step_name: str) -> bool:
        with self._lock:
            for shortage in self.shortages:
                if shortage.step_name == step_name and shortage.times > 0:
                    shortage.times -= 1
                    return True
        return False

    def _write_logs(self, kind: str, job_name: str, lines: list[str], started: datetime) -> None:
        """One stream per instance start, named as SageMaker names them (``<job>/algo-1-<epoch seconds>``)."""
        group = f"/aws/sagemaker/{kind}"
        stamp_s = int(started.timestamp())
        with self._lock:
            while f"{job_name}/algo-1-{stamp_s}" in self._streams:
                stamp_s += 1
            stream = f"{job_name}/algo-1-{stamp_s}"
            self._streams.add(stream)
        with contextlib.suppress(ClientError):
            self.logs.create_log_group(logGroupName=group)
        with contextlib.suppress(ClientError):
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        if not lines:
            return
        stamp = int(started.timestamp() * 1000)
        for start in range(0, len(lines), 5000):
            batch = [{"timestamp": stamp, "message": line or " "} for line in lines[start : start + 5000]]
            self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)

    def _processing(self, execution: Execution, step: Mapping, arguments: dict, record: StepRecord, ctx: Context):
        name = self._job_name(execution, step["Name"])
        execution.jobs.setdefault(step["Name"], []).append(name)
        arn = self.sagemaker.create_processing_job(ProcessingJobName=name, **arguments)["ProcessingJobArn"]
        record.metadata = {"ProcessingJob": {"Arn": arn}}
        job = self._backend().processing_jobs[name]
        started = _now()
        job.processing_job_status = "InProgress"
        job.processing_start_time = started
        job.processing_end_time = None
        job.processing_resources = arguments.get("ProcessingResources")
        job.environment = arguments.get("Environment")
        job.last_modified_time = started
        self._emit_job(events.PROCESSING_JOB_STATE_CHANGE, arn, self._describe_processing(name))
        if self._take_shortage(step["Name"]):
            reason = CAPACITY_FAILURE
            self._end_processing(job, name, arn, status="Failed", reason=reason, message=None)
            raise StepFailed(reason, record.metadata)

        container = Container(self.work_dir / name, python=self.python, env=dict(arguments.get("Environment") or {}))
        try:
            for item in arguments.get("ProcessingInputs", []):
                source = item.get("S3Input")
                if source:
                    self.transfer.download_prefix(source["S3Uri"], container.path(source["LocalPath"]))
            outputs = arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
            for item in outputs:
                container.path(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
            app = arguments["AppSpecification"]
            argv = list(app.get("ContainerEntrypoint") or []) + list(app.get("ContainerArguments") or [])
            timeout = (arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
            result = container.run(argv, timeout=timeout)
            self._write_logs("ProcessingJobs", name, result.output.splitlines(), started)
            message = container.message("message")
            if result.exit_code != 0:
                reason = f"AlgorithmError: {message}" if message else _tail_reason(result.output, result.exit_code)
                self._end_processing(job, name, arn, status="Failed", reason=reason, message=message)
                raise StepFailed(reason, record.metadata)
            for item in outputs:
                self.transfer.upload_tree(container.path(item["S3Output"]["LocalPath"]), item["S3Output"]["S3Uri"])
            self._end_processing(job, name, arn, status="Completed", reason=None, message=message)
        finally:
            if not self.keep_work:
                container.clean()
        return self._describe_processing(name)

    def _describe_processing(self, name: str) -> dict[str, Any]:
        response = self.sagemaker.describe_processing_job(ProcessingJobName=name)
        response.pop("ResponseMetadata", None)
        return response

    def _end_processing(self, job: Any, name: str, arn: str, *, status: str, reason: str | None, message: str | None):
        job.processing_job_status = status
        job.failure_reason = reason
        job.exit_message = message or None
        job.processing_end_time = job.last_modified_time = _now()
        self._emit_job(events.PROCESSING_JOB_STATE_CHANGE, arn, self._describe_processing(name))

    # -------------------------------------------------------------------------------- training
    def _training(self, execution: Execution, step: Mapping, arguments: dict, record: StepRecord, ctx: Context):
        name = self._job_name(execution, step["Name"])
        execution.jobs.setdefault(step["Name"], []).append(name)
        arn = self.sagemaker.create_training_job(TrainingJobName=name, **arguments)["TrainingJobArn"]
        record.metadata = {"TrainingJob": {"Arn": arn}}
        job = self._backend().training_jobs[name]
        job.algorithm_specification = dict(arguments["AlgorithmSpecification"])  # moto replaces MetricDefinitions
        job.training_job_status = "InProgress"
        job.secondary_status = "Starting"
        job.secondary_status_transitions = []
        job.model_artifacts = None
        job.training_start_time = job.training_end_time = None
        job.final_metric_data_list = []
        job.last_modified_time = _now()
        job.profiler_config = arguments.get("ProfilerConfig")
        self._transition(job, "Starting", "Launching requested ML instances")
        self._emit_training(name, arn)
        if self._take_shortage(step["Name"]):
            reason = CAPACITY_FAILURE
            self._end_training(job, name, arn, status="Failed", secondary="Failed", reason=reason)
            raise StepFailed(reason, record.metadata)

        stopping = arguments.get("StoppingCondition") or {}
        max_run = stopping.get("MaxRuntimeInSeconds")
        checkpoint = arguments.get("CheckpointConfig") or {}
        interruption = self._arm_interruption(step["Name"]) if arguments.get("EnableManagedSpotTraining") else None
        began = time.monotonic()
        instance = 0
        while True:
            instance += 1
            container = Container(self.work_dir / name / f"instance-{instance}", python=self.python)
            try:
                outcome = self._train_once(
                    job, name, arguments, container, checkpoint=checkpoint, interruption=interruption, max_run=max_run
                )
            finally:
                if not self.keep_work:
                    container.clean()
            if outcome == "interrupted":
                assert interruption is not None
                interruption.job_name = name
                interruption.fired.set()
                self._transition(job, "Interrupted", "Training job interrupted: the Spot instance was reclaimed")
                self._emit_training(name, arn)
                self._transition(job, "Restarting", "Restarting training from the latest checkpoint")
                self._emit_training(name, arn)
                interruption = None
                continue
            break
        job.training_time_in_seconds = job.billable_time_in_seconds = max(1, int(time.monotonic() - began))
        status, secondary, reason = outcome
        self._end_training(job, name, arn, status=status, secondary=secondary, reason=reason)
        if status != "Completed":
            raise StepFailed(reason, record.metadata)
        response = self.sagemaker.describe_training_job(TrainingJobName=name)
        response.pop("ResponseMetadata", None)
        return response

    def _arm_interruption(self, step_name: str) -> SpotInterruption | None:
        with self._lock:
            return next((i for i in self.interruptions if i.matches(step_name)), None)

    def _train_once(self, job, name, arguments, container, *, checkpoint, interruption, max_run):
        started = _now()
        if job.training_start_time is None:
            job.training_start_time = started
        self._transition(job, "Starting", "Preparing the instances for training")
        self._transition(job, "Downloading", "Downloading input data")
        hyperparameters = dict(arguments.get("HyperParameters") or {})
        channels = []
        for channel in arguments.get("InputDataConfig", []):
            source = channel["DataSource"]["S3DataSource"]
            target = container.path(f"{OPT_ML}/input/data/{channel['ChannelName']}")
            self.transfer.download_prefix(source["S3Uri"], target)
            channels.append(channel["ChannelName"])
        code_dir = container.path(f"{OPT_ML}/code")
        code_dir.mkdir(parents=True, exist_ok=True)
        args, decoded = script_mode_args(hyperparameters)
        submit = decoded.get("sagemaker_submit_directory")
        program = decoded.get("sagemaker_program")
        if not submit or not program:
            return "Failed", "Failed", "ClientError: only script-mode training (sagemaker_program) runs locally"
        archive = code_dir / "sourcedir.tar.gz"
        bucket, _, key = submit[5:].partition("/")
        self.s3.download_file(bucket, key, str(archive))
        with tarfile.open(archive) as tar:
            tar.extractall(code_dir, filter="data")
        archive.unlink()
        config_dir = container.path(f"{OPT_ML}/input/config")
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        (config_dir / "inputdataconfig.json").write_text(
            json.dumps(
                {
                    c["ChannelName"]: {"ContentType": c.get("ContentType", "")}
                    for c in arguments.get("InputDataConfig", [])
                }
            )
        )
        (config_dir / "resourceconfig.json").write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
        model_dir = container.path(f"{OPT_ML}/model")
        model_dir.mkdir(parents=True, exist_ok=True)
        output_dir = container.path(f"{OPT_ML}/output/data")
        output_dir.mkdir(parents=True, exist_ok=True)
        container.env.update(
            {
                "SM_MODEL_DIR": str(model_dir),
                "SM_OUTPUT_DATA_DIR": str(output_dir),
                "SM_OUTPUT_DIR": str(container.path(f"{OPT_ML}/output")),
                "SM_INPUT_DIR": str(container.path(f"{OPT_ML}/input")),
                "SM_INPUT_CONFIG_DIR": str(config_dir),
                "SM_CHANNELS": json.dumps(channels),
                "SM_HPS": json.dumps({k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}),
                "SM_USER_ARGS": json.dumps(args),
                "SM_CURRENT_HOST": "algo-1",
                "SM_HOSTS": json.dumps(["algo-1"]),
                "SM_NUM_CPUS": "2",
                "SM_NUM_GPUS": "0",
                "SM_MODULE_DIR": submit,
                "SM_USER_ENTRY_POINT": program,
                "TRAINING_JOB_NAME": name,
                **{f"SM_CHANNEL_{c.upper()}": str(container.path(f"{OPT_ML}/input/data/{c}")) for c in channels},
            }
        )
        sync = None
        if checkpoint.get("S3Uri"):
            local_dir = container.path(checkpoint.get("LocalPath") or f"{OPT_ML}/checkpoints")
            sync = CheckpointSync(self.transfer, local_dir, checkpoint["S3Uri"])
            sync.restore()
        self._transition(job, "Training", "Training image download completed. Training in progress.")
        baseline = set(_files(sync.folder)) if sync else set()

        def should_stop() -> bool:
            if interruption is None or sync is None:
                return False
            new = [f for f in _files(sync.folder) if f not in baseline and not f.endswith(".json")]
            if len(new) >= interruption.after_checkpoints:
                interruption.checkpoints_at_interruption = sorted(new)
                return True
            return False

        with sync if sync is not None else contextlib.nullcontext():
            result = container.run(
                [self.python, str(code_dir / program), *args], cwd=code_dir, should_stop=should_stop, timeout=max_run
            )
        self._write_logs("TrainingJobs", name, result.output.splitlines(), started)
        if result.interrupted:
            return "interrupted"
        if max_run and result.duration > max_run and result.exit_code != 0:
            return "Stopped", "MaxRuntimeExceeded", "MaxRuntimeExceeded: Training job reached the stopping condition"
        if result.exit_code != 0:
            failure = container.message("failure")
            reason = f"AlgorithmError: {failure}" if failure else _tail_reason(result.output, result.exit_code)
            return "Failed", "Failed", reason
        self._transition(job, "Uploading", "Uploading generated training model")
        output_path = arguments["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        archive = pack_model(model_dir, container.root / "model.tar.gz")
        model_uri = f"{output_path}/{name}/output/model.tar.gz"
        self.transfer.upload_file(archive, model_uri)
        if any(output_dir.iterdir()):
            self.transfer.upload_file(
                pack_model(output_dir, container.root / "output.tar.gz"), f"{output_path}/{name}/output/output.tar.gz"
            )
        job.model_artifacts = {"S3ModelArtifacts": model_uri}
        job.final_metric_data_list = _final_metrics(
            result.output, arguments["AlgorithmSpecification"].get("MetricDefinitions", [])
        )
        return "Completed", "Completed", None

    def _transition(self, job: Any, status: str, message: str) -> None:
        now = _now()
        transitions = job.secondary_status_transitions
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = now
        transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        job.secondary_status = status
        job.last_modified_time = now

    def _end_training(self, job: Any, name: str, arn: str, *, status: str, secondary: str, reason: str | None) -> None:
        message = {"Completed": "Training job completed", "Failed": reason or "Training job failed"}.get(
            secondary, reason or secondary
        )
        self._transition(job, secondary, message)
        job.secondary_status_transitions[-1]["EndTime"] = job.last_modified_time
        job.training_job_status = status
        job.failure_reason = reason
        job.training_end_time = job.last_modified_time
        self._emit_training(name, arn)

    # -------------------------------------------------------------------------------- events and records
    def _emit(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        try:
            if hasattr(self.aws, "emit"):
                self.aws.emit(detail_type, detail, resources)
            else:
                events.emit(detail_type, detail, resources, account=self.aws.account_id, region=self.aws.region)
        except Exception:
            logger.exception("could not emit %s", detail_type)

    def _emit_execution(self, execution: Execution, previous: str | None) -> None:
        detail = events.pipeline_execution_detail(
            pipeline_arn=execution.pipeline_arn,
            pipeline_execution_arn=execution.arn,
            current_status=execution.status,
            previous_status=previous,
            execution_start_time=execution.start_time,
            execution_end_time=execution.end_time,
            display_name=execution.display_name,
            description=execution.description,
        )
        self._emit(events.PIPELINE_EXECUTION_STATUS_CHANGE, detail, [execution.pipeline_arn, execution.arn])

    def _record(self, execution: Execution, record: StepRecord, previous: str | None) -> None:
        store = getattr(self.aws, "sagemaker_store", None)
        if store is not None and hasattr(store, "record_step"):
            try:
                store.record_step(execution.arn, record.summary())
            except Exception:
                logger.exception("could not record step %s", record.name)
        detail = events.pipeline_step_detail(
            pipeline_arn=execution.pipeline_arn,
            pipeline_execution_arn=execution.arn,
            step_name=record.name,
            current_status=record.status,
            previous_status=previous,
            step_type=record.step_type,
            step_start_time=record.start_time,
            step_end_time=record.end_time,
            failure_reason=record.failure_reason,
            metadata=record.metadata,
        )
        self._emit(events.PIPELINE_STEP_STATUS_CHANGE, detail, [execution.pipeline_arn, execution.arn])

    def _emit_training(self, name: str, arn: str) -> None:
        description = self.sagemaker.describe_training_job(TrainingJobName=name)
        description.pop("ResponseMetadata", None)
        self._emit_job(events.TRAINING_JOB_STATE_CHANGE, arn, events.training_job_detail(description))

    def _emit_job(self, detail_type: str, arn: str, detail: Mapping[str, Any]) -> None:
        self._emit(detail_type, _jsonable(detail), [arn])


# ---------------------------------------------------------------------------------------------- helpers
def _files(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in folder.iterdir() if entry.is_file()]
    except FileNotFoundError:
        return []


def _property_file_refs(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _property_file_refs(item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key == "Get" and isinstance(item, str) and ".PropertyFiles." in item:
                found.add(item)
            else:
                found |= _property_file_refs(item)
    return found


def _matching_policy(policies: list[Mapping[str, Any]], reason: str) -> int | None:
    for index, policy in enumerate(policies):
        for exception_type in policy.get("ExceptionType", []):
            if any(reason.startswith(prefix) for prefix in RETRYABLE.get(exception_type, ())):
                return index
    return None


def _tail_reason(output: str, exit_code: int) -> str:
    tail = [line for line in output.splitlines() if line.strip()][-3:]
    detail = " | ".join(tail)[-900:]
    return f"AlgorithmError: exit code {exit_code}: {detail}" if detail else f"AlgorithmError: exit code {exit_code}"


def _final_metrics(output: str, definitions: list[Mapping[str, str]]) -> list[dict[str, Any]]:
    """FinalMetricDataList as SageMaker computes it: the last value each MetricDefinitions regex finds in the log."""
    now = _now()
    metrics = []
    for definition in definitions:
        matches = re.findall(definition["Regex"], output)
        if not matches:
            continue
        last = matches[-1][0] if isinstance(matches[-1], tuple) else matches[-1]
        with contextlib.suppress(ValueError):
            metrics.append({"MetricName": definition["Name"], "Value": float(last), "Timestamp": now})
    return metrics


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
