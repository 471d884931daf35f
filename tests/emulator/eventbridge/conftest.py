"""Fixtures for EventBridge across accounts: an administrator of a second account of the embedded AWS.

Until the embedded AWS hands out credentials per account, account B's administrator is an IAM user created in moto's
IAM backend of B (moto routes a request to the account whose IAM owns its access key), registered with the IAM
engine as B's root (an administrator: not evaluated). Test-only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.iam.models import iam_backends

from local.aws import EmbeddedAWS
from local.iam import AccountRoot

ACCOUNT_B = "222222222222"


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


@pytest.fixture
def account_b(embedded_aws: EmbeddedAWS) -> Callable[[str], Any]:
    """Clients of account B's administrator (``account_b("events")``)."""
    return account_clients(embedded_aws, ACCOUNT_B)
