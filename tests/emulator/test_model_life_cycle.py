"""Contract tests: a model package version's ModelLifeCycle through boto3, its validation, events and Search."""

from __future__ import annotations

import time
from datetime import UTC
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws.sagemaker.registry.lifecycle import current_stage_keys

GROUP = "churn"
PACKAGE_EVENTS = {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]}
PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


def stage(name: str, status: str, description: str | None = None) -> dict[str, str]:
    life_cycle = {"Stage": name, "StageStatus": status}
    if description is not None:
        life_cycle["StageDescription"] = description
    return life_cycle


@pytest.fixture
def register(sagemaker: Any) -> Any:
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)

    def make(**extra: Any) -> str:
        return sagemaker.create_model_package(
            ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval", **extra
        )["ModelPackageArn"]

    return make


def error_of(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]


def test_life_cycle_round_trips_through_create_update_describe_and_list(sagemaker, register):
    # GIVEN a version registered in Development
    arn = register(ModelLifeCycle=stage("Development", "PendingApproval", "registered by the pipeline"))
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelLifeCycle"] == stage(
        "Development", "PendingApproval", "registered by the pipeline"
    )

    # WHEN it moves to Staging without a description
    sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=stage("Staging", "Approved"))

    # THEN describe and the list summaries report the new stage only (no stale description)
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelLifeCycle"] == stage("Staging", "Approved")
    (summary,) = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert summary["ModelLifeCycle"] == stage("Staging", "Approved")


def test_a_version_without_life_cycle_reports_none(sagemaker, register):
    arn = register()
    assert "ModelLifeCycle" not in sagemaker.describe_model_package(ModelPackageName=arn)
    (summary,) = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert "ModelLifeCycle" not in summary


@pytest.mark.parametrize(
    ("life_cycle", "message"),
    [
        (
            stage("Pre prod", "Approved"),
            f"1 validation error detected: Value 'Pre prod' at 'modelLifeCycle.stage' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {PATTERN}",
        ),
        (
            stage("Staging", "Approved-"),
            f"1 validation error detected: Value 'Approved-' at 'modelLifeCycle.stageStatus' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {PATTERN}",
        ),
        (
            stage("S" * 64, "Approved"),  # 64 characters break the pattern's {0,62} and the length: two errors
            f"2 validation errors detected: Value '{'S' * 64}' at 'modelLifeCycle.stage' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {PATTERN}; Value '{'S' * 64}' at 'modelLifeCycle.stage' "
            "failed to satisfy constraint: Member must have length less than or equal to 63",
        ),
        (
            stage("Staging", "Approved", "d" * 1025),
            f"1 validation error detected: Value '{'d' * 1025}' at 'modelLifeCycle.stageDescription' failed to "
            "satisfy constraint: Member must have length less than or equal to 1024",
        ),
        (
            stage("Staging", "Approved", "two\nlines"),
            "1 validation error detected: Value 'two\nlines' at 'modelLifeCycle.stageDescription' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: .{0,1024}",
        ),
    ],
    ids=["stage-space", "status-trailing-dash", "stage-too-long", "description-too-long", "description-newline"],
)
def test_invalid_life_cycle_is_refused_with_aws_message_and_changes_nothing(sagemaker, register, life_cycle, message):
    arn = register(ModelLifeCycle=stage("Development", "PendingApproval"))
    before = sagemaker.describe_model_package(ModelPackageName=arn)

    update_error = error_of(sagemaker.update_model_package, ModelPackageArn=arn, ModelLifeCycle=life_cycle)
    create_error = error_of(sagemaker.create_model_package, ModelPackageGroupName=GROUP, ModelLifeCycle=life_cycle)

    for error in (update_error, create_error):
        assert (error["Code"], error["Message"]) == ("ValidationException", message)
    after = sagemaker.describe_model_package(ModelPackageName=arn)
    assert after["ModelLifeCycle"] == before["ModelLifeCycle"]
    assert after["LastModifiedTime"] == before["LastModifiedTime"]
    assert len(sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) == 1


def test_each_broken_member_is_its_own_validation_error(sagemaker, register):
    arn = register()
    error = error_of(sagemaker.update_model_package, ModelPackageArn=arn, ModelLifeCycle=stage("a b", "c d"))
    assert error["Message"].startswith("2 validation errors detected: Value 'a b' at 'modelLifeCycle.stage'")
    assert "; Value 'c d' at 'modelLifeCycle.stageStatus'" in error["Message"]


def test_a_life_cycle_update_emits_its_field_and_the_new_stage(sagemaker, register, event_queue):
    # GIVEN a rule on the group's package events and a version in Development
    read = event_queue({**PACKAGE_EVENTS, "detail": {"ModelPackageGroupName": [GROUP]}})
    arn = register(ModelLifeCycle=stage("Development", "PendingApproval"))

    # WHEN its stage changes, then only its approval status
    sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=stage("Staging", "PendingApproval", "baked"))
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    # THEN the creation event carries the stage; the updates name the fields they changed and carry the package
    created, moved, approved = read()
    assert created["detail"]["ModelLifeCycle"] == stage("Development", "PendingApproval")
    assert moved["detail"]["UpdatedModelPackageFields"] == ["ModelLifeCycle"]
    assert moved["detail"]["ModelLifeCycle"] == stage("Staging", "PendingApproval", "baked")
    assert approved["detail"]["UpdatedModelPackageFields"] == ["ModelApprovalStatus"]
    assert approved["detail"]["ModelLifeCycle"] == stage("Staging", "PendingApproval", "baked")


def test_a_rule_can_match_on_the_changed_life_cycle(sagemaker, register, event_queue):
    read = event_queue({**PACKAGE_EVENTS, "detail": {"ModelLifeCycle": {"Stage": ["Production"]}}})
    arn = register(ModelLifeCycle=stage("Staging", "Deployed"))
    sagemaker.update_model_package(ModelPackageArn=arn, ModelLifeCycle=stage("Production", "PendingApproval"))
    (event,) = read()
    assert event["detail"]["ModelPackageArn"] == arn


def test_current_stage_condition_keys_come_from_the_registry(sagemaker, register):
    arn = register(ModelLifeCycle=stage("Staging", "Approved"))
    assert current_stage_keys(arn) == {
        "sagemaker:CurrentModelLifeCycleStage": "Staging",
        "sagemaker:CurrentModelLifeCycleStageStatus": "Approved",
    }
    assert current_stage_keys(register()) == {}
    assert current_stage_keys("arn:aws:sagemaker:eu-west-3:999999999999:model-package/none/1") == {}


# -- Search -------------------------------------------------------------------------------------------------------
def search(sagemaker: Any, *filters: dict[str, str], **request: Any) -> list[dict[str, Any]]:
    expression = request.pop("SearchExpression", {"Filters": list(filters)} if filters else None)
    if expression is not None:
        request["SearchExpression"] = expression
    results = sagemaker.search(Resource="ModelPackage", **request)["Results"]
    return [r["ModelPackage"] for r in results]


@pytest.fixture
def staged(sagemaker: Any, register: Any) -> list[str]:
    """Five versions: 1 and 2 in Development, 3 Staging/Approved, 4 Staging/Rejected, 5 Production/Deployed."""
    stages = [
        stage("Development", "Approved"),
        stage("Development", "PendingApproval"),
        stage("Staging", "Approved"),
        stage("Staging", "Rejected"),
        stage("Production", "Deployed"),
    ]
    arns = []
    for life_cycle in stages:
        arns.append(register(ModelLifeCycle=life_cycle))
        time.sleep(0.002)  # distinct creation times for the sort
    return arns


def versions(records: list[dict[str, Any]]) -> list[int]:
    return [r["ModelPackageVersion"] for r in records]


def test_search_filters_on_life_cycle_stage_and_status(sagemaker, staged):
    by_stage = {"Name": "ModelLifeCycle.Stage", "Operator": "Equals", "Value": "Staging"}
    assert sorted(versions(search(sagemaker, by_stage))) == [3, 4]
    approved = {"Name": "ModelLifeCycle.StageStatus", "Value": "Approved"}  # Operator defaults to Equals
    assert sorted(versions(search(sagemaker, by_stage, approved))) == [3]
    in_later = {"Name": "ModelLifeCycle.Stage", "Operator": "In", "Value": "Staging,Production"}
    not_rejected = {"Name": "ModelLifeCycle.StageStatus", "Operator": "NotEquals", "Value": "Rejected"}
    assert sorted(versions(search(sagemaker, in_later, not_rejected))) == [3, 5]


def test_search_combines_group_version_and_sub_expressions(sagemaker, staged, register):
    register()  # version 6, never staged
    group = {"Name": "ModelPackageGroupName", "Operator": "Equals", "Value": GROUP}
    newer = {"Name": "ModelPackageVersion", "Operator": "GreaterThanOrEqualTo", "Value": "4"}
    either = {
        "Operator": "Or",
        "Filters": [
            {"Name": "ModelLifeCycle.Stage", "Value": "Production"},
            {"Name": "ModelLifeCycle", "Operator": "NotExists"},
        ],
    }
    expression = {"Filters": [group, newer], "SubExpressions": [either]}
    assert sorted(versions(search(sagemaker, SearchExpression=expression))) == [5, 6]


def test_search_sorts_and_pages_with_total_hits(sagemaker, staged):
    by_version = {"SortBy": "ModelPackageVersion", "SortOrder": "Ascending", "MaxResults": 2}
    first = sagemaker.search(Resource="ModelPackage", **by_version)
    assert versions([r["ModelPackage"] for r in first["Results"]]) == [1, 2]
    assert first["TotalHits"] == {"Value": 5, "Relation": "EqualTo"}
    second = sagemaker.search(Resource="ModelPackage", NextToken=first["NextToken"], **by_version)
    assert versions([r["ModelPackage"] for r in second["Results"]]) == [3, 4]
    assert versions(search(sagemaker)) == [5, 4, 3, 2, 1]  # newest LastModifiedTime first by default


def test_search_through_the_paginator_sees_each_version_once(sagemaker, staged):
    pages = sagemaker.get_paginator("search").paginate(Resource="ModelPackage", PaginationConfig={"PageSize": 2})
    seen = [r["ModelPackage"]["ModelPackageVersion"] for page in pages for r in page["Results"]]
    assert sorted(seen) == [1, 2, 3, 4, 5]


def test_search_on_creation_time_and_nested_filters(sagemaker, staged, register):
    fourth = sagemaker.describe_model_package(ModelPackageName=staged[3])["CreationTime"].astimezone(UTC)
    since = fourth.strftime("%Y-%m-%dT%H:%M:%S.%f")  # the wire's milliseconds: at or before the real time
    after = {"Name": "CreationTime", "Operator": "GreaterThanOrEqualTo", "Value": since}
    assert sorted(versions(search(sagemaker, after))) == [4, 5]
    containers = {"Containers": [{"Image": "xgboost:1.7-1", "ModelDataUrl": "s3://b/m.tar.gz"}]}
    register(InferenceSpecification={**containers, "SupportedContentTypes": ["text/csv"]})
    nested = {
        "NestedPropertyName": "InferenceSpecification.Containers",
        "Filters": [{"Name": "InferenceSpecification.Containers.Image", "Operator": "Contains", "Value": "xgboost"}],
    }
    assert versions(search(sagemaker, SearchExpression={"NestedFilters": [nested]})) == [6]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"SearchExpression": {"Filters": [{"Name": "Nonsense", "Value": "x"}]}}, "Unknown property name: Nonsense"),
        (
            {"SearchExpression": {"Filters": [{"Name": "ModelLifeCycle.Stage", "Operator": "LessThan", "Value": "a"}]}},
            "Range operators are not supported for text property ModelLifeCycle.Stage",
        ),
        (
            {"SearchExpression": {}},
            "A SearchExpression must contain at least one Filter, NestedFilter or SubExpression.",
        ),
        (
            {"MaxResults": 101},
            "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100",
        ),
        ({"NextToken": "garbage"}, "Invalid pagination token because of an invalid NextToken."),
    ],
    ids=["unknown-property", "range-on-text", "empty-expression", "page-too-large", "bad-token"],
)
def test_search_refuses_invalid_requests(sagemaker, staged, request_, message):
    error = error_of(sagemaker.search, Resource="ModelPackage", **request_)
    assert (error["Code"], error["Message"]) == ("ValidationException", message)


def test_search_checks_property_names_even_with_nothing_to_match(sagemaker):
    nested = {"Filters": [{"Name": "ModelPackageGroupName", "Value": "x"}, {"Name": "Stage", "Value": "Staging"}]}
    error = error_of(sagemaker.search, Resource="ModelPackage", SearchExpression={"SubExpressions": [nested]})
    assert (error["Code"], error["Message"]) == ("ValidationException", "Unknown property name: Stage")
    assert search(sagemaker, {"Name": "ModelLifeCycle.Stage", "Value": "Staging"}) == []
