"""The error taxonomy applied at the edge of every function (see ``sm_lifecycle.errors``).

Decorate the function's own handler, inside the Powertools decorators::

    logger = Logger()
    tracer = Tracer()

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
    @tracer.capture_lambda_handler
    @lifecycle_handler
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        change = parse_event(event, ModelPackageStateChangeEvent)   # InvalidEventError if malformed
        return deploy.reconcile(Settings.from_env(), change)       # returns a dict: the outcome

What the wrapper does with what the handler raises:

- ``InvalidEventError`` (never succeeds on retry): logs an error naming the field, sends the event to the function's
  ``DEAD_LETTER_QUEUE_URL`` with Lambda's dead-letter attributes (``RequestID``, ``ErrorCode``, ``ErrorMessage``),
  publishes an alert with the reason, and RETURNS ``{"status": "invalid", "error": ..., "field": ...}`` so that Lambda
  does not retry. If the dead-letter send itself fails, that error is re-raised (Lambda retries, then its own
  dead-letter queue keeps the event): nothing is lost silently. A failed alert is logged, not raised (the event is
  already in the queue, whose depth alarm alerts too).
- ``ConflictError`` (someone else is already doing it): logged, returns ``{"status": "conflict", "reason": ...}``.
- ``TransientError`` and anything unexpected: logged and RE-RAISED, so Lambda retries (2 retries, then the function's
  dead-letter queue).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit

from sm_lifecycle.errors import ConflictError, InvalidEventError, TransientError
from sm_lifecycle.notify import Severity, dead_letter, publish_alert
from sm_lifecycle.settings import Settings

__all__ = ["Handler", "lifecycle_handler", "reject_invalid_event"]

logger = Logger()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _function_name(context: Any) -> str:
    return getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "function"


def reject_invalid_event(event: Any, context: Any, error: InvalidEventError) -> dict[str, Any]:
    """Log, dead-letter and alert an invalid event; the result tells Lambda the invocation is done (no retry)."""
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    event_id = event.get("id") if isinstance(event, dict) else None
    logger.error(
        "invalid event: dead-lettered, not retried",
        extra={"field": error.field, "error": str(error), "detail_type": detail_type, "event_id": event_id},
    )
    settings = Settings.from_env()
    function = _function_name(context)
    message_id = dead_letter(settings, event, error, request_id=getattr(context, "aws_request_id", None))
    try:
        publish_alert(
            settings,
            subject=f"[{settings.environment}] {function}: invalid event dead-lettered",
            message="\n".join(
                [
                    f"{function} received an event it cannot process; it was sent to its dead-letter queue and will "
                    "not be retried.",
                    "",
                    f"Environment: {settings.environment}",
                    f"Event: {detail_type or '?'} (id {event_id or '?'})",
                    f"Field: {error.field or '?'}",
                    f"Reason: {error}",
                    f"Dead-letter queue: {settings.dead_letter_queue_url}",
                    "",
                    "Fix the event source or the function, then redrive the message from the dead-letter queue.",
                ]
            ),
            severity=Severity.ERROR,
            attributes={"kind": "invalid-event", "function": function},
        )
    except Exception:
        logger.exception("could not publish the invalid-event alert (the event is in the dead-letter queue)")
    return {"status": "invalid", "error": str(error), "field": error.field, "dead_letter_message_id": message_id}


def lifecycle_handler(handler: Handler) -> Handler:
    """Wrap ``handler(event, context) -> dict`` with the package's error taxonomy (see the module docstring)."""

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return handler(event, context)
        except InvalidEventError as exc:
            return reject_invalid_event(event, context, exc)
        except ConflictError as exc:
            logger.info("conflict: another actor holds the resource", extra={"reason": str(exc)})
            return {"status": "conflict", "reason": str(exc)}
        except TransientError as exc:
            logger.warning("transient error: Lambda will retry", extra={"error": str(exc)})
            raise
        except Exception:
            logger.exception("unexpected error: Lambda will retry")
            raise

    return wrapper


def count_outcome(metrics: Any, outcome: dict[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Add one ``Count`` to the metric that ``names`` maps the outcome's ``status`` to (if any); returns the outcome."""
    if name := names.get(str(outcome.get("status", ""))):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return outcome
