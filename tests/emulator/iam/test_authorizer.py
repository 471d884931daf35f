"""The authorizer on moto's state: calls of roles like the stack's, condition keys, KMS, and services' own calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.iam.actions import ApiCall
from local.iam.authorizer import Authorizer
from local.iam.principals import RoleSession, role_session_from_arn

ACCOUNT = "123456789012"
REGION = "us-east-1"
SM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def role(moto_aws: Any, name: str, *statements: dict[str, Any]) -> RoleSession:
    iam = moto_aws.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="inline",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
    )
    return role_session_from_arn(arn, name)


def call(operation: str, service: str = "sagemaker", **params: Any) -> ApiCall:
    return ApiCall(service, operation, params, ACCOUNT, REGION)


@pytest.fixture
def authorizer(moto_aws: Any) -> Authorizer:
    return Authorizer(ACCOUNT)


def test_a_promote_like_role(moto_aws: Any, authorizer: Authorizer) -> None:
    promote = role(
        moto_aws,
        "promote",
        {
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
            "Resource": f"{SM}:model-package/churn/*",
        },
        {"Effect": "Allow", "Action": "sagemaker:ListModelPackages", "Resource": "*"},
    )
    package = f"{SM}:model-package/churn/4"
    assert authorizer.authorize_call(promote, call("DescribeModelPackage", ModelPackageName=package)).allowed
    assert authorizer.authorize_call(promote, call("ListModelPackages", ModelPackageGroupName="churn")).allowed
    other_group = authorizer.authorize_call(
        promote, call("DescribeModelPackage", ModelPackageName=f"{SM}:model-package/fraud/1")
    )
    assert not other_group.allowed
    update = authorizer.authorize_call(
        promote, call("UpdateEndpoint", EndpointName="churn", EndpointConfigName="churn-v4")
    )
    assert update.denial is not None and update.denial.resource == f"{SM}:endpoint/churn"
    assert update.denial.message() == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/promote/promote is not authorized to perform: "
        f"sagemaker:UpdateEndpoint on resource: {SM}:endpoint/churn "
        "because no identity-based policy allows the sagemaker:UpdateEndpoint action"
    )


def test_a_condition_on_the_approval_status_bites(moto_aws: Any, authorizer: Authorizer) -> None:
    training = role(
        moto_aws,
        "training",
        {"Effect": "Allow", "Action": "sagemaker:UpdateModelPackage", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "sagemaker:UpdateModelPackage",
            "Resource": "*",
            "Condition": {"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}},
        },
    )
    package = f"{SM}:model-package/churn/4"
    assert authorizer.authorize_call(
        training, call("UpdateModelPackage", ModelPackageArn=package, ModelPackageDescription="d")
    ).allowed
    approving = authorizer.authorize_call(
        training, call("UpdateModelPackage", ModelPackageArn=package, ModelApprovalStatus="Approved")
    )
    assert not approving.allowed and approving.denial.denial == "with an explicit deny in an identity-based policy"  # type: ignore[union-attr]


def test_pass_role_only_to_sagemaker(moto_aws: Any, authorizer: Authorizer) -> None:
    execution = f"arn:aws:iam::{ACCOUNT}:role/stack-sagemaker-execution"
    deploy = role(
        moto_aws,
        "deploy",
        {"Effect": "Allow", "Action": "sagemaker:CreateModel", "Resource": f"{SM}:model/churn-v*"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": execution,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
    )
    assert authorizer.authorize_call(
        deploy, call("CreateModel", ModelName="churn-v4", ExecutionRoleArn=execution)
    ).allowed
    other_role = authorizer.authorize_call(
        deploy, call("CreateModel", ModelName="churn-v4", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/admin")
    )
    assert [d.action for d in other_role.decisions] == ["sagemaker:CreateModel", "iam:PassRole"]
    assert not other_role.allowed
    to_lambda = authorizer.authorize_call(
        deploy, ApiCall("lambda", "CreateFunction", {"FunctionName": "f", "Role": execution}, ACCOUNT, REGION)
    )
    assert not to_lambda.allowed


def test_listing_limited_to_a_prefix(moto_aws: Any, authorizer: Authorizer) -> None:
    tagging = role(
        moto_aws,
        "tagging",
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::artifacts",
            "Condition": {"StringLike": {"s3:prefix": "churn/*"}},
        },
    )
    assert authorizer.authorize_call(
        tagging, call("ListObjectsV2", "s3", Bucket="artifacts", Prefix="churn/run-1/")
    ).allowed
    assert not authorizer.authorize_call(
        tagging, call("ListObjectsV2", "s3", Bucket="artifacts", Prefix="data-capture/")
    ).allowed
    assert not authorizer.authorize_call(tagging, call("ListObjectsV2", "s3", Bucket="artifacts")).allowed


def test_a_bucket_policy_deny_stops_everyone_but_administrators(moto_aws: Any, authorizer: Authorizer) -> None:
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    guard = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject*",
        "Resource": "arn:aws:s3:::artifacts/data-capture/*",
    }
    s3.put_bucket_policy(Bucket="artifacts", Policy=json.dumps({"Version": "2012-10-17", "Statement": [guard]}))
    job = role(moto_aws, "job", {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::artifacts/*"})
    assert authorizer.authorize_call(job, call("DeleteObject", "s3", Bucket="artifacts", Key="churn/tmp")).allowed
    refused = authorizer.authorize_call(
        job, call("DeleteObject", "s3", Bucket="artifacts", Key="data-capture/ep/x", VersionId="1")
    )
    assert refused.denial is not None and refused.denial.action == "s3:DeleteObjectVersion"
    assert refused.denial.denial == "with an explicit deny in a resource-based policy"
    assert authorizer.authorize_call(
        authorizer.principals.default, call("DeleteObject", "s3", Bucket="artifacts", Key="data-capture/x")
    ).allowed


def test_publishing_through_the_aws_managed_key_needs_only_sns_permission(
    moto_aws: Any, authorizer: Authorizer
) -> None:
    topic = moto_aws.client("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})[
        "TopicArn"
    ]
    alert = role(moto_aws, "alert", {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic})
    outcome = authorizer.authorize_call(alert, call("Publish", "sns", TopicArn=topic, Message="m"))
    assert outcome.allowed
    assert [d.action for d in outcome.decisions] == ["sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"]
    assert "key policy" in outcome.decisions[1].reason


def test_a_customer_key_that_does_not_trust_the_account(moto_aws: Any, authorizer: Authorizer) -> None:
    kms = moto_aws.client("kms")
    locked = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key = kms.create_key(Policy=json.dumps(locked))["KeyMetadata"]
    topic = moto_aws.client("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": key["KeyId"]})["TopicArn"]
    alert = role(moto_aws, "alert", {"Effect": "Allow", "Action": ["sns:Publish", "kms:*"], "Resource": "*"})
    outcome = authorizer.authorize_call(alert, call("Publish", "sns", TopicArn=topic, Message="m"))
    assert outcome.denial is not None
    assert (outcome.denial.action, outcome.denial.resource) == ("kms:GenerateDataKey", key["Arn"])
    assert outcome.denial.denial == "because no resource-based policy allows"


def test_cloudwatch_cannot_publish_to_a_topic_under_the_aws_managed_key(moto_aws: Any, authorizer: Authorizer) -> None:
    sns = moto_aws.client("sns")
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:dlq-depth"
    plain = sns.create_topic(Name="plain")["TopicArn"]
    assert authorizer.authorize_service(
        "cloudwatch.amazonaws.com", "sns:Publish", plain, source_arn=alarm, source_account=ACCOUNT, region=REGION
    ).allowed
    managed = sns.create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    outcome = authorizer.authorize_service(
        "cloudwatch.amazonaws.com", "sns:Publish", managed, source_arn=alarm, source_account=ACCOUNT, region=REGION
    )
    assert outcome.denial is not None and outcome.denial.action == "kms:GenerateDataKey"
    assert outcome.denial.message().startswith(
        "User: cloudwatch.amazonaws.com is not authorized to perform: kms:GenerateDataKey"
    )


def test_cloudwatch_publishes_under_a_key_that_admits_it(moto_aws: Any, authorizer: Authorizer) -> None:
    services = {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": services,
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
            },
        ],
    }
    key = moto_aws.client("kms").create_key(Policy=json.dumps(key_policy))["KeyMetadata"]
    sns = moto_aws.client("sns")
    topic = sns.create_topic(Name="alerts", Attributes={"KmsMasterKeyId": key["Arn"]})["TopicArn"]
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:dlq-depth"
    outcome = authorizer.authorize_service(
        "cloudwatch.amazonaws.com", "sns:Publish", topic, source_arn=alarm, source_account=ACCOUNT, region=REGION
    )
    assert outcome.allowed, outcome.denial
    foreign = authorizer.authorize_service(
        "cloudwatch.amazonaws.com",
        "sns:Publish",
        topic,
        source_arn=alarm.replace(ACCOUNT, "111111111111"),
        source_account="111111111111",
        region=REGION,
    )
    assert not foreign.allowed  # the default topic policy admits the topic owner's sources only


def test_eventbridge_sends_to_a_queue_its_policy_admits(moto_aws: Any, authorizer: Authorizer) -> None:
    sqs = moto_aws.client("sqs")
    url = sqs.create_queue(QueueName="rule-dlq")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:rule-dlq"
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/deploy-approval"
    send = {"source_arn": rule, "source_account": ACCOUNT, "region": REGION}
    assert not authorizer.authorize_service("events.amazonaws.com", "sqs:SendMessage", queue, **send).allowed
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
    }
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}
    )
    assert authorizer.authorize_service("events.amazonaws.com", "sqs:SendMessage", queue, **send).allowed
    other_rule = send | {"source_arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other"}
    assert not authorizer.authorize_service("events.amazonaws.com", "sqs:SendMessage", queue, **other_rule).allowed


def test_resource_tags_in_conditions(moto_aws: Any, authorizer: Authorizer) -> None:
    sagemaker = moto_aws.client("sagemaker")
    ours = sagemaker.create_model_package_group(ModelPackageGroupName="churn", Tags=[{"Key": "stack", "Value": "ml"}])[
        "ModelPackageGroupArn"
    ]
    theirs = sagemaker.create_model_package_group(ModelPackageGroupName="fraud")["ModelPackageGroupArn"]
    tagger = role(
        moto_aws,
        "tagger",
        {
            "Effect": "Allow",
            "Action": "sagemaker:AddTags",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/stack": "ml"}},
        },
    )
    tags = [{"Key": "env", "Value": "dev"}]
    assert authorizer.authorize_call(tagger, call("AddTags", ResourceArn=ours, Tags=tags)).allowed
    assert not authorizer.authorize_call(tagger, call("AddTags", ResourceArn=theirs, Tags=tags)).allowed


def test_global_keys_of_the_principal_and_transport(moto_aws: Any) -> None:
    session = role(
        moto_aws,
        "fn",
        {
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/fn"},
                "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
                "Bool": {"aws:SecureTransport": "true"},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
            },
        },
    )
    publish = call("Publish", "sns", TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:t", Message="m")
    assert Authorizer(ACCOUNT, clock=lambda: 1_800_000_000).authorize_call(session, publish).allowed
    assert not Authorizer(ACCOUNT, clock=lambda: 1_900_000_000).authorize_call(session, publish).allowed  # 2030
    assert not Authorizer(ACCOUNT, secure_transport=False).authorize_call(session, publish).allowed


def test_unmapped_calls_and_administrators(moto_aws: Any, authorizer: Authorizer) -> None:
    session = role(moto_aws, "fn", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    unmapped = authorizer.authorize_call(session, call("DescribeEndpoint"))
    assert not unmapped.allowed and unmapped.unmapped and "names no endpoint" in unmapped.unmapped
    admin = authorizer.authorize_call(authorizer.principals.default, call("DescribeEndpoint"))
    assert admin.allowed and not admin.evaluated
    assert authorizer.authorize_call(session, call("GetCallerIdentity", "sts")).decisions == ()


def test_assuming_a_role_takes_its_trust_policy(moto_aws: Any, authorizer: Authorizer) -> None:
    caller = role(moto_aws, "pipeline", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    iam = moto_aws.client("iam")

    def trusting(name: str, principal: str) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}],
        }
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])

    named = trusting("jobs", caller.role_arn)
    account_wide = trusting("account-wide", ACCOUNT)

    def assume(arn: str) -> ApiCall:
        return call("AssumeRole", "sts", RoleArn=arn, RoleSessionName="s1")

    assert authorizer.authorize_call(caller, assume(named)).allowed  # the trust policy names the caller's role
    delegated = authorizer.authorize_call(caller, assume(account_wide))
    assert not delegated.allowed and delegated.denial.denial == "because no identity-based policy allows"  # type: ignore[union-attr]
    iam.put_role_policy(
        RoleName="pipeline",
        PolicyName="assume",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": account_wide}],
            }
        ),
    )
    assert authorizer.authorize_call(caller, assume(account_wide)).allowed
    untrusting = trusting("other", f"arn:aws:iam::{ACCOUNT}:role/someone-else")
    refused = authorizer.authorize_call(caller, assume(untrusting))
    assert not refused.allowed and refused.denial.denial == "because no resource-based policy allows"  # type: ignore[union-attr]


def test_model_lifecycle_keys_from_the_request(moto_aws: Any, authorizer: Authorizer) -> None:
    gate = role(
        moto_aws,
        "gate",
        {
            "Effect": "Allow",
            "Action": "sagemaker:UpdateModelPackage",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "sagemaker:ModelLifeCycle:stage": "Staging",
                    "sagemaker:ModelLifeCycle:stageStatus": "Approved",
                }
            },
        },
    )
    package = f"{SM}:model-package/churn/4"
    staging = {"Stage": "Staging", "StageStatus": "Approved"}
    assert authorizer.authorize_call(
        gate, call("UpdateModelPackage", ModelPackageArn=package, ModelLifeCycle=staging)
    ).allowed
    production = {"Stage": "Production", "StageStatus": "Approved"}
    assert not authorizer.authorize_call(
        gate, call("UpdateModelPackage", ModelPackageArn=package, ModelLifeCycle=production)
    ).allowed
    assert not authorizer.authorize_call(
        gate, call("UpdateModelPackage", ModelPackageArn=package, ModelApprovalStatus="Approved")
    ).allowed
