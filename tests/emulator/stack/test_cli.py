"""``python -m local serve``, ``replay`` and ``demo`` as subprocesses."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from local.aws.control_client import ControlClient
from tests.emulator.stack.served import readline
from tests.worlds.alerting import ControlStore, Failures

ROOT = Path(__file__).resolve().parents[3]
PROBE = ROOT / "tests" / "fixtures" / "stack" / "template.yaml"


def _run(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "local", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.mark.slow
def test_serve_prints_one_json_line_then_runs_until_sigterm() -> None:
    # GIVEN `serve` of the project's template
    process = _run("serve", "--env", "dev", "--delays", "zero")
    try:
        # WHEN it is ready
        ready = json.loads(readline(process, timeout=120))

        # THEN its one line names the endpoint and the resolved outputs, and the stack exists there
        assert ready["region"] == "us-east-1"
        assert ready["outputs"]["Environment"] == "dev"
        sns = boto3.client(
            "sns",
            endpoint_url=ready["endpoint_url"],
            region_name=ready["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106
        )
        assert ready["outputs"]["AlertTopicArn"] in [t["TopicArn"] for t in sns.list_topics()["Topics"]]

        # AND on SIGTERM it stops cleanly, printing nothing more
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stdout is not None
        assert process.stdout.read() == ""
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_alert_path_end_to_end_through_serve() -> None:
    # GIVEN `serve` running as its own process, and ops subscribed to the alert topic with an SQS queue
    process = _run("serve", "--env", "dev", "--delays", "zero")
    try:
        ready = json.loads(readline(process, timeout=120))
        assert json.loads((ROOT / ".local" / "serve-dev.json").read_text())["endpoint_url"] == ready["endpoint_url"]
        options = {
            "endpoint_url": ready["endpoint_url"],
            "region_name": ready["region"],
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        sqs, sns = boto3.client("sqs", **options), boto3.client("sns", **options)
        inbox = sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=ready["outputs"]["AlertTopicArn"], Protocol="sqs", Endpoint=inbox_arn)

        # WHEN SageMaker reports a failed pipeline execution (the documented event, emitted by the embedded SageMaker)
        sample = json.loads((ROOT / "events" / "pipeline-execution-failed.json").read_text())
        failures = Failures(boto3.client("sagemaker", **options), ControlStore(ControlClient(ready["endpoint_url"])))
        event = failures.failure_for(sample)
        emit = {"action": "emit", "detail_type": event["detail-type"], "detail": event["detail"]}
        payload = json.dumps({**emit, "resources": event["resources"]}).encode()
        request = urllib.request.Request(f"{ready['endpoint_url']}/_local/control", data=payload)  # noqa: S310
        with urllib.request.urlopen(request) as response:  # noqa: S310 - the local URL serve printed
            assert json.loads(response.read())["ok"] is True

        # THEN one alert message arrives, naming the execution, with its filterable attributes
        messages: list[dict] = []
        deadline = time.monotonic() + 60
        while not messages and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
        assert len(messages) == 1
        envelope = json.loads(messages[0]["Body"])
        assert "Failed" in envelope["Subject"]
        assert event["detail"]["pipelineExecutionArn"] in envelope["Message"]
        assert envelope["MessageAttributes"]["environment"]["Value"] == "dev"
        assert envelope["MessageAttributes"]["severity"]["Value"]

        # AND when stopped, the served stack's ready file is gone
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not (ROOT / ".local" / "serve-dev.json").exists()
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_replay_prints_one_line_per_handler_invocation(tmp_path: Path) -> None:
    # GIVEN a file holding two events: one for both probe functions, one for none
    events = [
        {"source": "local.probe", "detail-type": "Probe", "detail": {"target": "both", "count": 3, "mode": "fail"}},
        {"source": "local.probe", "detail-type": "Probe", "detail": {"target": "nobody"}},
    ]
    (tmp_path / "events.json").write_text(json.dumps(events), encoding="utf-8")

    # WHEN replayed on the probe stack
    process = _run("replay", "--template", str(PROBE), str(tmp_path))
    out, _ = process.communicate(timeout=180)

    # THEN it exits 0 (handler errors are outcomes, not failures) with one line per invocation
    assert process.returncode == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert sorted((line["function"], line["outcome"], line["attempts"]) for line in lines) == [
        ("OtherFunction", "error", 1),
        ("ProbeFunction", "dead-lettered", 3),
    ]
    assert {line["event_id"] for line in lines} == {lines[0]["event_id"]}
    assert all(line["error"].startswith("failing on purpose") for line in lines)
    assert all(line["file"] == str(tmp_path / "events.json") for line in lines)


@pytest.mark.slow
def test_demo_runs_the_whole_lifecycle() -> None:
    # WHEN a newcomer runs the demo
    process = _run("demo")
    out, _ = process.communicate(timeout=600)

    # THEN it ends well, and its timeline shows each step of the lifecycle happening for real
    assert process.returncode == 0, out
    assert "training job InProgress / Interrupted" in out  # Spot interruption, then resumed
    assert "PromoteFunction: ok → approved" in out  # the metrics gate, in the registry
    for account in ("123456789012", "222222222222", "333333333333"):
        assert f"account {account}: stack" in out
    assert "registry v1 → {Staging, Approved}" in out  # staging's gate, in its own account
    assert "registry v1 → {Production, PendingApproval}" in out  # baked twice, waiting for a person
    assert "registry v1 → {Production, Deployed}" in out  # approved with make promote, rolled out in prod
    assert "prediction in prod for a student with a 1,500 balance: P(default) = 0." in out
    assert "Deployment rolled back" in out  # staging's guardrails, tripped by the 5xx burst
    summary = out[out.index("Summary") :]
    assert "Staging     Rejected" in summary
    assert "staging  endpoint fraud-detector-staging InService serving v1" in summary
    assert "prod     endpoint fraud-detector-prod InService serving v1" in summary
    assert " 0 error, 0 dead-lettered" in summary
    assert "version 2 rolled back on fraud-detector-staging" in summary  # ops were told
    assert ", 0 denied (enforced)" in summary
    # AND dev's drift loop: a clean check, then drift found, alerted with its features, and a retraining served
    assert "drift check of dev (traffic like the training data): no-drift" in out
    assert "alert: [dev] drift in fraud-detector-dev v2: balance, student" in out
    assert "DriftMonitorFunction: ok → retrain-started" in out
    assert "dev      endpoint fraud-detector-dev InService serving v3" in summary
    assert (ROOT / ".local" / "demo" / "drift-report.html").stat().st_size > 10_000
