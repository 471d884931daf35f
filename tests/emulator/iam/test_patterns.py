"""Wildcards as IAM matches them: actions case-insensitively, ARNs part by part and case-sensitively."""

from __future__ import annotations

import pytest

from local.iam.patterns import action_matches, arn_matches, glob_match

ENDPOINT = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint"


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpoint", True),
        ("SageMaker:describeendpoint", "sagemaker:DescribeEndpoint", True),  # actions are case-insensitive
        ("sagemaker:Describe*", "sagemaker:DescribeEndpointConfig", True),
        ("sagemaker:*", "sagemaker:UpdateModelPackage", True),
        ("*", "s3:GetObject", True),
        ("sagemaker:Describe*", "sagemaker:UpdateEndpoint", False),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObjects", False),
        ("s3:GetObject", "s3:GetObjectTagging", False),  # no implicit prefix match
        ("sqs:*", "sns:Publish", False),
    ],
)
def test_actions(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (ENDPOINT, True),
        ("*", True),
        ("arn:aws:sagemaker:*:*:endpoint/*", True),
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-*", True),
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoin?", True),
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/My-Endpoint", False),  # ARNs are case-sensitive
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/*", False),
        ("arn:aws:sagemaker:us-west-2:123456789012:endpoint/*", False),
        ("arn:aws:sagemaker:*:111111111111:endpoint/*", False),
        ("arn:aws:sagemaker:us-east-1:*", False),  # a wildcard does not span the colon-separated parts
        ("arn:aws:sagemaker:*", False),
    ],
)
def test_arns_part_by_part(pattern: str, expected: bool) -> None:
    assert arn_matches(pattern, ENDPOINT) is expected


def test_the_resource_part_of_an_arn_is_one_part_colons_and_all() -> None:
    stream = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs:log-stream:job/algo-1"
    assert arn_matches("arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/*", stream)
    assert not arn_matches("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/*", stream)


def test_s3_arns_have_empty_region_and_account() -> None:
    assert arn_matches("arn:aws:s3:::bucket/pipeline/*", "arn:aws:s3:::bucket/pipeline/run/model.tar.gz")
    assert not arn_matches("arn:aws:s3:::bucket/pipeline/*", "arn:aws:s3:::bucket/data-capture/x")
    assert not arn_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket")


def test_string_globs_span_every_character_and_are_case_sensitive() -> None:
    assert glob_match("pipeline/*", "pipeline/a/b:c")
    assert not glob_match("Pipeline/*", "pipeline/a")
    assert glob_match("Pipeline/*", "pipeline/a", ignore_case=True)
    assert glob_match("a.b", "a.b") and not glob_match("a.b", "axb")  # regex characters are literal
