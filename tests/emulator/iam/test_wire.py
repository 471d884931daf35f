"""Raw HTTP requests, as botocore builds them, to their credentials, service, operation and parameters."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from local.iam.wire import UnparsedRequest, credentials, http_request, parse_request

S3_SIGNATURE = "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"


def parsed(botocore_request: Any, service: str, method: str, **params: Any) -> Any:
    environ, body = botocore_request(service, method, **params)
    return parse_request(http_request(environ, body), environ["HTTP_HOST"])


def test_sigv4_credentials_name_the_key_region_and_signing_name(botocore_request: Any) -> None:
    environ, body = botocore_request("cloudwatch", "describe_alarms", access_key="ASIAFUNCTIONKEY")
    creds = credentials(http_request(environ, body))
    assert creds is not None
    assert (creds.access_key_id, creds.region, creds.signing_name) == ("ASIAFUNCTIONKEY", "us-east-1", "monitoring")


@pytest.mark.parametrize(
    ("service", "method", "params", "wire"),
    [
        ("sagemaker", "describe_endpoint", {"EndpointName": "e"}, ("json", "DescribeEndpoint", {"EndpointName": "e"})),
        (
            "sagemaker-runtime",
            "invoke_endpoint",
            {"EndpointName": "churn", "Body": b"1,2", "ContentType": "text/csv"},
            ("rest-json", "InvokeEndpoint", {"EndpointName": "churn", "ContentType": "text/csv"}),
        ),
        (
            "sns",
            "create_topic",
            {"Name": "t", "Attributes": {"KmsMasterKeyId": "alias/aws/sns"}, "Tags": [{"Key": "a", "Value": "b"}]},
            (
                "query",
                "CreateTopic",
                {"Name": "t", "Attributes": {"KmsMasterKeyId": "alias/aws/sns"}, "Tags": [{"Key": "a", "Value": "b"}]},
            ),
        ),
        (
            "sqs",
            "get_queue_attributes",
            {"QueueUrl": "http://h/1/q", "AttributeNames": ["All"]},
            ("json", "GetQueueAttributes", {"QueueUrl": "http://h/1/q", "AttributeNames": ["All"]}),
        ),
        (
            "cloudwatch",
            "put_metric_data",
            {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 2.5}]},
            ("json", "PutMetricData", {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 2.5}]}),
        ),
        (
            "lambda",
            "invoke",
            {"FunctionName": "promote", "Qualifier": "live", "Payload": b"{}"},
            ("rest-json", "Invoke", {"FunctionName": "promote", "Qualifier": "live"}),
        ),
        (
            "scheduler",
            "create_schedule",
            {
                "Name": "gate",
                "ScheduleExpression": "at(2030-01-01T00:00:00)",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": "arn:aws:lambda:us-east-1:1:function:f", "RoleArn": "arn:aws:iam::1:role/r"},
            },
            ("rest-json", "CreateSchedule", {"Name": "gate", "ScheduleExpression": "at(2030-01-01T00:00:00)"}),
        ),
        (
            "events",
            "put_events",
            {"Entries": [{"Source": "app", "DetailType": "d", "Detail": "{}"}]},
            ("json", "PutEvents", {"Entries": [{"Source": "app", "DetailType": "d", "Detail": "{}"}]}),
        ),
        (
            "iam",
            "put_role_policy",
            {"RoleName": "r", "PolicyName": "p", "PolicyDocument": "{}"},
            ("query", "PutRolePolicy", {"RoleName": "r", "PolicyName": "p", "PolicyDocument": "{}"}),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and "_" in v else "",
)
def test_each_protocol_names_the_operation_and_its_parameters(
    botocore_request: Any, service: str, method: str, params: dict[str, Any], wire: tuple[str, str, dict[str, Any]]
) -> None:
    protocol, operation, expected = wire
    request = parsed(botocore_request, service, method, **params)
    assert (request.protocol, request.operation) == (protocol, operation)
    assert {k: request.params.get(k) for k in expected} == expected


def test_s3_operations_by_method_uri_template_and_query_markers(botocore_request: Any) -> None:
    key = "churn/run 1/eval+report.json"
    cases = {
        "GetObject": ("get_object", {"Bucket": "b", "Key": key}),
        "GetObjectTagging": ("get_object_tagging", {"Bucket": "b", "Key": key, "VersionId": "v1"}),
        "PutObjectTagging": ("put_object_tagging", {"Bucket": "b", "Key": key, "Tagging": {"TagSet": []}}),
        "HeadObject": ("head_object", {"Bucket": "b", "Key": key}),
        "HeadBucket": ("head_bucket", {"Bucket": "b"}),
        "ListObjectsV2": ("list_objects_v2", {"Bucket": "b", "Prefix": "churn/"}),
        "ListObjects": ("list_objects", {"Bucket": "b"}),
        "ListObjectVersions": ("list_object_versions", {"Bucket": "b"}),
        "PutObject": ("put_object", {"Bucket": "b", "Key": key, "Body": b"x"}),
        "CopyObject": ("copy_object", {"Bucket": "b", "Key": key, "CopySource": "src/k"}),
        "UploadPart": ("upload_part", {"Bucket": "b", "Key": key, "PartNumber": 1, "UploadId": "u", "Body": b"x"}),
        "DeleteObjects": ("delete_objects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}]}}),
        "GetBucketLocation": ("get_bucket_location", {"Bucket": "b"}),
        "PutBucketPolicy": ("put_bucket_policy", {"Bucket": "b", "Policy": "{}"}),
    }
    for operation, (method, params) in cases.items():
        request = parsed(botocore_request, "s3", method, **params)
        assert request.operation == operation, method
        if "Key" in params:
            assert request.params["Key"] == key
    assert (
        parsed(botocore_request, "s3", "get_object_tagging", Bucket="b", Key="k", VersionId="v1").params["VersionId"]
        == "v1"
    )


def test_s3_virtual_host_style(botocore_request: Any) -> None:
    environ = EnvironBuilder(
        method="GET",
        path="/churn/model.tar.gz",
        query_string="tagging",
        base_url="http://artifacts.s3.us-east-1.amazonaws.com",
        headers={"Authorization": S3_SIGNATURE},
    ).get_environ()
    request = parse_request(http_request(environ, b""), environ["HTTP_HOST"])
    assert (request.operation, request.params["Bucket"], request.params["Key"]) == (
        "GetObjectTagging",
        "artifacts",
        "churn/model.tar.gz",
    )
    local = EnvironBuilder(
        method="HEAD",
        path="/",
        base_url="http://artifacts.localhost:5000",
        headers={"Authorization": S3_SIGNATURE},
    ).get_environ()
    assert parse_request(http_request(local, b""), local["HTTP_HOST"]).operation == "HeadBucket"


def test_signature_version_2_names_the_key() -> None:
    environ = EnvironBuilder(
        method="GET", path="/b/k", headers={"Authorization": "AWS AKIAOLDSTYLE:c2lnbmF0dXJl"}
    ).get_environ()
    request = parse_request(http_request(environ, b""))
    assert request.credentials is not None and request.credentials.access_key_id == "AKIAOLDSTYLE"
    assert (request.iam_prefix, request.operation) == ("s3", "GetObject")


def test_unsigned_and_unknown_requests_are_not_parsed(botocore_request: Any) -> None:
    unsigned = EnvironBuilder(method="GET", path="/").get_environ()
    with pytest.raises(UnparsedRequest, match="not signed"):
        parse_request(http_request(unsigned, b""))
    environ, body = botocore_request("sagemaker", "describe_endpoint", EndpointName="e")
    environ["HTTP_X_AMZ_TARGET"] = "SageMaker.MakeItSo"
    with pytest.raises(UnparsedRequest, match="no sagemaker operation"):
        parse_request(http_request(environ, body))


def test_the_iam_prefix_follows_the_signing_name(botocore_request: Any) -> None:
    assert parsed(botocore_request, "cloudwatch", "describe_alarms").iam_prefix == "cloudwatch"
    runtime = parsed(botocore_request, "sagemaker-runtime", "invoke_endpoint", EndpointName="e", Body=b"x")
    assert (runtime.service, runtime.iam_prefix) == ("sagemaker-runtime", "sagemaker")
