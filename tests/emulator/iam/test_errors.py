"""AWS's denials in each protocol's shape: a boto3 client reads them as a ClientError with the service's code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from local.iam.errors import ErrorResponse, Wire, denial_response
from local.iam.evaluation import Decision

ACCOUNT = "123456789012"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/fn/sess"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _raise_from(service: str, method: str, response: ErrorResponse, **params: Any) -> ClientError:
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))

    client.meta.events.register("before-send", answer)
    with pytest.raises(ClientError) as raised:
        getattr(client, method)(**params)
    return raised.value


def denied(
    action: str, resource: str, denial: str = "because no identity-based policy allows", owner: str | None = ACCOUNT
) -> Decision:
    return Decision(False, SESSION, action, resource, "implicit deny", None, denial, owner)


@dataclass(frozen=True)
class Case:
    service: str
    method: str
    params: dict[str, Any]
    wire: Wire
    decision: Decision
    code: str
    status: int
    action_in_message: str


QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/q"
METRIC = {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.0}]}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
CASES = [
    Case(
        "sagemaker",
        "describe_endpoint",
        {"EndpointName": "e"},
        Wire("json", "sagemaker"),
        denied("sagemaker:DescribeEndpoint", f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/e"),
        "AccessDeniedException",
        400,
        "sagemaker:DescribeEndpoint",
    ),
    Case(
        "dynamodb",
        "get_item",
        {"TableName": "t", "Key": {"k": {"S": "v"}}},
        Wire("json", "dynamodb", "1.0"),
        denied(
            "dynamodb:GetItem",
            f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t",
            "with an explicit deny in an identity-based policy",
        ),
        "AccessDeniedException",
        400,
        "dynamodb:GetItem",
    ),
    Case(
        "sqs",
        "send_message",
        {"QueueUrl": QUEUE_URL, "MessageBody": "m"},
        Wire("json", "sqs", "1.0", query_compatible=True),
        denied("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q", "because no resource-based policy allows"),
        "AccessDenied",
        403,
        "sqs:sendmessage",
    ),
    Case(
        "cloudwatch",
        "put_metric_data",
        METRIC,
        Wire("json", "cloudwatch", "1.0", query_compatible=True),
        denied("cloudwatch:PutMetricData", "*"),
        "AccessDenied",
        403,
        "cloudwatch:PutMetricData",
    ),
    Case(
        "sns",
        "publish",
        {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t", "Message": "m"},
        Wire("query", "sns"),
        denied("sns:Publish", f"arn:aws:sns:us-east-1:{ACCOUNT}:t"),
        "AuthorizationError",
        403,
        "SNS:Publish",
    ),
    Case(
        "sts",
        "assume_role",
        {"RoleArn": ROLE, "RoleSessionName": "sess"},
        Wire("query", "sts"),
        denied("sts:AssumeRole", ROLE),
        "AccessDenied",
        403,
        "sts:AssumeRole",
    ),
    Case(
        "iam",
        "get_role",
        {"RoleName": "r"},
        Wire("query", "iam"),
        denied("iam:GetRole", ROLE),
        "AccessDenied",
        403,
        "iam:GetRole",
    ),
    Case(
        "lambda",
        "invoke",
        {"FunctionName": "f"},
        Wire("rest-json", "lambda"),
        denied("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"),
        "AccessDeniedException",
        403,
        "lambda:InvokeFunction",
    ),
    Case(
        "s3",
        "get_object",
        {"Bucket": "bucket", "Key": "k"},
        Wire("rest-xml", "s3"),
        denied("s3:GetObject", "arn:aws:s3:::bucket/k"),
        "AccessDenied",
        403,
        "s3:GetObject",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.service)
def test_a_boto3_client_reads_the_denial(case: Case) -> None:
    response = denial_response(case.wire, case.decision)
    assert response.status == case.status
    error = _raise_from(case.service, case.method, response, **case.params)
    assert error.response["Error"]["Code"] == case.code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == case.status
    assert error.response["Error"]["Message"] == case.decision.message(case.action_in_message)


def test_the_messages_read_as_aws_writes_them() -> None:
    assert CASES[2].decision.message("sqs:sendmessage") == (
        f"User: {SESSION} is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:q "
        "because no resource-based policy allows the sqs:sendmessage action"
    )
    assert CASES[1].decision.message() == (
        f"User: {SESSION} is not authorized to perform: dynamodb:GetItem on resource: "
        f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t with an explicit deny in an identity-based policy"
    )
    assert CASES[3].decision.message() == (
        f"User: {SESSION} is not authorized to perform: cloudwatch:PutMetricData "
        "because no identity-based policy allows the cloudwatch:PutMetricData action"
    )


def test_s3_explains_a_denial_only_within_the_bucket_owners_account() -> None:
    decision = denied("s3:GetObject", "arn:aws:s3:::bucket/k", owner="111111111111")
    response = denial_response(Wire("rest-xml", "s3"), decision, cross_account=True)
    error = _raise_from("s3", "get_object", response, Bucket="bucket", Key="k")
    assert error.response["Error"] == {"Code": "AccessDenied", "Message": "Access Denied"}


def test_a_request_the_emulator_cannot_authorize_says_so() -> None:
    response = denial_response(
        Wire("json", "sagemaker"), None, unmapped="the Service Authorization Reference has no action x"
    )
    error = _raise_from("sagemaker", "describe_endpoint", response, EndpointName="e")
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert "cannot authorize this request" in error.response["Error"]["Message"]
