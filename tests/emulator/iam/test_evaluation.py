"""AWS's policy evaluation logic: explicit deny, same account, cross account, services, KMS, limits, wording."""

from __future__ import annotations

from typing import Any

from local.iam.context import RequestContext
from local.iam.documents import parse_policy
from local.iam.evaluation import Decision, NamedPolicy, Policies, Request, evaluate
from local.iam.principals import AccountRoot, ServicePrincipal, role_session_from_arn

ACCOUNT = "123456789012"
OTHER = "111111111111"
SESSION = role_session_from_arn(f"arn:aws:iam::{ACCOUNT}:role/promote", "fn")
FOREIGN = role_session_from_arn(f"arn:aws:iam::{OTHER}:role/deployer", "fn")
PACKAGE = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/group/3"
UPDATE = "sagemaker:UpdateModelPackage"


def policy(name: str, *statements: dict[str, Any]) -> NamedPolicy:
    return NamedPolicy(name, parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


def allow(action: str = UPDATE, resource: str = PACKAGE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str = UPDATE, resource: str = PACKAGE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(
    principal: Any = SESSION,
    action: str = UPDATE,
    arn: str = PACKAGE,
    context: dict[str, Any] | None = None,
    **policies: Any,
) -> Decision:
    policies.setdefault("resource_account", ACCOUNT)
    return evaluate(Request(principal, action, arn, RequestContext.of(context or {})), Policies(**policies))


def test_implicit_deny_without_any_policy() -> None:
    decision = decide()
    assert not decision.allowed
    assert decision.message() == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/promote/fn is not authorized to perform: {UPDATE} on resource: "
        f"{PACKAGE} because no identity-based policy allows the {UPDATE} action"
    )


def test_identity_policy_allows_and_names_the_statement() -> None:
    decision = decide(identity=[policy("role/promote/inline/approve", allow(Sid="Approve"))])
    assert decision.allowed
    assert decision.statement is not None and decision.statement.sid == "Approve"
    assert "role/promote/inline/approve" in decision.reason


def test_explicit_deny_wins_over_any_allow() -> None:
    decision = decide(identity=[policy("allow", allow()), policy("guard", deny(Sid="NoApproval"))])
    assert not decision.allowed
    assert decision.statement is not None and decision.statement.sid == "NoApproval"
    assert decision.message().endswith("with an explicit deny in an identity-based policy")


def test_explicit_deny_in_a_resource_policy_wins_too() -> None:
    guard = policy("group policy", deny(Principal="*"))
    decision = decide(identity=[policy("allow", allow())], resource=guard)
    assert not decision.allowed
    assert decision.message().endswith("with an explicit deny in a resource-based policy")


def test_deny_with_a_condition_applies_only_when_it_holds() -> None:
    guard = policy("guard", deny(Condition={"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}}))
    assert decide(
        identity=[policy("allow", allow()), guard], context={"sagemaker:ModelApprovalStatus": "Rejected"}
    ).allowed
    assert not decide(
        identity=[policy("allow", allow()), guard], context={"sagemaker:ModelApprovalStatus": "Approved"}
    ).allowed


def test_same_account_resource_policy_alone_allows_a_named_session() -> None:
    grant = policy("group policy", allow(Principal={"AWS": SESSION.arn}))
    assert decide(resource=grant).allowed
    grant_role = policy("group policy", allow(Principal={"AWS": SESSION.role_arn}))
    assert decide(resource=grant_role).allowed


def test_same_account_resource_policy_naming_the_account_only_delegates() -> None:
    grant = policy("group policy", allow(Principal={"AWS": ACCOUNT}))
    assert not decide(resource=grant).allowed
    assert decide(resource=grant, identity=[policy("allow", allow())]).allowed


def test_cross_account_needs_identity_and_resource_policy() -> None:
    identity = [policy("allow", allow())]
    grant = policy("group policy", allow(Principal={"AWS": OTHER}))
    assert not decide(FOREIGN, identity=identity).allowed
    only_resource = decide(FOREIGN, resource=grant)
    assert not only_resource.allowed
    assert only_resource.denial == "because no identity-based policy allows"
    assert decide(FOREIGN, identity=identity, resource=grant).allowed
    wrong_account = decide(
        FOREIGN, identity=identity, resource=policy("group policy", allow(Principal={"AWS": "222222222222"}))
    )
    assert not wrong_account.allowed
    assert wrong_account.message().endswith(f"because no resource-based policy allows the {UPDATE} action")


def test_service_principals_are_decided_by_the_resource_policy_only() -> None:
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    alarm = ServicePrincipal("cloudwatch.amazonaws.com", ACCOUNT, f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:dlq")
    from_alarms = {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"}}
    statement = allow("sns:Publish", topic, Principal={"Service": "cloudwatch.amazonaws.com"}, Condition=from_alarms)
    context = {"aws:SourceArn": alarm.source_arn}
    assert decide(alarm, "sns:Publish", topic, context, resource=policy("topic policy", statement)).allowed
    from_a_rule = {"aws:SourceArn": "arn:aws:events:us-east-1:1:rule/x"}
    refused = decide(alarm, "sns:Publish", topic, from_a_rule, resource=policy("topic policy", statement))
    assert not refused.allowed
    assert refused.message() == (
        f"User: cloudwatch.amazonaws.com is not authorized to perform: sns:Publish on resource: {topic} "
        "because no resource-based policy allows the sns:Publish action"
    )
    assert not decide(alarm, "sns:Publish", topic, context).allowed


def test_kms_key_policy_must_allow_even_within_the_account() -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"
    identity = [policy("allow", allow("kms:Decrypt", "*"))]
    no_key_policy = decide(action="kms:Decrypt", arn=key, identity=identity, resource_policy_required=True)
    assert not no_key_policy.allowed
    assert no_key_policy.denial == "because no resource-based policy allows"
    enables_iam = policy("key policy", allow("kms:*", "*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert decide(
        action="kms:Decrypt", arn=key, identity=identity, resource=enables_iam, resource_policy_required=True
    ).allowed
    assert not decide(action="kms:Decrypt", arn=key, resource=enables_iam, resource_policy_required=True).allowed


def test_permissions_boundary_limits_identity_policies() -> None:
    identity = [policy("allow", allow())]
    boundary = policy("boundary", allow("sagemaker:Describe*", "*"))
    limited = decide(identity=identity, boundary=boundary)
    assert not limited.allowed
    assert limited.denial == "because no permissions boundary allows"
    assert decide(identity=identity, boundary=policy("boundary", allow("sagemaker:*", "*"))).allowed
    denied = decide(identity=identity, boundary=policy("boundary", allow("*", "*"), deny()))
    assert denied.message().endswith("with an explicit deny in a permissions boundary")


def test_a_boundary_limits_a_resource_grant_to_the_role_but_not_to_the_session() -> None:
    boundary = policy("boundary", allow("sagemaker:Describe*", "*"))
    assert not decide(boundary=boundary, resource=policy("group", allow(Principal={"AWS": SESSION.role_arn}))).allowed
    assert decide(boundary=boundary, resource=policy("group", allow(Principal={"AWS": SESSION.arn}))).allowed


def test_session_policy_narrows_the_role() -> None:
    identity = [policy("allow", allow("sagemaker:*", "*"))]
    session = policy("session", allow("sagemaker:Describe*", "*"))
    narrowed = decide(identity=identity, session=session)
    assert not narrowed.allowed
    assert narrowed.denial == "because no session policy allows"
    assert decide(action="sagemaker:DescribeModelPackage", identity=identity, session=session).allowed


def test_not_principal_deny_spares_only_the_listed_caller() -> None:
    forms = [SESSION.arn, SESSION.role_arn, f"arn:aws:iam::{ACCOUNT}:root"]
    guard = policy("group", deny(NotPrincipal={"AWS": forms}))
    other = role_session_from_arn(f"arn:aws:iam::{ACCOUNT}:role/training", "SageMaker")
    identity = [policy("allow", allow())]
    assert decide(identity=identity, resource=guard).allowed
    assert not decide(other, identity=identity, resource=guard).allowed


def test_administrators_are_not_evaluated() -> None:
    decision = decide(AccountRoot(ACCOUNT), identity=[policy("guard", deny())])
    assert decision.allowed
    assert "not evaluated" in decision.reason


def test_actions_without_a_resource_omit_it_from_the_message() -> None:
    decision = decide(action="cloudwatch:PutMetricData", arn="*")
    assert "on resource" not in decision.message()
    assert decision.message().endswith("because no identity-based policy allows the cloudwatch:PutMetricData action")
