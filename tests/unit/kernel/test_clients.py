"""What AWS errors mean: one transient classifier, and the taxonomy adapters map errors to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.clients import TRANSIENT_CODES, classify, is_not_found, is_transient
from sm_lifecycle.kernel.errors import ConflictError, InvalidEventError, RefusedError, TransientError


def error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Operation"
    )


@pytest.mark.parametrize("code", sorted(TRANSIENT_CODES))
def test_every_transient_code_is_transient_whatever_the_status(code: str) -> None:
    assert is_transient(error(code, status=400))
    assert isinstance(classify(error(code), what="call"), RefusedError)  # answered: the request was not applied


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_statuses_are_transient_whatever_the_code(status: int) -> None:
    assert is_transient(error("SomethingNew", status=status))
    assert isinstance(classify(error("SomethingNew", status=status), what="call"), RefusedError)


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="https://sagemaker.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://s3.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://sns.amazonaws.com"),
    ],
    ids=type,
)
def test_network_errors_are_transient(exc: Exception) -> None:
    assert is_transient(exc)
    classified = classify(exc, what="call")
    # no answer: the request may have been applied, so it is not a refusal
    assert isinstance(classified, TransientError) and not isinstance(classified, RefusedError)


@pytest.mark.parametrize(
    "exc",
    [
        error("AccessDenied", status=403),
        error("ValidationException", "bad request"),
        error("InvalidTag", status=400),
        error("NoSuchKey", status=404),
        RuntimeError("bug"),
    ],
    ids=repr,
)
def test_client_errors_and_bugs_are_not_transient(exc: Exception) -> None:
    assert not is_transient(exc)


def test_not_found_is_an_invalid_event_and_sagemaker_says_it_with_a_validation_exception() -> None:
    gone = error("ValidationException", "Model package arn:...:model-package/g/9 does not exist.")
    assert is_not_found(gone) and is_not_found(error("NoSuchKey", status=404))
    assert not is_not_found(error("ValidationException", "bad request"))
    classified = classify(gone, what="DescribeModelPackage")
    assert isinstance(classified, InvalidEventError)
    assert str(classified).startswith("DescribeModelPackage: not found:")


@pytest.mark.parametrize(
    "exc",
    [
        error("ValidationException", "Cannot update in-progress endpoint"),
        error("ConditionalCheckFailedException"),
        error("ResourceInUse"),
        error("ConflictException", status=409),
    ],
    ids=repr,
)
def test_someone_else_holding_the_resource_is_a_conflict(exc: ClientError) -> None:
    assert isinstance(classify(exc, what="call"), ConflictError)


def test_anything_unknown_is_retried() -> None:
    classified = classify(error("AccessDenied", "no", status=403), what="PutObjectTagging")
    assert isinstance(classified, TransientError) and not isinstance(classified, RefusedError)
    assert str(classified) == "PutObjectTagging: AccessDenied: no"


class CountingSts:
    """STS issuing credentials that expire ``lifetime`` after each AssumeRole; the calls it got."""

    def __init__(self, lifetime: timedelta) -> None:
        self.lifetime = lifetime
        self.calls: list[dict[str, str]] = []

    def assume_role(self, **request: str) -> dict[str, Any]:
        self.calls.append(request)
        n = len(self.calls)
        expiration = datetime.now(UTC) + self.lifetime
        keys = {"AccessKeyId": f"ASIA{n:016d}", "SecretAccessKey": f"secret-{n}", "SessionToken": f"token-{n}"}
        return {"Credentials": {**keys, "Expiration": expiration}}


ROLE = "arn:aws:iam::123456789012:role/sagemaker-lifecycle-dev-drift-retrain"


@pytest.fixture
def sts(aws: None, monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], CountingSts]:
    def install(lifetime: timedelta) -> CountingSts:
        fake = CountingSts(lifetime)
        monkeypatch.setattr(clients, "_sts", lambda: fake)
        return fake

    return install


def signing_key(sagemaker: Any) -> str:
    """The access key a request of ``sagemaker`` is signed with now."""
    return str(sagemaker._request_signer._credentials.get_frozen_credentials().access_key)


def test_a_role_is_assumed_on_first_use_and_its_credentials_kept_while_they_last(sts: Any) -> None:
    fake = sts(timedelta(hours=1))
    sagemaker = clients.as_role("sagemaker", ROLE, session_name="drift-retrain-fraud-detector-prod")
    assert fake.calls == []  # nothing assumed until a request needs it
    sagemaker.list_pipelines()
    sagemaker.list_pipelines()
    assert fake.calls == [{"RoleArn": ROLE, "RoleSessionName": "drift-retrain-fraud-detector-prod"}]
    assert signing_key(sagemaker) == "ASIA0000000000000001"
    # the same client for the same role and session (one per container, like the shared clients)
    assert clients.as_role("sagemaker", ROLE, session_name="drift-retrain-fraud-detector-prod") is sagemaker


def test_a_role_whose_credentials_are_about_to_expire_is_assumed_again(sts: Any) -> None:
    fake = sts(timedelta(minutes=5))  # inside botocore's mandatory refresh window (10 minutes)
    sagemaker = clients.as_role("sagemaker", ROLE, session_name="s" * 80)
    sagemaker.list_pipelines()
    sagemaker.list_pipelines()
    assert len(fake.calls) == 2  # each request found the credentials expiring, and assumed the role again
    assert fake.calls[0]["RoleSessionName"] == "s" * 64  # STS's limit
