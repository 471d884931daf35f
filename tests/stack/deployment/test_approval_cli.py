"""``make approve`` / ``make reject``: UpdateModelPackage as the console does, against a served local stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.aws import EmbeddedAWS, Timings
from tools import approval, stackinfo

GROUP = "fraud-detector-dev"


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedAWS]:
    """An embedded AWS announced the way ``make serve`` announces it (its ready line in ``.local/serve-dev.json``)."""
    embedded = EmbeddedAWS(timings=Timings()).start()
    ready = {
        "endpoint_url": embedded.endpoint_url,
        "region": embedded.region,
        "outputs": {"ModelPackageGroupName": GROUP},
    }
    (tmp_path / "serve-dev.json").write_text(json.dumps(ready))
    monkeypatch.setattr(stackinfo, "LOCAL_STATE", tmp_path)
    try:
        yield embedded
    finally:
        embedded.stop()


def test_approve_then_reject_a_version_of_the_stacks_group(aws: EmbeddedAWS) -> None:
    # GIVEN version 1 of the served stack's group, pending
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arn = sm.create_model_package(ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval")[
        "ModelPackageArn"
    ]

    # WHEN approved, then rejected, with the make commands
    assert approval.main(["approve", "--version", "1", "--env", "dev"]) == 0
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"
    assert approval.main(["reject", "--version", "1", "--env", "dev", "--note", "bias found"]) == 0

    # THEN the package is rejected with the note, and each change emitted the event the deployer listens to
    package = sm.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Rejected"
    assert package["ApprovalDescription"] == "bias found"
    aws.wait_idle()
    changes = [
        e["detail"]["ModelApprovalStatus"]
        for e in aws.emitted_events
        if "ModelApprovalStatus" in e["detail"].get("UpdatedModelPackageFields", [])
    ]
    assert changes == ["Approved", "Rejected"]


def test_unknown_version_is_refused(aws: EmbeddedAWS) -> None:
    aws.client("sagemaker").create_model_package_group(ModelPackageGroupName="g1")
    with pytest.raises(SystemExit, match="no version 7"):
        approval.main(["approve", "--version", "7", "--group", "g1"])
