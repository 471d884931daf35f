"""KMS keys and their key policies, from moto's KMS backend, with AWS managed keys as AWS makes them.

A key is named by id, key ARN, alias name or alias ARN. An AWS managed key (``alias/aws/<service>``) is one that
AWS creates in every account and region with a policy nobody can change: it lets every principal *of the account*
use the key *through that service* (``kms:CallerAccount`` and ``kms:ViaService`` conditions) and nobody else,
which is why CloudWatch or EventBridge, which call as services, cannot use it. moto creates such keys with a
customer key's default policy, or not at all; here they always carry AWS's policy ("AWS managed keys" in the AWS
KMS Developer Guide, and the key policy of e.g. ``aws/sns`` as ``GetKeyPolicy`` shows it).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from moto.kms.models import Key, kms_backends

from local.iam.moto_state import existing_backend

AWS_MANAGED_ALIAS = "alias/aws/"


@dataclass(frozen=True)
class KmsKey:
    arn: str
    account: str
    region: str
    policy: str
    aws_managed_for: str | None = None  # the service of an AWS managed key ("sns" for alias/aws/sns)


def aws_managed_key_policy(service: str, account: str, region: str, partition: str = "aws") -> str:
    """The key policy AWS gives the AWS managed key of ``service`` in an account and region."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": f"auto-{service}-1",
            "Statement": [
                {
                    "Sid": f"Allow access through {service} for all principals in the account that are authorized",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:CreateGrant",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account,
                            "kms:ViaService": f"{service}.{region}.amazonaws.com",
                        }
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                    "Resource": "*",
                },
            ],
        }
    )


def _key_arn(account: str, region: str, key_id: str, partition: str) -> str:
    return f"arn:{partition}:kms:{region}:{account}:key/{key_id}"


def _managed_key_id(account: str, region: str, alias: str) -> str:
    for key in _moto_keys(account, region):
        if alias in key.aliases:
            return str(key.id)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kms:{account}:{region}:{alias}"))


def _moto_keys(account: str, region: str) -> list[Key]:
    backend = existing_backend(kms_backends, account, region)
    return list(backend.keys.values()) if backend else []


def _aws_managed(alias: str, account: str, region: str, partition: str) -> KmsKey:
    service = alias[len(AWS_MANAGED_ALIAS) :]
    key_id = _managed_key_id(account, region, alias)
    policy = aws_managed_key_policy(service, account, region, partition)
    return KmsKey(_key_arn(account, region, key_id, partition), account, region, policy, service)


def _from_moto(key: Key, partition: str) -> KmsKey:
    managed = next((a for a in key.aliases if a.startswith(AWS_MANAGED_ALIAS)), None)
    if managed:
        return _aws_managed(managed, key.account_id, key.region, partition)
    return KmsKey(_key_arn(key.account_id, key.region, key.id, partition), key.account_id, key.region, key.policy)


def resolve_key(reference: str, account: str, region: str, partition: str = "aws") -> KmsKey | None:
    """The key a reference (id, key ARN, alias, alias ARN) designates, or None if there is no such key."""
    if reference.startswith("arn:"):
        parts = reference.split(":", 5)
        if len(parts) != 6:
            return None
        partition, region, account, reference = parts[1], parts[3], parts[4], parts[5]
    if reference.startswith(AWS_MANAGED_ALIAS):
        return _aws_managed(reference, account, region, partition)
    keys = _moto_keys(account, region)
    if reference.startswith("alias/"):
        key = next((k for k in keys if reference in k.aliases), None)
    else:
        key_id = reference.removeprefix("key/")
        key = next((k for k in keys if k.id == key_id), None)
        if key is None:
            return _synthesised(key_id, account, region, partition)
    return _from_moto(key, partition) if key else None


def _synthesised(key_id: str, account: str, region: str, partition: str) -> KmsKey | None:
    """An AWS managed key that moto never created, known by the id ``_managed_key_id`` gave it."""
    for service in _AWS_MANAGED_SERVICES:
        alias = f"{AWS_MANAGED_ALIAS}{service}"
        if _managed_key_id(account, region, alias) == key_id:
            return _aws_managed(alias, account, region, partition)
    return None


# Services that encrypt with an AWS managed key of their own (the keys an account can see under alias/aws/).
_AWS_MANAGED_SERVICES = ("sns", "sqs", "s3", "lambda", "dynamodb", "logs", "sagemaker", "secretsmanager", "ssm")
