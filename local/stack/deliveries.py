"""EventBridge delivering a rule's events to a function of the stack, as EventBridge does it for a Lambda target.

Semantics follow the EventBridge user guide ("Event retry policy and using dead-letter queues"): EventBridge invokes
the function asynchronously; when that call fails with a retryable error (``THROTTLING``: Lambda's
``TooManyRequestsException``) it retries, with exponential back-off, until the target's ``RetryPolicy`` runs out
(``MaximumRetryAttempts``, default 185; ``MaximumEventAgeInSeconds``, default 86,400); errors that retrying cannot
mend (``NO_PERMISSIONS``: no resource-based policy lets ``events.amazonaws.com`` invoke the function for this rule;
``NO_RESOURCE``: the function is gone) are not retried. An event that is not delivered goes to the target's
``DeadLetterConfig`` queue, if any (else it is dropped), whole, with the message attributes ``RULE_ARN``,
``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION`` (when the retry policy ran out) and
``RETRY_ATTEMPTS``. Each rule's ``AWS/Events`` metrics (``RuleName``): ``Invocations``, ``FailedInvocations``,
``RetryInvocationAttempts``, ``InvocationsSentToDLQ``, ``InvocationsFailedToBeSentToDLQ``.

Locally the rule's target is a queue of its own (:mod:`local.stack.rules`); delivering an event to the function is
handing it to the function's runner, which is where Lambda's asynchronous invocation starts. Failures come from the
function's permissions (the template's ``AWS::Lambda::Permission`` resources) and from faults a test injects
(:meth:`DeliveryFaults.inject`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local.stack.event_queues import InFlight
from local.stack.invoker import FunctionRunner, Invocation

logger = logging.getLogger(__name__)

DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE = 86_400
EVENTBRIDGE_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)  # back-off between attempts (the last repeats)
RETRYABLE = {"THROTTLING"}
ERROR_MESSAGES = {
    "THROTTLING": "Rate Exceeded. (Service: Lambda, Status Code: 429, TooManyRequestsException)",
    "NO_PERMISSIONS": "EventBridge is not authorized to invoke the function: no resource-based policy allows "
    "events.amazonaws.com to call lambda:InvokeFunction for this rule.",
    "NO_RESOURCE": "Function not found. (Service: Lambda, Status Code: 404, ResourceNotFoundException)",
}


@dataclass(frozen=True)
class RuleTarget:
    """One target of a rule that is a function of the stack, and the queue its events arrive on locally."""

    rule_name: str
    rule_arn: str
    target_id: str
    function: str  # logical id
    function_arn: str
    queue_url: str
    dead_letter_arn: str | None = None
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age: float = DEFAULT_MAXIMUM_EVENT_AGE

    @classmethod
    def of(cls, target: dict[str, Any], **where: Any) -> RuleTarget:
        policy = target.get("RetryPolicy") or {}
        return cls(
            target_id=str(target.get("Id", "")),
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
            maximum_retry_attempts=int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)),
            maximum_event_age=float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE)),
            **where,
        )


@dataclass
class _Fault:
    error_code: str
    times: int | None  # None: every delivery


class DeliveryFaults:
    """Failures of EventBridge's calls to a function, injected by tests (per function logical id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, _Fault] = {}

    def inject(self, function: str, error_code: str = "THROTTLING", times: int | None = None) -> None:
        """The next ``times`` deliveries to ``function`` (every one if ``None``) fail with ``error_code``."""
        if error_code not in ERROR_MESSAGES:
            raise ValueError(f"error_code must be one of {', '.join(ERROR_MESSAGES)}, not {error_code!r}")
        with self._lock:
            self._faults[function] = _Fault(error_code, times)

    def take(self, function: str) -> str | None:
        with self._lock:
            fault = self._faults.get(function)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[function]
            return fault.error_code


@dataclass
class _Delivery:
    target: RuleTarget
    invocation: Invocation
    received_at: float = field(default_factory=time.time)
    retries: int = 0


class EventBridgeDeliveries:
    """Delivers the events of the stack's rule targets to their functions' runners (see the module docstring)."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        runners: dict[str, FunctionRunner],
        permitted: Callable[[RuleTarget], bool],
        count: Callable[[str, str], None],
        inflight: InFlight,
        retry_delays: Iterable[float] = EVENTBRIDGE_RETRY_DELAYS,
        iam: Any = None,
    ) -> None:
        self.client = client
        self.iam = iam  # local.iam.Enforcer: EventBridge may send to a DLQ only if the queue's policy lets it
        self.runners = runners
        self.permitted = permitted
        self.count = count  # (rule name, metric) -> one datapoint for the alarm evaluation
        self.inflight = inflight
        self.retry_delays = tuple(retry_delays) or (0.0,)
        self.faults = DeliveryFaults()
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._stopping = False

    def handler(self, target: RuleTarget) -> Callable[[Invocation], None]:
        """What the target's queue poller calls with each event (counted in flight until handed over or lost)."""
        return lambda invocation: self._attempt(_Delivery(target, invocation, received_at=invocation.enqueued_at))

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()

    # ------------------------------------------------------------------ one attempt
    def _attempt(self, delivery: _Delivery) -> None:
        target = delivery.target
        self._metric(target, "Invocations")
        error = self._error_of(target)
        if error is None:
            delivery.invocation.enqueued_at = time.time()  # Lambda's event age starts when it accepts the event
            self.runners[target.function].submit(delivery.invocation)
            return
        exhausted = self._exhausted(delivery) if error in RETRYABLE else None
        if error in RETRYABLE and exhausted is None:
            delivery.retries += 1
            self._metric(target, "RetryInvocationAttempts")
            self._schedule(delivery)
            return
        self._give_up(delivery, error, exhausted)

    def _error_of(self, target: RuleTarget) -> str | None:
        if target.function not in self.runners:
            return "NO_RESOURCE"
        fault = self.faults.take(target.function)
        if fault is not None:
            return fault
        return None if self.permitted(target) else "NO_PERMISSIONS"

    def _exhausted(self, delivery: _Delivery) -> str | None:
        """Which limit of the retry policy the next retry would pass, if any."""
        target = delivery.target
        if delivery.retries >= target.maximum_retry_attempts:
            return "MaximumRetryAttempts"
        if time.time() + self._delay(delivery) - delivery.received_at > target.maximum_event_age:
            return "MaximumEventAgeInSeconds"
        return None

    def _delay(self, delivery: _Delivery) -> float:
        return self.retry_delays[min(delivery.retries, len(self.retry_delays) - 1)]

    def _schedule(self, delivery: _Delivery) -> None:
        delay = self._delay(delivery)
        timer: threading.Timer

        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
                if self._stopping:
                    return
            self._attempt(delivery)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            if self._stopping:
                return
            self._timers.add(timer)
        timer.start()

    # ------------------------------------------------------------------ the event is not delivered
    def _give_up(self, delivery: _Delivery, error: str, exhausted: str | None) -> None:
        target = delivery.target
        try:
            self._metric(target, "FailedInvocations")
            logger.warning(
                "rule %s: event %s not delivered to %s (%s, %d retries)",
                target.rule_name,
                delivery.invocation.event_id,
                target.function,
                error,
                delivery.retries,
            )
            if target.dead_letter_arn is None:
                return
            try:
                self._dead_letter(delivery, error, exhausted)
            except Exception:
                logger.exception("rule %s: could not send to its dead-letter queue", target.rule_name)
                self._metric(target, "InvocationsFailedToBeSentToDLQ")
            else:
                self._metric(target, "InvocationsSentToDLQ")
        finally:
            self.inflight.end()

    def _dead_letter(self, delivery: _Delivery, error: str, exhausted: str | None) -> None:
        target = delivery.target
        attributes = {
            "RULE_ARN": {"DataType": "String", "StringValue": target.rule_arn},
            "TARGET_ARN": {"DataType": "String", "StringValue": target.function_arn},
            "ERROR_CODE": {"DataType": "String", "StringValue": error},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": ERROR_MESSAGES[error]},
            "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(delivery.retries)},
        }
        if exhausted is not None:
            attributes["EXHAUSTED_RETRY_CONDITION"] = {"DataType": "String", "StringValue": exhausted}
        name, owner = target.dead_letter_arn.split(":")[5], target.dead_letter_arn.split(":")[4]  # type: ignore[union-attr]
        self._authorize_dead_letter(target)
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(delivery.invocation.event), MessageAttributes=attributes)

    def _authorize_dead_letter(self, target: RuleTarget) -> None:
        """EventBridge sends to a rule's DLQ as ``events.amazonaws.com``: the queue policy must allow it for the rule
        (EventBridge user guide, "Granting permissions to the dead-letter queue")."""
        if self.iam is None:
            return
        _, _, _, region, account, _ = target.rule_arn.split(":", 5)
        outcome = self.iam.authorize_service(
            "events.amazonaws.com",
            "sqs:SendMessage",
            str(target.dead_letter_arn),
            source_arn=target.rule_arn,
            source_account=account,
            region=region,
        )
        if not outcome.allowed:
            raise PermissionError(f"EventBridge may not send to {target.dead_letter_arn}: the queue policy refuses it")

    def _metric(self, target: RuleTarget, metric: str) -> None:
        self.count(target.rule_name, metric)
        dimensions = [{"Name": "RuleName", "Value": target.rule_name}]
        try:
            self.client("cloudwatch").put_metric_data(
                Namespace="AWS/Events",
                MetricData=[{"MetricName": metric, "Dimensions": dimensions, "Value": 1.0, "Unit": "Count"}],
            )
        except Exception:
            logger.debug("rule %s: metric %s not recorded", target.rule_name, metric, exc_info=True)
