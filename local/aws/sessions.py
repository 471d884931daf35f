"""Who calls the embedded AWS: the administrator's credentials, and role sessions as AWS services hand them out.

    creds = role_session(aws.iam, role_arn, "deploy", service="lambda.amazonaws.com", source_arn=function_arn)
    boto3.client("sagemaker", **creds.client_kwargs(), endpoint_url=aws.endpoint_url)

Lambda gives a function's worker temporary credentials of its execution role, SageMaker gives a job (and a
pipeline) credentials of the role it runs as; neither happens unless the role's trust policy admits the service
(``sts:AssumeRole`` evaluated against the trust policy, as AWS does at ``CreateFunction``/``CreateTrainingJob``).
The credentials are registered with the IAM engine (``local.iam.Principals.register_role``), so every request
signed with them is evaluated against that role's policies. ``ADMINISTRATOR``: the operator's and the tests'
credentials, never evaluated.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from local.iam import Enforcer


class RoleNotAssumable(Exception):
    """The role's trust policy does not admit the service (AWS refuses the function, job or model)."""


@dataclass(frozen=True)
class SessionCredentials:
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

_KEY_ALPHABET = string.ascii_uppercase + string.digits


def _temporary() -> SessionCredentials:
    key = "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return SessionCredentials(key, secrets.token_urlsafe(30), secrets.token_urlsafe(60))


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

    Without IAM enforcement (``iam`` None) the administrator's credentials. Raises ``RoleNotAssumable`` when the
    role's trust policy does not let the service assume it.
    """
    if iam is None:
        return ADMINISTRATOR
    outcome = iam.authorize_service(
        service, "sts:AssumeRole", role_arn, source_arn=source_arn, source_account=account, region=region
    )
    if not outcome.allowed:
        raise RoleNotAssumable(f"{service} cannot assume {role_arn}: its trust policy does not allow it")
    credentials = _temporary()
    iam.authorizer.principals.register_role(credentials.access_key_id, role_arn, session_name[:64])
    return credentials
