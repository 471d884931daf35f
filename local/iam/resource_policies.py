"""Resource-based policies, read from each resource's own state in moto when a request needs them.

Providers by IAM service prefix, each ``(resource ARN, action) -> ResourcePolicy | None``:
SNS topic ``Policy``, SQS queue ``Policy``, S3 bucket policy (for the bucket and its objects), KMS key policy
(AWS managed keys with AWS's policy, see ``local.iam.kms_keys``), EventBridge event bus policy, Lambda function
policy, and the role trust policy for ``sts:AssumeRole``. ``register`` adds or replaces one, e.g. SageMaker's
model package group policies, which the emulator keeps itself (``model_package_group_provider``).
A resource without a policy gives a ``ResourcePolicy`` with no document but its owner account, which decides
whether a request is cross-account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends
from moto.events.models import events_backends
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from local.iam.documents import parse_policy
from local.iam.evaluation import NamedPolicy
from local.iam.kms_keys import resolve_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourcePolicy:
    owner: str | None  # the account owning the resource (None: unknown; the request's account is assumed)
    policy: NamedPolicy | None = None
    required: bool = False  # the policy must allow even within the account (KMS keys, role trust policies)


Provider = Callable[[str, str], ResourcePolicy | None]


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


def _named(name: str, document: Any) -> NamedPolicy | None:
    if not document:
        return None
    try:
        return NamedPolicy(name, parse_policy(document))
    except (ValueError, TypeError, KeyError) as error:
        logger.warning("%s does not parse (%s): left out", name, error)
        return None


def _backend(backends: Any, account: str, region: str) -> Any:
    if account not in backends or region not in backends[account]:
        return None
    return backends[account][region]


def sns_topic(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    backend = _backend(sns_backends, parsed.account, parsed.region)
    topic = backend.topics.get(arn) if backend else None
    return ResourcePolicy(parsed.account, _named(f"topic policy of {arn}", topic.policy if topic else None))


def sqs_queue(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    backend = _backend(sqs_backends, parsed.account, parsed.region)
    queue = backend.queues.get(parsed.resource) if backend else None
    return ResourcePolicy(parsed.account, _named(f"queue policy of {arn}", queue.policy if queue else None))


def s3_bucket(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    name = parsed.resource.split("/", 1)[0]
    located = s3_backends.bucket_accounts.get(name)
    if located is None:
        return ResourcePolicy(None)
    partition, account = located
    bucket = s3_backends[account][partition].buckets.get(name)
    return ResourcePolicy(account, _named(f"bucket policy of {name}", bucket.policy if bucket else None))


def kms_key(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    key = resolve_key(arn, parsed.account, parsed.region)
    return ResourcePolicy(parsed.account, _named(f"key policy of {arn}", key.policy if key else None), required=True)


def event_bus(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    backend = _backend(events_backends, parsed.account, parsed.region)
    bus = backend.event_buses.get(parsed.resource.removeprefix("event-bus/")) if backend else None
    return ResourcePolicy(parsed.account, _named(f"event bus policy of {arn}", bus.policy if bus else None))


def lambda_function(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    backend = _backend(lambda_backends, parsed.account, parsed.region)
    try:
        statements = backend.get_function(arn).policy.statements if backend else []
    except UnknownFunctionException:
        statements = []
    document = {"Version": "2012-10-17", "Statement": statements} if statements else None
    return ResourcePolicy(parsed.account, _named(f"function policy of {arn}", document))


def role_trust(arn: str, action: str) -> ResourcePolicy | None:
    """A role's trust policy: a resource policy for ``sts:AssumeRole*`` only (not for ``iam:PassRole``)."""
    parsed = Arn.parse(arn)
    if parsed is None:
        return None
    if not action.lower().startswith("sts:"):
        return ResourcePolicy(parsed.account)
    backend = iam_backends[parsed.account][parsed.partition] if parsed.account in iam_backends else None
    role = next((r for r in backend.roles.values() if r.arn == arn), None) if backend else None
    trust = role.assume_role_policy_document if role else None
    return ResourcePolicy(parsed.account, _named(f"trust policy of {arn}", trust), required=True)


def model_package_group_provider(policy_of: Callable[[str, str, str], str | None]) -> Provider:
    """A SageMaker provider from ``policy_of(account, region, group_name) -> policy JSON | None``.

    A model package group's policy covers the group and the versions in it (``model-package/<group>/<n>``).
    """

    def provider(arn: str, action: str) -> ResourcePolicy | None:
        parsed = Arn.parse(arn)
        if parsed is None:
            return None
        kind, _, rest = parsed.resource.partition("/")
        group = rest if kind == "model-package-group" else rest.split("/")[0] if kind == "model-package" else None
        if not group:
            return ResourcePolicy(parsed.account)
        document = policy_of(parsed.account, parsed.region, group)
        return ResourcePolicy(parsed.account, _named(f"model package group policy of {group}", document))

    return provider


def _owner_only(arn: str, action: str) -> ResourcePolicy | None:
    parsed = Arn.parse(arn)
    return ResourcePolicy(parsed.account or None) if parsed else None


class ResourcePolicies:
    """The providers of resource policies, by IAM service prefix."""

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {
            "sns": sns_topic,
            "sqs": sqs_queue,
            "s3": s3_bucket,
            "kms": kms_key,
            "events": event_bus,
            "lambda": lambda_function,
            "iam": role_trust,
        }

    def register(self, service: str, provider: Provider) -> None:
        self._providers[service] = provider

    def for_resource(self, arn: str, action: str) -> ResourcePolicy:
        """The resource's policy and owner (no policy and no owner for ``*`` and unknown services)."""
        if arn == "*":
            return ResourcePolicy(None)
        service = arn.split(":", 3)[2] if arn.count(":") >= 3 else ""
        provider = self._providers.get(service, _owner_only)
        return provider(arn, action) or ResourcePolicy(None)
