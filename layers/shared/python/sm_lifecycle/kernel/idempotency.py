"""At most once per key: Powertools idempotency on the stack's DynamoDB table, built once per cold start.

    once = idempotent(settings.idempotency_table_name, key_prefix="promote")
    recorded = once.run({"package": arn}, lambda: judge(arn), context=context)
    recorded.result, recorded.duplicate

A key is canonical before it is hashed: every SageMaker ARN in it is spelled as SageMaker spells it
(:func:`~sm_lifecycle.kernel.arns.canonical_arn`), so an event naming ``model-package/Fraud/3`` and one naming
``model-package/fraud/3`` are the same delivery.

``run`` calls ``produce`` for the first delivery of ``key`` and stores its (JSON) result; a later delivery of the same
key within :data:`DEDUPE_WINDOW_SECONDS` gets the stored result back without calling it, told apart by
``IdempotencyConfig.response_hook`` (which Powertools calls only for a stored result). A delivery that arrives while
the first is still running raises ``ConflictError`` (a normal outcome); a ``produce`` that raises stores nothing, so
Lambda's retry runs it again; an unreachable table raises ``TransientError``.

The persistence layer and the configuration are made once per table, key prefix and DynamoDB client (so once per
Lambda container; tests that reset the shared clients get new ones).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.arns import canonical_arn
from sm_lifecycle.kernel.errors import ConflictError, TransientError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from types_boto3_dynamodb.client import DynamoDBClient

__all__ = ["DEDUPE_WINDOW_SECONDS", "Idempotent", "Recorded", "canonical_key", "idempotent"]

DEDUPE_WINDOW_SECONDS = 6 * 3600
"""How long a key is remembered: the functions' MaximumEventAgeInSeconds (template.yaml), the longest an event (or a
retry of it) can still arrive."""

Result = dict[str, Any]
Key = str | Mapping[str, str]


@dataclass(frozen=True)
class Recorded:
    """What :meth:`Idempotent.run` returns: the result, and whether it is the stored result of an earlier run."""

    result: Result
    duplicate: bool


def canonical_key(key: Key) -> Key:
    """``key`` with each SageMaker ARN (the key, or a value of it) in SageMaker's spelling."""
    if isinstance(key, str):
        return canonical_arn(key)
    return {name: canonical_arn(value) for name, value in key.items()}


class _Stored(dict[str, Any]):
    """A stored result handed back by Powertools for a duplicate (marked by the response hook)."""


def _mark_stored(response: Any, idempotent_data: DataRecord) -> _Stored:
    return _Stored(response or {})


class Idempotent:
    """Runs a function at most once per key (see the module docstring)."""

    def __init__(self, table_name: str, key_prefix: str, dynamodb: DynamoDBClient) -> None:
        self.table_name = table_name
        self._config = IdempotencyConfig(expires_after_seconds=DEDUPE_WINDOW_SECONDS, response_hook=_mark_stored)
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
        self._once = idempotent_function(
            data_keyword_argument="key", persistence_store=persistence, config=self._config, key_prefix=key_prefix
        )(self._produce)

    @staticmethod
    def _produce(*, key: Key, produce: Callable[[], Result]) -> Result:
        return produce()

    def run(self, key: Key, produce: Callable[[], Result], *, context: LambdaContext | None) -> Recorded:
        """``produce()`` once per ``key`` (its JSON is hashed into the record's id); see the module docstring."""
        # an in-progress record of a run that dies with its invocation expires with the invocation, not the window
        if context is None:
            self._config.lambda_context = None
        else:
            self._config.register_lambda_context(context)
        try:
            result = self._once(key=canonical_key(key), produce=produce)
        except IdempotencyAlreadyInProgressError as exc:
            raise ConflictError(f"{key} is being handled by another invocation") from exc
        except IdempotencyPersistenceLayerError as exc:
            raise TransientError(f"idempotency table {self.table_name}: {exc}") from exc
        return Recorded(dict(result), duplicate=isinstance(result, _Stored))


def idempotent(table_name: str, *, key_prefix: str) -> Idempotent:
    """The :class:`Idempotent` of ``table_name`` and ``key_prefix`` on the shared DynamoDB client, made once."""
    return _idempotent(table_name, key_prefix, clients.client("dynamodb"))


@functools.cache
def _idempotent(table_name: str, key_prefix: str, dynamodb: DynamoDBClient) -> Idempotent:
    return Idempotent(table_name, key_prefix, dynamodb)
