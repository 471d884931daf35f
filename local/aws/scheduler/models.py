"""EventBridge Scheduler schedules that fire, on top of moto's scheduler (which stores schedules and never runs them).

Each ``ENABLED`` schedule is planned on the runtime's schedule clock (``RUNTIME.schedules``) when it is created or
updated, and forgotten when it is deleted or disabled. A one-time schedule (``at(...)``) fires once at its time; a
recurring one (``rate(...)``) fires every period, from its ``StartDate`` (or one period after it is planned) until
its ``EndDate``. Waits are scaled by ``Timings.schedule_scale`` (the seconds the emulator waits per second of
schedule time), as endpoint transitions are by their timings; a time already past fires at once. Firing sends the
target's ``Input`` (``{}`` when none), with the context attributes ``<aws.scheduler.schedule-arn>``,
``<aws.scheduler.scheduled-time>`` (the schedule's own time, unscaled), ``<aws.scheduler.execution-id>`` and
``<aws.scheduler.attempt-number>`` replaced, to the templated target:

* an SQS queue ARN: ``SendMessage`` with the input as body (``SqsParameters.MessageGroupId`` for FIFO queues);
* an EventBridge bus ARN: ``PutEvents`` with the input as detail and ``EventBridgeParameters``' ``Source`` and
  ``DetailType``;
* a Lambda function ARN: an asynchronous invocation through the hook the stack runtime connects for each of its
  functions (:meth:`ScheduleFirings.connect_function`); for a function nobody connected the firing fails.

Before each delivery Scheduler must be allowed to assume the target's ``RoleArn`` and call the target with it
(:mod:`.execution_role`); refused, the firing is recorded as failed with the reason and nothing is sent.

A delivery that fails is retried up to the target's ``RetryPolicy.MaximumRetryAttempts`` times (Scheduler's default:
185), each attempt with its ``<aws.scheduler.attempt-number>``; then, if the target has a ``DeadLetterConfig``, its
input is sent to that standard SQS queue as the execution role (which must be allowed ``sqs:SendMessage`` on it, as
the user guide's "Configuring a dead-letter queue" says). The retries are immediate (Scheduler's back-off between
them and ``MaximumEventAgeInSeconds`` are not modelled), and so are the dead-letter event's message attributes.

After its last firing a schedule whose ``ActionAfterCompletion`` is ``DELETE`` is deleted. Every firing is recorded
(:attr:`ScheduleFirings.fired`) with its outcome, its attempts and whether it was dead-lettered; a test may have a
firing delivered twice, with the same execution id (:meth:`ScheduleFirings.duplicate`: EventBridge Scheduler
delivers at least once), and a firing delivered now (:meth:`ScheduleFirings.fire_now`: a recurring schedule's next
firing without waiting for it). Not modelled: flexible time windows, cron expressions, universal (``aws-sdk``)
targets.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.events.models import events_backends
from moto.scheduler.models import Schedule, scheduler_backends
from moto.sqs.models import sqs_backends

from local.aws.runtime import RUNTIME
from local.aws.scheduler.execution_role import authorize
from local.aws.scheduler.expressions import instant, parse

logger = logging.getLogger(__name__)

FunctionInvoker = Callable[[str], None]  # payload JSON -> None: one asynchronous invocation of a function
DEFAULT_RETRY_ATTEMPTS = 185  # RetryPolicy.MaximumRetryAttempts when the target sets none (Scheduler's default)


@dataclass(frozen=True)
class _Plan:
    """Where a planned schedule lives, which plan of it this is, and its period if it recurs."""

    account: str
    region: str
    group: str
    name: str
    arn: str
    generation: int
    every: timedelta | None = None


@dataclass(frozen=True)
class Firing:
    schedule_arn: str
    target_arn: str
    scheduled_time: str
    execution_id: str
    payload: str
    error: str | None = None
    attempts: int = 1
    dead_lettered: bool = False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_input(schedule: Schedule, scheduled: datetime, execution_id: str, attempt: int = 1) -> str:
    text = schedule.target.get("Input") or "{}"
    for keyword, value in (
        ("schedule-arn", schedule.arn),
        ("scheduled-time", _iso(scheduled)),
        ("execution-id", execution_id),
        ("attempt-number", str(attempt)),
    ):
        text = text.replace(f"<aws.scheduler.{keyword}>", value)
    return text


class ScheduleFirings:
    """Plans and fires the schedules of moto's scheduler backends (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[str, FunctionInvoker] = {}
        self._duplicates: dict[str, int] = {}  # schedule ARN -> how many next firings are delivered twice
        self._generations: dict[str, int] = {}
        self.fired: list[Firing] = []

    def connect_function(self, function_arn: str, invoke: FunctionInvoker) -> None:
        """Deliver firings whose target is ``function_arn`` with ``invoke(payload)`` (Lambda's ``Event`` invocation)."""
        with self._lock:
            self._functions[function_arn] = invoke

    def disconnect_function(self, function_arn: str) -> None:
        with self._lock:
            self._functions.pop(function_arn, None)

    def reset(self) -> None:
        """Forget plans, firings and connected functions (a new stack connects its own)."""
        with self._lock:
            self._generations.clear()
            self.fired.clear()
            self._functions.clear()
            self._duplicates.clear()

    def duplicate(self, schedule_arn: str, times: int = 1) -> None:
        """Deliver the schedule's next ``times`` firings twice (EventBridge Scheduler delivers at least once)."""
        with self._lock:
            self._duplicates[schedule_arn] = self._duplicates.get(schedule_arn, 0) + times

    def _copies(self, schedule_arn: str) -> int:
        with self._lock:
            left = self._duplicates.get(schedule_arn, 0)
            if left:
                self._duplicates[schedule_arn] = left - 1
            return 2 if left else 1

    def fire_now(self, schedule_arn: str) -> Firing:
        """Deliver one firing of the schedule now, as its next one would be (a test's "the time has come"); its
        record. ``LookupError`` when no schedule has this ARN."""
        parts = schedule_arn.split(":", 5)
        group, _, name = parts[5].removeprefix("schedule/").partition("/") if len(parts) == 6 else ("", "", "")
        backend = scheduler_backends[parts[4]][parts[3]] if len(parts) == 6 else None
        found = backend.schedule_groups.get(group) if backend is not None else None
        schedule = found.schedules.get(name) if found is not None else None
        if schedule is None:
            raise LookupError(f"no schedule {schedule_arn}")
        self._deliver(schedule, datetime.now(UTC).replace(microsecond=0))
        return self.firings(schedule_arn)[-1]

    def firings(self, schedule_arn: str) -> list[Firing]:
        with self._lock:
            return [f for f in self.fired if f.schedule_arn == schedule_arn]

    # -- planning -------------------------------------------------------------------------------------------------
    def plan(self, schedule: Schedule, account: str, region: str) -> None:
        """(Re)plan a schedule after it was created or updated; any earlier plan of it is dropped."""
        generation = self._next_generation(schedule.arn)
        plan = _Plan(account, region, schedule.group_name, schedule.name, schedule.arn, generation)
        if schedule.state != "ENABLED":
            return
        when = parse(schedule.schedule_expression, schedule.schedule_expression_timezone)
        now = datetime.now(UTC)
        if when.at is not None:
            self._submit(plan, when.at, now)
        elif when.every is not None:
            start = instant(schedule.start_date)
            first = start if start is not None and start > now else now + when.every
            self._submit(replace(plan, every=when.every), first, now)

    def forget(self, schedule_arn: str) -> None:
        self._next_generation(schedule_arn)

    def _next_generation(self, arn: str) -> int:
        with self._lock:
            self._generations[arn] = self._generations.get(arn, 0) + 1
            return self._generations[arn]

    def _current(self, plan: _Plan) -> bool:
        with self._lock:
            return self._generations.get(plan.arn) == plan.generation

    def _submit(self, plan: _Plan, due: datetime, now: datetime) -> None:
        wait = max(0.0, (due - now).total_seconds()) * RUNTIME.timings.schedule_scale
        RUNTIME.schedules.submit(wait, lambda: self._fire(plan, due), label=f"schedule {plan.arn}")

    # -- firing ---------------------------------------------------------------------------------------------------
    def _fire(self, plan: _Plan, due: datetime) -> None:
        if not self._current(plan):
            return
        group = scheduler_backends[plan.account][plan.region].schedule_groups.get(plan.group)
        schedule = group.schedules.get(plan.name) if group is not None else None
        if schedule is None:
            return
        end = instant(schedule.end_date)
        if end is not None and due > end:
            return
        self._deliver(schedule, due)
        following = due + plan.every if plan.every is not None else None
        if following is not None and (end is None or following <= end):
            self._submit(plan, following, due)
        elif schedule.action_after_completion == "DELETE" and group is not None:
            group.schedules.pop(plan.name, None)
            self.forget(plan.arn)

    def _deliver(self, schedule: Schedule, scheduled: datetime) -> None:
        execution_id = uuid.uuid4().hex[:16]
        target_arn = str(schedule.target.get("Arn", ""))
        for _ in range(self._copies(schedule.arn)):
            firing = self._attempt(schedule, scheduled, execution_id, target_arn)
            if firing.error is not None:
                firing = replace(firing, dead_lettered=self._dead_letter(schedule, firing))
            with self._lock:
                self.fired.append(firing)

    def _attempt(self, schedule: Schedule, scheduled: datetime, execution_id: str, target_arn: str) -> Firing:
        """The delivery and its retries (``RetryPolicy``): the firing as its last attempt left it."""
        retries = (schedule.target.get("RetryPolicy") or {}).get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)
        attempt, error, payload = 0, None, ""
        while attempt <= int(retries):
            attempt += 1
            payload = render_input(schedule, scheduled, execution_id, attempt)
            try:
                authorize(schedule.arn, schedule.target.get("RoleArn"), target_arn)
                self._send(target_arn, payload, schedule.target)
            except Exception as exc:  # the target refused or is missing: the schedule's failed invocation
                error = f"{type(exc).__name__}: {exc}"
                continue
            return Firing(schedule.arn, target_arn, _iso(scheduled), execution_id, payload, None, attempt)
        logger.warning("schedule %s could not invoke %s (%d attempts): %s", schedule.arn, target_arn, attempt, error)
        return Firing(schedule.arn, target_arn, _iso(scheduled), execution_id, payload, error, attempt)

    def _dead_letter(self, schedule: Schedule, firing: Firing) -> bool:
        """Send a firing that exhausted its retries to the target's dead-letter queue, as the execution role."""
        queue_arn = (schedule.target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue_arn:
            return False
        try:
            authorize(schedule.arn, schedule.target.get("RoleArn"), queue_arn)
            self._send(queue_arn, firing.payload, {})
        except Exception as exc:  # the event is lost, as Scheduler's would be
            logger.warning("schedule %s could not dead-letter its firing to %s: %s", schedule.arn, queue_arn, exc)
            return False
        return True

    def _send(self, target_arn: str, payload: str, target: dict[str, Any]) -> None:
        parts = target_arn.split(":", 5)
        if len(parts) != 6:
            raise ValueError(f"not an ARN: {target_arn}")
        service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
        if service == "sqs":
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            sqs_backends[account][region].send_message(queue_name=resource, message_body=payload, group_id=group_id)
        elif service == "events" and resource.startswith("event-bus/"):
            params = target.get("EventBridgeParameters") or {}
            entry = {
                "Source": params.get("Source"),
                "DetailType": params.get("DetailType"),
                "Detail": payload,
                "EventBusName": target_arn,
            }
            (result,) = events_backends[account][region].put_events([entry])
            if result.get("ErrorCode"):
                raise ValueError(f"{result['ErrorCode']}: {result.get('ErrorMessage')}")
        elif service == "lambda":
            with self._lock:
                invoke = self._functions.get(target_arn.removesuffix(":$LATEST"))
            if invoke is None:
                raise LookupError(f"Function not found: {target_arn} (no function runtime is connected for it)")
            invoke(payload)
        else:
            raise ValueError(f"targets of {service} are not supported by the embedded scheduler")


FIRINGS = ScheduleFirings()
