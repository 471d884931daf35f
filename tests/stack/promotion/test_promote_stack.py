"""The promote function in the stack of template.yaml on the embedded AWS.

Packages are registered through the SageMaker API; the embedded AWS emits the creation event, the template's rule
routes it to the function, which runs as Lambda would (worker process, retries, dead-letter queue).

Policies (samconfig.toml): dev ``auto``, ``auc>=0.80``, margin 0, tolerance 0.02; prod ``recommend``,
``auc>=0.90,false_positive_rate<=0.05``, margin 0.01, tolerance 0.005.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.stack.promotion.conftest import promote_records
from tests.worlds.promotion import binary_report

APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"
BAD = sorted((Path(__file__).parents[2] / "fixtures" / "metrics" / "bad").iterdir())


def test_better_challenger_is_approved_with_the_comparison_as_audit_text(promote_stack):
    # GIVEN an approved champion at auc 0.85 in dev (auto)
    stack, scene = promote_stack("dev", start=False, PromotionMargin="0.01")
    champion = scene.register(binary_report(0.85, 0.04), status=APPROVED)
    stack.start()

    # WHEN a challenger at auc 0.90 is registered
    challenger = scene.register(binary_report(0.90, 0.03))
    stack.wait_idle()

    # THEN it is approved; the description names metric, both values, the threshold and the policy
    package = scene.package(challenger)
    assert package["ModelApprovalStatus"] == APPROVED
    description = package["ApprovalDescription"]
    assert "auc 0.9 vs champion 0.85" in description
    assert "auc>=0.8 ok" in description
    assert f"champion v{champion.rsplit('/', 1)[-1]}" in description
    assert "Policy: mode=auto" in description
    [record] = promote_records(stack)
    assert record["outcome"] == "ok"
    assert record["result"]["champion_arn"] == champion
    assert [n["decision"] for n in scene.promotion_notices(challenger)] == [APPROVED]


def test_worse_challenger_is_rejected(promote_stack):
    stack, scene = promote_stack("dev", start=False)
    scene.register(binary_report(0.92, 0.03), status=APPROVED)
    stack.start()

    challenger = scene.register(binary_report(0.88, 0.03))  # above the threshold, below the champion
    stack.wait_idle()

    package = scene.package(challenger)
    assert package["ModelApprovalStatus"] == REJECTED
    assert "beats champion by >=0 (by -0.04) FAIL" in package["ApprovalDescription"]


def test_threshold_miss_is_rejected_even_without_champion(promote_stack):
    stack, scene = promote_stack("dev")

    first = scene.register(binary_report(0.75, 0.03))  # auc below 0.80
    stack.wait_idle()

    package = scene.package(first)
    assert package["ModelApprovalStatus"] == REJECTED
    assert "auc>=0.8 FAIL" in package["ApprovalDescription"]
    assert promote_records(stack)[0]["result"]["champion_arn"] is None


# prod is a deployment stack of dev's registry (samconfig.toml); as a registry of its own, with its own group
PROD_REGISTRY = {
    "StackRole": "registry",
    "LifecycleStage": "",
    "ModelPackageGroupName": "fraud-detector-prod",
    "PipelineName": "fraud-pipeline-prod",
    "PromotionMode": "recommend",
    "PromotionThresholds": "auc>=0.90,false_positive_rate<=0.05",
}


def test_prod_recommends_leaves_pending_and_notifies_approvers(promote_stack):
    # GIVEN prod as a registry of its own (a single-environment layout) whose metrics gate recommends
    stack, scene = promote_stack("prod", **PROD_REGISTRY)

    # WHEN a package meeting the policy is registered
    challenger = scene.register(binary_report(0.95, 0.02))
    stack.wait_idle()

    # THEN no decision is written and the approvers get the comparison and a console link
    package = scene.package(challenger)
    assert package["ModelApprovalStatus"] == PENDING
    assert "ApprovalDescription" not in package or not package["ApprovalDescription"]
    [notice] = scene.promotion_notices(challenger)
    assert notice["decision"] == "recommend-approve"
    assert notice["severity"] == "info"
    assert notice["environment"] == "prod"
    assert "auc>=0.9 ok" in notice["message"]
    assert "false_positive_rate<=0.05 ok" in notice["message"]
    assert "console.aws.amazon.com/sagemaker" in notice["message"]


def test_off_mode_neither_decides_nor_notifies(promote_stack):
    stack, scene = promote_stack("dev", PromotionMode="off")
    package = scene.register(binary_report(0.99, 0.01))
    stack.wait_idle()
    assert scene.status(package) == PENDING
    assert scene.promotion_notices() == []
    assert promote_records(stack)[0]["result"]["status"] == "skipped"


def test_decision_a_human_made_first_is_not_overridden(promote_stack):
    # GIVEN the creation event still queued when a human rejects the package
    stack, scene = promote_stack("dev", start=False)
    package = scene.register(binary_report(0.99, 0.01))
    scene.sagemaker.update_model_package(
        ModelPackageArn=package, ModelApprovalStatus=REJECTED, ApprovalDescription="rejected by ML lead: data leak"
    )

    # WHEN the promote function gets the creation event
    stack.start()
    stack.wait_idle()

    # THEN the human's decision and text stand
    assert scene.status(package) == REJECTED
    assert scene.package(package)["ApprovalDescription"] == "rejected by ML lead: data leak"
    assert promote_records(stack)[0]["result"]["status"] == "skipped"


def test_packages_registered_together_are_each_judged_on_their_own_metrics(promote_stack):
    # GIVEN two registrations queued at once (no champion yet)
    stack, scene = promote_stack("dev", start=False)
    good = scene.register(binary_report(0.93, 0.02))
    poor = scene.register(binary_report(0.70, 0.02))

    # WHEN the function handles both concurrently
    stack.start()
    stack.wait_idle()

    # THEN each gets its own verdict, described with its own auc
    assert (scene.status(good), scene.status(poor)) == (APPROVED, REJECTED)
    assert "auc 0.93" in scene.package(good)["ApprovalDescription"]
    assert re.search(r"\bauc 0\.7\b", scene.package(poor)["ApprovalDescription"])
    assert sorted(r["result"]["package_arn"] for r in promote_records(stack)) == sorted([good, poor])


def test_duplicate_creation_event_is_judged_once(promote_stack):
    stack, scene = promote_stack("dev")
    package = scene.register(binary_report(0.93, 0.02))
    stack.wait_idle()
    creation = next(
        e
        for e in stack.aws.emitted_events
        if package in e["resources"] and "UpdatedModelPackageFields" not in e["detail"]
    )

    # WHEN EventBridge delivers the same event again, after a human changed their mind
    scene.sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus=REJECTED)
    stack.replay([creation])

    # THEN the stored result is returned, marked as a duplicate: no second decision, no second notice
    assert scene.status(package) == REJECTED
    records = promote_records(stack)
    assert len(records) == 2
    assert records[0]["result"]["status"] == "approved"
    assert records[1]["result"] == {**records[0]["result"], "status": "duplicate", "judged": "approved"}
    assert len(scene.promotion_notices(package)) == 1


def test_package_without_model_metrics_is_left_pending_with_an_alert(promote_stack):
    stack, scene = promote_stack("dev")
    package = scene.register(None, metrics=False)
    missing_object = scene.register(None)  # declared report never written
    stack.wait_idle()
    for arn in (package, missing_object):
        assert scene.status(arn) == PENDING
        [notice] = scene.promotion_notices(arn)
        assert notice["decision"] == "undecided"
    assert "NoSuchKey" in scene.promotion_notices(missing_object)[0]["message"]


def test_champion_without_readable_metrics_never_approves(promote_stack):
    stack, scene = promote_stack("dev", start=False)
    scene.register(b"{not json", status=APPROVED)
    stack.start()
    challenger = scene.register(binary_report(0.99, 0.01))
    stack.wait_idle()
    assert scene.status(challenger) == PENDING
    [notice] = scene.promotion_notices(challenger)
    assert "champion" in notice["message"]


def test_unknown_metric_in_the_policy_leaves_pending_alerts_and_keeps_the_event(promote_stack, embedded_aws):
    # GIVEN a policy naming a metric no report has (the template's pattern lets it through)
    stack, scene = promote_stack("dev", PromotionThresholds="auc>=0.8,gini>=0.5")

    package = scene.register(binary_report(0.99, 0.01))
    stack.wait_idle()

    # THEN nothing is decided, the alert names the setting, and the event waits in the dead-letter queue
    assert scene.status(package) == PENDING
    [notice] = [n for n in scene.notices() if "misconfigured" in n["subject"]]
    assert "PROMOTION_THRESHOLDS" in notice["message"]
    assert "gini" in notice["message"]
    queue = stack.outputs["PromoteDeadLetterQueueUrl"]
    [message] = embedded_aws.client("sqs").receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"])["detail"]["ModelPackageArn"] == package


@pytest.mark.slow
def test_no_malformed_report_of_the_corpus_is_ever_approved(promote_stack):
    # GIVEN every malformed report of the corpus, plus an oversized one, registered in dev (auto)
    stack, scene = promote_stack("dev")
    reports = {path.name: path.read_bytes() for path in BAD}
    reports["oversized.json"] = binary_report(0.99, 0.01) + b" " * (1024 * 1024)
    packages = {name: scene.register(body) for name, body in reports.items()}
    stack.wait_idle(timeout=120)

    # THEN every package is still pending, each with one "undecided" notice
    statuses = {name: scene.status(arn) for name, arn in packages.items()}
    assert statuses == dict.fromkeys(packages, PENDING)
    notices = scene.promotion_notices()
    for name, arn in packages.items():
        decisions = [n["decision"] for n in notices if n["package"] == arn]
        assert decisions == ["undecided"], name


def test_events_that_are_not_registrations_are_ignored_and_malformed_ones_dead_lettered(promote_stack, embedded_aws):
    # GIVEN a running dev stack and a pending package
    stack, scene = promote_stack("dev", PromotionMode="recommend")
    package = scene.register(binary_report(0.95, 0.02))
    stack.wait_idle()
    creation = next(
        e
        for e in embedded_aws.emitted_events
        if package in e["resources"] and "UpdatedModelPackageFields" not in e["detail"]
    )
    update = {**creation, "id": "re-emit", "detail": {**creation["detail"], "UpdatedModelPackageFields": ["Tags"]}}
    broken = {
        **creation,
        "id": "broken",
        "detail": {k: v for k, v in creation["detail"].items() if k != "ModelPackageArn"},
    }

    # WHEN a re-emit and a malformed event are handed to the function directly (bypassing the rule)
    stack.invoke_async("PromoteFunction", update)
    stack.invoke_async("PromoteFunction", broken)
    stack.wait_idle()

    # THEN the re-emit is skipped, the malformed event dead-lettered; still one notice for the package
    results = {r["event_id"]: r["result"] for r in promote_records(stack)}
    assert results["re-emit"]["status"] == "skipped"
    assert results["broken"]["status"] == "invalid"
    assert results["broken"]["field"] == "detail.ModelPackageArn"
    assert len(scene.promotion_notices(package)) == 1


@pytest.mark.parametrize("shape", ["absent", "empty", "given"])
def test_a_registration_is_judged_once_whatever_the_shape_of_its_creation_event(promote_stack, embedded_aws, shape):
    # GIVEN the creation event without UpdatedModelPackageFields, with [], or naming the fields the request set
    # (AWS does not document which: the rule and the function must work for each)
    embedded_aws.control.set_package_creation_fields(shape)
    stack, scene = promote_stack("dev")

    # WHEN a package is registered through the API
    package = scene.register(binary_report(0.93, 0.02))
    stack.wait_idle()

    # THEN the real rule delivered its creation event and the package was judged, once
    assert scene.status(package) == APPROVED
    [record] = promote_records(stack)
    assert record["result"]["status"] == "approved"
    assert [n["decision"] for n in scene.promotion_notices(package)] == [APPROVED]


def test_updates_of_a_pending_package_are_not_registrations(promote_stack, embedded_aws):
    # GIVEN prod (recommend) and a pending package already recommended to the approvers
    stack, scene = promote_stack("prod", **PROD_REGISTRY)
    package = scene.register(binary_report(0.95, 0.02))
    stack.wait_idle()

    # WHEN its metadata is updated (re-emit naming CustomerMetadataProperties), and a human sets it back to pending
    # after rejecting it, with a note
    scene.sagemaker.update_model_package(ModelPackageArn=package, CustomerMetadataProperties={"owner": "fraud"})
    scene.sagemaker.update_model_package(
        ModelPackageArn=package, ModelApprovalStatus=REJECTED, ApprovalDescription="not this week"
    )
    scene.sagemaker.update_model_package(
        ModelPackageArn=package, ModelApprovalStatus=PENDING, ApprovalDescription="review again with the new data"
    )
    stack.wait_idle()

    # THEN the metadata re-emit never reaches the function; the reset to pending does, and is not judged again
    # (the registry shows a decision was made on it); the approvers got one recommendation only
    results = [r["result"]["status"] for r in promote_records(stack)]
    assert results[0] == "recommended"
    assert all(status in {"duplicate", "skipped"} for status in results[1:])
    assert scene.status(package) == PENDING
    assert len(scene.promotion_notices(package)) == 1


# ----------------------------------------------------------------------------------------------- where reports live
def test_a_report_outside_the_pipeline_s_artifacts_is_never_read_nor_approved(promote_stack):
    # GIVEN a report in a bucket that is not the stack's (another account's, say), with an excellent score
    stack, scene = promote_stack("dev")
    scene.s3.create_bucket(Bucket="someone-elses-reports")
    elsewhere = scene.register(binary_report(0.99, 0.01), location=("someone-elses-reports", "fraud/evaluation.json"))
    stack.wait_idle()

    # THEN the package is not approved; the approvers are told why
    assert scene.status(elsewhere) == PENDING
    [notice] = scene.promotion_notices(elsewhere)
    assert notice["decision"] == "undecided"
    assert "outside" in notice["message"] and "not read" in notice["message"]
    assert "fraud/evaluation.json" not in notice["message"]


def test_an_alert_never_quotes_keys_or_data_outside_the_pipeline_s_prefix(promote_stack):
    # GIVEN a package whose report URI points at the endpoint's captured traffic (customer data) in the stack's bucket
    stack, scene = promote_stack("dev")
    key = "data-capture/fraud-detector-dev/AllTraffic/2026/12/01/10/capture-1.jsonl"
    captured = json.dumps({"captureData": {"endpointInput": {"data": "4111111111111111,12.50"}}}).encode()
    captured_arn = scene.register(captured, location=(scene.bucket, key))
    stack.wait_idle()

    # THEN it is left pending and alerted, without the key or anything of the object
    assert scene.status(captured_arn) == PENDING
    [notice] = scene.promotion_notices(captured_arn)
    assert notice["decision"] == "undecided"
    for secret in ("data-capture/", "capture-1.jsonl", "captureData", "4111111111111111"):
        assert secret not in notice["message"], secret


def test_registrations_that_are_not_this_stacks_are_ignored_without_notice_or_decision(promote_stack, embedded_aws):
    # GIVEN a running dev stack in recommend mode, a pending package of ours (judged once), and a
    # pending package of another team's group in the same account, which the stack's rule does not deliver
    stack, scene = promote_stack("dev", PromotionMode="recommend")
    ours = scene.register(binary_report(0.95, 0.02))
    scene.sagemaker.create_model_package_group(ModelPackageGroupName="other-team")
    theirs = dataclasses.replace(scene, group="other-team").register(binary_report(0.99, 0.01))
    stack.wait_idle()
    assert [n["decision"] for n in scene.promotion_notices(ours)] == ["recommend-approve"]

    def creation(arn: str) -> dict[str, Any]:
        return next(
            e
            for e in embedded_aws.emitted_events
            if arn in e["resources"] and "UpdatedModelPackageFields" not in e["detail"]
        )

    # WHEN the other group's registration, and ours as another account's event, reach the function directly
    other_group = {**creation(theirs), "id": "other-group"}
    other_account = {**creation(ours), "id": "other-account", "account": "210987654321"}
    stack.invoke_async("PromoteFunction", other_group)
    stack.invoke_async("PromoteFunction", other_account)
    stack.wait_idle()

    # THEN both are ignored with their reason (not judged again, not a duplicate, not dead-lettered), no notice or
    # alert goes out, and the other group's package is left pending
    results = {r["event_id"]: r for r in promote_records(stack)}
    assert [(results[i]["outcome"], results[i]["result"]["status"]) for i in ("other-group", "other-account")] == [
        ("ok", "foreign"),
        ("ok", "foreign"),
    ]
    assert results["other-group"]["result"]["field"] == "detail.ModelPackageGroupName"
    assert results["other-account"]["result"]["field"] == "account"
    assert scene.status(theirs) == PENDING
    assert [n["decision"] for n in scene.promotion_notices()] == ["recommend-approve"]
    assert [n for n in scene.notices() if n.get("kind") != "promotion"] == []
