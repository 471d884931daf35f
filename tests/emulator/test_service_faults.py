"""Injected API faults: boto3 clients see each service's own throttling and server errors, as AWS sends them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from local.aws.service_faults import SERVICE_CALLER_AGENT

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
STANDARD = Config(retries={"max_attempts": 3, "mode": "standard"})


def error_of(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


@pytest.fixture
def control(embedded_aws: Any) -> Any:
    return embedded_aws.control


def test_standard_retries_ride_out_two_throttles_and_the_log_counts_them(embedded_aws, control):
    # GIVEN SageMaker throttling the next two ListEndpoints calls
    fault = control.inject_service_fault("sagemaker", "ListEndpoints", times=2)
    # WHEN a client with standard retries (3 attempts) calls it
    response = embedded_aws.client("sagemaker", config=STANDARD).list_endpoints()
    # THEN it succeeded on its third attempt, having met SageMaker's ThrottlingException twice
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    hits = control.service_fault_log()
    assert [(h["operation"], h["code"], h["status"]) for h in hits] == [
        ("ListEndpoints", "ThrottlingException", 400)
    ] * 2
    assert {h["fault_id"] for h in hits} == {fault["id"]}
    # AND the fault is used up
    assert control.service_faults() == []


def test_a_throttle_past_the_retries_reaches_the_caller(embedded_aws, control):
    control.inject_service_fault("sagemaker", "DescribeEndpoint")
    sagemaker = embedded_aws.client("sagemaker", config=STANDARD)
    assert error_of(lambda: sagemaker.describe_endpoint(EndpointName="e")) == (
        "ThrottlingException",
        400,
        "Rate exceeded",
    )
    assert [f["applied"] for f in control.service_faults()] == [4]  # the first attempt and its three retries
    # AND another operation of the service is untouched
    assert sagemaker.list_endpoints()["Endpoints"] == []


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("internal", ("InternalFailure", 500)),
        ("unavailable", ("ServiceUnavailable", 503)),
    ],
)
def test_server_errors_of_sagemaker(embedded_aws, control, kind, expected):
    control.inject_service_fault("sagemaker", "ListModelPackages", kind=kind, times=1)
    sagemaker = embedded_aws.client("sagemaker", config=NO_RETRIES)
    assert error_of(sagemaker.list_model_packages)[:2] == expected
    assert sagemaker.list_model_packages()["ModelPackageSummaryList"] == []


def test_dynamodb_throttles_items_with_provisioned_throughput_and_its_control_plane_with_throttling(
    embedded_aws, control
):
    dynamodb = embedded_aws.client("dynamodb", config=NO_RETRIES)
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    control.inject_service_fault("dynamodb", times=2)
    code, status, _ = error_of(lambda: dynamodb.put_item(TableName="t", Item={"k": {"S": "a"}}))
    assert (code, status) == ("ProvisionedThroughputExceededException", 400)
    assert error_of(lambda: dynamodb.describe_table(TableName="t"))[:2] == ("ThrottlingException", 400)
    control.inject_service_fault("dynamodb", "GetItem", kind="internal", times=1)
    assert error_of(lambda: dynamodb.get_item(TableName="t", Key={"k": {"S": "a"}}))[:2] == ("InternalServerError", 500)
    assert "Item" not in dynamodb.get_item(TableName="t", Key={"k": {"S": "a"}})  # the faulted put never applied


def test_s3_slows_down_one_operation_only(embedded_aws, control):
    s3 = embedded_aws.client("s3", config=NO_RETRIES)
    s3.create_bucket(Bucket="bucket-b")
    control.inject_service_fault("s3", "GetObject")
    s3.put_object(Bucket="bucket-b", Key="reports/evaluation.json", Body=b"{}")
    assert s3.head_object(Bucket="bucket-b", Key="reports/evaluation.json")["ContentLength"] == 2
    code, status, message = error_of(lambda: s3.get_object(Bucket="bucket-b", Key="reports/evaluation.json"))
    assert (code, status, message) == ("SlowDown", 503, "Please reduce your request rate.")
    assert [h["operation"] for h in control.service_fault_log()] == ["GetObject"]


def test_s3_tells_operations_on_the_same_path_apart(embedded_aws, control):
    s3 = embedded_aws.client("s3", config=NO_RETRIES)
    s3.create_bucket(Bucket="bucket-b")
    s3.put_object(Bucket="bucket-b", Key="k", Body=b"x")
    control.inject_service_fault("s3", "GetObjectTagging", kind="internal")
    control.inject_service_fault("s3", "ListObjectsV2", kind="unavailable")
    assert s3.get_object(Bucket="bucket-b", Key="k")["Body"].read() == b"x"
    assert error_of(lambda: s3.get_object_tagging(Bucket="bucket-b", Key="k"))[:2] == ("InternalError", 500)
    assert error_of(lambda: s3.list_objects_v2(Bucket="bucket-b"))[:2] == ("ServiceUnavailable", 503)
    s3.copy_object(Bucket="bucket-b", Key="copy", CopySource={"Bucket": "bucket-b", "Key": "k"})
    assert [h["operation"] for h in control.service_fault_log()] == ["GetObjectTagging", "ListObjectsV2"]


def test_sns_sqs_lambda_and_cloudwatch_throttle_with_their_own_codes(embedded_aws, control):
    sns = embedded_aws.client("sns", config=NO_RETRIES)
    sqs = embedded_aws.client("sqs", config=NO_RETRIES)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    for service in ("sns", "sqs", "lambda", "cloudwatch"):
        control.inject_service_fault(service, times=1)
    assert error_of(lambda: sns.publish(TopicArn=topic, Message="m"))[:2] == ("Throttled", 429)
    assert error_of(lambda: sqs.send_message(QueueUrl=queue, MessageBody="m"))[:2] == ("RequestThrottled", 400)
    lambda_ = embedded_aws.client("lambda", config=NO_RETRIES)
    assert error_of(lambda_.list_functions)[:2] == ("TooManyRequestsException", 429)
    cloudwatch = embedded_aws.client("cloudwatch", config=NO_RETRIES)
    assert error_of(cloudwatch.describe_alarms)[:2] == ("Throttling", 400)
    assert [h["operation"] for h in control.service_fault_log()] == [
        "Publish",
        "SendMessage",
        "ListFunctions",
        "DescribeAlarms",
    ]
    assert sns.publish(TopicArn=topic, Message="m")["MessageId"]


def test_a_chosen_error_code_after_some_calls_for_a_window(embedded_aws, control):
    # GIVEN a fault letting one call through, then answering every call for a minute with a chosen error
    control.inject_service_fault(
        "sqs", "ListQueues", kind="error", code="KmsThrottled", status=400, message="KMS throttled", after=1, seconds=60
    )
    sqs = embedded_aws.client("sqs", config=NO_RETRIES)
    sqs.list_queues()
    assert error_of(sqs.list_queues) == ("KmsThrottled", 400, "KMS throttled")
    assert error_of(sqs.list_queues)[0] == "KmsThrottled"
    [listed] = control.service_faults()
    assert (listed["seen"], listed["applied"], listed["remaining"]) == (3, 2, None)
    assert 0 < listed["expires_in"] <= 60
    # WHEN cleared, calls go through again
    assert control.clear_service_faults(service="sqs") == 1
    assert sqs.list_queues().get("QueueUrls", []) == []


def test_latency_delays_calls_past_a_clients_read_timeout(embedded_aws, control):
    control.inject_service_fault("sagemaker", "ListEndpoints", kind="latency", latency=2.0, times=1)
    impatient = embedded_aws.client("sagemaker", config=NO_RETRIES.merge(Config(read_timeout=0.5)))
    with pytest.raises(ReadTimeoutError):
        impatient.list_endpoints()
    assert impatient.list_endpoints()["Endpoints"] == []


def test_calls_the_embedded_aws_makes_as_a_service_are_never_faulted(embedded_aws, control):
    control.inject_service_fault("sqs")
    service = embedded_aws.client("sqs", config=NO_RETRIES.merge(Config(user_agent_extra=SERVICE_CALLER_AGENT)))
    assert service.list_queues().get("QueueUrls", []) == []
    assert error_of(embedded_aws.client("sqs", config=NO_RETRIES).list_queues)[0] == "RequestThrottled"


def test_faults_are_injected_listed_and_cleared_through_the_control_route(embedded_aws, control_http):
    injected = control_http({"action": "inject_service_fault", "service": "sns", "operation": "Publish", "times": 5})
    fault_id = injected["result"]["id"]
    listed = control_http({"action": "service_faults"})["result"]
    assert [(f["id"], f["service"], f["operation"], f["remaining"]) for f in listed] == [
        (fault_id, "sns", "Publish", 5)
    ]
    assert control_http({"action": "clear_service_faults", "fault_id": fault_id})["result"] == 1
    assert control_http({"action": "service_faults"})["result"] == []


@pytest.mark.parametrize(
    "options",
    [{"kind": "sleep"}, {"kind": "error", "code": "X"}, {"kind": "latency"}],
)
def test_a_fault_that_cannot_be_applied_is_refused(control, options):
    with pytest.raises(ValueError, match="kind"):
        control.inject_service_fault("sagemaker", **options)


def test_reset_forgets_faults_and_their_log(embedded_aws, control):
    control.inject_service_fault("sagemaker", times=1)
    error_of(embedded_aws.client("sagemaker", config=NO_RETRIES).list_endpoints)
    embedded_aws.reset()
    assert (control.service_faults(), control.service_fault_log()) == ([], [])
