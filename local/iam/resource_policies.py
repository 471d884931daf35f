"""Resource-based policies, read from each resource's own state in moto when a request needs them.

Providers by IAM service prefix, each ``(resource ARN, action) -> ResourcePolicy``:
SNS topic ``Policy``, SQS queue ``Policy``, S3 bucket policy (for the bucket and its objects), KMS key policy
(AWS managed keys with AWS's policy, see ``local.iam.kms_keys``), EventBridge event bus policy, Lambda function
policy, and the role trust policy for ``sts:AssumeRole``. ``register`` adds or replaces one, e.g. SageMaker's
model package group policies, which the emulator keeps itself (``model_package_group_provider``).
A resource without a policy gives a ``ResourcePolicy`` with no document but its owner account, which decides
whether a request is cross-account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends
from moto.events.models import events_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from local.iam.evaluation import NamedPolicy
from local.iam.kms_keys import resolve_key
from local.iam.moto_state import Arn, bucket, existing_backend, role


@dataclass(frozen=True)
class ResourcePolicy:
    owner: str | None  # the account owning the resource (None: unknown; the request's account is assumed)
    policy: NamedPolicy | None = None
    required: bool = False  # the policy must allow even within the account (KMS keys, role trust policies)


Provider = Callable[[Arn, str], ResourcePolicy]


def sns_topic(arn: Arn, action: str) -> ResourcePolicy:
    backend = existing_backend(sns_backends, arn.account, arn.region)
    topic = backend.topics.get(str(arn)) if backend else None
    return ResourcePolicy(arn.account, NamedPolicy.parse(f"topic policy of {arn}", topic.policy if topic else None))


def sqs_queue(arn: Arn, action: str) -> ResourcePolicy:
    backend = existing_backend(sqs_backends, arn.account, arn.region)
    queue = backend.queues.get(arn.resource) if backend else None
    return ResourcePolicy(arn.account, NamedPolicy.parse(f"queue policy of {arn}", queue.policy if queue else None))


def s3_bucket(arn: Arn, action: str) -> ResourcePolicy:
    name = arn.resource.split("/", 1)[0]
    found = bucket(name)
    if found is None:
        return ResourcePolicy(None)
    account, fake_bucket = found
    return ResourcePolicy(account, NamedPolicy.parse(f"bucket policy of {name}", fake_bucket.policy))


def kms_key(arn: Arn, action: str) -> ResourcePolicy:
    key = resolve_key(str(arn), arn.account, arn.region)
    return ResourcePolicy(
        arn.account, NamedPolicy.parse(f"key policy of {arn}", key.policy if key else None), required=True
    )


def event_bus(arn: Arn, action: str) -> ResourcePolicy:
    backend = existing_backend(events_backends, arn.account, arn.region)
    bus = backend.event_buses.get(arn.resource.removeprefix("event-bus/")) if backend else None
    return ResourcePolicy(arn.account, NamedPolicy.parse(f"event bus policy of {arn}", bus.policy if bus else None))


def lambda_function(arn: Arn, action: str) -> ResourcePolicy:
    backend = existing_backend(lambda_backends, arn.account, arn.region)
    try:
        statements = backend.get_function(str(arn)).policy.statements if backend else []
    except UnknownFunctionException:
        statements = []
    document = {"Version": "2012-10-17", "Statement": statements} if statements else None
    return ResourcePolicy(arn.account, NamedPolicy.parse(f"function policy of {arn}", document))


def role_trust(arn: Arn, action: str) -> ResourcePolicy:
    """A role's trust policy: a resource policy for ``sts:AssumeRole*`` only (not for ``iam:PassRole``)."""
    if not action.lower().startswith("sts:"):
        return ResourcePolicy(arn.account)
    trusted = role(str(arn))
    trust = trusted.assume_role_policy_document if trusted else None
    return ResourcePolicy(arn.account, NamedPolicy.parse(f"trust policy of {arn}", trust), required=True)


def model_package_group_provider(policy_of: Callable[[str, str, str], str | None]) -> Provider:
    """A SageMaker provider from ``policy_of(account, region, group_name) -> policy JSON | None``.

    A model package group's policy covers the group and the versions in it (``model-package/<group>/<n>``).
    """

    def provider(arn: Arn, action: str) -> ResourcePolicy:
        kind, _, rest = arn.resource.partition("/")
        group = rest if kind == "model-package-group" else rest.split("/")[0] if kind == "model-package" else None
        if not group:
            return ResourcePolicy(arn.account)
        document = policy_of(arn.account, arn.region, group)
        return ResourcePolicy(arn.account, NamedPolicy.parse(f"model package group policy of {group}", document))

    return provider


def ram_provider(receiver_of: Callable[[str], str | None]) -> Provider:
    """A RAM provider from ``receiver_of(invitation ARN) -> account | None``: an invitation (whose ARN names the
    sender's account) is its receiver's to accept or reject, as RAM authorizes it; any other resource its owner's."""

    def provider(arn: Arn, action: str) -> ResourcePolicy:
        if arn.resource.startswith("resource-share-invitation/"):
            return ResourcePolicy(receiver_of(str(arn)) or arn.account or None)
        return ResourcePolicy(arn.account or None)

    return provider


def _owner_only(arn: Arn, action: str) -> ResourcePolicy:
    return ResourcePolicy(arn.account or None)


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
        """The resource's policy and owner (neither for ``*``; only the owner for services without a provider)."""
        parsed = Arn.parse(arn)
        if parsed is None:
            return ResourcePolicy(None)
        return self._providers.get(parsed.service, _owner_only)(parsed, action)
