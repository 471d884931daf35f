"""Condition operators, one test per family, each with a case that holds and one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from local.iam.conditions import conditions_hold
from local.iam.context import RequestContext

V2 = "2012-10-17"


def ctx(values: dict[str, Any]) -> RequestContext:
    return RequestContext.of(values)


def test_string_operators() -> None:
    assert conditions_hold(
        {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}},
        ctx({"kms:ViaService": "sns.us-east-1.amazonaws.com"}),
    )
    assert not conditions_hold(
        {"StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}},
        ctx({"kms:ViaService": "s3.us-east-1.amazonaws.com"}),
    )
    assert not conditions_hold({"StringEquals": {"k:v": "ABC"}}, ctx({"k:v": "abc"}))  # values are case-sensitive
    assert conditions_hold({"StringEqualsIgnoreCase": {"k:v": "ABC"}}, ctx({"k:v": "abc"}))
    assert conditions_hold({"StringNotEquals": {"k:v": ["a", "b"]}}, ctx({"k:v": "c"}))
    assert not conditions_hold({"StringNotEquals": {"k:v": ["a", "b"]}}, ctx({"k:v": "b"}))
    assert conditions_hold({"StringNotEqualsIgnoreCase": {"k:v": "A"}}, ctx({"k:v": "b"}))
    assert not conditions_hold({"StringNotEqualsIgnoreCase": {"k:v": "A"}}, ctx({"k:v": "a"}))


def test_string_like_with_wildcards() -> None:
    condition = {"StringLike": {"s3:prefix": "pipeline/*"}}
    assert conditions_hold(condition, ctx({"s3:prefix": "pipeline/run-1/"}))
    assert not conditions_hold(condition, ctx({"s3:prefix": "data-capture/"}))
    assert conditions_hold({"StringNotLike": {"s3:prefix": "data-capture/*"}}, ctx({"s3:prefix": "pipeline/"}))
    assert not conditions_hold({"StringNotLike": {"s3:prefix": "data-capture/*"}}, ctx({"s3:prefix": "data-capture/x"}))
    assert conditions_hold(
        {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "SageMaker*"]}},
        ctx({"cloudwatch:namespace": "SageMakerPipelines"}),
    )


def test_condition_key_names_are_case_insensitive() -> None:
    assert conditions_hold({"StringEquals": {"AWS:SourceOwner": "123"}}, ctx({"aws:sourceowner": "123"}))
    assert conditions_hold({"StringEquals": {"aws:ResourceTag/Team": "ml"}}, ctx({"aws:resourcetag/team": "ml"}))


@pytest.mark.parametrize(
    ("operator", "policy", "value", "expected"),
    [
        ("NumericEquals", "10", 10, True),
        ("NumericEquals", "10", 11, False),
        ("NumericNotEquals", "10", 11, True),
        ("NumericLessThan", "10", 9.5, True),
        ("NumericLessThan", "10", 10, False),
        ("NumericLessThanEquals", "10", 10, True),
        ("NumericGreaterThan", "10", 10, False),
        ("NumericGreaterThanEquals", "10", 10, True),
        ("NumericEquals", "10", "ten", False),  # not a number: no match
    ],
)
def test_numeric_operators(operator: str, policy: str, value: Any, expected: bool) -> None:
    assert conditions_hold({operator: {"s3:max-keys": policy}}, ctx({"s3:max-keys": value})) is expected


@pytest.mark.parametrize(
    ("operator", "policy", "expected"),
    [
        ("DateLessThan", "2030-01-01T00:00:00Z", True),
        ("DateLessThan", "2020-01-01T00:00:00Z", False),
        ("DateGreaterThan", "2020-01-01T00:00:00Z", True),
        ("DateGreaterThanEquals", "2026-06-01T12:00:00Z", True),
        ("DateLessThanEquals", "2026-06-01T12:00:00Z", True),
        ("DateEquals", "2026-06-01T12:00:00+00:00", True),
        ("DateNotEquals", "2026-06-01T12:00:00Z", False),
        ("DateEquals", "1780315200", True),  # epoch seconds
    ],
)
def test_date_operators(operator: str, policy: str, expected: bool) -> None:
    assert (
        conditions_hold({operator: {"aws:CurrentTime": policy}}, ctx({"aws:CurrentTime": "2026-06-01T12:00:00Z"}))
        is expected
    )


def test_bool_operator() -> None:
    assert conditions_hold({"Bool": {"aws:SecureTransport": "false"}}, ctx({"aws:SecureTransport": False}))
    assert not conditions_hold({"Bool": {"aws:SecureTransport": "false"}}, ctx({"aws:SecureTransport": True}))
    assert conditions_hold({"Bool": {"aws:SecureTransport": True}}, ctx({"aws:SecureTransport": "TRUE"}))


def test_binary_operator() -> None:
    assert conditions_hold({"BinaryEquals": {"k:b": "QmluYXJ5"}}, ctx({"k:b": "QmluYXJ5"}))
    assert not conditions_hold({"BinaryEquals": {"k:b": "QmluYXJ5"}}, ctx({"k:b": "b3RoZXI="}))


def test_ip_address_operators() -> None:
    assert conditions_hold({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}, ctx({"aws:SourceIp": "127.0.0.1"}))
    assert not conditions_hold({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, ctx({"aws:SourceIp": "127.0.0.1"}))
    assert conditions_hold({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, ctx({"aws:SourceIp": "127.0.0.1"}))


def test_arn_operators_match_part_by_part() -> None:
    alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:dlq-depth"
    assert conditions_hold(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"}},
        ctx({"aws:SourceArn": alarm}),
    )
    assert conditions_hold({"ArnEquals": {"aws:SourceArn": alarm}}, ctx({"aws:SourceArn": alarm}))
    assert not conditions_hold(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:111111111111:alarm:*"}}, ctx({"aws:SourceArn": alarm})
    )
    assert conditions_hold(
        {"ArnNotLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/*"}}, ctx({"aws:SourceArn": alarm})
    )
    assert not conditions_hold({"ArnNotEquals": {"aws:SourceArn": alarm}}, ctx({"aws:SourceArn": alarm}))


def test_null_operator_tests_presence() -> None:
    assert conditions_hold({"Null": {"aws:SourceArn": "true"}}, ctx({}))
    assert not conditions_hold({"Null": {"aws:SourceArn": "true"}}, ctx({"aws:SourceArn": "arn:x"}))
    assert conditions_hold({"Null": {"aws:SourceArn": "false"}}, ctx({"aws:SourceArn": "arn:x"}))


def test_absent_keys_fail_positive_operators_and_satisfy_negated_ones() -> None:
    assert not conditions_hold({"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}, ctx({}))
    assert conditions_hold({"StringNotEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}, ctx({}))
    assert conditions_hold({"ArnNotLike": {"aws:SourceArn": "arn:*"}}, ctx({}))


def test_if_exists_holds_when_the_key_is_absent_and_tests_it_when_present() -> None:
    condition = {"StringEqualsIfExists": {"sagemaker:ModelApprovalStatus": "Approved"}}
    assert conditions_hold(condition, ctx({}))
    assert conditions_hold(condition, ctx({"sagemaker:ModelApprovalStatus": "Approved"}))
    assert not conditions_hold(condition, ctx({"sagemaker:ModelApprovalStatus": "Rejected"}))
    assert conditions_hold({"NumericLessThanIfExists": {"s3:max-keys": "100"}}, ctx({}))


def test_for_all_values() -> None:
    condition = {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}
    assert conditions_hold(condition, ctx({"aws:TagKeys": ["env"]}))
    assert conditions_hold(condition, ctx({"aws:TagKeys": ["env", "team"]}))
    assert not conditions_hold(condition, ctx({"aws:TagKeys": ["env", "owner"]}))
    assert conditions_hold(condition, ctx({}))  # true when there are no values at all
    assert conditions_hold({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}, ctx({"aws:TagKeys": ["env"]}))
    assert not conditions_hold(
        {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}, ctx({"aws:TagKeys": ["env", "secret"]})
    )


def test_for_any_value() -> None:
    condition = {"ForAnyValue:StringLike": {"aws:TagKeys": "sagemaker:*"}}
    assert conditions_hold(condition, ctx({"aws:TagKeys": ["env", "sagemaker:pipeline"]}))
    assert not conditions_hold(condition, ctx({"aws:TagKeys": ["env"]}))
    assert not conditions_hold(condition, ctx({}))  # false when there are no values
    assert conditions_hold(
        {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, ctx({"aws:TagKeys": ["env", "x"]})
    )
    assert not conditions_hold({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, ctx({"aws:TagKeys": ["env"]}))


def test_every_operator_and_key_of_a_block_must_hold() -> None:
    condition = {
        "StringEquals": {"aws:SourceAccount": "123456789012", "kms:ViaService": "sns.us-east-1.amazonaws.com"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:*"},
    }
    good = {
        "aws:SourceAccount": "123456789012",
        "kms:ViaService": "sns.us-east-1.amazonaws.com",
        "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a",
    }
    assert conditions_hold(condition, ctx(good))
    assert not conditions_hold(condition, ctx(good | {"kms:ViaService": "s3.us-east-1.amazonaws.com"}))
    assert not conditions_hold(condition, ctx(good | {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/r"}))


def test_policy_variables_in_condition_values() -> None:
    condition = {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}
    assert conditions_hold(condition, ctx({"aws:username": "ana", "s3:prefix": "home/ana/x"}), V2)
    assert not conditions_hold(condition, ctx({"aws:username": "bob", "s3:prefix": "home/ana/x"}), V2)
    assert not conditions_hold(condition, ctx({"aws:username": "ana", "s3:prefix": "home/ana/x"}), "2008-10-17")
    with_default = {"StringEquals": {"s3:prefix": "${aws:username, 'nobody'}"}}
    assert conditions_hold(with_default, ctx({"s3:prefix": "nobody"}), V2)


def test_an_unknown_operator_never_holds() -> None:
    assert not conditions_hold({"StringSortOf": {"k:v": "a"}}, ctx({"k:v": "a"}))


def test_resource_keys_are_resolved_only_when_asked_for() -> None:
    calls = []

    def tags() -> dict[str, str]:
        calls.append(1)
        return {"aws:ResourceTag/team": "ml"}

    context = RequestContext.of({"aws:SourceAccount": "1"}).resolve(["aws:ResourceTag/"], tags)
    assert conditions_hold({"StringEquals": {"aws:SourceAccount": "1"}}, context)
    assert calls == []
    assert conditions_hold({"StringEquals": {"aws:ResourceTag/Team": "ml"}}, context)
    assert not conditions_hold({"StringEquals": {"aws:ResourceTag/owner": "x"}}, context)
    assert calls == [1]
