"""Contract tests: model package group resource policies through boto3, and the IAM engine reading them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws.sagemaker.registry.policies import group_policy
from local.iam.resource_policies import ResourcePolicies, model_package_group_provider

ACCOUNT, REGION, GROUP = "123456789012", "us-east-1", "churn"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{GROUP}"


def policy_for(account: str, *actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DeploymentAccountReads",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": list(actions),
                    "Resource": [GROUP_ARN, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/*"],
                }
            ],
        }
    )


@pytest.fixture
def group(sagemaker: Any) -> str:
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    return GROUP


def error_of(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]


def test_put_get_replace_delete_round_trip(sagemaker, group):
    staging = policy_for("222222222222", "sagemaker:DescribeModelPackage")
    put = sagemaker.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=staging)
    assert put["ModelPackageGroupArn"] == GROUP_ARN
    assert sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"] == staging

    prod = policy_for("333333333333", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages")
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=prod)
    assert json.loads(sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"]) == (
        json.loads(prod)
    )

    sagemaker.delete_model_package_group_policy(ModelPackageGroupName=group)
    error = error_of(sagemaker.get_model_package_group_policy, ModelPackageGroupName=group)
    assert (error["Code"], error["Message"]) == (
        "ValidationException",
        f"Model package group {GROUP_ARN} does not have a resource policy.",
    )
    assert error_of(sagemaker.delete_model_package_group_policy, ModelPackageGroupName=group)["Code"] == (
        "ValidationException"
    )


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("{not json", "The resource policy is not valid JSON"),
        ("[]", "The resource policy must be a JSON object with a Statement."),
        ('{"Version": "2012-10-17"}', "The resource policy must be a JSON object with a Statement."),
        ('{"Statement": ["Allow"]}', "The resource policy must be a JSON object with a Statement."),
        (
            json.dumps({"Statement": [{"Sid": "x" * 20480}]}),
            "failed to satisfy constraint: Member must have length less than or equal to 20480",
        ),
    ],
    ids=["not-json", "not-an-object", "no-statement", "statement-not-objects", "too-long"],
)
def test_invalid_policies_are_refused_and_keep_the_old_one(sagemaker, group, policy, message):
    kept = policy_for("222222222222", "sagemaker:DescribeModelPackage")
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=group, ResourcePolicy=kept)
    error = error_of(sagemaker.put_model_package_group_policy, ModelPackageGroupName=group, ResourcePolicy=policy)
    assert error["Code"] == "ValidationException"
    assert message in error["Message"]
    assert sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"] == kept


def test_a_missing_group_is_refused_as_describe_refuses_it(sagemaker):
    policy = policy_for("222222222222", "sagemaker:DescribeModelPackage")
    error = error_of(sagemaker.put_model_package_group_policy, ModelPackageGroupName="absent", ResourcePolicy=policy)
    missing = f"ModelPackageGroup arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/absent does not exist."
    assert (error["Code"], error["Message"]) == ("ValidationException", missing)
    assert error_of(sagemaker.get_model_package_group_policy, ModelPackageGroupName="absent")["Message"] == missing


def test_the_iam_engine_reads_the_stored_policy_for_the_group_and_its_versions(sagemaker, group):
    # GIVEN the IAM engine's SageMaker provider reading the registry's policies
    policies = ResourcePolicies()
    policies.register("sagemaker", model_package_group_provider(group_policy))
    version = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/1"
    assert policies.for_resource(version, "sagemaker:DescribeModelPackage").policy is None

    # WHEN the group gets a policy
    sagemaker.put_model_package_group_policy(
        ModelPackageGroupName=group, ResourcePolicy=policy_for("222222222222", "sagemaker:DescribeModelPackage")
    )

    # THEN the engine sees it for the group and for a version in it, owned by the registry account
    for arn in (GROUP_ARN, version):
        found = policies.for_resource(arn, "sagemaker:DescribeModelPackage")
        assert found.owner == ACCOUNT
        assert found.policy is not None
        (statement,) = found.policy.document.statements
        assert statement.principal.aws == ("arn:aws:iam::222222222222:root",)
    assert group_policy("999999999999", REGION, group) is None  # another account's registry has no such group
