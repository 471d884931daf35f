"""A rule's target that is an event bus: the event forwarded to that bus (another account's, or another of its own).

As the EventBridge user guide describes it ("Sending and receiving events between AWS accounts", "... between event
buses in the same account and Region", "Permissions for event buses"):

* EventBridge assumes the target's ``RoleArn`` as ``events.amazonaws.com`` (the role's trust policy decides, with
  ``aws:SourceArn`` the rule and ``aws:SourceAccount`` its account), then puts the event on the target bus as that
  role: ``events:PutEvents`` on the bus, allowed by the role's policies and, for a bus of another account, by the
  bus's resource policy (``PutPermission`` / ``AWS::Events::EventBusPolicy``) too. A target without ``RoleArn``
  sends as the rule's account itself (the PutTargets reference requires a role only where the receiving account
  granted an organization rather than the account), so the receiving bus's policy alone decides. The request carries
  ``events:source``, ``events:detail-type``, ``events:eventBusInvocation`` (true) and the rule as ``aws:SourceArn``.
* The event arrives as it was sent: its ``account`` (the sender's), ``source``, ``detail-type``, ``time``,
  ``resources``, ``detail`` and ``id`` unchanged (the guide does not say whether the id is kept; it is here), and the
  receiving bus's rules match it as any event.
* "If a receiver account sets up a rule that sends events received from a sender account on to a third account,
  these events are not sent to the third account", and likewise between three buses of one account: an event that
  arrived from another bus is never forwarded to a bus again.

Each attempt is counted as the rule's ``AWS/Events`` ``Invocations``; one refused (role not assumable, not allowed,
bus policy not admitting, bus missing) as its ``FailedInvocations``, and nothing arrives. Every forwarding is recorded
(:attr:`BusForwarding.forwarded`) with its outcome. Not modelled: retries and dead-letter queues of bus targets,
cross-Region limits, organizations (``aws:PrincipalOrgID``).
"""

from __future__ import annotations

import contextvars
import copy
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from moto.cloudwatch.models import cloudwatch_backends
from moto.events.models import Rule, events_backends

from local.aws.patches import Patch
from local.aws.runtime import RUNTIME
from local.iam.principals import AccountRoot, Principal, role_session_from_arn

logger = logging.getLogger(__name__)

EVENTS_SERVICE = "events.amazonaws.com"
MetricListener = Callable[[str, str, str], None]  # (rule ARN, rule name, metric) -> None

_received_from_bus: contextvars.ContextVar[bool] = contextvars.ContextVar("received_from_bus", default=False)
_moto_send_to_targets = Rule.send_to_targets


@dataclass(frozen=True)
class Forwarding:
    """One event a rule sent (or could not send) to an event bus target."""

    rule_arn: str
    target_arn: str
    event_id: str
    error: str | None = None


class ForwardingRefused(Exception):
    """EventBridge could not put the event on the target bus (the message says why)."""


def is_bus(target: dict[str, Any]) -> bool:
    parts = str(target.get("Arn", "")).split(":", 5)
    return len(parts) == 6 and parts[2] == "events" and parts[5].startswith("event-bus/")


def _enforcer() -> Any:
    from local.aws.server import EmbeddedAWS  # noqa: PLC0415 - the server imports the extensions (a cycle)

    aws = EmbeddedAWS.current()
    return aws.iam if aws is not None else None


@contextmanager
def _from_bus() -> Iterator[None]:
    token = _received_from_bus.set(True)
    try:
        yield
    finally:
        _received_from_bus.reset(token)


class BusForwarding:
    """Forwards events to bus targets (see the module docstring); ``forwarded`` records every attempt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.forwarded: list[Forwarding] = []
        self.listeners: list[MetricListener] = []  # e.g. the stack runtime's alarm evaluation

    def reset(self) -> None:
        with self._lock:
            self.forwarded.clear()

    def forward(self, rule: Rule, target: dict[str, Any], event: dict[str, Any]) -> None:
        """Put ``event`` (as the rule matched it) on the target's bus, or record why EventBridge could not."""
        target_arn = str(target["Arn"])
        if _received_from_bus.get():
            logger.info("rule %s: event %s came from another bus; not forwarded again", rule.arn, event.get("id"))
            return
        self._metric(rule, "Invocations")
        error = None
        try:
            bus = self._authorized_bus(rule, target, event)
            with _from_bus():
                deliver_on_bus(bus, event)
        except ForwardingRefused as refused:
            error = str(refused)
            self._metric(rule, "FailedInvocations")
            logger.warning("rule %s: event %s not sent to %s: %s", rule.arn, event.get("id"), target_arn, error)
        with self._lock:
            self.forwarded.append(Forwarding(rule.arn, target_arn, str(event.get("id", "")), error))

    def _authorized_bus(self, rule: Rule, target: dict[str, Any], event: dict[str, Any]) -> Any:
        """The target bus, once EventBridge may put the event on it; ``ForwardingRefused`` otherwise."""
        _, _, _, region, account, resource = str(target["Arn"]).split(":", 5)
        role_arn = target.get("RoleArn")
        iam = _enforcer()
        if iam is not None:
            sender = self._sender(iam, rule, role_arn)
            context = {
                "events:source": str(event.get("source", "")),
                "events:detail-type": str(event.get("detail-type", "")),
                "events:eventBusInvocation": True,
                "aws:SourceArn": rule.arn,
                "aws:SourceAccount": rule.account_id,
            }
            bus_arn = str(target["Arn"])
            outcome = iam.authorize_action(sender, "events:PutEvents", bus_arn, region=region, context=context)
            if not outcome.allowed:
                why = outcome.denial.reason if outcome.denial is not None else "denied"
                raise ForwardingRefused(f"{sender.arn} may not put events on {target['Arn']}: {why}")
        bus = events_backends[account][region].event_buses.get(resource.removeprefix("event-bus/"))
        if bus is None:
            raise ForwardingRefused(f"Event bus {target['Arn']} does not exist.")
        return bus

    @staticmethod
    def _sender(iam: Any, rule: Rule, role_arn: str | None) -> Principal:
        """Who puts the event: a session of the target's role EventBridge assumed, or (no role) the rule's account."""
        if not role_arn:
            return AccountRoot(rule.account_id, evaluated=True)
        where = {"source_arn": rule.arn, "source_account": rule.account_id, "region": rule.region_name}
        if not iam.authorize_service(EVENTS_SERVICE, "sts:AssumeRole", role_arn, **where).allowed:
            raise ForwardingRefused(f"EventBridge cannot assume {role_arn}: its trust policy does not allow it")
        return role_session_from_arn(role_arn, f"events-{secrets.token_hex(8)}")

    def _metric(self, rule: Rule, metric: str) -> None:
        datum = {
            "MetricName": metric,
            "Dimensions": [{"Name": "RuleName", "Value": rule.name}],
            "Value": 1.0,
            "Unit": "Count",
        }
        cloudwatch_backends[rule.account_id][rule.region_name].put_metric_data("AWS/Events", [datum])
        for listener in list(self.listeners):
            listener(rule.arn, rule.name, metric)


def deliver_on_bus(bus: Any, event: dict[str, Any]) -> None:
    """Match ``event`` against the bus's enabled rules and send it to their targets, the event whole unless a
    target transforms it (as :func:`local.aws.sagemaker.events.delivery.deliver` does for service events)."""
    for rule in list(bus.rules.values()):
        if getattr(rule, "state", "ENABLED") != "ENABLED":
            continue
        for target in list(rule.targets):
            single = copy.copy(rule)
            single.targets = [target]
            # moto's own events carry epoch seconds, which its default template renders; service events carry ISO
            # strings, passed whole
            transform = bool(target.get("InputTransformer")) or not isinstance(event.get("time"), str)
            single.send_to_targets(cast(Any, copy.deepcopy(event)), transform_input=transform)


def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    """moto's delivery for every target but event buses, which :data:`FORWARDING` forwards."""
    if not self.event_pattern.matches_event(original_event):
        return
    buses = [target for target in self.targets if is_bus(target)]
    if len(buses) < len(self.targets):
        others = copy.copy(self)
        others.targets = [target for target in self.targets if not is_bus(target)]
        _moto_send_to_targets(others, original_event, transform_input)
    for target in buses:
        FORWARDING.forward(self, target, dict(original_event))


FORWARDING = BusForwarding()
RUNTIME.reset_hooks.append(FORWARDING.reset)

PATCHES = (
    Patch(
        Rule,
        "send_to_targets",
        send_to_targets,
        "moto puts an event on a target bus of another account with no permission at all (neither the target's role "
        "nor the bus policy), as a new event of the receiving account, and forwards it on from bus to bus",
    ),
)
