"""The ``Condition`` element: IAM's condition operators evaluated against a request context.

Every operator of a block must hold, every key of an operator must hold; a key holds if its context value matches
any of the policy's values (none of them, for the negated operators ``StringNotEquals``, ``ArnNotLike``, …).
As AWS documents it:
- a key absent from the context fails a positive operator and satisfies a negated one;
- ``...IfExists`` holds when the key is absent; ``Null`` tests presence (``"true"``: the key is absent);
- ``ForAnyValue:`` holds if at least one context value matches (false when the key is absent or empty);
  ``ForAllValues:`` holds if every context value matches (true when the key is absent or empty);
- policy variables in values are substituted (``local.iam.variables``).
Families: String, Numeric, Date, Bool, Binary, IpAddress, Arn, Null. An unknown operator never holds.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.iam.context import RequestContext
from local.iam.patterns import arn_matches, glob_match
from local.iam.variables import substitute

logger = logging.getLogger(__name__)

Comparison = Callable[[str, str], bool]  # (context value, policy value) -> match


def _number(text: str) -> float:
    return float(text)


def _date(text: str) -> datetime:
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), tz=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _numeric(test: Callable[[float, float], bool]) -> Comparison:
    return lambda value, policy: test(_number(value), _number(policy))


def _dated(test: Callable[[datetime, datetime], bool]) -> Comparison:
    return lambda value, policy: test(_date(value), _date(policy))


def _in_network(value: str, policy: str) -> bool:
    return ipaddress.ip_address(value) in ipaddress.ip_network(policy, strict=False)


# base operator -> (comparison of the positive form, negated)
OPERATORS: dict[str, tuple[Comparison, bool]] = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.casefold() == p.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.casefold() == p.casefold(), True),
    "StringLike": (lambda v, p: glob_match(p, v), False),
    "StringNotLike": (lambda v, p: glob_match(p, v), True),
    "NumericEquals": (_numeric(lambda v, p: v == p), False),
    "NumericNotEquals": (_numeric(lambda v, p: v == p), True),
    "NumericLessThan": (_numeric(lambda v, p: v < p), False),
    "NumericLessThanEquals": (_numeric(lambda v, p: v <= p), False),
    "NumericGreaterThan": (_numeric(lambda v, p: v > p), False),
    "NumericGreaterThanEquals": (_numeric(lambda v, p: v >= p), False),
    "DateEquals": (_dated(lambda v, p: v == p), False),
    "DateNotEquals": (_dated(lambda v, p: v == p), True),
    "DateLessThan": (_dated(lambda v, p: v < p), False),
    "DateLessThanEquals": (_dated(lambda v, p: v <= p), False),
    "DateGreaterThan": (_dated(lambda v, p: v > p), False),
    "DateGreaterThanEquals": (_dated(lambda v, p: v >= p), False),
    "Bool": (lambda v, p: v.lower() == p.lower(), False),
    "BinaryEquals": (lambda v, p: v == p, False),
    "IpAddress": (_in_network, False),
    "NotIpAddress": (_in_network, True),
    "ArnEquals": (lambda v, p: arn_matches(p, v), False),
    "ArnLike": (lambda v, p: arn_matches(p, v), False),
    "ArnNotEquals": (lambda v, p: arn_matches(p, v), True),
    "ArnNotLike": (lambda v, p: arn_matches(p, v), True),
}
SET_QUALIFIERS = ("ForAllValues:", "ForAnyValue:")
IF_EXISTS = "IfExists"


@dataclass(frozen=True)
class Operator:
    """``ForAllValues:StringLikeIfExists`` -> qualifier ``ForAllValues``, base ``StringLike``, if_exists."""

    name: str
    base: str
    qualifier: str | None
    if_exists: bool

    @classmethod
    def parse(cls, name: str) -> Operator:
        qualifier = next((q[:-1] for q in SET_QUALIFIERS if name.startswith(q)), None)
        rest = name[len(qualifier) + 1 :] if qualifier else name
        if_exists = rest.endswith(IF_EXISTS) and rest != "Null"
        return cls(name, rest[: -len(IF_EXISTS)] if if_exists else rest, qualifier, if_exists)


def _any_match(comparison: Comparison, value: str, policy_values: Iterable[str]) -> bool:
    for policy in policy_values:
        try:
            if comparison(value, policy):
                return True
        except (ValueError, TypeError):
            continue  # a value of the wrong type (a date that is not one) does not match
    return False


def _key_holds(operator: Operator, values: tuple[str, ...] | None, policy_values: list[str]) -> bool:
    if operator.base == "Null":
        absent = not values
        return any((p.lower() == "true") == absent for p in policy_values)
    if operator.base not in OPERATORS:
        logger.warning("unknown condition operator %s: the condition does not hold", operator.name)
        return False
    comparison, negated = OPERATORS[operator.base]
    if not values:
        if operator.if_exists or operator.qualifier == "ForAllValues":
            return True
        return negated and operator.qualifier is None
    matches = [_any_match(comparison, value, policy_values) for value in values]
    if operator.qualifier == "ForAllValues":
        return all(not m for m in matches) if negated else all(matches)
    if operator.qualifier == "ForAnyValue":
        return any(not m for m in matches) if negated else any(matches)
    return not any(matches) if negated else any(matches)


def _policy_values(raw: Any, context: RequestContext, version: str | None) -> list[str]:
    raw_values = raw if isinstance(raw, list) else [raw]
    texts = ("true" if v is True else "false" if v is False else str(v) for v in raw_values)
    return [v for v in (substitute(t, context, version) for t in texts) if v is not None]


def conditions_hold(
    conditions: Mapping[str, Mapping[str, Any]], context: RequestContext, version: str | None = None
) -> bool:
    """Whether a statement's ``Condition`` element holds for the request context."""
    for operator_name, keys in conditions.items():
        operator = Operator.parse(operator_name)
        for key, raw in keys.items():
            if not _key_holds(operator, context.get(key), _policy_values(raw, context, version)):
                return False
    return True
