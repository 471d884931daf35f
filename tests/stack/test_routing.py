"""The project's own stack (template.yaml, dev) on the embedded AWS: its rules route the sample events."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.stack import LocalStack
from tests.worlds.alerting import Failures

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_sample_events_reach_the_functions_the_design_assigns_them(local_stack: LocalStack) -> None:
    # GIVEN sample events, and a failed execution of a pipeline this stack does not watch
    foreign = copy.deepcopy(sample("pipeline-execution-failed.json"))
    foreign["detail"]["pipelineArn"] = foreign["detail"]["pipelineArn"].replace("fraud-pipeline-dev", "someone-else")
    cases = [
        (sample("pipeline-execution-failed.json"), {"AlertFunction"}),
        (sample("pipeline-execution-succeeded.json"), {"TagArtifactsFunction"}),
        (sample("model-package-pending.json"), {"PromoteFunction"}),
        (foreign, set()),
    ]

    # WHEN they go through the embedded EventBridge
    ids = local_stack.put_events([event for event, _ in cases])
    local_stack.wait_idle(timeout=120)

    # THEN each reached exactly its functions
    for event_id, (_, functions) in zip(ids, cases, strict=True):
        assert {record["function"] for record in local_stack.records_for(event_id)} == functions


def test_a_failed_pipeline_execution_ends_as_an_alert_on_the_topic(
    local_stack: LocalStack, embedded_aws: Any, sns_inbox: Callable[[str], Any]
) -> None:
    # GIVEN a subscriber of the alert topic, and a failed execution of the dev pipeline
    inbox = sns_inbox(local_stack.outputs["AlertTopicArn"])
    event = Failures(embedded_aws.client("sagemaker"), embedded_aws.sagemaker_store).failure_for(
        sample("pipeline-execution-failed.json")
    )

    # WHEN SageMaker reports it
    [record] = local_stack.replay([event])

    # THEN the alert function handled it and one alert naming the pipeline reached the topic
    assert (record["function"], record["outcome"]) == ("AlertFunction", "ok")
    [message] = inbox.messages(wait=5)
    assert "fraud-pipeline-dev" in (message.subject or "") + message.message
