"""Condition keys about the resource itself (``aws:ResourceTag/<key>``, ``sagemaker:ResourceTag/<key>``…).

They are read from the emulator's state only when a policy asks for one (``RequestContext.resolve``). Providers
by IAM service prefix, each ``(resource ARN) -> {condition key: value}``; defaults read the tags of SageMaker
resources, SNS topics, SQS queues and IAM roles from moto. ``register`` adds one, e.g. for
``sagemaker:CurrentModelLifeCycleStage``, which the emulator's model registry knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from moto.core.exceptions import ServiceException
from moto.sagemaker.models import sagemaker_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from werkzeug.exceptions import HTTPException

from local.iam.moto_state import Arn, existing_backend, role

KeyProvider = Callable[[str], Mapping[str, str]]


def _tag_keys(prefixes: Iterable[str], tags: Mapping[str, str]) -> dict[str, str]:
    return {f"{prefix}:ResourceTag/{key}": value for prefix in prefixes for key, value in tags.items()}


def _pairs(tags: Any) -> dict[str, str]:
    if isinstance(tags, Mapping):
        return {str(k): str(v["Value"] if isinstance(v, Mapping) else v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or []}


def sagemaker_tags(arn: str) -> Mapping[str, str]:
    parsed = Arn.parse(arn)
    backend = existing_backend(sagemaker_backends, parsed.account, parsed.region) if parsed else None
    try:
        tags = backend.list_tags(arn) if backend else []
        if isinstance(tags, tuple):  # moto's paginated form: (tags, next token)
            tags = tags[0]
    except (ServiceException, HTTPException, KeyError, ValueError, AttributeError):  # moto's ways of not finding it
        tags = []
    return _tag_keys(("aws", "sagemaker"), _pairs(tags))


def sns_tags(arn: str) -> Mapping[str, str]:
    parsed = Arn.parse(arn)
    backend = existing_backend(sns_backends, parsed.account, parsed.region) if parsed else None
    topic = backend.topics.get(arn) if backend else None
    return _tag_keys(("aws",), dict(topic._tags) if topic else {})


def sqs_tags(arn: str) -> Mapping[str, str]:
    parsed = Arn.parse(arn)
    backend = existing_backend(sqs_backends, parsed.account, parsed.region) if parsed else None
    queue = backend.queues.get(parsed.resource) if backend and parsed else None
    return _tag_keys(("aws",), dict(queue.tags) if queue else {})


def iam_role_tags(arn: str) -> Mapping[str, str]:
    found = role(arn)
    return _tag_keys(("aws", "iam"), _pairs(found.tags) if found else {})


class ResourceKeys:
    """Providers of resource condition keys, by IAM service prefix."""

    def __init__(self) -> None:
        self._providers: dict[str, list[KeyProvider]] = {
            "sagemaker": [sagemaker_tags],
            "sns": [sns_tags],
            "sqs": [sqs_tags],
            "iam": [iam_role_tags],
        }

    def register(self, service: str, provider: KeyProvider) -> None:
        """Add a provider for the service's resources (keys it gives override earlier providers')."""
        self._providers.setdefault(service, []).append(provider)

    def resolver(self, arn: str) -> Callable[[], Mapping[str, str]]:
        """What ``RequestContext.resolve`` calls for the resource's keys."""
        parsed = Arn.parse(arn)
        providers = self._providers.get(parsed.service, []) if parsed else []

        def resolve() -> Mapping[str, str]:
            keys: dict[str, str] = {}
            for provider in providers:
                keys.update(provider(arn))
            return keys

        return resolve

    def prefixes(self, service: str) -> tuple[str, ...]:
        """The key prefixes resource keys of this service live under."""
        return ("aws:resourcetag/", f"{service}:resourcetag/", f"{service}:current")
