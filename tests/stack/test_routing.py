"""The project's own stack (template.yaml, dev) on the embedded AWS: its rules route the sample events."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.events.models import EventPattern

from local.stack import LocalStack
from tests.worlds.alerting import Failures

EVENTS = Path(__file__).resolve().parents[2] / "events"
OTHER_ACCOUNT = "210987654321"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_sample_events_reach_the_functions_the_design_assigns_them(local_stack: LocalStack) -> None:
    # GIVEN sample events, and a failed execution of a pipeline this stack does not watch
    foreign = copy.deepcopy(sample("pipeline-execution-failed.json"))
    foreign["detail"]["pipelineArn"] = foreign["detail"]["pipelineArn"].replace("fraud-pipeline-dev", "someone-else")
    cases = [
        (sample("pipeline-execution-failed.json"), {"AlertFunction"}),
        (sample("pipeline-execution-succeeded.json"), {"TagArtifactsFunction"}),
        (sample("drift-check-succeeded.json"), {"DriftMonitorFunction"}),
        (sample("model-package-pending.json"), {"PromoteFunction"}),
        (foreign, set()),
    ]

    # WHEN they go through the embedded EventBridge
    ids = local_stack.put_events([event for event, _ in cases])
    local_stack.wait_idle(timeout=120)

    # THEN each reached exactly its functions
    for event_id, (_, functions) in zip(ids, cases, strict=True):
        assert {record["function"] for record in local_stack.records_for(event_id)} == functions


def test_no_rule_takes_another_accounts_event(local_stack: LocalStack) -> None:
    # GIVEN the stack's rules as installed in the embedded EventBridge, and the sample events each one takes
    events = local_stack.client("events")
    patterns = {
        rule["Name"]: EventPattern.load(rule["EventPattern"])
        for rule in events.list_rules()["Rules"]
        if rule.get("EventPattern")
    }
    samples = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(EVENTS.glob("*.json"))]
    taken = {name: [e for e in samples if pattern.matches_event(e)] for name, pattern in patterns.items()}
    assert all(taken.values()), taken

    # WHEN the same events come from another account (a bus that receives other accounts' events, forwarded by a
    # cross-account rule, still carries their account)
    # THEN no rule of the stack takes any of them: every rule filters on the stack's account
    still_taken = {
        name: [e["id"] for e in taken[name] if pattern.matches_event({**e, "account": OTHER_ACCOUNT})]
        for name, pattern in patterns.items()
    }
    assert still_taken == {name: [] for name in patterns}


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
