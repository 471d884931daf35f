"""Several accounts on one embedded AWS: role sessions and administrators act in their own account."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from local.aws import EmbeddedAWS
from local.aws.sessions import ADMINISTRATOR, SessionCredentials
from tests.emulator.accounts.helpers import TRUST_LAMBDA, client, lambda_session, make_role

OTHER = "222222222222"
SAGEMAKER_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}


def test_a_role_sessions_calls_land_in_the_roles_account(embedded_aws: EmbeddedAWS) -> None:
    role = make_role(embedded_aws, OTHER, "registrar", TRUST_LAMBDA, SAGEMAKER_ALL)
    credentials = lambda_session(embedded_aws, role)
    sagemaker = client(embedded_aws, "sagemaker", credentials)

    arn = sagemaker.create_model_package_group(ModelPackageGroupName="churn")["ModelPackageGroupArn"]

    assert arn == f"arn:aws:sagemaker:us-east-1:{OTHER}:model-package-group/churn"
    owner = embedded_aws.client("sagemaker", account_id=OTHER).list_model_package_groups()
    assert [g["ModelPackageGroupName"] for g in owner["ModelPackageGroupSummaryList"]] == ["churn"]
    assert embedded_aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    identity = client(embedded_aws, "sts", credentials).get_caller_identity()
    assert identity["Account"] == OTHER


def test_the_default_accounts_administrator_stays_the_unevaluated_one(embedded_aws: EmbeddedAWS) -> None:
    assert embedded_aws.account_credentials(embedded_aws.account_id) == ADMINISTRATOR


def test_an_accounts_administrator_acts_in_its_account_and_is_the_same_each_time(embedded_aws: EmbeddedAWS) -> None:
    credentials = embedded_aws.account_credentials(OTHER)
    assert embedded_aws.account_credentials(OTHER) == credentials
    sqs = client(embedded_aws, "sqs", credentials)

    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]

    assert f"/{OTHER}/inbox" in url
    assert client(embedded_aws, "sts", credentials).get_caller_identity()["Arn"] == (
        f"arn:aws:iam::{OTHER}:user/administrator"
    )
    assert embedded_aws.client("sqs").list_queues().get("QueueUrls", []) == []
    assert embedded_aws.iam is not None
    assert embedded_aws.iam.log.counts.get("allowed", 0) >= 1  # evaluated, as any principal


def test_an_accounts_administrator_is_created_again_after_a_restart(embedded_aws: EmbeddedAWS) -> None:
    before = embedded_aws.account_credentials(OTHER)
    embedded_aws.stop()
    embedded_aws.start()

    after = embedded_aws.account_credentials(OTHER)

    assert after != before
    assert client(embedded_aws, "sts", after).get_caller_identity()["Account"] == OTHER


@pytest.mark.expect_denials
def test_an_accounts_administrator_is_refused_in_another_account(embedded_aws: EmbeddedAWS) -> None:
    queue = embedded_aws.client("sqs").create_queue(QueueName="private")["QueueUrl"]
    sqs = client(embedded_aws, "sqs", embedded_aws.account_credentials(OTHER))

    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=queue, MessageBody="hello")

    assert "AccessDenied" in refused.value.response["Error"]["Code"]


def _assume(aws: EmbeddedAWS, caller: SessionCredentials, role_arn: str) -> SessionCredentials:
    issued = client(aws, "sts", caller).assume_role(RoleArn=role_arn, RoleSessionName="promotion")["Credentials"]
    return SessionCredentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])


def _cross_account_roles(aws: EmbeddedAWS, trusted: str) -> tuple[SessionCredentials, str]:
    """A session of ``deployer`` in OTHER allowed to assume ``promoter`` of the default account, which trusts
    ``trusted``."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{trusted}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    promoter = make_role(aws, aws.account_id, "promoter", trust, SAGEMAKER_ALL)
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": promoter}],
    }
    deployer = make_role(aws, OTHER, "deployer", TRUST_LAMBDA, assume)
    session = lambda_session(aws, deployer)
    return session, promoter


def test_assume_role_across_accounts_acts_as_the_role_in_its_account(embedded_aws: EmbeddedAWS) -> None:
    session, promoter = _cross_account_roles(embedded_aws, trusted=OTHER)

    assumed = _assume(embedded_aws, session, promoter)

    identity = client(embedded_aws, "sts", assumed).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{embedded_aws.account_id}:assumed-role/promoter/promotion"
    client(embedded_aws, "sagemaker", assumed).create_model_package_group(ModelPackageGroupName="churn")
    groups = embedded_aws.client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == ["churn"]


@pytest.mark.expect_denials
def test_assume_role_across_accounts_needs_the_trust_policy_to_name_the_callers_account(
    embedded_aws: EmbeddedAWS,
) -> None:
    session, promoter = _cross_account_roles(embedded_aws, trusted="333333333333")

    with pytest.raises(ClientError) as refused:
        _assume(embedded_aws, session, promoter)

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "no resource-based policy allows the sts:AssumeRole action" in refused.value.response["Error"]["Message"]


@pytest.mark.expect_denials
def test_assume_role_across_accounts_needs_the_callers_identity_policy(embedded_aws: EmbeddedAWS) -> None:
    _, promoter = _cross_account_roles(embedded_aws, trusted=OTHER)
    other = make_role(embedded_aws, OTHER, "bystander", TRUST_LAMBDA, SAGEMAKER_ALL)
    bystander = lambda_session(embedded_aws, other)

    with pytest.raises(ClientError) as refused:
        _assume(embedded_aws, bystander, promoter)

    assert "no identity-based policy allows the sts:AssumeRole action" in refused.value.response["Error"]["Message"]
