"""PutEvents on the embedded EventBridge answers customers as EventBridge does, and service events come in through
the control API."""

from __future__ import annotations

import json
import urllib.error
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws.eventbridge.put_events import EMULATOR_MAX_DEPTH, MAX_REQUEST_BYTES, entry_size

MODEL_PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/3"


def put(embedded_aws: Any, *entries: dict[str, Any]) -> dict[str, Any]:
    return embedded_aws.client("events").put_events(Entries=list(entries))


def nested(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def custom(**fields: Any) -> dict[str, Any]:
    return {"Source": "my.app", "DetailType": "Thing", "Detail": json.dumps({"n": 1}), **fields}


def test_an_aws_source_is_refused_per_entry_and_nothing_is_delivered(embedded_aws, event_queue):
    # GIVEN a rule on SageMaker's events
    read = event_queue({"source": ["aws.sagemaker"]})
    # WHEN a customer puts a forged SageMaker event next to one of its own
    forgery = custom(Source="aws.sagemaker", DetailType="SageMaker Model Package State Change")
    response = put(embedded_aws, forgery, custom())
    # THEN the forged entry fails with AWS's code and message, the other is accepted
    forged, own = response["Entries"]
    assert response["FailedEntryCount"] == 1
    assert forged == {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}
    assert "EventId" in own and "ErrorCode" not in own
    # AND the rule never saw it
    assert read() == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("Source", "Parameter Source is not valid. Reason: Source is a required argument."),
        ("DetailType", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ("Detail", "Parameter Detail is not valid. Reason: Detail is a required argument."),
    ],
)
def test_a_missing_required_field_is_invalid_argument(embedded_aws, missing, message):
    entry = custom()
    del entry[missing]
    [result] = put(embedded_aws, entry)["Entries"]
    assert result == {"ErrorCode": "InvalidArgument", "ErrorMessage": message}


@pytest.mark.parametrize("detail", ['["an", "array"]', '"a string"', "42", "null", "{not json", nested(1101)])
def test_a_detail_that_is_not_a_json_object_of_at_most_1100_levels_is_malformed(embedded_aws, event_queue, detail):
    read = event_queue({"source": ["my.app"]})
    response = put(embedded_aws, custom(Detail=detail))
    assert response["FailedEntryCount"] == 1
    assert response["Entries"] == [{"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}]
    assert read() == []


def test_deep_nesting_the_emulator_cannot_deliver_is_a_retryable_entry_error_not_an_http_500(embedded_aws):
    response = put(embedded_aws, custom(Detail=nested(1000)), custom())
    deep, fine = response["Entries"]
    assert deep["ErrorCode"] == "InternalFailure"
    assert "embedded EventBridge" in deep["ErrorMessage"]
    assert "EventId" in fine


def test_eleven_entries_fail_the_whole_request(embedded_aws):
    with pytest.raises(ClientError) as raised:
        put(embedded_aws, *[custom() for _ in range(11)])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_256_kb_limit_counts_as_eventbridge_counts(embedded_aws, event_queue):
    # GIVEN an entry exactly at the limit by EventBridge's calculation (Time 14 bytes, UTF-8 bytes of the rest)
    read = event_queue({"source": ["my.app"]})
    base = custom(Time=datetime(2026, 1, 1, tzinfo=UTC), Resources=[MODEL_PACKAGE], Detail='{"s":""}')
    room = MAX_REQUEST_BYTES - entry_size(base)
    at_limit = {**base, "Detail": '{"s":"' + "é" * (room // 2) + '"}'}  # two bytes per character in UTF-8
    assert entry_size(at_limit) == MAX_REQUEST_BYTES - room % 2
    # WHEN it is put, then the same plus two bytes
    assert put(embedded_aws, at_limit)["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as raised:
        put(embedded_aws, {**at_limit, "Detail": '{"s":"' + "é" * (room // 2 + 1) + '"}'})
    # THEN the first is delivered, the second refused whole, as AWS refuses it
    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Total size of the entries in the request is over the limit.",
    }
    assert len(read()) == 1


def test_the_limit_is_on_the_request_total(embedded_aws):
    half = custom(Detail=json.dumps({"s": "x" * (MAX_REQUEST_BYTES // 2)}))
    assert put(embedded_aws, half)["FailedEntryCount"] == 0
    with pytest.raises(ClientError, match="Total size of the entries"):
        put(embedded_aws, half, half)


def test_service_events_come_in_through_the_control_api(embedded_aws, event_queue, control_http):
    # GIVEN a rule on SageMaker's model package events
    read = event_queue({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]})
    event = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "time": "2026-03-24T16:05:14Z",
        "resources": [MODEL_PACKAGE],
        "detail": {"ModelPackageArn": MODEL_PACKAGE, "ModelApprovalStatus": "Approved"},
    }
    # WHEN another process injects it as SageMaker would send it
    answer = control_http({"action": "put_service_events", "events": [event]})
    # THEN it is delivered whole, with a fresh id, this account and region, and its own time
    [delivered] = read()
    assert answer["result"] == [delivered["id"]]
    assert {k: delivered[k] for k in event} == event
    assert (delivered["account"], delivered["region"]) == (embedded_aws.account_id, embedded_aws.region)


@pytest.mark.parametrize(
    "event",
    [
        {"source": "my.app", "detail-type": "Thing", "detail": {}},
        {"source": "aws.sagemaker", "detail": {}},
        {"source": "aws.sagemaker", "detail-type": "X", "detail": ["not", "an", "object"]},
        {"source": "aws.sagemaker", "detail-type": "X", "detail": {}, "resources": "arn:not-a-list"},
    ],
)
def test_the_control_api_refuses_what_no_service_sends_and_sends_nothing(
    embedded_aws, event_queue, control_http, event
):
    read = event_queue({"detail-type": [{"exists": True}]})
    good = {"source": "aws.sagemaker", "detail-type": "Fine", "detail": {}}
    with pytest.raises(urllib.error.HTTPError) as raised:
        control_http({"action": "put_service_events", "events": [good, event]})
    assert raised.value.code == 400
    assert read() == []


def test_the_embedded_sagemaker_still_emits_its_own_events(embedded_aws, sagemaker, event_queue):
    read = event_queue({"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"]})
    sagemaker.create_model_package_group(ModelPackageGroupName="fraud")
    sagemaker.create_model_package(ModelPackageGroupName="fraud", ModelApprovalStatus="PendingManualApproval")
    [event] = read()
    assert event["detail"]["ModelApprovalStatus"] == "PendingManualApproval"


def test_nesting_up_to_the_emulators_limit_is_delivered(embedded_aws, event_queue):
    read = event_queue({"source": ["my.app"]})
    assert put(embedded_aws, custom(Detail=nested(EMULATOR_MAX_DEPTH)))["FailedEntryCount"] == 0
    [event] = read()
    assert json.dumps(event["detail"], separators=(",", ":")) == nested(EMULATOR_MAX_DEPTH)
