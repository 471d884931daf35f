"""Where a pipeline executor plugs into the embedded SageMaker: new executions and the control API's pipeline
actions reach the attached one, and only while it is attached."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest

from local.aws.sagemaker.pipelines import executors


class RecordingExecutor:
    """An executor that only remembers what it was asked."""

    def __init__(self) -> None:
        self.launched: list[tuple[str, str]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def launch(self, backend: Any, pipeline_name: str, execution_arn: str) -> None:
        self.launched.append((pipeline_name, execution_arn))

    def interrupt_training(self, *, after_checkpoints: int = 1, step_name: str | None = None) -> None:
        self.calls.append(("interrupt_training", {"after_checkpoints": after_checkpoints, "step_name": step_name}))

    def fail_capacity(self, step_name: str, times: int = 1) -> None:
        self.calls.append(("fail_capacity", {"step_name": step_name, "times": times}))


@pytest.fixture
def executor(embedded_aws: Any) -> Iterator[RecordingExecutor]:
    attached = RecordingExecutor()
    executors.attach(attached)
    yield attached
    executors.detach(attached)


@pytest.fixture
def pipeline(sagemaker: Any) -> str:
    sagemaker.create_pipeline(
        PipelineName="p",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/r",
    )
    return "p"


def test_each_new_execution_goes_to_the_attached_executor(sagemaker, executor, pipeline):
    # WHEN two executions start
    first = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    second = sagemaker.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]

    # THEN the executor was handed each, once, in order
    assert executor.launched == [(pipeline, first), (pipeline, second)]


def test_a_detached_executor_gets_nothing_more(sagemaker, executor, pipeline):
    executors.detach(executor)
    sagemaker.start_pipeline_execution(PipelineName=pipeline)
    assert executor.launched == []
    assert executors.attached() is None


def test_the_control_route_arms_failures_on_the_attached_executor(executor, control_http):
    assert control_http({"action": "interrupt_training", "after_checkpoints": 2})["result"] == {"armed": True}
    assert control_http({"action": "fail_capacity", "step_name": "Train", "times": 3})["result"] == {"armed": True}
    assert executor.calls == [
        ("interrupt_training", {"after_checkpoints": 2, "step_name": None}),
        ("fail_capacity", {"step_name": "Train", "times": 3}),
    ]


def test_without_an_executor_the_pipeline_actions_are_refused(embedded_aws, control_http):
    assert executors.attached() is None
    with pytest.raises(urllib.error.HTTPError) as info:
        control_http({"action": "fail_capacity", "step_name": "Train"})
    assert info.value.code == 400
    assert "no pipeline runner" in json.loads(info.value.read())["error"]


def test_an_interruption_taken_back_before_it_fired_meets_no_later_job() -> None:
    from local.pipelines.injections import Injections  # noqa: PLC0415

    injections = Injections()
    unfired = injections.interrupt_training(after_checkpoints=2)
    assert injections.interruption_for("Train") is unfired
    # WHEN the job it was armed for ended first and it is taken back
    assert injections.disarm(unfired) is False
    # THEN the next training job meets none
    assert injections.interruption_for("Train") is None
    # AND one that fired is reported as such, and stays fired
    fired = injections.interrupt_training()
    fired.fired.set()
    assert injections.disarm(fired) is True and fired.fired.is_set()


def test_a_job_of_an_image_with_an_environment_of_its_own_runs_with_that_interpreter(tmp_path: Any) -> None:
    from local.pipelines.jobs import StepServices  # noqa: PLC0415
    from local.pipelines.runner import IMAGE_ENVIRONMENTS  # noqa: PLC0415
    from pipeline import drift  # noqa: PLC0415

    services = StepServices(
        *[None] * 6,  # type: ignore[arg-type]  # clients and helpers: not used to choose an interpreter
        work_dir=tmp_path,
        python="/usr/bin/python3",
        keep_work=False,
        account_id="123456789012",
        region="us-east-1",
        images=IMAGE_ENVIRONMENTS,
    )
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert (
        services.interpreter(f"{registry}/{drift.IMAGE_REPOSITORY}:1.0") == IMAGE_ENVIRONMENTS[drift.IMAGE_REPOSITORY]
    )
    assert (
        services.interpreter(f"{registry}/{drift.IMAGE_REPOSITORY}@sha256:ab")
        == IMAGE_ENVIRONMENTS[drift.IMAGE_REPOSITORY]
    )
    assert IMAGE_ENVIRONMENTS[drift.IMAGE_REPOSITORY].endswith(".venv-drift/bin/python")
    # every other image (the SDK's scikit-learn and XGBoost images) runs with the runner's interpreter
    assert services.interpreter("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1") == (
        "/usr/bin/python3"
    )
