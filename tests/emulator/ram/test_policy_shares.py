"""A model package group's resource policy makes RAM share the group; the owner promotes the share, the accounts it
names accept it, and only then can they discover the group (RAM's ``CREATED_FROM_POLICY`` feature set)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws import EmbeddedAWS
from local.aws.ram.models import SHARES

REGISTRY, DEPLOYMENT, OTHER = "123456789012", "222222222222", "333333333333"
REGION, GROUP = "us-east-1", "churn"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{REGISTRY}:model-package-group/{GROUP}"
READS = ["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]


def policy(*principals: str, actions: list[str] | str = READS) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": actions, "Resource": GROUP_ARN}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture
def sagemaker(embedded_aws: EmbeddedAWS) -> Any:
    client = embedded_aws.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP)
    return client


def the_share(embedded_aws: EmbeddedAWS) -> dict[str, Any]:
    ram = embedded_aws.client("ram")
    [association] = ram.get_resource_share_associations(associationType="RESOURCE", resourceArn=GROUP_ARN)[
        "resourceShareAssociations"
    ]
    [share] = [
        s
        for s in ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
        if s["resourceShareArn"] == association["resourceShareArn"]
    ]
    return dict(share)


def promote(embedded_aws: EmbeddedAWS, share_arn: str) -> None:
    ram = embedded_aws.client("ram")
    [permission] = ram.list_resource_share_permissions(resourceShareArn=share_arn)["permissions"]
    assert permission["featureSet"] == "CREATED_FROM_POLICY"
    ram.promote_permission_created_from_policy(permissionArn=permission["arn"], name="registry-readers")
    ram.promote_resource_share_created_from_policy(resourceShareArn=share_arn)


def test_a_policy_naming_other_accounts_creates_a_share_only_its_owner_sees(
    embedded_aws: EmbeddedAWS, sagemaker: Any
) -> None:
    # WHEN the group's policy names the deployment account
    sagemaker.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=policy(f"arn:aws:iam::{DEPLOYMENT}:root")
    )
    # THEN RAM holds a share of the group created from the policy, and the account named has no invitation
    share = the_share(embedded_aws)
    assert share["featureSet"] == "CREATED_FROM_POLICY" and share["status"] == "ACTIVE"
    deployment = embedded_aws.client("ram", account_id=DEPLOYMENT)
    assert deployment.get_resource_share_invitations()["resourceShareInvitations"] == []
    assert SHARES.discoverable(DEPLOYMENT, REGION) == []


def test_promoted_and_accepted_the_group_is_discoverable_by_the_accounts_named(
    embedded_aws: EmbeddedAWS, sagemaker: Any
) -> None:
    sagemaker.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=policy(f"arn:aws:iam::{DEPLOYMENT}:root", OTHER)
    )
    share_arn = the_share(embedded_aws)["resourceShareArn"]
    # WHEN the owner promotes the permission, then the share
    promote(embedded_aws, share_arn)
    assert the_share(embedded_aws)["featureSet"] == "STANDARD"
    # THEN each account named has an invitation; the one that accepts discovers the group, the other does not
    deployment = embedded_aws.client("ram", account_id=DEPLOYMENT)
    [invitation] = deployment.get_resource_share_invitations()["resourceShareInvitations"]
    assert (invitation["senderAccountId"], invitation["status"]) == (REGISTRY, "PENDING")
    accepted = deployment.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )["resourceShareInvitation"]
    assert accepted["status"] == "ACCEPTED"
    assert SHARES.discoverable(DEPLOYMENT, REGION) == [GROUP_ARN]
    assert SHARES.discoverable(OTHER, REGION) == []
    # AND an invitation is accepted once
    with pytest.raises(ClientError, match="ResourceShareInvitationAlreadyAcceptedException"):
        deployment.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    # AND a policy that no longer names it takes the group away; a deleted policy deletes the share
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=policy(OTHER))
    assert SHARES.discoverable(DEPLOYMENT, REGION) == []
    sagemaker.delete_model_package_group_policy(ModelPackageGroupName=GROUP)
    assert the_share(embedded_aws)["status"] == "DELETED"


def test_the_share_is_promoted_only_after_its_permission(embedded_aws: EmbeddedAWS, sagemaker: Any) -> None:
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=policy(DEPLOYMENT))
    share_arn = the_share(embedded_aws)["resourceShareArn"]
    with pytest.raises(ClientError, match="UnmatchedPolicyPermissionException"):
        embedded_aws.client("ram").promote_resource_share_created_from_policy(resourceShareArn=share_arn)
    assert the_share(embedded_aws)["featureSet"] == "CREATED_FROM_POLICY"


@pytest.mark.parametrize(
    ("principal", "actions"),
    [(f"arn:aws:iam::{DEPLOYMENT}:role/deployer", READS), (DEPLOYMENT, "*")],
    ids=["a-role-principal", "every-action"],
)
def test_a_policy_naming_a_role_or_every_action_cannot_be_promoted(
    embedded_aws: EmbeddedAWS, sagemaker: Any, principal: str, actions: Any
) -> None:
    sagemaker.put_model_package_group_policy(
        ModelPackageGroupName=GROUP, ResourcePolicy=policy(principal, actions=actions)
    )
    ram = embedded_aws.client("ram")
    share_arn = the_share(embedded_aws)["resourceShareArn"]
    [permission] = ram.list_resource_share_permissions(resourceShareArn=share_arn)["permissions"]
    with pytest.raises(ClientError, match="OperationNotPermittedException"):
        ram.promote_permission_created_from_policy(permissionArn=permission["arn"], name="readers")
    with pytest.raises(ClientError, match="OperationNotPermittedException"):
        ram.promote_resource_share_created_from_policy(resourceShareArn=share_arn)


@pytest.mark.expect_denials
def test_another_account_cannot_promote_the_share(embedded_aws: EmbeddedAWS, sagemaker: Any) -> None:
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=policy(DEPLOYMENT))
    share_arn = the_share(embedded_aws)["resourceShareArn"]
    # a share has no resource policy: another account's request is denied, the share stays as it was
    with pytest.raises(ClientError, match="AccessDenied"):
        embedded_aws.client("ram", account_id=DEPLOYMENT).promote_resource_share_created_from_policy(
            resourceShareArn=share_arn
        )
    assert the_share(embedded_aws)["featureSet"] == "CREATED_FROM_POLICY"


SPEC = {
    "Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgb:1", "ModelDataUrl": "s3://b/m.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


def cross_account_search(embedded_aws: EmbeddedAWS, account: str, **request: Any) -> list[str]:
    sagemaker = embedded_aws.client("sagemaker", account_id=account)
    found = sagemaker.search(Resource="ModelPackage", MaxResults=100, **request)["Results"]
    return [r["ModelPackage"]["ModelPackageArn"] for r in found]


def test_search_across_accounts_finds_only_the_groups_shared_and_accepted(
    embedded_aws: EmbeddedAWS, sagemaker: Any
) -> None:
    arns = [
        sagemaker.create_model_package(
            ModelPackageGroupName=GROUP, ModelApprovalStatus=status, InferenceSpecification=SPEC
        )["ModelPackageArn"]
        for status in ("Approved", "PendingManualApproval")
    ]
    sagemaker.create_model_package_group(ModelPackageGroupName="unshared")
    sagemaker.create_model_package(ModelPackageGroupName="unshared", InferenceSpecification=SPEC)
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=policy(DEPLOYMENT))
    approved = {"Filters": [{"Name": "ModelApprovalStatus", "Value": "Approved"}]}
    # the policy alone lets the account read the group, not discover it
    assert cross_account_search(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount") == []
    # WHEN the owner promotes the share and the account accepts it
    promote(embedded_aws, the_share(embedded_aws)["resourceShareArn"])
    deployment = embedded_aws.client("ram", account_id=DEPLOYMENT)
    [invitation] = deployment.get_resource_share_invitations()["resourceShareInvitations"]
    deployment.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    # THEN its cross-account searches find the group's versions (filtered as asked), never the unshared group's
    assert sorted(cross_account_search(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount")) == sorted(
        arns
    )
    found = cross_account_search(
        embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount", SearchExpression=approved
    )
    assert found == arns[:1]
    # AND its own-account searches and another account's find none of them
    assert cross_account_search(embedded_aws, DEPLOYMENT) == []
    assert cross_account_search(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="SameAccount") == []
    assert cross_account_search(embedded_aws, OTHER, CrossAccountFilterOption="CrossAccount") == []


def shared_group_arns(embedded_aws: EmbeddedAWS, account: str, **request: Any) -> list[str]:
    sagemaker = embedded_aws.client("sagemaker", account_id=account)
    summaries = sagemaker.list_model_package_groups(**request)["ModelPackageGroupSummaryList"]
    return [s["ModelPackageGroupArn"] for s in summaries]


def test_listing_groups_across_accounts_tells_not_discoverable_from_none_yet(
    embedded_aws: EmbeddedAWS, sagemaker: Any
) -> None:
    sagemaker.put_model_package_group_policy(ModelPackageGroupName=GROUP, ResourcePolicy=policy(DEPLOYMENT))
    # a group the account may read but not discover: not listed
    assert shared_group_arns(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount") == []
    promote(embedded_aws, the_share(embedded_aws)["resourceShareArn"])
    deployment = embedded_aws.client("ram", account_id=DEPLOYMENT)
    [invitation] = deployment.get_resource_share_invitations()["resourceShareInvitations"]
    deployment.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    # WHEN accepted THEN listed across accounts (by name too), never among the account's own groups
    assert shared_group_arns(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount") == [GROUP_ARN]
    assert shared_group_arns(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount", NameContains="ch") == [
        GROUP_ARN
    ]
    assert shared_group_arns(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="CrossAccount", NameContains="x") == []
    assert shared_group_arns(embedded_aws, DEPLOYMENT) == []
    assert shared_group_arns(embedded_aws, REGISTRY) == [GROUP_ARN]


def test_a_cross_account_filter_option_must_be_one_of_the_api_values(embedded_aws: EmbeddedAWS) -> None:
    with pytest.raises(ClientError, match="ValidationException"):
        cross_account_search(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="Everywhere")
    with pytest.raises(ClientError, match="ValidationException"):
        shared_group_arns(embedded_aws, DEPLOYMENT, CrossAccountFilterOption="Everywhere")
