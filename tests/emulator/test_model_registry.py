"""Contract tests: the model registry of the embedded AWS and the events SageMaker emits for it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

# keys of the documented "SageMaker Model Package State Change" example
SAMPLE_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
SAMPLE_DETAIL_KEYS = {
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "CreationTime",
    "InferenceSpecification",
    "ModelPackageStatus",
    "ModelPackageStatusDetails",
    "CertifyForMarketplace",
    "ModelApprovalStatus",
    "MetadataProperties",
    "ModelMetrics",
    "LastModifiedTime",
}
PACKAGE_EVENTS = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]}
INFERENCE = {
    "Containers": [
        {
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "ModelDataUrl": "s3://bucket/models/model.tar.gz",
        }
    ],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
METRICS = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://bucket/eval.json"}}}


def register(sm: Any, group: str = "fraud-detector", **extra: Any) -> str:
    return sm.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification=INFERENCE,
        ModelMetrics=METRICS,
        MetadataProperties={"GeneratedBy": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/x"},
        **extra,
    )["ModelPackageArn"]


@pytest.fixture
def group(sagemaker: Any) -> str:
    sagemaker.create_model_package_group(ModelPackageGroupName="fraud-detector")
    return "fraud-detector"


def test_registering_a_version_emits_the_documented_event(embedded_aws, sagemaker, group, event_queue):
    # GIVEN a rule on model package state changes of the group
    read = event_queue({**PACKAGE_EVENTS, "detail": {"ModelPackageGroupName": [group]}})

    # WHEN a version is registered
    arn = register(sagemaker, group)

    # THEN one event arrives, shaped like the documented sample (same keys, PascalCase, ISO times)
    (event,) = read()
    assert set(event) == SAMPLE_KEYS
    assert set(event["detail"]) >= SAMPLE_DETAIL_KEYS
    assert event["resources"] == [arn]
    assert event["source"] == "aws.sagemaker"
    assert (event["account"], event["region"]) == ("123456789012", "us-east-1")
    detail = event["detail"]
    assert (detail["ModelPackageArn"], detail["ModelPackageVersion"]) == (arn, 1)
    assert detail["ModelApprovalStatus"] == "PendingManualApproval"
    assert detail["ModelMetrics"] == METRICS
    assert detail["CreationTime"].endswith("Z")
    assert "UpdatedModelPackageFields" not in detail


@pytest.mark.parametrize(
    "case",
    [
        (
            {"ModelApprovalStatus": "Approved", "ApprovalDescription": "AUC 0.97"},
            ["ModelApprovalStatus", "ApprovalDescription"],
        ),
        ({"ModelApprovalStatus": "Rejected"}, ["ModelApprovalStatus"]),
        ({"CustomerMetadataProperties": {"git_sha": "3f2c1e9"}}, ["CustomerMetadataProperties"]),
        ({"CustomerMetadataPropertiesToRemove": ["team"]}, ["CustomerMetadataProperties"]),
    ],
)
def test_every_update_emits_an_event_naming_the_changed_fields(sagemaker, group, event_queue, case):
    update, fields = case
    # GIVEN a registered version
    arn = register(sagemaker, group, CustomerMetadataProperties={"team": "fraud"})
    read = event_queue(PACKAGE_EVENTS)
    read()  # the creation event

    # WHEN it is updated
    sagemaker.update_model_package(ModelPackageArn=arn, **update)

    # THEN an event names exactly the fields the call changed
    (event,) = read()
    assert event["detail"]["UpdatedModelPackageFields"] == fields
    assert event["detail"]["ModelPackageArn"] == arn
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert event["detail"]["ModelApprovalStatus"] == described["ModelApprovalStatus"]


def test_update_changes_only_the_given_fields(embedded_aws, sagemaker, group):
    # GIVEN an approved version with metadata
    arn = register(sagemaker, group, CustomerMetadataProperties={"team": "fraud", "owner": "ml"})
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="AUC 0.97")

    # WHEN only metadata is updated
    sagemaker.update_model_package(
        ModelPackageArn=arn, CustomerMetadataProperties={"git_sha": "abc"}, CustomerMetadataPropertiesToRemove=["owner"]
    )

    # THEN approval is untouched and metadata merged
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "AUC 0.97"
    assert described["CustomerMetadataProperties"] == {"team": "fraud", "git_sha": "abc"}
    assert described["ModelMetrics"] == METRICS
    assert described["ModelPackageName"] == group
    assert described["LastModifiedTime"] >= described["CreationTime"]


def test_an_invalid_update_changes_nothing_and_emits_nothing(embedded_aws, sagemaker, group, event_queue):
    arn = register(sagemaker, group)
    read = event_queue(PACKAGE_EVENTS)
    read()

    with pytest.raises(ClientError) as info:
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Maybe", ApprovalDescription="x")

    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "ApprovalDescription" not in sagemaker.describe_model_package(ModelPackageName=arn)
    assert read() == []


def test_list_model_packages_filters_by_status_and_sorts_by_creation_time(embedded_aws, sagemaker, group):
    # GIVEN three versions, the second approved
    arns = [register(sagemaker, group) for _ in range(3)]
    sagemaker.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved")

    # WHEN listing approved ones, and all ones newest first
    approved = sagemaker.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="Approved")
    newest_first = sagemaker.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending", MaxResults=2
    )

    # THEN
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [arns[1]]
    assert [p["ModelPackageVersion"] for p in newest_first["ModelPackageSummaryList"]] == [3, 2]
    following = sagemaker.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending", NextToken=newest_first["NextToken"]
    )
    assert [p["ModelPackageVersion"] for p in following["ModelPackageSummaryList"]] == [1]


VERSION_TAGS_REFUSED = "Tags are not supported in Model Package versions. Please add them to the Model Package Group"


def test_versioned_model_packages_cannot_be_tagged_their_group_can(embedded_aws, sagemaker, group):
    # GIVEN two versions of a group
    first, second = register(sagemaker, group), register(sagemaker, group)
    assert first.endswith("/fraud-detector/1")
    group_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group)["ModelPackageGroupArn"]

    # WHEN a version is tagged (AddTags, or Tags at registration)
    with pytest.raises(ClientError) as add_tags:
        sagemaker.add_tags(ResourceArn=first, Tags=[{"Key": "env", "Value": "dev"}])
    with pytest.raises(ClientError) as tagged_registration:
        register(sagemaker, group, Tags=[{"Key": "env", "Value": "dev"}])

    # THEN SageMaker refuses both, as AWS does (aws/aws-cdk#33699; versions carry CustomerMetadataProperties instead)
    for error in (add_tags, tagged_registration):
        assert error.value.response["Error"] == {"Code": "ValidationException", "Message": VERSION_TAGS_REFUSED}
    assert sagemaker.list_tags(ResourceArn=first)["Tags"] == sagemaker.list_tags(ResourceArn=second)["Tags"] == []
    # (and the refused registration made no version)
    listed = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert sorted(p["ModelPackageVersion"] for p in listed) == [1, 2]
    # AND the group is tagged, re-tagged and untagged as AddTags and DeleteTags do
    sagemaker.add_tags(ResourceArn=group_arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "sha", "Value": "1"}])
    sagemaker.add_tags(ResourceArn=group_arn, Tags=[{"Key": "sha", "Value": "2"}])
    sagemaker.delete_tags(ResourceArn=group_arn, TagKeys=["env"])
    assert sagemaker.list_tags(ResourceArn=group_arn)["Tags"] == [{"Key": "sha", "Value": "2"}]


def test_tags_on_a_missing_resource_are_a_validation_error(embedded_aws, sagemaker, group):
    with pytest.raises(ClientError) as info:
        sagemaker.list_tags(ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-detector/9")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "does not exist" in info.value.response["Error"]["Message"]


def test_a_model_can_run_a_model_package(embedded_aws, sagemaker, group):
    # GIVEN an approved version
    arn = register(sagemaker, group)
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    # WHEN a model is created from it, and from a package that does not exist
    sagemaker.create_model(
        ModelName="fraud-v1",
        PrimaryContainer={"ModelPackageName": arn},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
    )
    with pytest.raises(ClientError) as info:
        sagemaker.create_model(
            ModelName="fraud-v9",
            PrimaryContainer={"ModelPackageName": arn.replace("/1", "/9")},
            ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        )

    # THEN the first names the package, the second is refused
    assert sagemaker.describe_model(ModelName="fraud-v1")["PrimaryContainer"]["ModelPackageName"] == arn
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_deleted_versions_are_gone_and_their_numbers_never_reused(embedded_aws, sagemaker, group, event_queue):
    # GIVEN two versions, the second deleted
    read = event_queue(PACKAGE_EVENTS)
    first, second = register(sagemaker, group), register(sagemaker, group)
    sagemaker.delete_model_package(ModelPackageName=second)

    # WHEN a third is registered
    third = register(sagemaker, group)

    # THEN the deleted one cannot be described, and the new one is version 3
    with pytest.raises(ClientError):
        sagemaker.describe_model_package(ModelPackageName=second)
    assert third.endswith("/fraud-detector/3")
    listed = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in listed] == [first, third]
    statuses = [(e["resources"], e["detail"]["ModelPackageStatus"]) for e in read()]
    assert ([second], "Deleting") in statuses


@pytest.mark.parametrize(
    "case",
    [
        ("absent", None),
        ("empty", []),
        ("given", ["ModelApprovalStatus", "CustomerMetadataProperties", "InferenceSpecification"]),
    ],
)
def test_the_creation_event_carries_updated_fields_in_the_shape_chosen(
    embedded_aws, sagemaker, group, event_queue, case
):
    shape, fields = case
    # GIVEN the shape of the creation event (AWS does not document whether it carries UpdatedModelPackageFields)
    embedded_aws.control.set_package_creation_fields(shape)
    read = event_queue(PACKAGE_EVENTS)

    # WHEN a version is registered
    register(sagemaker, group, CustomerMetadataProperties={"GitSha": "0a1b2c3"})

    # THEN its creation event leaves the field out, holds [] or names what the request set
    (event,) = read()
    assert event["detail"].get("UpdatedModelPackageFields", None) == fields
    assert ("UpdatedModelPackageFields" in event["detail"]) is (fields is not None)
