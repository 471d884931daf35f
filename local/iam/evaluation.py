"""AWS's policy evaluation logic for one action on one resource, and the decision it comes to.

As "Policy evaluation logic" documents it (the parts an account without AWS Organizations has):
1. An explicit ``Deny`` in any applicable policy (identity-based, resource-based, permissions boundary, session
   policy) decides: denied.
2. A service principal is allowed only by the resource-based policy.
3. Within one account, an ``Allow`` in the identity-based policies (within the permissions boundary and the session
   policy, if any) or in the resource-based policy allows, except where the resource policy must allow in any case
   (KMS key policies, role trust policies): there the identity-based policies count only if the resource policy
   names the account. A resource policy naming a role (not the session) is still limited by the boundary and the
   session policy; one naming the account only delegates to the identity-based policies.
4. Across accounts, both the identity-based policies and the resource-based policy must allow.
Otherwise the request is implicitly denied. The ``Decision`` says which statement decided, or which kind of
policy failed to allow, in AWS's wording (``because no identity-based policy allows the … action``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from local.iam.conditions import conditions_hold
from local.iam.context import RequestContext
from local.iam.documents import PolicyDocument, PrincipalMatch, Statement, parse_policy
from local.iam.principals import Principal, ServicePrincipal

logger = logging.getLogger(__name__)

PolicyKind = Literal["identity", "resource", "boundary", "session"]
_KIND_WORDING: dict[PolicyKind, tuple[str, str]] = {
    # kind -> (explicit deny wording, implicit deny wording)
    "identity": ("with an explicit deny in an identity-based policy", "because no identity-based policy allows"),
    "resource": ("with an explicit deny in a resource-based policy", "because no resource-based policy allows"),
    "boundary": ("with an explicit deny in a permissions boundary", "because no permissions boundary allows"),
    "session": ("with an explicit deny in a session policy", "because no session policy allows"),
}


@dataclass(frozen=True)
class NamedPolicy:
    """A policy document and where it comes from (``role/x/inline/artifacts``, ``sns topic policy``…)."""

    name: str
    document: PolicyDocument

    @classmethod
    def parse(cls, name: str, document: str | bytes | Mapping[str, Any] | None) -> NamedPolicy | None:
        """The named policy, or None if there is no document or it does not parse (IAM would have refused it)."""
        if not document:
            return None
        try:
            return cls(name, parse_policy(document))
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("policy %s does not parse (%s): left out", name, error)
            return None


@dataclass(frozen=True)
class StatementRef:
    kind: PolicyKind
    policy: str
    index: int
    sid: str | None

    def __str__(self) -> str:
        return f"{self.kind} policy {self.policy}, statement {self.sid or '#' + str(self.index)}"


@dataclass(frozen=True)
class Decision:
    """Allowed or denied, for whom, what, on which resource, decided by which statement and why."""

    allowed: bool
    principal: str
    action: str
    resource: str
    reason: str
    statement: StatementRef | None = None
    denial: str | None = None  # AWS's wording: "because no identity-based policy allows" / "with an explicit deny…"
    resource_account: str | None = None

    def message(self, action_display: str | None = None) -> str:
        """AWS's denial text: ``User: <arn> is not authorized to perform: <action> on resource: <arn> because …``."""
        action = action_display or self.action
        on_resource = "" if self.resource == "*" else f" on resource: {self.resource}"
        tail = self.denial or ""
        if tail.startswith("because"):
            tail = f"{tail} the {action} action"
        return f"User: {self.principal} is not authorized to perform: {action}{on_resource} {tail}"


@dataclass(frozen=True)
class Policies:
    """Everything that applies to one request."""

    identity: Sequence[NamedPolicy] = ()
    resource: NamedPolicy | None = None
    boundary: NamedPolicy | None = None
    session: NamedPolicy | None = None
    resource_policy_required: bool = False  # KMS key policies, role trust policies
    resource_account: str | None = None


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: RequestContext = field(default_factory=RequestContext)


@dataclass
class _Matches:
    """The statements of one kind of policy that apply to the request."""

    allows: list[tuple[StatementRef, PrincipalMatch | None]] = field(default_factory=list)
    denies: list[StatementRef] = field(default_factory=list)


def _statement_applies(
    statement: Statement, request: Request, resource_policy: bool
) -> tuple[bool, PrincipalMatch | None]:
    named: PrincipalMatch | None = None
    if resource_policy:
        named = statement.principal_match(request.principal.forms())
        if named is None:
            return False, None
    applies = (
        statement.covers_action(request.action)
        and statement.covers_resource(request.resource, request.context)
        and conditions_hold(statement.conditions, request.context, statement.version)
    )
    return applies, named


def _matches(kind: PolicyKind, policies: Sequence[NamedPolicy], request: Request) -> _Matches:
    found = _Matches()
    for policy in policies:
        for index, statement in enumerate(policy.document.statements):
            applies, named = _statement_applies(statement, request, resource_policy=kind == "resource")
            if not applies:
                continue
            ref = StatementRef(kind, policy.name, index, statement.sid)
            if statement.effect == "Deny":
                found.denies.append(ref)
            else:
                found.allows.append((ref, named))
    return found


def _resource_allow(matches: _Matches, *kinds: PrincipalMatch) -> StatementRef | None:
    return next((ref for ref, named in matches.allows if named in kinds), None)


@dataclass(frozen=True)
class _Found:
    identity: _Matches
    resource: _Matches
    boundary: _Matches | None
    session: _Matches | None

    def first_deny(self) -> StatementRef | None:
        for matches in (self.identity, self.resource, self.boundary, self.session):
            if matches is not None and matches.denies:
                return matches.denies[0]
        return None

    def limits_pass(self) -> PolicyKind | None:
        """The first of boundary / session policy that fails to allow, or None if both allow (or are absent)."""
        if self.boundary is not None and not self.boundary.allows:
            return "boundary"
        if self.session is not None and not self.session.allows:
            return "session"
        return None


def _find(request: Request, policies: Policies) -> _Found:
    return _Found(
        identity=_matches("identity", policies.identity, request),
        resource=_matches("resource", [policies.resource] if policies.resource else [], request),
        boundary=_matches("boundary", [policies.boundary], request) if policies.boundary else None,
        session=_matches("session", [policies.session], request) if policies.session else None,
    )


def _decide(request: Request, policies: Policies, found: _Found) -> tuple[StatementRef | None, PolicyKind]:
    """The allowing statement, or None and the kind of policy whose allow is missing."""
    resource_direct = _resource_allow(found.resource, "everyone", "service", "session", "user")
    resource_role = _resource_allow(found.resource, "role")
    resource_account = _resource_allow(found.resource, "account")
    if isinstance(request.principal, ServicePrincipal):
        return resource_direct, "resource"
    limit = found.limits_pass()
    identity = found.identity.allows[0][0] if found.identity.allows and limit is None else None
    same_account = policies.resource_account in (None, request.principal.account)
    if not same_account:
        if identity is None:
            return None, limit or "identity"
        return (identity if resource_direct or resource_role or resource_account else None), "resource"
    if resource_direct:
        return resource_direct, "resource"
    if resource_role and limit is None:
        return resource_role, "resource"
    if policies.resource_policy_required and resource_account is None:
        return None, "resource"
    return identity, limit or "identity"


def evaluate(request: Request, policies: Policies) -> Decision:
    """Evaluate one (principal, action, resource, context) against the policies that apply to it."""
    decided = partial(
        Decision,
        principal=request.principal.arn,
        action=request.action,
        resource=request.resource,
        resource_account=policies.resource_account,
    )
    if not request.principal.evaluated:
        return decided(allowed=True, reason="administrator credentials: not evaluated")
    found = _find(request, policies)
    deny = found.first_deny()
    if deny is not None:
        return decided(allowed=False, reason=f"denied by {deny}", statement=deny, denial=_KIND_WORDING[deny.kind][0])
    allow, missing = _decide(request, policies, found)
    if allow is not None:
        return decided(allowed=True, reason=f"allowed by {allow}", statement=allow)
    wording = _KIND_WORDING[missing][1]
    return decided(allowed=False, reason=f"implicit deny: {wording}", denial=wording)
