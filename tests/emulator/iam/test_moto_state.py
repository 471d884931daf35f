"""What the engine reads from moto's state: principals of access keys, identity and resource policies, keys, tags."""

from __future__ import annotations

import json
from typing import Any

from local.iam.credentials import Principals
from local.iam.encryption import key_uses
from local.iam.identity import identity_policies
from local.iam.kms_keys import resolve_key
from local.iam.principals import AccountRoot, IamUser, RoleSession, role_session_from_arn
from local.iam.resource_keys import ResourceKeys
from local.iam.resource_policies import ResourcePolicies, model_package_group_provider

ACCOUNT = "123456789012"
OTHER = "111111111111"
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def make_role(moto_aws: Any, name: str = "fn", **kwargs: Any) -> str:
    return str(
        moto_aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT), **kwargs)[
            "Role"
        ]["Arn"]
    )


def test_access_keys_resolve_to_registered_assumed_and_user_principals(moto_aws: Any) -> None:
    principals = Principals(ACCOUNT)
    arn = make_role(moto_aws, "deploy", Path="/service/")
    assumed = moto_aws.client("sts").assume_role(
        RoleArn=arn, RoleSessionName="worker", Policy=document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    )
    session = principals.resolve(assumed["Credentials"]["AccessKeyId"])
    assert isinstance(session, RoleSession)
    assert session.arn == assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/worker"
    assert session.role_arn == arn and session.session_policy is not None
    iam = moto_aws.client("iam")
    iam.create_user(UserName="ana")
    key = iam.create_access_key(UserName="ana")["AccessKey"]["AccessKeyId"]
    assert principals.resolve(key) == IamUser(ACCOUNT, "ana")
    registered = principals.register_role("AKIDLAMBDA", arn, "promote-fn")
    assert principals.resolve("AKIDLAMBDA") == registered == role_session_from_arn(arn, "promote-fn")
    principals.forget("AKIDLAMBDA")
    assert principals.resolve("AKIDLAMBDA") == AccountRoot(ACCOUNT)
    assert not principals.resolve("testing").evaluated
    assert not principals.resolve(None).evaluated


def test_cross_account_role_sessions_belong_to_the_roles_account(moto_aws: Any) -> None:
    assumed = moto_aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/deployer", RoleSessionName="s1")
    session = Principals(ACCOUNT).resolve(assumed["Credentials"]["AccessKeyId"])
    assert isinstance(session, RoleSession) and session.account == OTHER


def test_identity_policies_are_read_from_moto_each_time(moto_aws: Any) -> None:
    iam = moto_aws.client("iam")
    boundary = iam.create_policy(
        PolicyName="boundary", PolicyDocument=document({"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})
    )
    arn = make_role(moto_aws, PermissionsBoundary=boundary["Policy"]["Arn"])
    session = role_session_from_arn(arn, "s")
    assert identity_policies(session).identity == ()
    iam.put_role_policy(
        RoleName="fn",
        PolicyName="read",
        PolicyDocument=document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
    )
    managed = iam.create_policy(
        PolicyName="publish", PolicyDocument=document({"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"})
    )
    iam.attach_role_policy(RoleName="fn", PolicyArn=managed["Policy"]["Arn"])
    policies = identity_policies(session)
    assert [p.name for p in policies.identity] == ["role/fn/inline/read", managed["Policy"]["Arn"]]
    assert policies.boundary is not None and policies.boundary.document.statements[0].actions == ("sagemaker:*",)
    assert not identity_policies(role_session_from_arn(f"arn:aws:iam::{ACCOUNT}:role/gone", "s")).found


def test_user_policies_include_their_groups(moto_aws: Any) -> None:
    iam = moto_aws.client("iam")
    iam.create_user(UserName="ana")
    iam.create_group(GroupName="ops")
    iam.add_user_to_group(GroupName="ops", UserName="ana")
    iam.put_group_policy(
        GroupName="ops",
        PolicyName="approve",
        PolicyDocument=document({"Effect": "Allow", "Action": "sagemaker:UpdateModelPackage", "Resource": "*"}),
    )
    assert [p.name for p in identity_policies(IamUser(ACCOUNT, "ana")).identity] == ["group/ops/inline/approve"]


def test_resource_policies_of_topics_queues_buckets_and_buses(moto_aws: Any) -> None:
    policies = ResourcePolicies()
    topic = moto_aws.client("sns").create_topic(Name="alerts")["TopicArn"]
    default = policies.for_resource(topic, "sns:Publish")
    assert default.owner == ACCOUNT and default.policy is not None  # SNS's default topic policy
    assert default.policy.document.statements[0].conditions == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
    sqs = moto_aws.client("sqs")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"
    assert policies.for_resource(queue, "sqs:SendMessage").policy is None
    allow_events = document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue,
        }
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": allow_events})
    assert policies.for_resource(queue, "sqs:SendMessage").policy.document.statements[0].principal.service == (
        "events.amazonaws.com",
    )  # type: ignore[union-attr]
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_bucket_policy(
        Bucket="artifacts",
        Policy=document(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": "arn:aws:s3:::artifacts/data-capture/*",
            }
        ),
    )
    bucket = policies.for_resource("arn:aws:s3:::artifacts/data-capture/x", "s3:DeleteObject")
    assert bucket.owner == ACCOUNT and bucket.policy is not None
    assert policies.for_resource("arn:aws:s3:::nobody-has-this", "s3:GetObject").owner is None
    events = moto_aws.client("events")
    events.put_permission(EventBusName="default", Action="events:PutEvents", Principal=OTHER, StatementId="other")
    bus = policies.for_resource(f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default", "events:PutEvents")
    assert bus.policy is not None and bus.policy.document.statements[0].sid == "other"


def test_trust_policies_apply_to_assume_role_only(moto_aws: Any) -> None:
    arn = make_role(moto_aws)
    policies = ResourcePolicies()
    trust = policies.for_resource(arn, "sts:AssumeRole")
    assert trust.required and trust.policy is not None
    passing = policies.for_resource(arn, "iam:PassRole")
    assert passing.policy is None and not passing.required


def test_lambda_function_policies(moto_aws: Any) -> None:
    role = make_role(moto_aws)
    client = moto_aws.client("lambda")
    function = client.create_function(
        FunctionName="f", Role=role, Runtime="python3.12", Handler="a.b", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18}
    )
    policies = ResourcePolicies()
    assert policies.for_resource(function["FunctionArn"], "lambda:InvokeFunction").policy is None
    client.add_permission(
        FunctionName="f", StatementId="events", Action="lambda:InvokeFunction", Principal="events.amazonaws.com"
    )
    granted = policies.for_resource(function["FunctionArn"], "lambda:InvokeFunction").policy
    assert granted is not None and granted.document.statements[0].principal.service == ("events.amazonaws.com",)  # type: ignore[union-attr]


def test_model_package_group_policies_plug_in(moto_aws: Any) -> None:
    stored = {
        (ACCOUNT, "us-east-1", "churn"): document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": OTHER},
                "Action": "sagemaker:DescribeModelPackage",
                "Resource": "*",
            }
        )
    }
    policies = ResourcePolicies()
    policies.register("sagemaker", model_package_group_provider(lambda *key: stored.get(key)))
    package = policies.for_resource(
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/churn/3", "sagemaker:DescribeModelPackage"
    )
    group = policies.for_resource(
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/churn", "sagemaker:DescribeModelPackageGroup"
    )
    assert package.policy is not None and group.policy is not None
    endpoint = policies.for_resource(f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/e", "sagemaker:DescribeEndpoint")
    assert endpoint.policy is None and endpoint.owner == ACCOUNT


def test_kms_keys_customer_managed_and_aws_managed(moto_aws: Any) -> None:
    kms = moto_aws.client("kms")
    key = kms.create_key(Description="alerts")["KeyMetadata"]
    kms.create_alias(AliasName="alias/alerts", TargetKeyId=key["KeyId"])
    by_alias = resolve_key("alias/alerts", ACCOUNT, "us-east-1")
    assert by_alias is not None and by_alias.arn == key["Arn"] and by_alias.aws_managed_for is None
    assert resolve_key(key["Arn"], "999999999999", "eu-west-1") == by_alias
    managed = resolve_key("alias/aws/sns", ACCOUNT, "us-east-1")
    assert managed is not None and managed.aws_managed_for == "sns"
    statement = json.loads(managed.policy)["Statement"][0]
    assert statement["Condition"]["StringEquals"] == {
        "kms:CallerAccount": ACCOUNT,
        "kms:ViaService": "sns.us-east-1.amazonaws.com",
    }
    assert resolve_key(managed.arn, ACCOUNT, "us-east-1") == managed  # its ARN finds it again
    assert resolve_key("alias/none", ACCOUNT, "us-east-1") is None
    key_policy = ResourcePolicies().for_resource(managed.arn, "kms:Decrypt")
    assert key_policy.required and key_policy.policy is not None


def test_encrypted_resources_take_key_permissions(moto_aws: Any) -> None:
    topic = moto_aws.client("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})[
        "TopicArn"
    ]
    (use,) = key_uses("sns:Publish", topic, "Publish", {})
    assert use.actions == ("kms:GenerateDataKey", "kms:Decrypt") and use.via_service == "sns.us-east-1.amazonaws.com"
    plain = moto_aws.client("sns").create_topic(Name="plain")["TopicArn"]
    assert key_uses("sns:Publish", plain, "Publish", {}) == []
    sqs = moto_aws.client("sqs")
    sqs.create_queue(QueueName="managed-sse", Attributes={"SqsManagedSseEnabled": "true"})
    sqs.create_queue(QueueName="kms", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})
    assert key_uses("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:managed-sse", "SendMessage", {}) == []
    assert key_uses("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:kms", "SendMessage", {})[0].service == "sqs"
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_bucket_encryption(
        Bucket="artifacts",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_object(Bucket="artifacts", Key="report.json", Body=b"{}")
    (read,) = key_uses("s3:GetObject", "arn:aws:s3:::artifacts/report.json", "GetObject", {})
    assert read.actions == ("kms:Decrypt",) and read.via_service == "s3.us-east-1.amazonaws.com"
    assert key_uses("s3:GetObject", "arn:aws:s3:::artifacts/report.json", "HeadObject", {}) == []
    (write,) = key_uses("s3:PutObject", "arn:aws:s3:::artifacts/new.json", "PutObject", {})
    assert write.actions == ("kms:GenerateDataKey",)
    s3.create_bucket(Bucket="plain-bucket")
    assert key_uses("s3:PutObject", "arn:aws:s3:::plain-bucket/x", "PutObject", {}) == []
    assert key_uses("s3:PutObject", "arn:aws:s3:::plain-bucket/x", "PutObject", {"ServerSideEncryption": "aws:kms"})[
        0
    ].actions == ("kms:GenerateDataKey",)


def test_resource_tags_come_from_the_resource(moto_aws: Any) -> None:
    keys = ResourceKeys()
    topic = moto_aws.client("sns").create_topic(Name="alerts", Tags=[{"Key": "team", "Value": "ml"}])["TopicArn"]
    assert keys.resolver(topic)() == {"aws:ResourceTag/team": "ml"}
    sagemaker = moto_aws.client("sagemaker")
    group = sagemaker.create_model_package_group(ModelPackageGroupName="churn", Tags=[{"Key": "env", "Value": "dev"}])[
        "ModelPackageGroupArn"
    ]
    assert keys.resolver(group)() == {"aws:ResourceTag/env": "dev", "sagemaker:ResourceTag/env": "dev"}
    assert keys.resolver(f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/none")() == {}
    role = make_role(moto_aws, Tags=[{"Key": "tier", "Value": "deploy"}])
    assert keys.resolver(role)()["iam:ResourceTag/tier"] == "deploy"
    keys.register("sagemaker", lambda arn: {"sagemaker:CurrentModelLifeCycleStage": "Staging"})
    assert keys.resolver(group)()["sagemaker:CurrentModelLifeCycleStage"] == "Staging"
