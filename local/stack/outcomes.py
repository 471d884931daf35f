"""What happens once an asynchronous invocation is over, as Lambda does it: metrics for every attempt; for the
last one, the dead-letter queue or the destinations, and the invocation's record. An event that ended without
success is counted once as ``AsyncEventsDropped`` (and ``DeadLetterErrors`` when its dead-letter send failed),
whatever the number of attempts; ``Errors`` counts every failed attempt, including those a retry fixed.

A discarded event goes to the function's dead-letter queue (SQS message or SNS notification whose body is the event
and whose message attributes are ``RequestID``, ``ErrorCode`` (200) and ``ErrorMessage``, its first 1 KB) and to
the ``OnFailure`` destination if one is configured; a successful one to ``OnSuccess``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from local.stack.alarms import AlarmEmulator
from local.stack.event_queues import EventQueues, InFlight
from local.stack.functions import FunctionSpec, LambdaResources
from local.stack.invoker import Invocation

logger = logging.getLogger(__name__)

ERROR_MESSAGE_LIMIT = 1024  # Lambda puts the first 1 KB of the error message in the DLQ message attribute
_CONDITIONS = {"ok": "Success", "expired": "EventAgeExceeded"}  # else RetriesExhausted


class InvocationOutcomes:
    """Finishes the invocations of a stack's functions; ``records`` holds one record per finished invocation."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        role_clients: Callable[[FunctionSpec], Callable[[str], Any]],
        lambdas: LambdaResources,
        queues: EventQueues,
        alarms: AlarmEmulator,
        inflight: InFlight,
        stopping: threading.Event,
    ) -> None:
        self.client = client
        self.role_clients = role_clients  # Lambda sends to DLQs and destinations as the function's role
        self.lambdas = lambdas
        self.queues = queues
        self.alarms = alarms
        self.inflight = inflight
        self.stopping = stopping
        self.records: list[dict[str, Any]] = []

    def attempted(self, spec: FunctionSpec, ok: bool, duration_ms: float) -> None:
        """The ``AWS/Lambda`` metrics of one attempt."""
        self.alarms.lambda_datapoint(spec.name, error=not ok)
        dimensions = [{"Name": "FunctionName", "Value": spec.name}]
        with contextlib.suppress(Exception):
            self.client("cloudwatch").put_metric_data(
                Namespace="AWS/Lambda",
                MetricData=[
                    {"MetricName": "Invocations", "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"},
                    {"MetricName": "Errors", "Dimensions": dimensions, "Value": 0.0 if ok else 1.0, "Unit": "Count"},
                    {"MetricName": "Duration", "Dimensions": dimensions, "Value": duration_ms, "Unit": "Milliseconds"},
                ],
            )

    def finished(self, spec: FunctionSpec, invocation: Invocation, status: str, result: Any) -> None:
        """``status``: "ok" | "failed" (retries exhausted) | "expired" (too old) | "error" (the runtime failed)."""
        try:
            if self.stopping.is_set():  # an attempt cut short by stop(): the stack and its AWS are going away
                return
            error = invocation.last_error or {}
            if status == "expired" and not error:
                error = {"errorType": "EventAgeExceeded", "errorMessage": "event older than MaximumEventAgeInSeconds"}
            outcome = "ok" if status == "ok" else self._failed(spec, invocation, error, status)
            if status == "ok":
                self._destination(spec.on_success_arn, spec, invocation, result, status)
            self.records.append(_record(spec, invocation, outcome, error, result))
        finally:
            self.inflight.end()

    def _failed(self, spec: FunctionSpec, invocation: Invocation, error: Mapping[str, Any], status: str) -> str:
        outcome = "dead-lettered" if self._dead_letter(spec, invocation, error) else "error"
        self._destination(spec.on_failure_arn, spec, invocation, error, status)
        self._dropped(spec, dead_letter_error=bool(spec.dead_letter_arn) and outcome != "dead-lettered")
        logger.warning(
            "%s: request %s (event %s) %s after %d attempt(s): %s",
            spec.logical_id,
            invocation.request_id,
            invocation.event_id,
            outcome,
            invocation.attempts,
            error.get("errorMessage"),
        )
        return outcome

    def _dropped(self, spec: FunctionSpec, *, dead_letter_error: bool) -> None:
        """The ``AWS/Lambda`` metrics of an event Lambda gave up on."""
        self.alarms.lambda_dropped(spec.name, dead_letter_error=dead_letter_error)
        dimensions = [{"Name": "FunctionName", "Value": spec.name}]
        data = [{"MetricName": "AsyncEventsDropped", "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"}]
        if dead_letter_error:
            data.append({"MetricName": "DeadLetterErrors", "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"})
        with contextlib.suppress(Exception):
            self.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=data)

    def _dead_letter(self, spec: FunctionSpec, invocation: Invocation, error: Mapping[str, Any]) -> bool:
        if not spec.dead_letter_arn:
            return False
        message = str(error.get("errorMessage", ""))[:ERROR_MESSAGE_LIMIT]
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message or "Unhandled"},
        }
        try:
            self._send(spec, spec.dead_letter_arn, json.dumps(invocation.event), attributes)
        except Exception:
            logger.exception(
                "%s: could not send request %s to its dead-letter queue", spec.logical_id, invocation.request_id
            )
            return False
        return True

    def _destination(
        self, arn: str | None, spec: FunctionSpec, invocation: Invocation, payload: Any, status: str
    ) -> None:
        if not arn:
            return
        record = {
            "version": "1.0",
            "timestamp": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": f"{spec.arn}:$LATEST",
                "condition": _CONDITIONS.get(status, "RetriesExhausted"),
                "approximateInvokeCount": invocation.attempts,
            },
            "requestPayload": invocation.event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": payload,
        }
        if status != "ok":
            record["responseContext"]["functionError"] = "Unhandled"
        try:
            self._send(spec, arn, json.dumps(record), {})
        except Exception:
            logger.exception("%s: could not deliver to destination %s", spec.logical_id, arn)

    def _send(self, spec: FunctionSpec, arn: str, body: str, attributes: dict[str, Any]) -> None:
        service = arn.split(":")[2]
        as_role = self.role_clients(spec)
        if service == "sqs":
            name, owner = arn.split(":")[5], arn.split(":")[4]
            url = self.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"]
            as_role("sqs").send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
        elif service == "sns":
            as_role("sns").publish(TopicArn=arn, Message=body, MessageAttributes=attributes)
        elif service == "lambda":
            self.queues.send(self.lambdas.by_name(arn.split(":")[6]), json.loads(body))
        elif service == "events":
            success = json.loads(body)["requestContext"]["condition"] == "Success"
            detail_type = "Lambda Function Invocation Result - " + ("Success" if success else "Failure")
            as_role("events").put_events(
                Entries=[{"Source": "lambda", "DetailType": detail_type, "Detail": body, "EventBusName": arn}]
            )
        else:
            raise ValueError(f"unsupported destination {arn}")


def _record(
    spec: FunctionSpec, invocation: Invocation, outcome: str, error: Mapping[str, Any], result: Any
) -> dict[str, Any]:
    return {
        "event_id": invocation.event_id,
        "function": spec.logical_id,
        "function_name": spec.name,
        "request_id": invocation.request_id,
        "outcome": outcome,
        "error": None if outcome == "ok" else error.get("errorMessage"),
        "error_type": None if outcome == "ok" else error.get("errorType"),
        "attempts": invocation.attempts,
        "result": result if outcome == "ok" else None,
    }
