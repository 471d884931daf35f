"""Resource shares created from resource policies, as AWS RAM keeps them (moto has none of this).

When a resource policy that names other accounts is attached to a shareable resource (a SageMaker model package
group among them), RAM creates a resource share of ``featureSet`` ``CREATED_FROM_POLICY`` with a managed permission
holding the policy's actions. Only the owner sees that share; the accounts it names can use the resource through
the policy, but cannot discover it (SageMaker's ``Search`` with ``CrossAccountFilterOption=CrossAccount`` shows them
nothing). The owner makes it discoverable in two steps, in this order (the RAM API reference):

1. ``PromotePermissionCreatedFromPolicy``: a customer managed permission with the same actions;
2. ``PromoteResourceShareCreatedFromPolicy``: the share becomes ``STANDARD`` (refused with
   ``UnmatchedPolicyPermissionException`` before step 1; refused with ``OperationNotPermittedException`` when the
   policy names a principal other than an account, or grants ``*``), and each account it names gets an invitation.

An account that accepts its invitation (``AcceptResourceShareInvitation``) discovers the share's resources.
A put of another policy re-derives the share's principals and actions (an accepted account no longer named loses
it); a deleted policy deletes the share.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.ram.models import ResourceShare, ram_backends

FROM_POLICY = "CREATED_FROM_POLICY"
ACCOUNT = re.compile(r"^(?:\d{12}|arn:aws[\w-]*:iam::(\d{12}):root)$")


class UnmatchedPolicyPermission(Exception):
    """No customer managed permission matches the share's CREATED_FROM_POLICY permission."""


class NotPromotable(Exception):
    """The policy names a principal other than an account, or grants every action."""


@dataclass
class Invitation:
    arn: str
    share_arn: str
    share_name: str
    sender: str
    receiver: str
    sent: datetime
    status: str = "PENDING"

    def describe(self) -> dict[str, Any]:
        return {
            "resourceShareInvitationArn": self.arn,
            "resourceShareName": self.share_name,
            "resourceShareArn": self.share_arn,
            "senderAccountId": self.sender,
            "receiverAccountId": self.receiver,
            "invitationTimestamp": self.sent.timestamp(),
            "status": self.status,
        }


@dataclass
class PolicyShare:
    """What RAM derived from one resource's policy: its share, the policy's actions and principals."""

    share: ResourceShare
    actions: frozenset[str]
    principals: tuple[str, ...]
    permission_arn: str
    promoted_permission_arn: str | None = None
    invitations: dict[str, Invitation] = field(default_factory=dict)  # by receiver account

    @property
    def promotable(self) -> bool:
        """RAM promotes only a policy naming accounts alone, and no ``*`` action."""
        return all(account_of(p) for p in self.principals) and "*" not in self.actions


def policy_terms(policy: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The actions and the principals of a policy's Allow statements (principals as written)."""
    actions: set[str] = set()
    principals: list[str] = []
    statements = json.loads(policy).get("Statement")
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") != "Allow":
            continue
        action = statement.get("Action", [])
        actions.update(action if isinstance(action, list) else [action])
        named = statement.get("Principal", {})
        named = named.get("AWS", []) if isinstance(named, dict) else named
        principals += [p for p in (named if isinstance(named, list) else [named]) if p not in principals]
    return frozenset(actions), tuple(principals)


def account_of(principal: str) -> str | None:
    match = ACCOUNT.match(principal)
    return (match.group(1) or principal) if match else None


class PolicyShares:
    """Every policy-created share, by the shared resource's ARN."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_resource: dict[str, PolicyShare] = {}

    def reset(self) -> None:
        with self._lock:
            self._by_resource.clear()

    # -- the resource's policy -------------------------------------------------------------------------------------
    def policy_put(self, account: str, region: str, resource_arn: str, policy: str) -> None:
        actions, principals = policy_terms(policy)
        external = [p for p in principals if account_of(p) != account]
        with self._lock:
            current = self._by_resource.get(resource_arn)
            if not external:
                self.policy_deleted(resource_arn)
                return
            if current is None:
                current = self._create(account, region, resource_arn, actions, principals)
            current.actions, current.principals = actions, principals
            current.share.principals = list(principals)
            named = {account_of(p) for p in principals}
            for receiver in [r for r in current.invitations if r not in named]:
                current.invitations.pop(receiver)

    def policy_deleted(self, resource_arn: str) -> None:
        with self._lock:
            current = self._by_resource.pop(resource_arn, None)
            if current is not None:
                current.share.delete()

    def _create(
        self, account: str, region: str, resource_arn: str, actions: frozenset[str], principals: tuple[str, ...]
    ) -> PolicyShare:
        backend = ram_backends[account][region]
        share = ResourceShare(account, region, name=f"LinkedResourceShare-{uuid.uuid4()}", allowExternalPrincipals=True)
        share.feature_set = FROM_POLICY
        share.resource_arns = [resource_arn]
        backend.resource_shares.append(share)
        permission = f"arn:aws:ram:{region}:{account}:permission/{uuid.uuid4().hex}"
        created = PolicyShare(share, actions, principals, permission)
        self._by_resource[resource_arn] = created
        return created

    # -- the owner's promotion -------------------------------------------------------------------------------------
    def of_share(self, share_arn: str) -> PolicyShare | None:
        with self._lock:
            return next((p for p in self._by_resource.values() if p.share.arn == share_arn), None)

    def of_permission(self, permission_arn: str) -> PolicyShare | None:
        with self._lock:
            return next((p for p in self._by_resource.values() if p.permission_arn == permission_arn), None)

    def promote_permission(self, created: PolicyShare, name: str) -> str:
        with self._lock:
            if not created.promotable:
                raise NotPromotable()
            share = created.share
            created.promoted_permission_arn = f"arn:aws:ram:{share.region}:{share.account_id}:permission/{name}"
            return created.promoted_permission_arn

    def promote_share(self, created: PolicyShare) -> None:
        with self._lock:
            if not created.promotable:
                raise NotPromotable()
            if created.promoted_permission_arn is None:
                raise UnmatchedPolicyPermission()
            share = created.share
            share.feature_set = "STANDARD"
            now = datetime.now(UTC)
            for receiver in {account_of(p) for p in created.principals} - {share.account_id, None}:
                assert receiver is not None
                arn = f"arn:aws:ram:{share.region}:{share.account_id}:resource-share-invitation/{uuid.uuid4()}"
                created.invitations[receiver] = Invitation(arn, share.arn, share.name, share.account_id, receiver, now)

    # -- the accounts it names -------------------------------------------------------------------------------------
    def invitations_of(self, receiver: str) -> list[Invitation]:
        with self._lock:
            return [p.invitations[receiver] for p in self._by_resource.values() if receiver in p.invitations]

    def accept(self, receiver: str, invitation_arn: str) -> tuple[Invitation, str] | None:
        """The receiver's invitation of that ARN and its status before, accepted if it was pending (None: no such)."""
        with self._lock:
            invitation = next((i for i in self.invitations_of(receiver) if i.arn == invitation_arn), None)
            if invitation is None:
                return None
            before = invitation.status
            if before == "PENDING":
                invitation.status = "ACCEPTED"
            return invitation, before

    def receiver_of(self, invitation_arn: str) -> str | None:
        with self._lock:
            for created in self._by_resource.values():
                for invitation in created.invitations.values():
                    if invitation.arn == invitation_arn:
                        return invitation.receiver
        return None

    def discoverable(self, account: str, region: str) -> list[str]:
        """The ARNs of the resources shared with ``account`` that it accepted, in ``region``."""
        with self._lock:
            return [
                resource
                for resource, created in self._by_resource.items()
                if created.share.region == region
                and created.share.status == "ACTIVE"
                and getattr(created.invitations.get(account), "status", None) == "ACCEPTED"
            ]


SHARES = PolicyShares()
