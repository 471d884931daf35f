"""The authorizer: one API call (or one call a service makes for a resource) -> allowed or denied, and why.

    authorizer = Authorizer(account="123456789012")
    outcome = authorizer.authorize_call(principal, ApiCall("sagemaker", "DescribeEndpoint", {...}, account, region))
    outcome = authorizer.authorize_service("cloudwatch.amazonaws.com", "sns:Publish", topic_arn,
                                           source_arn=alarm_arn, source_account=account, region=region)

A call becomes its IAM checks (``local.iam.actions``) plus the KMS permissions its resources' encryption takes
(``local.iam.encryption``); each is evaluated (``local.iam.evaluation``) against the principal's identity-based
policies (``local.iam.identity``) and the resource's policy (``local.iam.resource_policies``), with the request
context: the call's own condition keys, the global keys of the principal and the transport, and the resource's
keys on demand (``local.iam.resource_keys``). The first denial decides, as on AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from local.iam.actions import ApiCall, Check, UnmappedRequest, checks_for
from local.iam.catalogue import CATALOGUE, Catalogue
from local.iam.context import ContextValue, RequestContext
from local.iam.credentials import Principals
from local.iam.encryption import key_uses
from local.iam.evaluation import Decision, Policies, Request, evaluate
from local.iam.identity import IdentityPolicies, identity_policies
from local.iam.principals import IamUser, Principal, RoleSession, ServicePrincipal
from local.iam.resource_keys import ResourceKeys
from local.iam.resource_policies import ResourcePolicies


@dataclass(frozen=True)
class Outcome:
    """The decisions of every check of one call, up to the first denial; ``unmapped`` if it had no checks."""

    allowed: bool
    decisions: tuple[Decision, ...] = ()
    unmapped: str | None = None
    evaluated: bool = True

    @property
    def denial(self) -> Decision | None:
        return next((d for d in self.decisions if not d.allowed), None)


def _principal_keys(principal: Principal) -> dict[str, ContextValue | None]:
    """The global condition keys that describe the principal ("AWS global condition context keys")."""
    if isinstance(principal, ServicePrincipal):
        return {
            "aws:PrincipalServiceName": principal.service,
            "aws:SourceArn": principal.source_arn,
            "aws:SourceAccount": principal.source_account,
            "aws:SourceOwner": principal.source_account,
        }
    if isinstance(principal, RoleSession):
        arn, kind = principal.role_arn, "AssumedRole"
    elif isinstance(principal, IamUser):
        arn, kind = principal.arn, "User"
    else:
        arn, kind = principal.arn, "Account"
    keys: dict[str, ContextValue | None] = {"aws:PrincipalArn": arn, "aws:PrincipalAccount": principal.account}
    keys["aws:PrincipalType"] = kind
    if isinstance(principal, IamUser):
        keys["aws:username"] = principal.user_name
    return keys


class Authorizer:
    """Authorizes the calls of the principals in ``principals`` (by default a registry for ``account``)."""

    def __init__(
        self,
        account: str,
        *,
        partition: str = "aws",
        principals: Principals | None = None,
        catalogue: Catalogue = CATALOGUE,
        resource_policies: ResourcePolicies | None = None,
        resource_keys: ResourceKeys | None = None,
        secure_transport: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.partition = partition
        self.principals = principals or Principals(account, partition)
        self.catalogue = catalogue
        self.resource_policies = resource_policies or ResourcePolicies()
        self.resource_keys = resource_keys or ResourceKeys()
        # aws:SecureTransport: the emulator speaks plain HTTP on loopback where AWS's endpoints speak only TLS.
        self.secure_transport = secure_transport
        self.clock = clock

    def _global_keys(self, principal: Principal, region: str, source_ip: str | None) -> dict[str, ContextValue]:
        now = self.clock()
        keys: dict[str, ContextValue] = {
            "aws:CurrentTime": datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": int(now),
            "aws:SecureTransport": self.secure_transport,
            "aws:RequestedRegion": region,
            "aws:ViaAWSService": False,
        }
        if source_ip:
            keys["aws:SourceIp"] = source_ip
        keys.update({k: v for k, v in _principal_keys(principal).items() if v is not None})
        return keys

    def _evaluate(
        self, principal: Principal, identity: IdentityPolicies, check: Check, base: Mapping[str, ContextValue]
    ) -> Decision:
        resource = self.resource_policies.for_resource(check.resource, check.action)
        context = RequestContext.of(base).update(check.context)
        if resource.owner:
            context.update({"aws:ResourceAccount": resource.owner})
        if check.resource != "*":
            service = check.action.split(":", 1)[0]
            context.resolve(self.resource_keys.prefixes(service), self.resource_keys.resolver(check.resource))
        policies = Policies(
            identity=identity.identity,
            resource=resource.policy,
            boundary=identity.boundary,
            session=identity.session,
            resource_policy_required=resource.required,
            resource_account=resource.owner,
        )
        return evaluate(Request(principal, check.action, check.resource, context), policies)

    def _with_keys(self, principal: Principal, checks: list[Check], call: ApiCall) -> list[Check]:
        expanded: list[Check] = []
        for check in checks:
            expanded.append(check)
            for use in key_uses(check.action, check.resource, call.operation, call.params):
                context: dict[str, ContextValue] = {"kms:ViaService": use.via_service, "aws:ViaAWSService": True}
                if principal.account:
                    context["kms:CallerAccount"] = principal.account
                expanded.extend(Check(a, use.key_arn, context, "key", "encryption") for a in use.actions)
        return expanded

    def _run(self, principal: Principal, checks: list[Check], call: ApiCall, source_ip: str | None) -> Outcome:
        identity = identity_policies(principal)
        base = self._global_keys(principal, call.region, source_ip)
        decisions = []
        for check in self._with_keys(principal, checks, call):
            decision = self._evaluate(principal, identity, check, base)
            decisions.append(decision)
            if not decision.allowed:
                return Outcome(False, tuple(decisions))
        return Outcome(True, tuple(decisions))

    def authorize_call(self, principal: Principal, call: ApiCall, source_ip: str | None = None) -> Outcome:
        """Whether ``principal`` may make this API call (administrators are not evaluated)."""
        if not principal.evaluated:
            decision = Decision(
                True, principal.arn, f"{call.service}:{call.operation}", "*", "administrator: not evaluated"
            )
            return Outcome(True, (decision,), evaluated=False)
        try:
            checks = checks_for(call, self.catalogue)
        except UnmappedRequest as unmapped:
            return self._unmapped(principal, call, source_ip, str(unmapped))
        return self._run(principal, checks, call, source_ip)

    def _unmapped(self, principal: Principal, call: ApiCall, source_ip: str | None, why: str) -> Outcome:
        """A request whose resource cannot be named is served in the caller's own account: an IAM user allowed the
        action on every resource (an account's administrator, ``AdministratorAccess``) may make it; roles (the
        stack's functions, jobs, pipelines) stay refused as unmapped (a least-privilege policy must not pass by an
        emulator gap)."""
        if not isinstance(principal, IamUser):
            return Outcome(False, unmapped=why)
        wildcard = self._run(principal, [Check(f"{call.service}:{call.operation}", "*")], call, source_ip)
        return wildcard if wildcard.allowed else Outcome(False, unmapped=why)

    def authorize_service(
        self,
        service: str,
        action: str,
        resource: str,
        *,
        source_arn: str | None,
        source_account: str | None,
        region: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Outcome:
        """Whether a service principal may act on ``resource`` for ``source_arn`` (e.g. an alarm publishing).

        Only the resource's policy decides, and the key policy of the key that encrypts the resource.
        """
        principal = ServicePrincipal(service, source_account, source_arn)
        operation = action.split(":", 1)[1]
        call = ApiCall(action.split(":", 1)[0], operation, {}, source_account or self.account, region, self.partition)
        return self._run(principal, [Check(action, resource, dict(context or {}))], call, None)

    def authorize_action(
        self,
        principal: Principal,
        action: str,
        resource: str,
        *,
        region: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Outcome:
        """Whether ``principal`` may take ``action`` on ``resource``: one check, no API call behind it.

        For what a service does with a role it assumed (EventBridge putting an event on another bus as a rule
        target's role): the role's identity policies and the resource's policy decide, as for any request.
        """
        service, _, operation = action.partition(":")
        call = ApiCall(service, operation, {}, principal.account or self.account, region, self.partition)
        return self._run(principal, [Check(action, resource, dict(context or {}))], call, None)
