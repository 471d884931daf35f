"""Runs SageMaker pipeline executions for real inside the embedded AWS.

moto stores a pipeline's definition and records ``StartPipelineExecution`` but executes nothing. Installed on an
embedded AWS, :class:`PipelineRunner` attaches to its SageMaker: each new execution runs, in a background thread,
the definition JSON the execution was started with (the one ``DescribePipelineDefinitionForExecution`` returns),
as SageMaker Pipelines does:

- the step graph from ``DependsOn`` and data dependencies, condition branches (:mod:`.graph`);
- parameters (defaults overridden by the execution's ``PipelineParameters``), execution variables, ``Std:Join``,
  ``Std:JsonGet`` on property files, conditions (:mod:`.expressions`);
- Processing and Training steps create real jobs whose status moves over time while the step's script runs in a
  subprocess with the container's conventions (:mod:`.steps`, :mod:`.containers`), Spot interruptions included;
- retry policies (:mod:`.retries`) and step caching (:mod:`.cache`);
- RegisterModel steps call ``CreateModelPackage``; Fail steps fail the execution with their message;
- the events SageMaker sends and the steps for ``ListPipelineExecutionSteps`` (:mod:`.reporting`).

The SDK's own ``sagemaker.local.pipeline.LocalPipelineExecutor`` needs the Python ``Pipeline`` object and runs jobs
in Docker; this runner executes the stored definition, which is what SageMaker itself receives.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from moto.sagemaker.models import SageMakerModelBackend

from local.aws.sagemaker.pipelines import executors
from local.aws.sessions import RoleNotAssumable, role_session
from local.pipelines.cache import StepCache
from local.pipelines.containers import S3Transfer
from local.pipelines.engine import ExecutionRun
from local.pipelines.execution import EXECUTING, Execution
from local.pipelines.graph import parameter_values
from local.pipelines.injections import CapacityShortage, Injections, SpotInterruption
from local.pipelines.jobs import JobLogs, StepServices
from local.pipelines.reporting import Reporter
from pipeline import drift

CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"})
SERVICES = ("sagemaker", "s3", "logs")  # the clients an account's executions use
ROOT = Path(__file__).resolve().parents[2]
IMAGE_ENVIRONMENTS = {drift.IMAGE_REPOSITORY: str(ROOT / ".venv-drift" / "bin" / "python")}
"""The images whose jobs run with an interpreter of their own: the drift check's (make drift-env)."""


class PipelineRunner:
    """Executes the pipelines started on an embedded AWS (``aws``: ``endpoint_url``, ``region``, ``account_id``,
    and optionally ``emit(detail_type, detail, resources)`` and ``sagemaker_store.record_step(...)``).

    ``retry_interval_scale`` multiplies retry policies' intervals (0: retry at once); ``python`` is the
    interpreter the step scripts run with, except for the images ``images`` maps (repository name → interpreter of
    the environment standing for the image; default :data:`IMAGE_ENVIRONMENTS`).
    """

    def __init__(
        self,
        aws: Any,
        *,
        work_dir: str | Path | None = None,
        python: str = sys.executable,
        images: Mapping[str, str] | None = None,
        retry_interval_scale: float = 0.0,
        keep_work: bool = False,
    ) -> None:
        self.aws = aws
        self.python = python
        self.images = dict(IMAGE_ENVIRONMENTS if images is None else images)
        self.retry_interval_scale = retry_interval_scale
        self.keep_work = keep_work
        self._tmp = None if work_dir else tempfile.TemporaryDirectory(prefix="sm-pipelines-")
        self.work_dir = Path(work_dir) if work_dir else Path(self._tmp.name)  # type: ignore[union-attr]
        self.executions: dict[str, Execution] = {}
        self.injections = Injections()
        self._threads: list[threading.Thread] = []
        self._cache = StepCache()
        self.sagemaker = self._client("sagemaker")
        self.s3 = self._client("s3")
        self.logs = JobLogs(self._client("logs"))
        self.services = self._services(aws.account_id, self.sagemaker, self.s3, self.logs)
        self._by_account = {aws.account_id: self.services}

    def services_of(self, arn: str) -> StepServices:
        """The step services of the account ``arn`` is in (an execution runs there): that account's clients (its
        administrator's), job records, event bus and roles; made on first use."""
        account = arn.split(":")[4]
        if account not in self._by_account:
            if not hasattr(self.aws, "client"):
                raise RuntimeError(f"this runner's AWS has no clients of account {account}")
            sagemaker, s3, logs = (self.aws.client(s, account_id=account, config=CLIENT_CONFIG) for s in SERVICES)
            self._by_account[account] = self._services(account, sagemaker, s3, JobLogs(logs))
        return self._by_account[account]

    def _services(self, account: str, sagemaker: Any, s3: Any, logs: JobLogs) -> StepServices:
        return StepServices(
            sagemaker=sagemaker,
            s3=s3,
            transfer=S3Transfer(s3),
            logs=logs,
            reporter=Reporter(self.aws, sagemaker, account),
            injections=self.injections,
            work_dir=self.work_dir,
            python=self.python,
            images=self.images,
            keep_work=self.keep_work,
            account_id=account,
            region=self.aws.region,
            role_clients=self._role_clients if getattr(self.aws, "iam", None) is not None else None,
        )

    def _role_clients(self, role_arn: str, session_name: str, source_arn: str) -> Any:
        """A client factory with the credentials of a session of the role that SageMaker assumes."""
        credentials = role_session(
            self.aws.iam,
            role_arn,
            session_name,
            service="sagemaker.amazonaws.com",
            source_arn=source_arn,
            account=source_arn.split(":")[4],  # the execution's or the job's: SageMaker acts in its account
            region=self.aws.region,
        )

        def client(service: str) -> Any:
            return boto3.client(  # type: ignore[call-overload]  # the service name is a str, not one stub's Literal
                service,
                endpoint_url=self.aws.endpoint_url,
                region_name=self.aws.region,
                config=CLIENT_CONFIG,
                **credentials.client_kwargs(),
            )

        return client

    def _client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]  # the service name is a str, not one stub's Literal
            service,
            endpoint_url=self.aws.endpoint_url,
            region_name=self.aws.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the embedded AWS's fixed credentials
            config=CLIENT_CONFIG,
        )

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
        return str(self.sagemaker.start_pipeline_execution(**request)["PipelineExecutionArn"])

    def wait(self, execution_arn: str, timeout: float = 300.0) -> dict[str, Any]:
        """Block until the execution ends; returns ``DescribePipelineExecution``."""
        execution = self.executions.get(execution_arn)
        if execution is None:
            raise KeyError(f"{execution_arn} was not started while this runner was installed")
        if not execution.done.wait(timeout):
            raise TimeoutError(f"{execution_arn} still {execution.status} after {timeout} s")
        sagemaker = self.services_of(execution_arn).sagemaker
        described: dict[str, Any] = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        return described

    def list_steps(self, execution_arn: str) -> list[dict[str, Any]]:
        """The execution's steps, newest first (as ListPipelineExecutionSteps returns them)."""
        execution = self.executions[execution_arn]
        records = sorted(execution.steps.values(), key=lambda s: s.start_time, reverse=True)
        return [r.summary() for r in records]

    def interrupt_training(self, *, after_checkpoints: int = 1, step_name: str | None = None) -> SpotInterruption:
        """Arm a Spot interruption of the next training job (of ``step_name``, if given)."""
        return self.injections.interrupt_training(after_checkpoints=after_checkpoints, step_name=step_name)

    def disarm(self, interruption: SpotInterruption) -> bool:
        """Take back an armed interruption that did not fire, so no later job meets it; whether it fired."""
        return self.injections.disarm(interruption)

    def fail_capacity(self, step_name: str, times: int = 1) -> CapacityShortage:
        """Make the next ``times`` jobs of ``step_name`` fail with ``CapacityError`` (exercises retry policies)."""
        return self.injections.fail_capacity(step_name, times)

    def tolerate_failure(self, step_name: str, times: int = 1) -> None:
        """The next ``times`` executions go on when ``step_name`` fails and end ``CompletedWithFailures``."""
        self.injections.tolerate_failure(step_name, times)

    def job_logs(self, job_name: str, kind: str = "TrainingJobs") -> dict[str, list[str]]:
        """The job's CloudWatch log streams (one per instance start) and their messages."""
        return self.logs.read(job_name, kind)

    # -------------------------------------------------------------------------------- launch
    def launch(self, backend: SageMakerModelBackend, pipeline_name: str, execution_arn: str) -> None:
        """Run an execution moto has just recorded, in a background thread (the embedded SageMaker calls this)."""
        pipeline = backend.pipelines[pipeline_name]
        fake = pipeline.pipeline_executions[execution_arn]
        fake.pipeline_execution_status = EXECUTING
        definition = json.loads(fake.pipeline_definition_for_execution)
        failure = None
        try:
            parameters = parameter_values(definition, fake.pipeline_parameters or [])
        except (KeyError, ValueError) as exc:
            parameters = {}
            failure = f"Invalid pipeline parameters: {exc}"
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
        in_account = self.services_of(execution_arn)
        try:  # SageMaker Pipelines starts the steps' jobs and registers models as the pipeline's role
            services = in_account.acting_as(
                str(getattr(pipeline, "role_arn", "") or ""),
                f"SageMaker-{execution.execution_id}",
                execution_arn,
                ("sagemaker", "s3"),
            )
        except RoleNotAssumable as exc:
            services, failure = in_account, failure or f"ClientError: {exc}"
        run = ExecutionRun(services, execution, self._cache, self.retry_interval_scale)
        thread = threading.Thread(target=run.run, args=(fake, failure), name=f"pipeline-{execution.execution_id}")
        thread.daemon = True
        self._threads.append(thread)
        thread.start()
