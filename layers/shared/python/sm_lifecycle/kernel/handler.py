"""The Lambda handler factory: every function's ``app.py`` names its domain entry point, its events and its metrics.

    lambda_handler = make_handler(deploy, events=DEPLOY_EVENTS, metrics={"updated": "EndpointUpdates"})

The handler it makes does, once for every function:

- Powertools Logger (the correlation id is the EventBridge event ``id``), Metrics (flushed by ``log_metrics``) and
  Tracer (patching botocore only: every AWS call is a subsegment, and nothing else is imported for tracing);
- parsing: the raw event becomes one of ``events`` (by ``detail-type``), else ``InvalidEventError``; an event of
  another account than the function's (its ``invoked_function_arn``), or naming its resource by an ARN of another
  partition, region or account, is a ``ForeignEventError``;
- the error policy, below, around the entry point ``entry(event, context) -> dict``;
- one log line with the outcome, and one ``Count`` on the metric that ``metrics`` maps the outcome's ``status`` to.

The error policy (see ``sm_lifecycle.kernel.errors``):

- ``InvalidEventError`` (never succeeds on retry): logs an error naming the field, sends the event to the function's
  ``DEAD_LETTER_QUEUE_URL`` with Lambda's dead-letter attributes (``RequestID``, ``ErrorCode``, ``ErrorMessage``),
  publishes an alert with the reason, and RETURNS ``{"status": "invalid", "error": ..., "field": ...}`` so that Lambda
  does not retry. ``ConfigurationError`` (the stack's settings are wrong) is handled the same way, as
  ``{"status": "misconfigured", ...}``: the event waits in the queue to be redriven once the stack is fixed. If the
  dead-letter send itself fails, that error is re-raised (Lambda retries, then its own dead-letter queue keeps the
  event): nothing is lost silently. A failed alert is logged, not raised (the event is already in the queue, whose
  depth alarm alerts too).
- ``ForeignEventError`` (another account's, group's, pipeline's or endpoint's event): logged at info with the reason,
  returns ``{"status": "foreign", "reason": ..., "field": ...}``: no alert, no dead letter, no retry.
- ``ConflictError`` (someone else is already doing it): logged, returns ``{"status": "conflict", "reason": ...}``.
- ``TransientError`` and anything unexpected: logged and RE-RAISED, so Lambda retries (2 retries, then the function's
  dead-letter queue).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from sm_lifecycle.kernel.arns import canonical_arn
from sm_lifecycle.kernel.errors import (
    ConfigurationError,
    ConflictError,
    ForeignEventError,
    InvalidEventError,
    TransientError,
)
from sm_lifecycle.kernel.events import ModelPackageStateChangeEvent, SageMakerEvent, parse_one_of
from sm_lifecycle.kernel.notify import Severity, dead_letter, publish_alert
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.kernel.text import LOG_TEXT, clean, clean_all

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = [
    "POLICY_METRICS",
    "Handler",
    "check_account",
    "check_resource_arns",
    "count_outcome",
    "make_handler",
    "registry_account",
    "with_error_policy",
]

logger = Logger()

Outcome = dict[str, Any]
Handler = Callable[[dict[str, Any], "LambdaContext"], Outcome]

POLICY_METRICS: Mapping[str, str] = {
    "invalid": "InvalidEvents",
    "misconfigured": "Misconfigured",
    "foreign": "ForeignEventsIgnored",
}
"""Metrics of the error policy's own outcomes; a function's ``metrics`` may rename them."""


class MetricSink(Protocol):
    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None: ...


def make_handler[E: SageMakerEvent](
    entry: Callable[[E, LambdaContext], Outcome],
    *,
    events: Sequence[type[E]],
    metrics: Mapping[str, str],
) -> Handler:
    """The Lambda handler of a function whose domain entry point is ``entry`` (see the module docstring)."""
    sink = Metrics()
    tracer = Tracer(patch_modules=("botocore",))
    names = {**POLICY_METRICS, **metrics}

    @with_error_policy
    def handle(event: dict[str, Any], context: LambdaContext) -> Outcome:
        parsed = parse_one_of(event, events)
        check_account(parsed, context)
        check_resource_arns(parsed, context)
        return entry(parsed, context)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
    @tracer.capture_lambda_handler
    @sink.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Outcome:
        outcome = handle(event, context)
        logger.info(f"handled: {clean(outcome.get('status'), LOG_TEXT)}", extra={"outcome": clean_all(outcome)})
        return count_outcome(sink, outcome, names)

    return lambda_handler


def with_error_policy(handler: Handler) -> Handler:
    """Wrap ``handler(event, context) -> dict`` with the package's error policy (see the module docstring)."""

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: LambdaContext) -> Outcome:
        try:
            return handler(event, context)
        except InvalidEventError as exc:
            return reject(event, context, exc, status="invalid", field=exc.field)
        except ConfigurationError as exc:
            return reject(event, context, exc, status="misconfigured", field=None)
        except ForeignEventError as exc:
            reason, field = clean(exc, LOG_TEXT), clean(exc.field, LOG_TEXT) or None
            logger.info("ignored: the event is not about this stack's resources", extra={"reason": reason})
            return {"status": "foreign", "reason": reason, "field": field}
        except ConflictError as exc:
            reason = clean(exc, LOG_TEXT)
            logger.info("conflict: another actor holds the resource", extra={"reason": reason})
            return {"status": "conflict", "reason": reason}
        except TransientError as exc:
            logger.warning("transient error: Lambda will retry", extra={"error": clean(exc, LOG_TEXT)})
            raise
        except Exception:
            logger.exception("unexpected error: Lambda will retry")
            raise

    return wrapper


def _own_arn(context: object) -> list[str] | None:
    """The parts of the function's own ARN (``arn:partition:lambda:region:account:...``), None when the context has
    none: where the function runs is what its events must be about."""
    arn = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    return arn if len(arn) > 4 and arn[0] == "arn" and all(arn[1:2] + arn[3:5]) else None


def registry_account() -> str:
    """The account of the model registry the stack deploys from (``REGISTRY_ACCOUNT_ID``; empty: its own)."""
    return os.environ.get("REGISTRY_ACCOUNT_ID", "").strip()


def _accounts_of(event: SageMakerEvent, own: str) -> tuple[str, ...]:
    """The accounts ``event`` may come from: the function's own, and for a model package event the registry's
    (a deployment account receives the registry's package events, forwarded by its bus)."""
    registry = registry_account()
    if registry and registry != own and isinstance(event, ModelPackageStateChangeEvent):
        return own, registry
    return (own,)


def check_account(event: SageMakerEvent, context: object) -> None:
    """``ForeignEventError`` when ``event`` comes from another account than the function's own (the account of its
    ``invoked_function_arn``; unchecked when the context has none), or, for a model package event, than the
    registry's (``REGISTRY_ACCOUNT_ID``)."""
    arn = _own_arn(context)
    own = arn[4] if arn else ""
    if own and event.account not in _accounts_of(event, own):
        raise ForeignEventError(
            f"event of account {event.account!r}, not this stack's account {own!r} (nor its registry's)",
            field="account",
        )


_RESOURCE_ARNS = {  # the ARNs of the resource an event is about, by the alias SageMaker spells them with
    "ModelPackageArn": "model_package_arn",
    "pipelineArn": "pipeline_arn",
    "pipelineExecutionArn": "pipeline_execution_arn",
    "TrainingJobArn": "training_job_arn",
    "EndpointArn": "endpoint_arn",
}


def check_resource_arns(event: SageMakerEvent, context: object) -> None:
    """``ForeignEventError`` when an ARN naming the event's resource (``ModelPackageArn``, ``pipelineArn``,
    ``pipelineExecutionArn``, ``TrainingJobArn``, ``EndpointArn``) is not of the function's own partition, region
    and account (those of its ``invoked_function_arn``; unchecked when the context has none), spelled as AWS spells
    them: another account's, another partition's (``aws-cn``, ``aws-us-gov``) or an upper-cased ARN names no resource
    of this stack, and reading it would only be denied (a retry, not an answer); likewise a pipeline event whose
    ``pipelineExecutionArn`` is not an execution of its ``pipelineArn``."""
    arn = _own_arn(context)
    if arn is None:
        return
    registry = registry_account()
    for alias, name in _RESOURCE_ARNS.items():
        # a model package is the registry's (another account's for a deployment stack); the rest are the stack's
        accounts = (arn[4], registry) if alias == "ModelPackageArn" and registry else (arn[4],)
        owners = tuple(f"arn:{arn[1]}:sagemaker:{arn[3]}:{account}:" for account in accounts)
        value = getattr(event.detail, name, None)
        if isinstance(value, str) and value and not value.startswith(owners):
            raise ForeignEventError(
                f"{alias} {value!r} is not a resource of this stack's partition, region and account "
                f"({' or '.join(owners)}...)",
                field=f"detail.{alias}",
            )
    pipeline = getattr(event.detail, "pipeline_arn", None)
    execution = getattr(event.detail, "pipeline_execution_arn", None)
    # the rules pin pipelineArn to the stack's pipeline: an execution of another pipeline is not the stack's
    if (
        isinstance(pipeline, str)
        and isinstance(execution, str)
        and not canonical_arn(execution).startswith(canonical_arn(pipeline) + "/execution/")
    ):
        raise ForeignEventError(
            f"pipelineExecutionArn {execution!r} is not an execution of the event's pipeline {pipeline!r}",
            field="detail.pipelineExecutionArn",
        )


def count_outcome(metrics: MetricSink, outcome: Outcome, names: Mapping[str, str]) -> Outcome:
    """Add one ``Count`` to the metric that ``names`` maps the outcome's ``status`` to (if any); returns the outcome."""
    if name := names.get(str(outcome.get("status", ""))):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return outcome


@dataclass(frozen=True)
class _Rejection:
    kind: str  # the alert's ``kind`` attribute
    subject: str
    problem: str
    remedy: str


_REJECTIONS = {
    "invalid": _Rejection(
        "invalid-event",
        "invalid event dead-lettered",
        "received an event it cannot process",
        "Fix the event source or the function",
    ),
    "misconfigured": _Rejection(
        "misconfigured",
        "misconfigured, event dead-lettered",
        "is misconfigured and cannot process events",
        "Fix the stack's parameters",
    ),
}


def reject(event: object, context: LambdaContext, error: Exception, *, status: str, field: str | None) -> Outcome:
    """Log, dead-letter and alert an event that cannot succeed; the result tells Lambda it is done (no retry)."""
    detail_type = clean(event.get("detail-type"), LOG_TEXT) if isinstance(event, dict) else None
    event_id = clean(event.get("id"), LOG_TEXT) if isinstance(event, dict) else None
    reason, field = clean(error, LOG_TEXT), clean(field, LOG_TEXT) or None
    what = _REJECTIONS[status]
    logger.error(
        f"{status}: dead-lettered, not retried",
        extra={"field": field, "error": reason, "detail_type": detail_type, "event_id": event_id},
    )
    settings = Settings.from_env()
    function = _function_name(context)
    message_id = dead_letter(settings, event, error, request_id=getattr(context, "aws_request_id", None), field=field)
    lines = [
        f"{function} {what.problem}; the event was sent to its dead-letter queue and will not be retried.",
        "",
        f"Environment: {settings.environment}",
        f"Event: {detail_type or '?'} (id {event_id or '?'})",
        f"Field: {field or '?'}",
        f"Reason: {reason}",
        f"Dead-letter queue: {settings.dead_letter_queue_url}",
        "",
        f"{what.remedy}, then redrive the message from the dead-letter queue.",
    ]
    try:
        publish_alert(
            settings,
            subject=f"[{settings.environment}] {function}: {what.subject}",
            message="\n".join(lines),
            severity=Severity.ERROR,
            attributes={"kind": what.kind, "function": function},
        )
    except Exception:
        logger.exception(f"could not publish the {what.kind} alert (the event is in the dead-letter queue)")
    return {"status": status, "error": reason, "field": field, "dead_letter_message_id": message_id}


def _function_name(context: object) -> str:
    return getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "function"
