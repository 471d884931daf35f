"""Lookups in moto's backends that the engine shares: ARNs, a backend if it exists, buckets, roles.

Read-only and side-effect free: a lookup never creates a backend, a region or a resource (moto creates backends
on first access by account and region, which a check must not do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.iam.models import Role, iam_backends
from moto.s3.models import FakeBucket, s3_backends


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, arn: str) -> Arn | None:
        parts = arn.split(":", 5)
        return cls(*parts[1:]) if len(parts) == 6 and parts[0] == "arn" else None

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def existing_backend(backends: Any, account: str, region: str) -> Any:
    """``backends[account][region]`` if moto has created it, else None."""
    if account not in backends or region not in backends[account]:
        return None
    return backends[account][region]


def bucket(name: str) -> tuple[str, FakeBucket] | None:
    """The owner account and the bucket of this name (S3 bucket names are one namespace across accounts)."""
    located = s3_backends.bucket_accounts.get(name)
    if located is None:
        return None
    partition, account = located
    found = s3_backends[account][partition].buckets.get(name)
    return (account, found) if found is not None else None


def role(arn: str) -> Role | None:
    """The IAM role with this ARN (its path included), or None."""
    parsed = Arn.parse(arn)
    backend = existing_backend(iam_backends, parsed.account, parsed.partition) if parsed else None
    return next((r for r in backend.roles.values() if r.arn == arn), None) if backend else None
