"""The drift monitor's AWS calls per check, by outcome: no drift, drift with policy ``alert``, drift with policy
``retrain`` (and a retraining held by its cooldown), against the embedded AWS.

The monitor runs as its function does (``sm_lifecycle.drift.monitor`` on boto3 clients; EMF metrics are log lines,
no call) on a succeeded drift-check execution whose summary is in S3. Every request its clients send is counted
(botocore's ``before-call`` event); the idempotency table's two writes per check (Powertools) are counted apart.
Target: at most 4 calls per check (the ratio is calls ÷ 4).

    .venv/bin/python bench/drift_monitor.py
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from local.aws import EmbeddedAWS, Timings
from sm_lifecycle.drift.config import DriftSettings
from sm_lifecycle.drift.message import DriftAlert
from sm_lifecycle.drift.model import CHECK_DISPLAY_PREFIX, Window
from sm_lifecycle.drift.monitor import DriftMonitor
from sm_lifecycle.drift.s3 import DriftObjects
from sm_lifecycle.drift.sagemaker import DriftPipelines

TARGET = 4
BUCKET, ENDPOINT, TRAINING = "artifacts", "fraud-detector-dev", "fraud-pipeline-dev"
DRIFT = f"{TRAINING}-drift-check"


def counted(aws: EmbeddedAWS, service: str, calls: Counter[str]) -> Any:
    client = aws.client(service)
    client.meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
    return client


def summary(drift: bool) -> dict[str, Any]:
    features = {
        name: {"score": score, "method": "Wasserstein distance (normed)", "threshold": 0.1, "drifted": drift}
        for name, score in (("balance", 3.3), ("student", 0.3))
    }
    features["income"] = {"score": 0.02, "method": "Wasserstein distance (normed)", "threshold": 0.1, "drifted": False}
    return {
        "status": "ok",
        "records": 500,
        "version": 2,
        "drift_detected": drift,
        "drift_share": 2 / 3 * drift,
        "features": features,
        "report": "report.html",
    }


def check(aws: EmbeddedAWS, sm: Any, s3: Any, drift: bool, now: datetime) -> str:
    """A succeeded check of the hour before ``now``, started as the drift-check function starts one."""
    window = Window.last(timedelta(hours=1), now)
    folder = window.result_folder(ENDPOINT)
    s3.put_object(Bucket=BUCKET, Key=f"{folder}/summary.json", Body=json.dumps(summary(drift)))
    return str(
        sm.start_pipeline_execution(
            PipelineName=DRIFT,
            PipelineExecutionDisplayName=f"{CHECK_DISPLAY_PREFIX}{window.name}",
            PipelineParameters=[{"Name": "OutputUri", "Value": f"s3://{BUCKET}/{folder}"}],
        )["PipelineExecutionArn"]
    )


def measure(aws: EmbeddedAWS, policy: str, drift: bool, now: datetime) -> tuple[str, Counter[str]]:
    calls: Counter[str] = Counter()
    sm, s3, sns = (counted(aws, s, calls) for s in ("sagemaker", "s3", "sns"))
    arn = check(aws, aws.client("sagemaker"), aws.client("s3"), drift, now)
    topic = aws.client("sns").create_topic(Name="alerts")["TopicArn"]
    settings = DriftSettings.from_env(
        {
            "ENVIRONMENT": "dev",
            "TEAM": "ml",
            "PIPELINE_NAME": TRAINING,
            "MODEL_PACKAGE_GROUP_NAME": "g",
            "ENDPOINT_NAME": ENDPOINT,
            "ALERT_TOPIC_ARN": topic,
            "IDEMPOTENCY_TABLE_NAME": "t",
            "DRIFT_CHECK_PIPELINE_NAME": DRIFT,
            "ARTIFACT_BUCKET": BUCKET,
            "DRIFT_POLICY": policy,
        }
    )

    def publish(alert: DriftAlert) -> str:
        return str(sns.publish(TopicArn=topic, Subject=alert.subject[:100], Message=alert.message)["MessageId"])

    monitor = DriftMonitor(settings, DriftPipelines(sm), DriftObjects(s3, BUCKET), publish, lambda *_: None)
    outcome = monitor.on_finished(arn, now=now)
    return str(outcome["status"]), calls


def main() -> int:
    with EmbeddedAWS(timings=Timings()).start() as aws:
        sm = aws.client("sagemaker")
        aws.client("s3").create_bucket(Bucket=BUCKET)
        definition = json.dumps({"Version": "2020-12-01", "Steps": []})
        for name in (DRIFT, TRAINING):
            sm.create_pipeline(
                PipelineName=name, PipelineDefinition=definition, RoleArn="arn:aws:iam::123456789012:role/p"
            )
        now = datetime.now(UTC)
        cases = [("off", False), ("alert", True), ("retrain", True), ("retrain", True)]
        print(f"drift monitor: AWS calls per check (target ≤ {TARGET}; idempotency: 2 DynamoDB writes more per check)")
        for n, (policy, drift) in enumerate(cases):
            status, calls = measure(aws, policy, drift, now + timedelta(minutes=n))
            total = sum(calls.values())
            detail = ", ".join(f"{name} {count}" for name, count in sorted(calls.items()))
            print(f"  policy {policy:<8} {status:<18} {total} calls (ratio {total / TARGET:.2f}): {detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
