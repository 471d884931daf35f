"""The environment's ops dashboard, as CloudFormation creates it: the endpoint's metrics, what it serves, the
automation's outcomes and dead letters, and drift where drift is checked; every metric it shows is one the stack
emits."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
DRIFT_METRICS = {"DriftShare", "DriftRecordsChecked", "DriftFeatureScore", "DriftDetected"}

pytestmark = pytest.mark.slow


def emitted_metrics() -> set[str]:
    """Every metric name a function counts an outcome on (its app.py), and the drift monitor's EMF metrics."""
    names = set(DRIFT_METRICS)
    for app in (ROOT / "functions").glob("*/app.py"):
        for node in ast.walk(ast.parse(app.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "metrics" and isinstance(node.value, ast.Dict):
                names |= {v.value for v in node.value.values if isinstance(v, ast.Constant)}
    return names


def dashboard(stack: LocalStack) -> dict[str, Any]:
    body = stack.client("cloudwatch").get_dashboard(DashboardName=stack.outputs["OpsDashboardName"])["DashboardBody"]
    return json.loads(body)


def shown_metrics(board: dict[str, Any], namespace: str) -> set[str]:
    shown = set()
    for widget in board["widgets"]:
        last = None
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], dict):  # a search expression
                if f"{{{namespace}," in row[0]["expression"]:
                    shown |= set(re.findall(r'MetricName="(\w+)"', row[0]["expression"]))
                continue
            last = row[0] if row[0] != "." else last
            if last == namespace:
                shown.add(row[1])
    return shown


def test_the_registry_dashboard_shows_the_endpoint_the_outcomes_and_drift(local_stack: LocalStack) -> None:
    board = dashboard(local_stack)
    text = json.dumps(board)
    endpoint = local_stack.outputs["EndpointName"]
    assert f'"EndpointName", "{endpoint}"' in text and "Invocation5XXErrors" in text and "ModelLatency" in text
    (log,) = [w for w in board["widgets"] if w["type"] == "log"]
    group = local_stack.client("logs").describe_log_groups()["logGroups"]
    assert any(g["logGroupName"] in log["properties"]["query"] for g in group)  # the deployer's log group
    assert "ApproximateNumberOfMessagesVisible" in text and local_stack.stack_name in text
    shown = shown_metrics(board, "SageMakerLifecycle")
    assert DRIFT_METRICS - {"DriftDetected"} <= shown
    assert shown <= emitted_metrics(), shown - emitted_metrics()


def test_a_deployment_stack_dashboard_shows_its_own_endpoints_drift(
    local_stack_factory: Callable[..., LocalStack],
) -> None:
    staging = local_stack_factory(env="staging")
    board = dashboard(staging)
    assert DRIFT_METRICS - {"DriftDetected"} <= shown_metrics(board, "SageMakerLifecycle")
    text = json.dumps(board)
    assert staging.outputs["EndpointName"] in text and "fraud-detector-dev" not in text
