"""Events sent to a served stack (``make serve`` in its own process) as operators and attackers would send them:
``make replay``, the AWS CLI's entry files, and a corpus of malformed and forged events through the rules."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.cli import read_events
from local.stack.events import is_service_event, put_events
from tests.emulator.stack.served import ROOT, Inbox, Served, drain, serving
from tests.worlds.alerting import ControlStore, Failures
from tests.worlds.tagging import World
from tools.event_entries import write

pytestmark = pytest.mark.slow
EVENTS = ROOT / "events"
HOSTILE = ROOT / "tests" / "fixtures" / "events" / "hostile"  # the functions' own corpus (its generate.py)
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    # the dev stack as samconfig.toml deploys it: Development stage, with its stage gate (in the corpus's manifest)
    with serving("dev") as stack:
        yield stack


def failed_execution() -> dict[str, Any]:
    return json.loads((EVENTS / "pipeline-execution-failed.json").read_text())


def genuine_failure(served: Served) -> dict[str, Any]:
    """The failed-execution sample, pointing at a failed execution that exists in the served SageMaker."""
    return Failures(served.client("sagemaker"), ControlStore(served.control)).failure_for(failed_execution())


def alert_naming(execution_arn: str) -> Any:
    return lambda message: execution_arn in message.get("Message", "")


def test_replay_feeds_the_served_stack_instead_of_starting_its_own(served: Served, tmp_path: Path) -> None:
    # GIVEN an operator subscribed to the served stack's alerts, and a failed execution there
    inbox = Inbox(served, "replay-inbox")
    event = genuine_failure(served)
    sample = tmp_path / "pipeline-execution-failed.json"
    sample.write_text(json.dumps(event))
    # WHEN `make replay` sends SageMaker's failed-execution sample, pointing at it
    done = subprocess.run(
        [sys.executable, "-m", "local", "replay", "--env", "dev", str(sample)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    # THEN it went to the served stack (one line per event, naming it), whose alert function alerted
    [line] = [json.loads(text) for text in done.stdout.splitlines()]
    assert (line["served"], line["detail_type"]) == (served.endpoint_url, failed_execution()["detail-type"])
    arn = event["detail"]["pipelineExecutionArn"]
    assert any(alert_naming(arn)(m) for m in inbox.until(alert_naming(arn)))


def test_entry_files_are_what_the_aws_cli_sends_and_service_events_go_to_the_control_api(
    served: Served, tmp_path: Path
) -> None:
    # GIVEN the samples of events/ plus one customer event, written as entry files
    custom = {"source": "my.app", "detail-type": "Thing", "detail": {"n": 1}, "time": "2026-01-01T00:00:00Z"}
    (tmp_path / "custom.json").write_text(json.dumps(custom))
    commands = write(read_events([str(EVENTS), str(tmp_path / "custom.json")]), tmp_path / "out", served.endpoint_url)
    # THEN the customer event is a PutEvents entry file, every SageMaker sample a control-action body
    entry_files = sorted((tmp_path / "out").glob("*.entries.json"))
    assert [f.name for f in entry_files] == ["custom-1.entries.json"]
    assert any(c.startswith("aws events put-events --entries file://") for c in commands)
    assert len([c for c in commands if "/_local/control" in c]) == len(list(EVENTS.glob("*.json")))
    events = served.client("events")
    # AND the entries go through PutEvents as the CLI sends them (a JSON list of entries)
    entries = json.loads(entry_files[0].read_text())
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    # AND the same SageMaker events put as entries are refused, as AWS refuses them
    body = json.loads((tmp_path / "out" / "model-package-approved.service-events.json").read_text())
    forged = [
        {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"])}
        for e in body["events"]
    ]
    refused = events.put_events(Entries=forged)
    assert [e["ErrorCode"] for e in refused["Entries"]] == ["NotAuthorizedForSourceException"] * len(forged)
    # AND the control-action body is accepted by the control API
    assert len(served.control.call(**body)) == len(body["events"])


def test_wait_idle_of_the_served_stack_waits_for_its_functions(served: Served) -> None:
    # GIVEN a failed step without its name, which the alert function dead-letters (after a second or so of work)
    event = json.loads((EVENTS / "pipeline-step-failed.json").read_text())
    del event["detail"]["stepName"]
    # WHEN it is put and the control action wait_idle returns
    [event_id] = put_events(served.endpoint_url, served.client, [event])
    served.control.call("wait_idle", timeout=60)
    # THEN the function has finished with it: the event is in its dead-letter queue already, no polling needed
    sqs = served.client("sqs")
    url = served.outputs["AlertDeadLetterQueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    assert event_id in [json.loads(m["Body"])["id"] for m in messages]
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# -- the corpus ----------------------------------------------------------------------------------------------------
def forged(pending_arn: str, group: str) -> list[dict[str, Any]]:
    """A handful of forgeries of every rule's events: statuses, times, types, text, foreign ARNs, size, depth."""
    approved = json.loads((EVENTS / "model-package-approved.json").read_text())
    approved["resources"] = [pending_arn]
    approved["detail"].update(
        ModelPackageArn=pending_arn,
        ModelPackageGroupName=group,
        ModelPackageVersion=1,
        LastModifiedTime="2999-01-01T00:00:00Z",
        ModelApprovalStatus="Approved",
    )
    no_times = copy.deepcopy(approved)
    for key in ("CreationTime", "LastModifiedTime"):
        no_times["detail"].pop(key, None)
    wrong_types = copy.deepcopy(approved)
    wrong_types["detail"].update(ModelPackageVersion="one", ModelApprovalStatus=["Approved"], InferenceSpecification=7)
    foreign = copy.deepcopy(approved)
    foreign_arn = pending_arn.replace(f":{ACCOUNT}:", ":999999999999:").replace("arn:aws:", "arn:aws-cn:")
    foreign["detail"]["ModelPackageArn"] = foreign_arn
    succeeded = json.loads((EVENTS / "pipeline-execution-succeeded.json").read_text())
    succeeded["detail"].update(executionStartTime="1999-01-01T00:00:00Z", pipelineExecutionDescription="\u202e" * 50)
    epoch = copy.deepcopy(succeeded)
    epoch["detail"]["executionStartTime"] = "915148800000"
    training = json.loads((EVENTS / "training-job-failed.json").read_text())
    training["detail"]["FailureReason"] = "boom \ud800 \x00\x1b[31m" + "x" * 100_000
    deep = copy.deepcopy(training)
    node = deep["detail"]
    for _ in range(150):
        node["nested"] = {}
        node = node["nested"]
    return [approved, no_times, wrong_types, foreign, succeeded, epoch, training, deep]


def corpus(pending_arn: str, group: str) -> list[dict[str, Any]]:
    samples = [event for _, event in read_events([str(EVENTS)])]
    return samples + forged(pending_arn, group)


@pytest.fixture(scope="module")
def pending(served: Served) -> str:
    """The first version registered in the stack's group (version 1: the hostile corpus's pending version), pending,
    with its model data in the artifact bucket."""
    sagemaker = served.client("sagemaker")
    bucket = served.outputs["ArtifactBucketName"]
    served.client("s3").put_object(Bucket=bucket, Key="models/m.tar.gz", Body=b"model")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName=served.outputs["ModelPackageGroupName"],
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
                    "ModelDataUrl": f"s3://{bucket}/models/m.tar.gz",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    served.control.call("wait_idle", timeout=60)
    return str(arn)


def test_the_hostile_corpus_through_the_served_rules_mutates_nothing_and_the_stack_still_alerts(
    served: Served, pending: str
) -> None:
    # GIVEN a registered, pending version in the stack's group
    sagemaker = served.client("sagemaker")
    group = served.outputs["ModelPackageGroupName"]
    events = corpus(pending, group)

    # WHEN an attacker with PutEvents access sends them all: every aws.* one is refused by EventBridge
    customer = served.client("events")
    for event in events:
        entry = {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}
        [result] = customer.put_events(Entries=[entry])["Entries"]
        assert "EventId" in result or result["ErrorCode"] in {"NotAuthorizedForSourceException", "MalformedDetail"}
        assert not (is_service_event(event) and "EventId" in result), result
    # AND the same events arrive as if forged upstream (another account's bus, a compromised producer)
    ids = put_events(served.endpoint_url, served.client, events)
    assert len(ids) == len(events)
    served.control.call("wait_idle", timeout=120)

    # THEN the served stack is alive, nothing was deployed and the pending version is still pending
    assert served.alive()
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.describe_model_package(ModelPackageName=pending)["ModelApprovalStatus"] == "PendingManualApproval"
    # AND a genuine failure is still alerted afterwards
    inbox = Inbox(served, "corpus-inbox")
    genuine = genuine_failure(served)
    put_events(served.endpoint_url, served.client, [genuine])
    arn = genuine["detail"]["pipelineExecutionArn"]
    assert any(alert_naming(arn)(m) for m in inbox.until(alert_naming(arn), timeout=120))
    assert served.alive()


# -- the functions' own corpus (tests/fixtures/events/hostile) ------------------------------------------------------
DEAD_LETTER_QUEUES = {
    "AlertFunction": "AlertDeadLetterQueueUrl",
    "DeployFunction": "DeployDeadLetterQueueUrl",
    "PromoteFunction": "PromoteDeadLetterQueueUrl",
    "TagArtifactsFunction": "TagArtifactsDeadLetterQueueUrl",
    "StageGateFunction": "StageGateDeadLetterQueueUrl",
}
CORPUS_EXECUTION_PREFIX = "fraud-pipeline-dev/corpus0forged1"  # the prefix of the corpus's forged execution


def hostile_corpus() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(file, event, manifest entry)`` of every event of the corpus."""
    manifest = json.loads((HOSTILE / "manifest.json").read_text())
    return [(name, json.loads((HOSTILE / name).read_text(encoding="ascii")), entry) for name, entry in manifest.items()]


def kind_of(alert: dict[str, Any]) -> str | None:
    return alert.get("MessageAttributes", {}).get("kind", {}).get("Value")


def test_the_functions_corpus_is_dead_lettered_once_per_invalid_event_and_leaves_a_working_stack(
    served: Served, pending: str
) -> None:
    # GIVEN the corpus, written for this stack's names and its first, pending version
    corpus_events = hostile_corpus()
    outputs = served.outputs
    assert pending.endswith(f"model-package/{outputs['ModelPackageGroupName']}/1")
    assert outputs["SageMakerJobRoleArn"] == "arn:aws:iam::123456789012:role/sagemaker-lifecycle-dev-sagemaker-job"
    assert (outputs["PipelineName"], outputs["EndpointName"]) == ("fraud-pipeline-dev", "fraud-detector-dev")
    sagemaker, s3 = served.client("sagemaker"), served.client("s3")
    bucket = outputs["ArtifactBucketName"]
    # AND artifacts that a forged success of the corpus's execution would tag, and the registry as it is
    forged_key = f"{CORPUS_EXECUTION_PREFIX}/train/output/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=forged_key, Body=b"model")
    before = sagemaker.describe_model_package(ModelPackageName=pending)
    group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=outputs["ModelPackageGroupName"])[
        "ModelPackageGroupArn"
    ]
    group_tags = sagemaker.list_tags(ResourceArn=group_arn)["Tags"]
    inbox = Inbox(served, "hostile-corpus-inbox")
    served.control.call("wait_idle", timeout=60)
    inbox.drain()
    served.control.call("iam_decisions", clear=True)

    # WHEN every corpus event arrives as SageMaker would send it
    started = time.monotonic()
    ids: list[str] = []
    for start in range(0, len(corpus_events), 20):
        ids += put_events(served.endpoint_url, served.client, [e for _, e, _ in corpus_events[start : start + 20]])
    served.control.call("wait_idle", timeout=300)
    elapsed = time.monotonic() - started
    by_id = {event_id: (name, entry) for event_id, (name, _, entry) in zip(ids, corpus_events, strict=True)}

    # THEN the served stack is alive, no function was denied anything (none read what is not this stack's), nothing
    # was deployed, the pending version is untouched, nothing was tagged
    assert served.alive()
    iam = served.control.call("iam_decisions")
    assert iam["enforced"] and [d.get("message") for d in iam["denials"]] == []
    assert sagemaker.list_endpoints()["Endpoints"] == []
    after = sagemaker.describe_model_package(ModelPackageName=pending)
    assert after["ModelApprovalStatus"] == "PendingManualApproval"
    assert after.get("ApprovalDescription") == before.get("ApprovalDescription")
    assert after["LastModifiedTime"] == before["LastModifiedTime"]
    assert s3.get_object_tagging(Bucket=bucket, Key=forged_key)["TagSet"] == []
    assert sagemaker.list_tags(ResourceArn=group_arn)["Tags"] == group_tags
    assert sagemaker.list_tags(ResourceArn=pending)["Tags"] == []

    # AND each invalid event is in the dead-letter queue of each function it reached, once, naming its field, put there
    # by the function (ErrorType; Lambda's own dead letter after retries has none); no forged one is, unless its
    # manifest says which function refuses what the API contradicts
    sqs = served.client("sqs")
    letters: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for function, output in DEAD_LETTER_QUEUES.items():
        for message in drain(sqs, outputs[output]):
            letters.setdefault((function, message["Body"].get("id")), []).append(message)
    wrong: dict[str, Any] = {}
    for event_id, (name, entry) in by_id.items():
        expected = {entry["field"]: entry["functions"]} if "field" in entry else {}
        for function, field in entry.get("dead_lettered", {}).items():
            expected.setdefault(field, []).append(function)
        expected_of = {function: field for field, functions in expected.items() for function in functions}
        for function in DEAD_LETTER_QUEUES:
            found = letters.pop((function, event_id), [])
            field = expected_of.get(function)
            if field is None and found:
                wrong[f"{name} {function}"] = [m["MessageAttributes"].get("ErrorMessage") for m in found]
            elif field is not None and (
                len(found) != 1
                or found[0]["MessageAttributes"].get("ErrorType") != "InvalidEventError"
                or field not in (found[0]["MessageAttributes"].get("ErrorMessage") or "")
            ):
                wrong[f"{name} {function}"] = [m["MessageAttributes"] for m in found] or "not dead-lettered"
    assert wrong == {}
    # AND EventBridge delivered every one (none in its delivery dead-letter queue)
    undelivered = [m["Body"].get("id") for m in drain(sqs, outputs["EventDeliveryDeadLetterQueueUrl"])]
    assert [by_id[i][0] for i in undelivered if i in by_id] == []

    # AND each dead-lettered one was alerted once per function that dead-lettered it, naming its field
    alerts = [a for a in inbox.drain() if kind_of(a) == "invalid-event"]
    counted: dict[str, Any] = {}
    for event_id, (name, entry) in by_id.items():
        fields = {entry["field"]: len(entry["functions"])} if "field" in entry else {}
        for field in entry.get("dead_lettered", {}).values():
            fields[field] = fields.get(field, 0) + 1
        naming = [a["Message"] for a in alerts if f"(id {event_id})" in a["Message"]]
        if len(naming) != sum(fields.values()) or not all(any(f"Field: {f}" in m for m in naming) for f in fields):
            counted[name] = len(naming)
    assert counted == {}
    assert served.alive()
    print(f"{len(corpus_events)} corpus events handled in {elapsed:.1f}s")

    # AND the stack still works: a genuine approval deploys the version (InService after the emulator's delays)
    sagemaker.update_model_package(ModelPackageArn=pending, ModelApprovalStatus="Approved")
    served.control.call("wait_idle", timeout=120)
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline and status != "InService":
        served.control.call("wait_idle", timeout=60)
        status = sagemaker.describe_endpoint(EndpointName=outputs["EndpointName"])["EndpointStatus"]
    assert status == "InService"
    # AND a genuine failure is alerted
    genuine = genuine_failure(served)
    put_events(served.endpoint_url, served.client, [genuine])
    arn = genuine["detail"]["pipelineExecutionArn"]
    assert any(alert_naming(arn)(m) for m in inbox.until(alert_naming(arn), timeout=120))
    assert served.alive()
    # AND a genuine success of the stack's pipeline gets its artifacts tagged: an execution with its jobs and objects,
    # made through the API (the served pipeline runner ends its empty definition; SageMaker's status is then set to
    # Succeeded, as a real run would end), and SageMaker's event for it
    world = World(
        sagemaker,
        s3,
        lambda execution_arn, step: served.control.call("record_step", execution_arn=execution_arn, step=step),
        bucket=bucket,
        pipeline=outputs["PipelineName"],
        group=outputs["ModelPackageGroupName"],
    )
    run = world.execution(steps=("Preprocess", "Train"))
    served.control.call("wait_idle", timeout=120)
    served.control.call("set_pipeline_execution_status", execution_arn=run.arn, status="Succeeded")
    put_events(served.endpoint_url, served.client, [world.event(run)])
    served.control.call("wait_idle", timeout=120)
    want = {"env": "dev", "pipeline": outputs["PipelineName"], "execution": run.execution_id}
    assert run.objects and run.jobs
    for tags in [world.object_tags(key) for key in run.objects] + [world.resource_tags(job) for job in run.jobs]:
        assert tags.items() >= want.items(), tags
    # (and still nothing of the corpus's forged execution)
    assert s3.get_object_tagging(Bucket=bucket, Key=forged_key)["TagSet"] == []
    assert served.alive()
