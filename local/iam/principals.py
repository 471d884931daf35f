"""Who makes a request: the principals the embedded AWS knows, each with the forms a policy can name it by.

- ``AccountRoot``: the account's root user, and what unknown credentials and unsigned requests act as (operators
  and tests are administrators of the embedded AWS: their requests are not evaluated).
- ``RoleSession``: temporary credentials of an IAM role (``arn:aws:sts::<account>:assumed-role/<role>/<session>``),
  acting as the role ``arn:aws:iam::<account>:role/<path><role>``, optionally narrowed by a session policy.
- ``IamUser``: long-term credentials of an IAM user.
- ``ServicePrincipal``: an AWS service acting for a resource of some account (``cloudwatch.amazonaws.com`` for an
  alarm), as when CloudWatch publishes to a topic or EventBridge sends to a queue.

``forms()`` lists how a resource policy's ``Principal`` can name the principal: the session ARN (``session``),
the role ARN (``role``), the user ARN (``user``), the account (``account``: ``123456789012`` or
``arn:aws:iam::123456789012:root``), the service name (``service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FormKind = Literal["session", "role", "user", "account", "service"]
Form = tuple[FormKind, str]


@dataclass(frozen=True)
class AccountRoot:
    account: str
    partition: str = "aws"
    evaluated: bool = False

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:root"

    def forms(self) -> tuple[Form, ...]:
        return (("account", self.account),)


@dataclass(frozen=True)
class RoleSession:
    account: str
    role_name: str
    session_name: str
    role_path: str = "/"
    partition: str = "aws"
    session_policy: str | None = None
    evaluated: bool = True

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role{self.role_path}{self.role_name}"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:sts::{self.account}:assumed-role/{self.role_name}/{self.session_name}"

    def forms(self) -> tuple[Form, ...]:
        return (("session", self.arn), ("role", self.role_arn), ("account", self.account))


@dataclass(frozen=True)
class IamUser:
    account: str
    user_name: str
    user_path: str = "/"
    partition: str = "aws"
    evaluated: bool = True

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:user{self.user_path}{self.user_name}"

    def forms(self) -> tuple[Form, ...]:
        return (("user", self.arn), ("account", self.account))


@dataclass(frozen=True)
class ServicePrincipal:
    """A service acting for a resource (``aws:SourceArn``, ``aws:SourceAccount``: that resource and its account)."""

    service: str
    source_account: str | None = None
    source_arn: str | None = None
    evaluated: bool = True
    account: None = None

    @property
    def arn(self) -> str:
        return self.service

    def forms(self) -> tuple[Form, ...]:
        return (("service", self.service),)


Principal = AccountRoot | RoleSession | IamUser | ServicePrincipal


def role_session_from_arn(role_arn: str, session_name: str, session_policy: str | None = None) -> RoleSession:
    """``arn:aws:iam::123456789012:role/path/name`` -> a session of that role."""
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        raise ValueError(f"not an IAM role ARN: {role_arn!r}")
    path_and_name = parts[5][len("role") :]
    path, _, name = path_and_name.rpartition("/")
    return RoleSession(
        account=parts[4],
        role_name=name,
        session_name=session_name,
        role_path=f"{path}/",
        partition=parts[1],
        session_policy=session_policy,
    )
