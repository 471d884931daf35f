"""IAM enforced in front of moto's own server: roles assumed through STS, allowed and denied calls, the log."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.iam.principals import AccountRoot

ACCOUNT = "123456789012"
OTHER = "111111111111"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:work"


def assumed(server: Any, role_arn: str, session: str = "sess") -> dict[str, str]:
    return server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]


def test_an_assumed_role_is_allowed_what_its_policy_allows_and_denied_the_rest(enforced_server: Any) -> None:
    arn = enforced_server.role("worker", [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE}])
    sqs = enforced_server.client("sqs")
    work = sqs.create_queue(QueueName="work")["QueueUrl"]
    other = sqs.create_queue(QueueName="other")["QueueUrl"]
    enforced_server.log.reset()
    worker = enforced_server.client("sqs", assumed(enforced_server, arn))
    worker.send_message(QueueUrl=work, MessageBody="hello")
    with pytest.raises(ClientError) as denied:
        worker.send_message(QueueUrl=other, MessageBody="hello")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/worker/sess is not authorized to perform: sqs:sendmessage "
        f"on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:other "
        "because no identity-based policy allows the sqs:sendmessage action"
    )
    assert sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "0"
    }  # moto never ran the denied call
    assert enforced_server.log.counts == {"allowed": 1, "denied": 1, "unevaluated": 2, "unmapped": 0}
    (denial,) = enforced_server.log.denials
    assert (denial.principal, denial.action, denial.resource) == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/sess",
        "sqs:SendMessage",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:other",
    )
    assert denial.reason == "implicit deny: because no identity-based policy allows"
    enforced_server.log.reset()
    assert enforced_server.log.denials == [] and enforced_server.log.counts["denied"] == 0


def test_credentials_registered_for_a_role_act_as_that_role(enforced_server: Any) -> None:
    arn = enforced_server.role(
        "promote", [{"Effect": "Allow", "Action": "sagemaker:ListModelPackages", "Resource": "*"}]
    )
    enforced_server.authorizer.principals.register_role("AKIAPROMOTEFUNCTION", arn, "promote-function")
    function = enforced_server.client("sagemaker", {"AccessKeyId": "AKIAPROMOTEFUNCTION", "SecretAccessKey": "x"})
    assert function.list_model_packages(ModelPackageGroupName="churn")["ModelPackageSummaryList"] == []
    with pytest.raises(ClientError) as denied:
        function.describe_endpoint(EndpointName="Churn")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert (
        f"assumed-role/promote/promote-function is not authorized to perform: sagemaker:DescribeEndpoint on resource: "
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/churn" in denied.value.response["Error"]["Message"]
    )


def test_a_resource_policy_admits_a_role_of_another_account(enforced_server: Any) -> None:
    bootstrap = assumed(enforced_server, f"arn:aws:iam::{OTHER}:role/bootstrap")
    enforced_server.authorizer.principals.register(
        bootstrap["AccessKeyId"], AccountRoot(OTHER)
    )  # the other account's admin
    reader_statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-artifacts/*"}
    iam = enforced_server.client("iam", bootstrap)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole"}],
    }
    reader_arn = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="reader",
        PolicyName="read",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [reader_statement]}),
    )
    owner = enforced_server.client("s3")
    owner.create_bucket(Bucket="shared-artifacts")
    owner.put_object(Bucket="shared-artifacts", Key="model.tar.gz", Body=b"weights")
    reader = enforced_server.client(
        "s3",
        enforced_server.client("sts", bootstrap).assume_role(RoleArn=reader_arn, RoleSessionName="deploy")[
            "Credentials"
        ],
    )
    with pytest.raises(ClientError) as denied:
        reader.get_object(Bucket="shared-artifacts", Key="model.tar.gz")
    assert denied.value.response["Error"] == {
        "Code": "AccessDenied",
        "Message": "Access Denied",
    }  # S3 explains nothing across accounts
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": reader_arn},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::shared-artifacts/*",
    }
    owner.put_bucket_policy(
        Bucket="shared-artifacts", Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]})
    )
    assert reader.get_object(Bucket="shared-artifacts", Key="model.tar.gz")["Body"].read() == b"weights"
    decisions = [d for d in enforced_server.log.denials if d.action == "s3:GetObject"]
    assert decisions[0].reason == "implicit deny: because no resource-based policy allows"


def test_presigned_urls_are_authorized_as_their_signer(enforced_server: Any) -> None:
    arn = enforced_server.role(
        "reader", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/public/*"}]
    )
    owner = enforced_server.client("s3")
    owner.create_bucket(Bucket="artifacts")
    owner.put_object(Bucket="artifacts", Key="public/a", Body=b"a")
    owner.put_object(Bucket="artifacts", Key="private/b", Body=b"b")
    reader = enforced_server.client("s3", assumed(enforced_server, arn))
    allowed = reader.generate_presigned_url("get_object", Params={"Bucket": "artifacts", "Key": "public/a"})
    with urllib.request.urlopen(allowed) as response:  # noqa: S310 - the test's own loopback server
        assert response.read() == b"a"
    denied = reader.generate_presigned_url("get_object", Params={"Bucket": "artifacts", "Key": "private/b"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(denied)  # noqa: S310
    assert refused.value.code == 403 and b"<Code>AccessDenied</Code>" in refused.value.read()


def test_unmapped_requests_of_evaluated_principals_are_refused_and_counted(enforced_server: Any) -> None:
    arn = enforced_server.role("fn", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    sagemaker = enforced_server.client("sagemaker", assumed(enforced_server, arn))
    sagemaker.meta.events.register(
        "before-sign.sagemaker.DescribeEndpoint",
        lambda request, **_: request.headers.replace_header("X-Amz-Target", "SageMaker.MakeItSo"),
    )
    with pytest.raises(ClientError) as refused:
        sagemaker.describe_endpoint(EndpointName="e")
    assert "cannot authorize this request" in refused.value.response["Error"]["Message"]
    assert enforced_server.log.counts["unmapped"] == 1


def test_the_emulators_own_endpoints_pass_through(enforced_server: Any) -> None:
    with urllib.request.urlopen(f"{enforced_server.url}/moto-api/") as response:  # noqa: S310
        assert response.status == 200


def test_services_acting_for_the_emulator_are_checked_and_recorded(enforced_server: Any) -> None:
    enforcer = enforced_server.app
    topic = enforced_server.client("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})[
        "TopicArn"
    ]
    alarm = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:dlq-depth"
    enforced_server.log.reset()
    outcome = enforcer.authorize_service(
        "cloudwatch.amazonaws.com", "sns:Publish", topic, source_arn=alarm, source_account=ACCOUNT, region="us-east-1"
    )
    assert not outcome.allowed
    (denial,) = enforced_server.log.denials
    assert (denial.principal, denial.action) == ("cloudwatch.amazonaws.com", "kms:GenerateDataKey")
    assert denial.message.startswith(
        "User: cloudwatch.amazonaws.com is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:"
    )
    assert enforced_server.log.counts["denied"] == 1
