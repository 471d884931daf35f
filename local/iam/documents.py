"""IAM policy documents as data: statements with their actions, resources, principals and conditions.

``parse_policy`` takes the JSON text moto stores (or a mapping) and normalises every element IAM allows in
either shape (a string or a list, ``Statement`` as an object or a list, ``"Principal": "*"``) once; parsed
documents are cached by their text, so evaluating a request re-reads nothing. ``Statement.applies_to`` answers
whether a statement covers an action, a resource and (for resource policies) a principal; conditions are left
to ``local.iam.conditions``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from local.iam.context import RequestContext
from local.iam.patterns import action_matches, arn_matches
from local.iam.principals import Form, FormKind
from local.iam.variables import substitute

Effect = Literal["Allow", "Deny"]
# How a resource policy's Principal named the caller: it decides what else must allow (see local.iam.evaluation).
PrincipalMatch = Literal["everyone", "service", "session", "role", "user", "account"]


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class PrincipalSpec:
    """A ``Principal``/``NotPrincipal`` element: ``"*"`` or ``{"AWS": [...], "Service": [...], ...}``."""

    everyone: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()

    @classmethod
    def parse(cls, element: Any) -> PrincipalSpec:
        if element == "*":
            return cls(everyone=True)
        if not isinstance(element, Mapping):
            raise ValueError(f"invalid Principal element: {element!r}")
        aws = _strings(element.get("AWS"))
        # Federated and CanonicalUser principals never match the principals the embedded AWS knows.
        return cls(everyone="*" in aws, aws=tuple(a for a in aws if a != "*"), service=_strings(element.get("Service")))

    def match(self, forms: Sequence[Form]) -> PrincipalMatch | None:
        """The most specific way this element names the caller, or None."""
        found: set[FormKind] = {kind for kind, value in forms if self._names(kind, value)}
        for kind in ("session", "role", "user", "service", "account"):
            if kind in found:
                return kind  # type: ignore[return-value]
        return "everyone" if self.everyone else None

    def names_all(self, forms: Sequence[Form]) -> bool:
        """Whether every form of the caller is listed (a ``NotPrincipal`` then leaves the caller out)."""
        return bool(forms) and all(self._names(kind, value) for kind, value in forms)

    def _names(self, kind: FormKind, value: str) -> bool:
        if kind == "service":
            return value in self.service
        if kind == "account":
            return any(entry == value or _is_root_of(entry, value) for entry in self.aws)
        return value in self.aws


def _is_root_of(entry: str, account: str) -> bool:
    parts = entry.split(":")
    return len(parts) == 6 and parts[2] == "iam" and parts[4] == account and parts[5] == "root"


@dataclass(frozen=True)
class Statement:
    effect: Effect
    sid: str | None = None
    actions: tuple[str, ...] = ()
    not_action: bool = False
    resources: tuple[str, ...] | None = None  # None: no Resource element (a resource policy's own resource)
    not_resource: bool = False
    principal: PrincipalSpec | None = None
    not_principal: bool = False
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    version: str | None = None

    def covers_action(self, action: str) -> bool:
        matched = any(action_matches(pattern, action) for pattern in self.actions)
        return matched != self.not_action

    def covers_resource(self, resource: str, context: RequestContext) -> bool:
        if self.resources is None:
            return True
        patterns = (substitute(p, context, self.version) for p in self.resources)
        matched = any(p is not None and arn_matches(p, resource) for p in patterns)
        return matched != self.not_resource

    def principal_match(self, forms: Sequence[Form]) -> PrincipalMatch | None:
        """How the statement's Principal (or NotPrincipal) names the caller; None if it does not apply to them."""
        if self.principal is None:
            return None
        if self.not_principal:
            return None if self.principal.names_all(forms) else "everyone"
        return self.principal.match(forms)


@dataclass(frozen=True)
class PolicyDocument:
    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None


def _statement(raw: Mapping[str, Any], version: str | None) -> Statement:
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"invalid Effect: {effect!r}")
    principal_key = "NotPrincipal" if "NotPrincipal" in raw else "Principal"
    resource_key = "NotResource" if "NotResource" in raw else "Resource"
    action_key = "NotAction" if "NotAction" in raw else "Action"
    return Statement(
        effect=effect,
        sid=raw.get("Sid"),
        actions=_strings(raw.get(action_key)),
        not_action=action_key == "NotAction",
        resources=_strings(raw[resource_key]) if resource_key in raw else None,
        not_resource=resource_key == "NotResource",
        principal=PrincipalSpec.parse(raw[principal_key]) if principal_key in raw else None,
        not_principal=principal_key == "NotPrincipal",
        conditions=raw.get("Condition") or {},
        version=version,
    )


@lru_cache(maxsize=1024)
def _parse_text(text: str) -> PolicyDocument:
    return _parse_mapping(json.loads(text))


def _parse_mapping(raw: Mapping[str, Any]) -> PolicyDocument:
    version = raw.get("Version")
    statements = raw.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return PolicyDocument(tuple(_statement(s, version) for s in statements), version=version, id=raw.get("Id"))


def parse_policy(document: str | bytes | Mapping[str, Any]) -> PolicyDocument:
    """A policy document from its JSON text (cached) or from a mapping; ``ValueError`` if it is not one."""
    if isinstance(document, bytes):
        document = document.decode()
    if isinstance(document, str):
        return _parse_text(document)
    return _parse_mapping(document)
