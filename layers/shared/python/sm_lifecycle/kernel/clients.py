"""AWS clients: created once per cold start, from one place, with retries configured once; and what AWS errors mean.

Endpoints come from standard configuration only (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``), which boto3
reads itself; nothing here knows about the local emulator.

Retries are configured here and only here (:data:`RETRY_CONFIG`): the code needs a single-attempt variant for
non-idempotent mutations, which environment variables cannot express, and the same configuration then applies
wherever the package's clients are made (Lambda, the local workers, tests, operator tools).

AWS error codes are interpreted here: :func:`is_transient` (one set of transient codes), :func:`is_not_found`, and
:func:`classify`, which adapters use to map an error to the package's taxonomy.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.errors import ConflictError, InvalidEventError, RefusedError, TransientError

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_s3.client import S3Client
    from types_boto3_sagemaker.client import SageMakerClient
    from types_boto3_sns.client import SNSClient
    from types_boto3_sqs.client import SQSClient

__all__ = [
    "RETRY_CONFIG",
    "TRANSIENT_CODES",
    "as_role",
    "classify",
    "client",
    "error_code",
    "error_message",
    "is_not_found",
    "is_transient",
    "reset",
]

# Standard retry mode (exponential backoff with jitter, retry quota), 5 retries after the first attempt.
RETRY_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)
_SINGLE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})

TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "OperationAborted",
    }
)
"""Error codes that mean "try again later" (throttling, service-side failures, timeouts), whatever the service."""

_NOT_FOUND = frozenset({"ResourceNotFound", "NoSuchKey", "NoSuchBucket", "404", "NotFound"})
_CONFLICT = frozenset({"ConflictException", "ResourceInUse", "ConditionalCheckFailedException"})


@overload
def client(service: Literal["sagemaker"], *, sdk_retries: bool = True) -> SageMakerClient: ...
@overload
def client(service: Literal["s3"], *, sdk_retries: bool = True) -> S3Client: ...
@overload
def client(service: Literal["sns"], *, sdk_retries: bool = True) -> SNSClient: ...
@overload
def client(service: Literal["sqs"], *, sdk_retries: bool = True) -> SQSClient: ...
@overload
def client(service: Literal["dynamodb"], *, sdk_retries: bool = True) -> DynamoDBClient: ...
@overload
def client(service: Literal["cloudwatch", "scheduler"], *, sdk_retries: bool = True) -> Any: ...
def client(service: str, *, sdk_retries: bool = True) -> Any:
    """The shared client of ``service`` (one per process, like a Lambda container).

    ``sdk_retries=False``: a client that tries once, for non-idempotent calls whose retry must go through the
    caller's own logic (e.g. ``UpdateEndpoint``: a retried call whose first attempt was applied updates twice).
    """
    return _client(service, sdk_retries)


@functools.cache
def _client(service: str, sdk_retries: bool) -> Any:
    config = RETRY_CONFIG if sdk_retries else RETRY_CONFIG.merge(_SINGLE_ATTEMPT)
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]  # service is a str


def as_role(service: Literal["sagemaker"], role_arn: str, *, session_name: str) -> SageMakerClient:
    """A client of ``service`` acting as ``role_arn`` (another account's role, e.g. the registry's): the role is
    assumed on the first request and again before its credentials expire (botocore's refreshable credentials). An
    ``AssumeRole`` that fails fails the request (``botocore.exceptions.ClientError``, for the caller to classify)."""
    return _role_client(service, role_arn, session_name[:64])  # type: ignore[no-any-return]


@functools.cache
def _role_client(service: str, role_arn: str, session_name: str) -> Any:
    core = botocore.session.get_session()
    core.get_component("credential_provider").insert_before("env", _AssumedRole(role_arn, session_name))
    return boto3.session.Session(botocore_session=core).client(service, config=RETRY_CONFIG)  # type: ignore[call-overload]


def _sts() -> Any:
    return _client("sts", True)


class _AssumedRole(CredentialProvider):
    METHOD = "sts-assume-role"

    def __init__(self, role_arn: str, session_name: str) -> None:
        super().__init__()
        self._role_arn, self._session_name = role_arn, session_name

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)

    def _fetch(self) -> dict[str, str]:
        found = _sts().assume_role(RoleArn=self._role_arn, RoleSessionName=self._session_name)
        credentials = found["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }


def reset() -> None:
    """Forget every cached client (tests that change the environment call this)."""
    _client.cache_clear()
    _role_client.cache_clear()


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", exc))
    return str(exc)


def is_transient(exc: BaseException) -> bool:
    """True when retrying may succeed: botocore's own errors (network, timeouts), a transient code, 429 or 5xx."""
    if isinstance(exc, BotoCoreError):
        return True
    if not isinstance(exc, ClientError):
        return False
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return error_code(exc) in TRANSIENT_CODES or status >= 500 or status == 429


def is_not_found(exc: BaseException) -> bool:
    """True for AWS's ways of saying "no such resource" (SageMaker says it with a ValidationException)."""
    code = error_code(exc)
    if code in _NOT_FOUND:
        return True
    message = error_message(exc).lower()
    return code == "ValidationException" and ("does not exist" in message or "could not find" in message)


def classify(exc: BaseException, *, what: str) -> Exception:
    """Map a botocore error to the package's taxonomy (call as ``raise classify(e, what=...) from e``).

    Transient → ``TransientError``: ``RefusedError`` when the service answered (a throttling code, 429, a 5xx: the
    request was refused, not applied), plain for botocore's own errors (a timeout, a lost connection: the request may
    have been applied); not found → ``InvalidEventError``; in progress or a failed condition →
    ``ConflictError``; anything else → ``TransientError`` (Lambda retries, then the dead-letter queue keeps it).
    """
    if isinstance(exc, BotoCoreError):
        return TransientError(f"{what}: {exc}")
    code = error_code(exc)
    message = error_message(exc)
    if is_transient(exc):
        return RefusedError(f"{what}: {code}: {message}")
    if is_not_found(exc):
        return InvalidEventError(f"{what}: not found: {message}")
    if code == "ValidationException" and "in-progress" in message.lower():
        return ConflictError(f"{what}: {message}")
    if code in _CONFLICT:
        return ConflictError(f"{what}: {code}: {message}")
    return TransientError(f"{what}: {code}: {message}")
