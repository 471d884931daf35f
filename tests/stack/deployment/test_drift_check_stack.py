"""``make drift-check`` on a served stack: the endpoint serves a version registered with its training baseline,
clients send it requests (captured), and the drift-check pipeline runs on the embedded AWS with the real job script
in its own environment, as the stack's drift-check job role (IAM enforced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from local.pipelines import PipelineRunner
from pipeline.data import default_dataset
from tests.worlds.deployment import World
from tests.worlds.drift import FEATURES, preprocess, send, serve_with_baseline, shifted
from tools import drift_check
from tools.stackinfo import StackInfo

pytestmark = pytest.mark.slow


def stack_info(world: World) -> StackInfo:
    return StackInfo("dev", world.aws.region, world.outputs, world.aws.endpoint_url)


@pytest.fixture
def served(deploy_world: Any, tmp_path: Path) -> tuple[World, pd.DataFrame]:
    world = deploy_world("dev", DataCaptureSamplingPercentage="100")
    data = preprocess.transform(default_dataset())
    serve_with_baseline(world, data, tmp_path)
    return world, data[FEATURES]


def test_a_drift_check_of_traffic_like_the_training_data_finds_no_drift(served: tuple[World, pd.DataFrame]) -> None:
    world, features = served
    send(world, features.sample(n=300, random_state=11))
    with PipelineRunner(world.aws):
        summary = drift_check.run(stack_info(world), hours=1)
    assert (summary["status"], summary["version"], summary["records"]) == ("ok", 1, 300)
    assert summary["drift_detected"] is False
    assert summary["report_uri"].endswith("/result/report.html")
    assert world.aws.iam.log.counts["denied"] == 0


def test_a_drift_check_of_shifted_traffic_names_the_drifted_features(served: tuple[World, pd.DataFrame]) -> None:
    world, features = served
    send(world, shifted(features.sample(n=300, random_state=11)))
    with PipelineRunner(world.aws):
        summary = drift_check.run(stack_info(world), hours=1)
    assert summary["drift_detected"] is True, summary
    assert {name for name, f in summary["features"].items() if f["drifted"]} == {"balance", "student"}
    line = drift_check.one_line(summary)
    assert '"drift_detected": true' in line and '"balance"' in line
