"""Training steps: a real ``CreateTrainingJob`` whose script-mode program runs as a subprocess, on Spot if asked.

The job goes ``InProgress`` with SageMaker's secondary statuses (Starting, Downloading, Training, Uploading,
Completed / Failed / MaxRuntimeExceeded), sending "SageMaker Training Job State Change" at each milestone. Each
"instance" gets the container's layout (channels, ``/opt/ml/code`` from ``sagemaker_submit_directory``, the config
files, ``SM_*`` variables). Checkpoints are synced to ``CheckpointConfig.S3Uri``; an armed Spot interruption stops
the instance once enough new checkpoints exist, the job goes ``Interrupted`` -> ``Restarting`` and runs again on a
fresh instance that gets the checkpoints back from S3.
"""

from __future__ import annotations

import contextlib
import json
import tarfile
import time
from pathlib import Path
from typing import Any

from local.pipelines.containers import OPT_ML, CheckpointSync, Container, ProcessResult, pack_model, script_mode_args
from local.pipelines.execution import StepFailed, now
from local.pipelines.injections import SpotInterruption
from local.pipelines.jobs import CAPACITY_FAILURE, final_metrics, tail_reason
from local.pipelines.steps.call import StepCall, StepJob

Outcome = tuple[str, str, str | None]  # (TrainingJobStatus, SecondaryStatus, FailureReason)
INTERRUPTED = "interrupted"
HOST = "algo-1"


def _files(folder: Path) -> list[str]:
    try:
        return [entry.name for entry in folder.iterdir() if entry.is_file()]
    except FileNotFoundError:
        return []


class TrainingJob(StepJob):
    """The training job of one attempt of a Training step, across the instances it runs on."""

    def run(self) -> dict[str, Any]:
        self._create()
        if self.services.injections.take_shortage(self.call.name):
            self._end(("Failed", "Failed", CAPACITY_FAILURE))
            raise StepFailed(CAPACITY_FAILURE, self.call.record.metadata)
        began = time.monotonic()
        outcome = self._run_instances()
        self.job.training_time_in_seconds = self.job.billable_time_in_seconds = max(1, int(time.monotonic() - began))
        self._end(outcome)
        status, _, reason = outcome
        if status != "Completed":
            raise StepFailed(reason or status, self.call.record.metadata)
        response: dict[str, Any] = self.services.sagemaker.describe_training_job(TrainingJobName=self.name)
        response.pop("ResponseMetadata", None)
        return response

    def _create(self) -> None:
        created = self.services.sagemaker.create_training_job(TrainingJobName=self.name, **self.arguments)
        self.arn = created["TrainingJobArn"]
        self.call.record.metadata = {"TrainingJob": {"Arn": self.arn}}
        job: Any = self.services.backend().training_jobs[self.name]
        self.job = job
        job.algorithm_specification = dict(self.arguments["AlgorithmSpecification"])  # moto drops MetricDefinitions
        job.training_job_status = "InProgress"
        job.secondary_status = "Starting"
        job.secondary_status_transitions = []
        job.model_artifacts = None
        job.training_start_time = job.training_end_time = None
        job.final_metric_data_list = []
        job.last_modified_time = now()
        job.profiler_config = self.arguments.get("ProfilerConfig")
        self.transition("Starting", "Launching requested ML instances")
        self.emit()

    def _run_instances(self) -> Outcome:
        spot = bool(self.arguments.get("EnableManagedSpotTraining"))
        interruption = self.services.injections.interruption_for(self.call.name) if spot else None
        instance = 0
        while True:
            instance += 1
            container = Container(
                self.services.work_dir / self.name / f"instance-{instance}", python=self.services.python
            )
            try:
                outcome = TrainingInstance(self, container).train(interruption)
            finally:
                if not self.services.keep_work:
                    container.clean()
            if outcome != INTERRUPTED:
                return outcome  # type: ignore[return-value]
            assert interruption is not None
            interruption.job_name = self.name
            interruption.fired.set()
            self.transition("Interrupted", "Training job interrupted: the Spot instance was reclaimed")
            self.emit()
            self.transition("Restarting", "Restarting training from the latest checkpoint")
            self.emit()
            interruption = None

    # -- statuses
    def transition(self, status: str, message: str) -> None:
        """A new secondary status (the previous one ends now)."""
        stamp = now()
        transitions = self.job.secondary_status_transitions
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = stamp
        transitions.append({"Status": status, "StartTime": stamp, "StatusMessage": message})
        self.job.secondary_status = status
        self.job.last_modified_time = stamp

    def _end(self, outcome: Outcome) -> None:
        status, secondary, reason = outcome
        message = {"Completed": "Training job completed", "Failed": reason or "Training job failed"}.get(
            secondary, reason or secondary
        )
        self.transition(secondary, message)
        self.job.secondary_status_transitions[-1]["EndTime"] = self.job.last_modified_time
        self.job.training_job_status = status
        self.job.failure_reason = reason
        self.job.training_end_time = self.job.last_modified_time
        self.emit()

    def emit(self) -> None:
        self.services.reporter.training_job(self.name, self.arn)


class TrainingInstance:
    """One instance of a training job: its ``/opt/ml``, the script run there, its checkpoints."""

    def __init__(self, job: TrainingJob, container: Container) -> None:
        self.job = job
        self.container = container
        self.arguments = job.arguments
        self.code_dir = container.path(f"{OPT_ML}/code")
        self.config_dir = container.path(f"{OPT_ML}/input/config")
        self.model_dir = container.path(f"{OPT_ML}/model")
        self.output_dir = container.path(f"{OPT_ML}/output/data")
        self.started = now()

    def train(self, interruption: SpotInterruption | None) -> Outcome | str:
        """The job's outcome on this instance, or :data:`INTERRUPTED` when Spot reclaimed it."""
        if self.job.job.training_start_time is None:
            self.job.job.training_start_time = self.started
        self.job.transition("Starting", "Preparing the instances for training")
        self.job.transition("Downloading", "Downloading input data")
        channels = self._download_channels()
        args, decoded = script_mode_args(dict(self.arguments.get("HyperParameters") or {}))
        submit, program = decoded.get("sagemaker_submit_directory"), decoded.get("sagemaker_program")
        if not submit or not program:
            return "Failed", "Failed", "ClientError: only script-mode training (sagemaker_program) runs locally"
        self._download_code(submit)
        self._write_config()
        self._set_environment(channels, args, decoded, submit, program)
        sync = self._restore_checkpoints()
        self.job.transition("Training", "Training image download completed. Training in progress.")
        result = self._run_script(program, args, sync, interruption)
        self.job.services.logs.write("TrainingJobs", self.job.name, result.output.splitlines(), self.started)
        return self._outcome(result)

    # -- the container's layout
    def _download_channels(self) -> list[str]:
        channels = []
        for channel in self.arguments.get("InputDataConfig", []):
            source = channel["DataSource"]["S3DataSource"]
            target = self.container.path(f"{OPT_ML}/input/data/{channel['ChannelName']}")
            self.job.services.transfer.download_prefix(source["S3Uri"], target)
            channels.append(channel["ChannelName"])
        return channels

    def _download_code(self, submit: str) -> None:
        self.code_dir.mkdir(parents=True, exist_ok=True)
        archive = self.code_dir / "sourcedir.tar.gz"
        bucket, _, key = submit[5:].partition("/")
        self.job.services.s3.download_file(bucket, key, str(archive))
        with tarfile.open(archive) as tar:
            tar.extractall(self.code_dir, filter="data")
        archive.unlink()

    def _write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        hyperparameters = dict(self.arguments.get("HyperParameters") or {})
        channels = {
            c["ChannelName"]: {"ContentType": c.get("ContentType", "")}
            for c in self.arguments.get("InputDataConfig", [])
        }
        (self.config_dir / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        (self.config_dir / "inputdataconfig.json").write_text(json.dumps(channels))
        (self.config_dir / "resourceconfig.json").write_text(json.dumps({"current_host": HOST, "hosts": [HOST]}))
        self.model_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir.mkdir(parents=True, exist_ok=True)

    def _set_environment(
        self, channels: list[str], args: list[str], decoded: dict[str, Any], submit: str, program: str
    ) -> None:
        """The ``SM_*`` variables of the SageMaker training toolkit."""
        path = self.container.path
        self.container.env.update(
            {
                "SM_MODEL_DIR": str(self.model_dir),
                "SM_OUTPUT_DATA_DIR": str(self.output_dir),
                "SM_OUTPUT_DIR": str(path(f"{OPT_ML}/output")),
                "SM_INPUT_DIR": str(path(f"{OPT_ML}/input")),
                "SM_INPUT_CONFIG_DIR": str(self.config_dir),
                "SM_CHANNELS": json.dumps(channels),
                "SM_HPS": json.dumps({k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}),
                "SM_USER_ARGS": json.dumps(args),
                "SM_CURRENT_HOST": HOST,
                "SM_HOSTS": json.dumps([HOST]),
                "SM_NUM_CPUS": "2",
                "SM_NUM_GPUS": "0",
                "SM_MODULE_DIR": submit,
                "SM_USER_ENTRY_POINT": program,
                "TRAINING_JOB_NAME": self.job.name,
                **{f"SM_CHANNEL_{c.upper()}": str(path(f"{OPT_ML}/input/data/{c}")) for c in channels},
            }
        )

    # -- running
    def _restore_checkpoints(self) -> CheckpointSync | None:
        checkpoint = self.arguments.get("CheckpointConfig") or {}
        if not checkpoint.get("S3Uri"):
            return None
        local_dir = self.container.path(checkpoint.get("LocalPath") or f"{OPT_ML}/checkpoints")
        sync = CheckpointSync(self.job.services.transfer, local_dir, checkpoint["S3Uri"])
        sync.restore()
        return sync

    def _run_script(
        self, program: str, args: list[str], sync: CheckpointSync | None, interruption: SpotInterruption | None
    ) -> ProcessResult:
        baseline = set(_files(sync.folder)) if sync else set()

        def should_stop() -> bool:
            """Spot reclaims the instance once the armed number of new checkpoints exists."""
            if interruption is None or sync is None:
                return False
            new = [f for f in _files(sync.folder) if f not in baseline and not f.endswith(".json")]
            if len(new) >= interruption.after_checkpoints:
                interruption.checkpoints_at_interruption = sorted(new)
                return True
            return False

        max_run = (self.arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        with sync if sync is not None else contextlib.nullcontext():
            return self.container.run(
                [self.job.services.python, str(self.code_dir / program), *args],
                cwd=self.code_dir,
                should_stop=should_stop,
                timeout=max_run,
            )

    def _outcome(self, result: ProcessResult) -> Outcome | str:
        if result.interrupted:
            return INTERRUPTED
        max_run = (self.arguments.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
        if max_run and result.duration > max_run and result.exit_code != 0:
            return "Stopped", "MaxRuntimeExceeded", "MaxRuntimeExceeded: Training job reached the stopping condition"
        if result.exit_code != 0:
            failure = self.container.message("failure")
            reason = f"AlgorithmError: {failure}" if failure else tail_reason(result.output, result.exit_code)
            return "Failed", "Failed", reason
        self.job.transition("Uploading", "Uploading generated training model")
        self._upload(result)
        return "Completed", "Completed", None

    def _upload(self, result: ProcessResult) -> None:
        transfer = self.job.services.transfer
        output_path = self.arguments["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        model_uri = f"{output_path}/{self.job.name}/output/model.tar.gz"
        transfer.upload_file(pack_model(self.model_dir, self.container.root / "model.tar.gz"), model_uri)
        if any(self.output_dir.iterdir()):
            archive = pack_model(self.output_dir, self.container.root / "output.tar.gz")
            transfer.upload_file(archive, f"{output_path}/{self.job.name}/output/output.tar.gz")
        self.job.job.model_artifacts = {"S3ModelArtifacts": model_uri}
        definitions = self.arguments["AlgorithmSpecification"].get("MetricDefinitions", [])
        self.job.job.final_metric_data_list = final_metrics(result.output, definitions)


def run(call: StepCall) -> dict[str, Any]:
    return TrainingJob(call).run()
