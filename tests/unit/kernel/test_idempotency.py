"""At most once per key: duplicates told apart by Powertools' response hook, the wrapper built once per process."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.arns import canonical_arn
from sm_lifecycle.kernel.errors import ConflictError, TransientError
from sm_lifecycle.kernel.idempotency import DEDUPE_WINDOW_SECONDS, canonical_key, idempotent
from tests.support import REGION, LambdaContext

TABLE = "idempotency"


@pytest.fixture
def table(aws: None) -> Any:
    """The idempotency table as template.yaml declares it."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    return dynamodb


class Produce:
    """Counts its calls; returns a fresh result each time (so a stored one is recognisable)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"status": "done", "call": self.calls}


def test_a_duplicate_gets_the_stored_result_marked_as_a_duplicate(table: Any) -> None:
    once, produce = idempotent(TABLE, key_prefix="test"), Produce()
    # WHEN the same key runs twice, and another key once
    first = once.run({"job": "a"}, produce, context=LambdaContext())
    again = once.run({"job": "a"}, produce, context=LambdaContext())
    other = once.run({"job": "b"}, produce, context=LambdaContext())
    # THEN the function ran once per key; the duplicate got the first result back, flagged by the response hook
    assert produce.calls == 2
    assert (first.duplicate, first.result) == (False, {"status": "done", "call": 1})
    assert (again.duplicate, again.result) == (True, {"status": "done", "call": 1})
    assert (other.duplicate, other.result) == (False, {"status": "done", "call": 2})
    # AND each record is kept for the dedupe window, under the key prefix
    items = table.scan(TableName=TABLE)["Items"]
    assert {item["id"]["S"].split("#")[0] for item in items} == {"test"}
    for item in items:
        remaining = int(item["expiration"]["N"]) - datetime.now(UTC).timestamp()
        assert DEDUPE_WINDOW_SECONDS - 60 < remaining <= DEDUPE_WINDOW_SECONDS


def test_a_string_key_and_a_mapping_key_are_both_accepted(table: Any) -> None:
    once, produce = idempotent(TABLE, key_prefix="test"), Produce()
    assert not once.run("arn:package/1", produce, context=LambdaContext()).duplicate
    assert once.run("arn:package/1", produce, context=LambdaContext()).duplicate
    assert produce.calls == 1


def test_a_failed_run_stores_nothing_so_the_retry_runs_again(table: Any) -> None:
    once = idempotent(TABLE, key_prefix="test")

    def fail() -> dict[str, Any]:
        raise TransientError("SNS throttled")

    with pytest.raises(TransientError, match="throttled"):
        once.run({"job": "a"}, fail, context=LambdaContext())
    assert table.scan(TableName=TABLE)["Items"] == []
    retried = once.run({"job": "a"}, Produce(), context=LambdaContext())
    assert (retried.duplicate, retried.result["call"]) == (False, 1)


def test_a_delivery_while_the_first_is_running_is_a_conflict(table: Any) -> None:
    once = idempotent(TABLE, key_prefix="test")
    concurrent: list[BaseException] = []

    def first() -> dict[str, Any]:
        try:
            once.run({"job": "a"}, Produce(), context=LambdaContext())
        except ConflictError as exc:
            concurrent.append(exc)
        return {"status": "done"}

    assert not once.run({"job": "a"}, first, context=LambdaContext()).duplicate
    assert len(concurrent) == 1


def test_an_unreachable_table_is_transient(aws: None) -> None:
    with pytest.raises(TransientError, match="idempotency table missing"):
        idempotent("missing", key_prefix="test").run({"job": "a"}, Produce(), context=LambdaContext())


def test_the_wrapper_is_built_once_per_table_prefix_and_client(aws: None) -> None:
    once = idempotent(TABLE, key_prefix="test")
    assert idempotent(TABLE, key_prefix="test") is once
    assert idempotent(TABLE, key_prefix="other") is not once
    clients.reset()  # new shared clients (e.g. another endpoint): a new wrapper on them
    assert idempotent(TABLE, key_prefix="test") is not once


def test_a_sagemaker_arn_in_any_case_is_one_key_and_the_account_prefix_is_kept(table: Any) -> None:
    once, produce = idempotent(TABLE, key_prefix="test"), Produce()
    group = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/"
    # WHEN a group ARN arrives upper-cased (as a user typed it), then as SageMaker spells it, as the key or in it
    runs = [
        once.run(key, produce, context=LambdaContext())
        for key in (f"{group}Fraud-Detector", f"{group}fraud-detector", {"group": f"{group}FRAUD-detector"})
    ]
    # THEN the two plain keys are one (the map is another key); names and statuses are not ARNs and keep their case
    assert [r.duplicate for r in runs] == [False, True, False]
    assert produce.calls == 2
    assert canonical_key({"group": f"{group}Fraud", "status": "Failed"}) == {
        "group": f"{group}fraud",
        "status": "Failed",
    }
    # AND only the resource part is SageMaker's to lower-case: the partition, region and account are kept as written
    assert canonical_arn("arn:AWS:sagemaker:US-EAST-1:123456789012:pipeline/Train") == (
        "arn:AWS:sagemaker:US-EAST-1:123456789012:pipeline/train"
    )
    assert canonical_arn("arn:aws:s3:::Bucket/Key") == "arn:aws:s3:::Bucket/Key"
    assert canonical_arn("Fraud-Detector") == "Fraud-Detector"
