"""Policy documents in every shape IAM accepts, and which statements cover an action, a resource, a principal."""

from __future__ import annotations

import json

import pytest

from local.iam.context import RequestContext
from local.iam.documents import PrincipalSpec, parse_policy
from local.iam.principals import IamUser, RoleSession, ServicePrincipal, role_session_from_arn

SESSION = role_session_from_arn("arn:aws:iam::123456789012:role/service/deploy", "worker")
NO_CONTEXT = RequestContext()


def test_single_statement_object_and_string_elements() -> None:
    document = parse_policy(
        json.dumps(
            {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
        )
    )
    (statement,) = document.statements
    assert statement.actions == ("s3:GetObject",)
    assert statement.resources == ("*",)
    assert document.version == "2012-10-17"


def test_parsing_is_cached_by_text() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    assert parse_policy(text) is parse_policy(text)
    assert parse_policy(text.encode()) is parse_policy(text)


def test_invalid_effect_is_refused() -> None:
    with pytest.raises(ValueError, match="Effect"):
        parse_policy({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})


def test_not_action_covers_every_other_action() -> None:
    (statement,) = parse_policy(
        {"Statement": [{"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}]}
    ).statements
    assert statement.covers_action("sagemaker:UpdateModelPackage")
    assert not statement.covers_action("iam:PassRole")


def test_not_resource_covers_every_other_resource() -> None:
    (statement,) = parse_policy(
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::bucket/data-capture/*"}]}
    ).statements
    assert statement.covers_resource("arn:aws:s3:::bucket/pipeline/x", NO_CONTEXT)
    assert not statement.covers_resource("arn:aws:s3:::bucket/data-capture/x", NO_CONTEXT)


def test_resource_variables_are_substituted() -> None:
    (statement,) = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"}],
        }
    ).statements
    assert statement.covers_resource("arn:aws:s3:::b/ana/x", RequestContext.of({"aws:username": "ana"}))
    assert not statement.covers_resource("arn:aws:s3:::b/ana/x", RequestContext.of({"aws:username": "bob"}))
    assert not statement.covers_resource("arn:aws:s3:::b/ana/x", NO_CONTEXT)  # unresolved variable: no match


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ("*", "everyone"),
        ({"AWS": "*"}, "everyone"),
        ({"AWS": "123456789012"}, "account"),
        ({"AWS": "arn:aws:iam::123456789012:root"}, "account"),
        ({"AWS": "arn:aws:iam::123456789012:role/service/deploy"}, "role"),
        ({"AWS": "arn:aws:sts::123456789012:assumed-role/deploy/worker"}, "session"),
        ({"AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/service/deploy"]}, "role"),
        ({"AWS": "arn:aws:sts::123456789012:assumed-role/deploy/other"}, None),
        ({"AWS": "arn:aws:iam::123456789012:role/deploy"}, None),  # the path is part of the role ARN
        ({"AWS": "111111111111"}, None),
        ({"Service": "cloudwatch.amazonaws.com"}, None),
        ({"Federated": "cognito-identity.amazonaws.com"}, None),
    ],
)
def test_principal_element_names_a_role_session(element: object, expected: str | None) -> None:
    assert PrincipalSpec.parse(element).match(SESSION.forms()) == expected


def test_service_and_user_principals() -> None:
    cloudwatch = ServicePrincipal(
        "cloudwatch.amazonaws.com", "123456789012", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
    )
    assert (
        PrincipalSpec.parse({"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}).match(cloudwatch.forms())
        == "service"
    )
    assert PrincipalSpec.parse({"AWS": "123456789012"}).match(cloudwatch.forms()) is None
    user = IamUser("123456789012", "ana")
    assert PrincipalSpec.parse({"AWS": "arn:aws:iam::123456789012:user/ana"}).match(user.forms()) == "user"


def test_not_principal_leaves_out_a_caller_only_if_every_form_of_it_is_listed() -> None:
    listed_all = {"AWS": [SESSION.arn, SESSION.role_arn, "arn:aws:iam::123456789012:root"]}
    (excepting_all,) = parse_policy(
        {"Statement": [{"Effect": "Deny", "NotPrincipal": listed_all, "Action": "*", "Resource": "*"}]}
    ).statements
    assert excepting_all.principal_match(SESSION.forms()) is None
    (excepting_role,) = parse_policy(
        {"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": SESSION.role_arn}, "Action": "*", "Resource": "*"}]}
    ).statements
    assert excepting_role.principal_match(SESSION.forms()) == "everyone"


def test_role_session_from_arn_keeps_path_and_partition() -> None:
    session = role_session_from_arn("arn:aws:iam::123456789012:role/a/b/name", "s")
    assert session == RoleSession("123456789012", "name", "s", "/a/b/")
    assert session.role_arn == "arn:aws:iam::123456789012:role/a/b/name"
    assert session.arn == "arn:aws:sts::123456789012:assumed-role/name/s"
    with pytest.raises(ValueError, match="role"):
        role_session_from_arn("arn:aws:iam::123456789012:user/ana", "s")
