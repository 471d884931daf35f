"""Identity-based policies of a principal, read from moto's IAM backend each time (never a copy).

A role session: the role's inline policies and attached managed policies (AWS managed ones too, with the
documents moto ships), its permissions boundary, and the session policy given to ``AssumeRole``. A user: its own
and its groups' inline and managed policies. An account's root user (when evaluated at all: a service acting as
the account itself, e.g. EventBridge forwarding to another account's bus without a role) may do anything in its
account, so only other accounts' resource policies can refuse it. A policy that does not parse is left out (and
logged): IAM would have refused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from moto.iam.models import IAMBackend, iam_backends

from local.iam.evaluation import NamedPolicy
from local.iam.moto_state import role as moto_role
from local.iam.principals import AccountRoot, IamUser, Principal, RoleSession

_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_ROOT = NamedPolicy.parse("the root user's permissions", _EVERYTHING)


@dataclass(frozen=True)
class IdentityPolicies:
    identity: tuple[NamedPolicy, ...] = ()
    boundary: NamedPolicy | None = None
    session: NamedPolicy | None = None
    found: bool = field(default=True)  # False: the role or user does not exist (any more)


def _default_version(policy: Any) -> str | None:
    version = next((v for v in policy.versions if v.is_default), None)
    return version.document if version else None


def _managed(backend: IAMBackend, arn: str | None) -> NamedPolicy | None:
    if not arn:
        return None
    policy = backend.managed_policies.get(arn)
    if policy is None:
        return None  # not attachable either: IAM refuses unknown policies
    return NamedPolicy.parse(arn, _default_version(policy))


def _owned(owner: str, entity: Any) -> Iterable[NamedPolicy | None]:
    for name, document in entity.policies.items():
        yield NamedPolicy.parse(f"{owner}/inline/{name}", document)
    for policy in entity.managed_policies.values():
        yield NamedPolicy.parse(policy.arn, _default_version(policy))


def _backend(principal: RoleSession | IamUser) -> IAMBackend:
    return iam_backends[principal.account][principal.partition]


def _role_policies(session: RoleSession) -> IdentityPolicies:
    backend = _backend(session)
    role = moto_role(session.role_arn)
    session_policy = NamedPolicy.parse(f"session {session.arn}", session.session_policy)
    if role is None:
        return IdentityPolicies(session=session_policy, found=False)
    identity = tuple(p for p in _owned(f"role/{role.name}", role) if p)
    return IdentityPolicies(identity, _managed(backend, role.permissions_boundary_arn), session_policy)


def _user_policies(user: IamUser) -> IdentityPolicies:
    backend = _backend(user)
    entity = backend.users.get(user.user_name)
    if entity is None:
        return IdentityPolicies(found=False)
    owned = list(_owned(f"user/{entity.name}", entity))
    for group in backend.get_groups_for_user(entity.name):
        owned.extend(_owned(f"group/{group.name}", group))
    return IdentityPolicies(tuple(p for p in owned if p))  # moto keeps no permissions boundary for users


def identity_policies(principal: Principal) -> IdentityPolicies:
    """The identity-based policies, boundary and session policy that apply to the principal's requests."""
    if isinstance(principal, RoleSession):
        return _role_policies(principal)
    if isinstance(principal, IamUser):
        return _user_policies(principal)
    if isinstance(principal, AccountRoot) and _ROOT is not None:
        return IdentityPolicies((_ROOT,))
    return IdentityPolicies()
