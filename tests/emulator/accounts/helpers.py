"""What the accounts tests share: roles in any account, sessions of them as Lambda gives them, clients."""

from __future__ import annotations

import json
from typing import Any

import boto3

from local.aws import EmbeddedAWS
from local.aws.sessions import SessionCredentials, role_session

TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def client(aws: EmbeddedAWS, service: str, credentials: SessionCredentials) -> Any:
    """A boto3 client of the embedded AWS signing with ``credentials``."""
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=aws.endpoint_url, region_name=aws.region, **credentials.client_kwargs()
    )


def make_role(aws: EmbeddedAWS, account: str, name: str, trust: dict[str, Any], policy: dict[str, Any]) -> str:
    """A role of ``account`` (created by its administrator) with one inline policy; its ARN."""
    iam = aws.client("iam", account_id=account)
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    return arn


def lambda_session(aws: EmbeddedAWS, role_arn: str) -> SessionCredentials:
    """Credentials of a session of the role, as Lambda gives a function's worker."""
    account = role_arn.split(":")[4]
    return role_session(
        aws.iam, role_arn, "fn", service="lambda.amazonaws.com", source_arn=None, account=account, region=aws.region
    )
