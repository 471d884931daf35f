"""Model registry values read one way: the approval statuses and the git SHA (one name, one reader)."""

from __future__ import annotations

from sm_lifecycle.kernel.events import ModelPackageStateChangeDetail
from sm_lifecycle.kernel.registry import GIT_SHA, ModelApprovalStatus, git_sha_of, parameter_values


def test_the_git_sha_is_the_gitsha_key_of_a_package_or_an_execution() -> None:
    # a package's CustomerMetadataProperties, as the pipeline's RegisterModel step writes them
    assert git_sha_of({"GitSha": "3f2c1e9", "Environment": "dev"}) == "3f2c1e9"
    # an execution's parameters, as ListPipelineParametersForExecution returns them
    parameters = [{"Name": "Other", "Value": "x"}, {"Name": "GitSha", "Value": " abc1234def "}]
    assert git_sha_of(parameter_values(parameters)) == "abc1234def"
    assert GIT_SHA == "GitSha"


def test_nothing_else_is_taken_for_the_git_sha() -> None:
    for properties in (None, {}, {"GitSha": ""}, {"git-sha": "abc1234"}, {"GitCommit": "abc1234"}):
        assert git_sha_of(properties) == "unknown"
    assert git_sha_of(parameter_values([{"Name": "GitSha"}])) == "unknown"


def test_approval_statuses_are_the_api_spellings_and_parse_from_events() -> None:
    assert [s.value for s in ModelApprovalStatus] == ["Approved", "Rejected", "PendingManualApproval"]
    detail = ModelPackageStateChangeDetail.model_validate(
        {
            "ModelPackageGroupName": "g",
            "ModelPackageVersion": 1,
            "ModelPackageArn": "arn:aws:sagemaker:us-east-1:111122223333:model-package/g/1",
            "ModelApprovalStatus": "PendingManualApproval",
        }
    )
    assert detail.model_approval_status is ModelApprovalStatus.PENDING
    assert detail.model_approval_status == "PendingManualApproval"
