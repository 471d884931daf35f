"""Who calls the embedded AWS: administrators' credentials, and role sessions as AWS services hand them out.

    creds = role_session(aws.iam, role_arn, "deploy", service="lambda.amazonaws.com", source_arn=function_arn)
    boto3.client("sagemaker", **creds.client_kwargs(), endpoint_url=aws.endpoint_url)

Lambda gives a function's worker temporary credentials of its execution role, SageMaker gives a job (and a
pipeline) credentials of the role it runs as; neither happens unless the role's trust policy admits the service
(``sts:AssumeRole`` evaluated against the trust policy, as AWS does at ``CreateFunction``/``CreateTrainingJob``).
The temporary access key is created in moto's IAM store of the role's account (as moto's own ``AssumeRole`` does),
so moto serves the session's requests from that account's backends, and registered with the IAM engine
(``local.iam.Principals.register_role``), so every request signed with it is evaluated against that role's
policies. ``ADMINISTRATOR``: the operator's and the tests' credentials in the default account, never evaluated;
``administrator_credentials(account)``: an IAM user ``administrator`` of another account with the AWS managed
``AdministratorAccess`` policy, evaluated like any principal (allowed in its account, not across accounts unless a
resource policy admits it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from moto.iam.models import iam_backends

from local.aws.iam.managed_policies import ensure_aws_managed_policy
from local.iam import Enforcer
from local.iam.moto_state import Arn


class RoleNotAssumable(Exception):
    """The role's trust policy does not admit the service (AWS refuses the function, job or model)."""


@dataclass(frozen=True)
class SessionCredentials:
    """The credentials a caller signs its requests with (a session token for temporary ones)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """The credential arguments of ``boto3.client``."""
        kwargs = {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}
        if self.session_token:
            kwargs["aws_session_token"] = self.session_token
        return kwargs

    def environment(self) -> dict[str, str]:
        """The credential variables of a process (as Lambda sets them for a function)."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


ADMINISTRATOR = SessionCredentials("testing", "testing")
ADMINISTRATOR_USER = "administrator"
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def _temporary(role_arn: str) -> SessionCredentials:
    """A temporary key in moto's IAM store of the role's account, so moto serves its requests from that account."""
    arn = Arn.parse(role_arn)
    if arn is None:
        raise ValueError(f"not an IAM role ARN: {role_arn!r}")
    key = iam_backends[arn.account][arn.partition].create_temp_access_key()
    key.role_arn = role_arn
    return SessionCredentials(key.access_key_id, key.secret_access_key, secrets.token_urlsafe(60))


def administrator_credentials(account_id: str, partition: str = "aws") -> SessionCredentials:
    """Long-term credentials of the IAM user ``administrator`` of ``account_id`` (``AdministratorAccess``).

    The user, its policy attachment and its access key are created in moto's IAM backend of the account on first
    use and reused after (moto's reset forgets them: they are created again).
    """
    backend = iam_backends[account_id][partition]
    user = backend.users.get(ADMINISTRATOR_USER)
    if user is None:
        user = backend.create_user("us-east-1", ADMINISTRATOR_USER)
        ensure_aws_managed_policy(backend, ADMINISTRATOR_ACCESS)
        backend.attach_user_policy(ADMINISTRATOR_ACCESS, ADMINISTRATOR_USER)
    key = next((k for k in user.access_keys if k.status == "Active"), None)
    if key is None:
        key = backend.create_access_key(ADMINISTRATOR_USER)
    return SessionCredentials(key.access_key_id, key.secret_access_key)


def role_session(
    iam: Enforcer | None,
    role_arn: str,
    session_name: str,
    *,
    service: str,
    source_arn: str | None,
    account: str,
    region: str,
) -> SessionCredentials:
    """Temporary credentials of a session of ``role_arn`` that ``service`` assumes for ``source_arn``.

    The session is in the role's account. Without IAM enforcement (``iam`` None) nothing is evaluated and the
    credentials are not registered. Raises ``RoleNotAssumable`` when the role's trust policy does not let the
    service assume it.
    """
    if iam is None:
        return _temporary(role_arn)
    outcome = iam.authorize_service(
        service, "sts:AssumeRole", role_arn, source_arn=source_arn, source_account=account, region=region
    )
    if not outcome.allowed:
        raise RoleNotAssumable(f"{service} cannot assume {role_arn}: its trust policy does not allow it")
    credentials = _temporary(role_arn)
    iam.authorizer.principals.register_role(credentials.access_key_id, role_arn, session_name[:64])
    return credentials
