"""Acting as the administrator of another account of the embedded AWS, in tests.

Until the embedded AWS hands out credentials per account, an account's administrator is an IAM user created in
moto's IAM backend of that account (moto routes a request to the account whose IAM owns its access key), registered
with the IAM engine as the account's root (an administrator: not evaluated). Test-only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import boto3
from moto.iam.models import iam_backends

from local.aws import EmbeddedAWS
from local.iam import AccountRoot

ACCOUNT_B = "222222222222"
ACCOUNT_C = "333333333333"


def account_clients(aws: EmbeddedAWS, account: str) -> Callable[[str], Any]:
    """``client(service)`` acting as the administrator of ``account`` on ``aws``."""
    backend = iam_backends[account]["aws"]
    user = f"admin-{secrets.token_hex(4)}"
    backend.create_user(aws.region, user)
    key = backend.create_access_key(user)
    if aws.iam is not None:
        aws.iam.authorizer.principals.register(key.access_key_id, AccountRoot(account))

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=aws.endpoint_url,
            region_name=aws.region,
            aws_access_key_id=key.access_key_id,
            aws_secret_access_key=key.secret_access_key,
        )

    return client
