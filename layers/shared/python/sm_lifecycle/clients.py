"""AWS clients: created once per cold start, from one place, with retries configured once.

Endpoints come from standard configuration only (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``), which boto3
reads itself; nothing here knows about the local emulator.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.errors import ConflictError, InvalidEventError, TransientError

SINGLE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})
RETRY_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)

_THROTTLING = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
    "RequestTimeout",
}
_NOT_FOUND = {"ResourceNotFound", "NoSuchKey", "NoSuchBucket", "404", "NotFound"}


@functools.cache
def client(service: str, *, sdk_retries: bool = True) -> Any:
    """The shared client of ``service`` (one per process, like a Lambda container).

    ``sdk_retries=False``: a client that tries once, for non-idempotent calls whose retry must go through the
    caller's own logic (e.g. ``UpdateEndpoint``: a retried call whose first attempt was applied updates twice).
    """
    config = RETRY_CONFIG if sdk_retries else RETRY_CONFIG.merge(SINGLE_ATTEMPT)
    return boto3.session.Session().client(service, config=config)


def reset() -> None:
    """Forget every cached client (tests that change the environment call this)."""
    client.cache_clear()


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", exc))
    return str(exc)


def is_not_found(exc: BaseException) -> bool:
    """True for AWS's ways of saying "no such resource" (SageMaker says it with a ValidationException)."""
    code = error_code(exc)
    if code in _NOT_FOUND:
        return True
    message = error_message(exc).lower()
    return code == "ValidationException" and ("does not exist" in message or "could not find" in message)


def classify(exc: BaseException, *, what: str) -> Exception:
    """Map a botocore error to the package's taxonomy (call as ``raise classify(e, what=...) from e``)."""
    if isinstance(exc, BotoCoreError):
        return TransientError(f"{what}: {exc}")
    code = error_code(exc)
    message = error_message(exc)
    if code in _THROTTLING:
        return TransientError(f"{what}: {code}: {message}")
    if is_not_found(exc):
        return InvalidEventError(f"{what}: not found: {message}")
    if code == "ValidationException" and "in-progress" in message.lower():
        return ConflictError(f"{what}: {message}")
    if code in {"ConflictException", "ResourceInUse", "ConditionalCheckFailedException"}:
        return ConflictError(f"{what}: {code}: {message}")
    return TransientError(f"{what}: {code}: {message}")
