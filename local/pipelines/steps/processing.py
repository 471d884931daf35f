"""Processing steps: a real ``CreateProcessingJob`` whose container command runs as a subprocess.

Inputs (``S3Input``: a prefix, or a manifest's keys) are downloaded into the job's ``/opt/ml/processing/...``
folders, outputs uploaded at the end;
the job goes ``InProgress`` -> ``Completed`` / ``Failed`` (``FailureReason`` and ``ExitMessage`` from
``/opt/ml/output/message``), sending "SageMaker Processing Job State Change" each time.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.pipelines.containers import Container
from local.pipelines.execution import StepFailed, now
from local.pipelines.jobs import CAPACITY_FAILURE, tail_reason
from local.pipelines.steps.call import StepCall, StepJob


class ProcessingJob(StepJob):
    """The processing job of one attempt of a Processing step."""

    def run(self) -> dict[str, Any]:
        self._create()
        if self.services.injections.take_shortage(self.call.name):
            self._end("Failed", CAPACITY_FAILURE, None)
            raise StepFailed(CAPACITY_FAILURE, self.call.record.metadata)
        container = Container(
            self.services.work_dir / self.name,
            python=self.services.interpreter(str(self.arguments["AppSpecification"]["ImageUri"])),
            env=dict(self.arguments.get("Environment") or {}),
        )
        try:
            self._run_in(container)
        finally:
            if not self.services.keep_work:
                container.clean()
        return self._describe()

    def _create(self) -> None:
        created = self.services.sagemaker.create_processing_job(ProcessingJobName=self.name, **self.arguments)
        self.arn = created["ProcessingJobArn"]
        self.call.record.metadata = {"ProcessingJob": {"Arn": self.arn}}
        # moto describes a job with every attribute it holds: set what SageMaker reports of a job in progress
        job: Any = self.services.backend().processing_jobs[self.name]
        self.job, self.started = job, now()
        job.processing_job_status = "InProgress"
        job.processing_start_time = self.started
        job.processing_end_time = None
        job.processing_resources = self.arguments.get("ProcessingResources")
        job.environment = self.arguments.get("Environment")
        job.last_modified_time = self.started
        self.services.reporter.processing_job(self.arn, self._describe())

    def _download_inputs(self, container: Container) -> None:
        """The inputs into the container; a manifest or an object that cannot be read fails the job (ClientError)."""
        transfer = self.services.transfer
        try:
            for item in self.arguments.get("ProcessingInputs", []):
                source = item.get("S3Input")
                if source and source.get("S3DataType") == "ManifestFile":
                    transfer.download_manifest(source["S3Uri"], container.path(source["LocalPath"]))
                elif source:
                    transfer.download_prefix(source["S3Uri"], container.path(source["LocalPath"]))
        except (ValueError, BotoCoreError, ClientError) as exc:
            reason = f"ClientError: cannot download the job's input: {exc}"
            self._end("Failed", reason, None)
            raise StepFailed(reason, self.call.record.metadata) from exc

    def _run_in(self, container: Container) -> None:
        transfer = self.services.transfer
        self._download_inputs(container)
        outputs = self.arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for item in outputs:
            container.path(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        app = self.arguments["AppSpecification"]
        argv = list(app.get("ContainerEntrypoint") or []) + list(app.get("ContainerArguments") or [])
        timeout = (self.arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        result = container.run(argv, timeout=timeout)
        self.services.logs.write("ProcessingJobs", self.name, result.output.splitlines(), self.started)
        message = container.message("message")
        if result.exit_code != 0:
            reason = f"AlgorithmError: {message}" if message else tail_reason(result.output, result.exit_code)
            self._end("Failed", reason, message)
            raise StepFailed(reason, self.call.record.metadata)
        for item in outputs:
            transfer.upload_tree(container.path(item["S3Output"]["LocalPath"]), item["S3Output"]["S3Uri"])
        self._end("Completed", None, message)

    def _describe(self) -> dict[str, Any]:
        response: dict[str, Any] = self.services.sagemaker.describe_processing_job(ProcessingJobName=self.name)
        response.pop("ResponseMetadata", None)
        return response

    def _end(self, status: str, reason: str | None, message: str | None) -> None:
        self.job.processing_job_status = status
        self.job.failure_reason = reason
        self.job.exit_message = message or None
        self.job.processing_end_time = self.job.last_modified_time = now()
        self.services.reporter.processing_job(self.arn, self._describe())


def run(call: StepCall) -> dict[str, Any]:
    return ProcessingJob(call).run()
