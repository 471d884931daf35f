"""The model registry across accounts: a deployment account reads, updates and deploys the registry account's
versions by their ARNs, as the group's resource policy allows, and the registry account keeps the events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws import EmbeddedAWS
from tests.emulator.accounts.helpers import TRUST_LAMBDA, client, lambda_session, make_role

REGISTRY, DEPLOYMENT, STRANGER = "123456789012", "222222222222", "333333333333"
REGION, GROUP = "us-east-1", "churn"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package-group/{GROUP}"
VERSIONS = f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package/{GROUP}/*"
READS = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
OWN_ACTIONS = ["sagemaker:UpdateModelPackage", "sagemaker:CreateModel", "sagemaker:DescribeModel"]
SPEC = {
    "Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgb:1", "ModelDataUrl": "s3://b/m.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def deployer_policy(account: str) -> dict[str, Any]:
    """The deployment role's identity policy: the registry's actions on any resource, and passing itself."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [*READS, *OWN_ACTIONS], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{account}:role/deployer"},
        ],
    }


def group_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(account: str, actions: list[str], **condition: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": actions,
        "Resource": [GROUP_ARN, VERSIONS],
    }
    return statement | ({"Condition": condition} if condition else {})


@pytest.fixture
def version(embedded_aws: EmbeddedAWS) -> str:
    """Version 1 of the registry account's group (the default account's)."""
    sagemaker = embedded_aws.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval", InferenceSpecification=SPEC
        )["ModelPackageArn"]
    )


@pytest.fixture
def deployer(embedded_aws: EmbeddedAWS) -> Callable[[str], Any]:
    """``deployer(account)``: a SageMaker client of a session of the account's ``deployer`` role."""

    def make(account: str) -> Any:
        role = make_role(embedded_aws, account, "deployer", TRUST_LAMBDA, deployer_policy(account))
        return client(embedded_aws, "sagemaker", lambda_session(embedded_aws, role))

    return make


def put_policy(aws: EmbeddedAWS, policy: str) -> None:
    aws.client("sagemaker").put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=policy)


def refusal(call: Callable[..., Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    return dict(refused.value.response["Error"])


@pytest.mark.expect_denials
def test_another_account_is_refused_without_a_group_policy(deployer: Callable[[str], Any], version: str) -> None:
    error = refusal(deployer(DEPLOYMENT).describe_model_package, ModelPackageName=version)

    assert error["Code"] == "AccessDeniedException"
    assert f"on resource: {version}" in error["Message"]
    assert "because no resource-based policy allows the sagemaker:DescribeModelPackage action" in error["Message"]


@pytest.mark.expect_denials
def test_the_group_policy_admits_the_account_it_names_and_no_other(
    embedded_aws: EmbeddedAWS, deployer: Callable[[str], Any], version: str
) -> None:
    put_policy(embedded_aws, group_policy(allow(DEPLOYMENT, READS)))

    described = deployer(DEPLOYMENT).describe_model_package(ModelPackageName=version)

    assert described["ModelPackageArn"] == version
    assert described["ModelPackageGroupName"] == GROUP
    assert refusal(deployer(STRANGER).describe_model_package, ModelPackageName=version)["Code"] == (
        "AccessDeniedException"
    )


@pytest.mark.expect_denials
def test_another_account_lists_and_describes_by_the_groups_arn(
    embedded_aws: EmbeddedAWS, deployer: Callable[[str], Any], version: str
) -> None:
    sagemaker = deployer(DEPLOYMENT)
    assert refusal(sagemaker.list_model_packages, ModelPackageGroupName=GROUP_ARN)["Code"] == "AccessDeniedException"
    put_policy(embedded_aws, group_policy(allow(DEPLOYMENT, READS)))

    listed = sagemaker.list_model_packages(ModelPackageGroupName=GROUP_ARN)["ModelPackageSummaryList"]
    group = sagemaker.describe_model_package_group(ModelPackageGroupName=GROUP_ARN)

    assert [summary["ModelPackageArn"] for summary in listed] == [version]
    assert group["ModelPackageGroupArn"] == GROUP_ARN
    assert sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []  # its own


@pytest.mark.expect_denials
def test_another_account_updates_only_as_the_policys_condition_says_and_the_registry_keeps_the_event(
    embedded_aws: EmbeddedAWS,
    deployer: Callable[[str], Any],
    version: str,
    event_queue: Callable[..., Callable[[], list[dict[str, Any]]]],
) -> None:
    staging_only = {"StringEquals": {"sagemaker:ModelLifeCycle:Stage": "Staging"}}
    put_policy(
        embedded_aws,
        group_policy(allow(DEPLOYMENT, READS), allow(DEPLOYMENT, ["sagemaker:UpdateModelPackage"], **staging_only)),
    )
    events = event_queue({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]})
    sagemaker = deployer(DEPLOYMENT)

    sagemaker.update_model_package(
        ModelPackageArn=version, ModelLifeCycle={"Stage": "Staging", "StageStatus": "Deployed"}
    )
    error = refusal(
        sagemaker.update_model_package,
        ModelPackageArn=version,
        ModelLifeCycle={"Stage": "Production", "StageStatus": "Deployed"},
    )

    assert error["Code"] == "AccessDeniedException"
    stage = embedded_aws.client("sagemaker").describe_model_package(ModelPackageName=version)["ModelLifeCycle"]
    assert stage == {"Stage": "Staging", "StageStatus": "Deployed"}
    updates = [e for e in events() if e["detail"].get("UpdatedModelPackageFields") == ["ModelLifeCycle"]]
    assert [(e["account"], e["resources"]) for e in updates] == [(REGISTRY, [version])]


@pytest.mark.expect_denials
def test_a_model_in_another_account_deploys_the_registrys_version(
    embedded_aws: EmbeddedAWS, deployer: Callable[[str], Any], version: str
) -> None:
    sagemaker = deployer(DEPLOYMENT)
    role = f"arn:aws:iam::{DEPLOYMENT}:role/deployer"
    put_policy(embedded_aws, group_policy(allow(DEPLOYMENT, READS)))
    model = {"ExecutionRoleArn": role, "PrimaryContainer": {"ModelPackageName": version}}
    assert refusal(sagemaker.create_model, ModelName="churn-v1", **model)["Code"] == "AccessDeniedException"
    put_policy(embedded_aws, group_policy(allow(DEPLOYMENT, [*READS, "sagemaker:CreateModel"])))

    created = sagemaker.create_model(ModelName="churn-v1", **model)

    assert created["ModelArn"] == f"arn:aws:sagemaker:{REGION}:{DEPLOYMENT}:model/churn-v1"
    described = sagemaker.describe_model(ModelName="churn-v1")
    assert described["PrimaryContainer"]["ModelPackageName"] == version
    assert embedded_aws.client("sagemaker").list_models()["Models"] == []  # the model is the deployment account's
