"""Alerts on pipeline executions that failed, stopped or completed with failures, failed pipeline steps and failed or
stopped training jobs.

Events are hints: an event names the execution, step or training job to look at, and the alert's facts come from
SageMaker (:mod:`sm_lifecycle.alerting.facts`):

- a pipeline execution: ``DescribePipelineExecution`` gives its status, ``FailureReason``, display name,
  description, creation and last modification times (started / ended: the API has no other);
  ``ListPipelineExecutionSteps`` gives its failed steps and their reasons;
- a failed step: ``ListPipelineExecutionSteps`` of its execution must show that step ``Failed``, with its reason and
  job;
- a training job: ``DescribeTrainingJob`` gives its status, ``FailureReason``, secondary status and transitions,
  stopping condition, resources and Spot (capacity shortages and interruptions are called out as such).

No alert is sent when SageMaker does not confirm the failure: the resource does not exist, or its status is not the
event's (a forged or stale event is not a failure of ours): a warning is logged and the result is ``ignored``, with
no dead letter. When SageMaker cannot be asked (e.g. ``AccessDenied``), the alert still goes out, saying so;
throttling and 5xx raise ``TransientError`` (Lambda retries).

One SNS message per failure, whatever SageMaker and EventBridge deliver: duplicates are suppressed on WHAT CHANGED,
not on the event id (SageMaker may send several events, with different ids, for one change). The kernel's
idempotency (Powertools, DynamoDB table ``IDEMPOTENCY_TABLE_NAME``) records the key of each alert published
(:func:`~sm_lifecycle.alerting.model.dedupe_key`: the resource and the status SageMaker reports), and a second alert
with the same key within ``DEDUPE_WINDOW_SECONDS`` is not sent. A training job is its own resource: its alert is
separate from the alert of the pipeline execution that launched it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.alerting.facts import Reads, execution_failure, step_failure, training_job_failure
from sm_lifecycle.alerting.message import pipeline_alert, training_job_alert
from sm_lifecycle.alerting.model import (
    Alert,
    AlertEvent,
    PipelineFailure,
    TrainingJobFailure,
    Unconfirmed,
    claimed_status,
    dedupe_key,
    status_of,
)
from sm_lifecycle.kernel.clients import error_code, error_message
from sm_lifecycle.kernel.errors import ForeignEventError, TransientError
from sm_lifecycle.kernel.events import PipelineExecutionStatusChangeEvent, PipelineStepStatusChangeEvent
from sm_lifecycle.kernel.idempotency import Idempotent
from sm_lifecycle.kernel.notify import publish_alert
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.kernel.text import LOG_TEXT, clean

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["KEY_PREFIX", "Reads", "alert_for", "alert_on_event", "build_alert", "failure_of"]

logger = Logger(child=True)

KEY_PREFIX = "sm-lifecycle-alert"


def alert_on_event(
    event: AlertEvent, settings: Settings, reads: Reads, once: Idempotent, *, context: LambdaContext | None
) -> dict[str, Any]:
    """Publish the alert that ``event`` calls for, once per failure. Returns the outcome:

    ``{"status": "published", "key": ..., "message_id": ..., "subject": ...}``, ``{"status": "duplicate", ...}``
    (an alert for the same failure already went out) or ``{"status": "ignored", "reason": ...}`` (nothing failed, or
    SageMaker does not confirm the failure). Raises ``ForeignEventError`` (ignored) for another pipeline's events;
    ``ConflictError`` while a concurrent invocation is publishing the alert of the same change (nothing left to do);
    ``TransientError`` when SageMaker throttles or fails, publishing fails or the idempotency table cannot be reached
    (Lambda retries).
    """
    _check_pipeline(event, settings)
    if claimed_status(event) is None:
        return {"status": "ignored", "reason": f"{status_of(event)} needs no alert"}
    try:
        failure = failure_of(event, reads)
    except Unconfirmed as exc:
        reason = clean(exc, LOG_TEXT)
        logger.warning("SageMaker does not confirm the event's failure: no alert", extra={"reason": reason})
        return {"status": "ignored", "reason": reason}
    _check_job_role(failure, settings)
    key = dedupe_key(failure)

    def publish() -> dict[str, Any]:
        alert = alert_for(failure, settings)
        try:
            message_id = publish_alert(settings, alert.subject, alert.message, alert.severity, alert.attributes)
        except (BotoCoreError, ClientError) as exc:
            # Whatever the cause (throttling, a missing topic, permissions), retrying is the way not to lose the
            # alert: Lambda retries, then keeps the event in the dead-letter queue, whose alarm reaches a human.
            detail = f"{error_code(exc)}: " if error_code(exc) else ""
            raise TransientError(f"publish alert: {detail}{error_message(exc)}") from exc
        logger.info("alert published", extra={"key": key, "message_id": message_id, "subject": alert.subject})
        return {"status": "published", "key": key, "message_id": message_id, "subject": alert.subject}

    recorded = once.run(key, publish, context=context)
    if not recorded.duplicate:
        return recorded.result
    logger.info("duplicate of an alert already published: suppressed", extra={"key": key})
    return {**recorded.result, "status": "duplicate", "key": key}


def _check_pipeline(event: AlertEvent, settings: Settings) -> None:
    if isinstance(event, PipelineExecutionStatusChangeEvent | PipelineStepStatusChangeEvent):
        name = event.detail.pipeline_name
        if name.lower() not in {watched.lower() for watched in settings.watched_pipelines}:
            raise ForeignEventError(
                f"detail.pipelineArn: event of pipeline {name!r}, this stack watches "
                f"{' and '.join(repr(w) for w in settings.watched_pipelines)}",
                field="detail.pipelineArn",
            )


def _check_job_role(failure: PipelineFailure | TrainingJobFailure, settings: Settings) -> None:
    """A training job is this stack's when SageMaker says it runs as the stack's job role (the rule matched the
    event's ``RoleArn``, which an event can say of any job)."""
    expected = settings.job_role_arn
    if not isinstance(failure, TrainingJobFailure) or not expected or not failure.role_arn:
        return
    if failure.role_arn != expected:
        raise ForeignEventError(
            f"training job {failure.name!r} runs as {failure.role_arn!r}, not this stack's job role {expected!r}",
            field="detail.TrainingJobName",
        )


def failure_of(event: AlertEvent, reads: Reads) -> PipelineFailure | TrainingJobFailure:
    """What SageMaker says of the failure ``event`` points at; ``Unconfirmed`` if SageMaker does not confirm it."""
    if isinstance(event, PipelineExecutionStatusChangeEvent):
        return execution_failure(event, reads)
    if isinstance(event, PipelineStepStatusChangeEvent):
        return step_failure(event, reads)
    return training_job_failure(event, reads)


def alert_for(failure: PipelineFailure | TrainingJobFailure, settings: Settings) -> Alert:
    if isinstance(failure, PipelineFailure):
        return pipeline_alert(failure, settings)
    return training_job_alert(failure, settings)


def build_alert(event: AlertEvent, settings: Settings, reads: Reads) -> Alert:
    """The alert for ``event``, from what SageMaker (``reads``) says of it; ``Unconfirmed`` if it does not."""
    return alert_for(failure_of(event, reads), settings)
