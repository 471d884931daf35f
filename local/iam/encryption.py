"""The KMS permissions that using an encrypted resource takes, beyond the request's own action.

As the services document it, a caller (or a service principal) that writes to or reads from a resource encrypted
with a KMS key needs the key too, through that service (``kms:ViaService`` = ``<service>.<region>.amazonaws.com``):
- ``sns:Publish`` to a topic with ``KmsMasterKeyId``: ``kms:GenerateDataKey`` and ``kms:Decrypt``
  (Amazon SNS Developer Guide, "Managing Amazon SNS encryption keys and costs");
- ``sqs:SendMessage`` to a queue with ``KmsMasterKeyId``: ``kms:GenerateDataKey`` and ``kms:Decrypt``
  (Amazon SQS Developer Guide, "Key management"); SQS-managed SSE needs no KMS permission;
- ``s3:GetObject``/``s3:GetObjectVersion`` of an SSE-KMS object: ``kms:Decrypt``; ``s3:PutObject`` into SSE-KMS
  (the request's ``x-amz-server-side-encryption`` or the bucket's default): ``kms:GenerateDataKey``
  (Amazon S3 User Guide, "Using server-side encryption with AWS KMS keys").
The key is the resource's (``alias/aws/<service>`` when none is named: an AWS managed key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from local.iam.kms_keys import resolve_key
from local.iam.moto_state import Arn, bucket, existing_backend

WRITE_AND_READ = ("kms:GenerateDataKey", "kms:Decrypt")


@dataclass(frozen=True)
class KeyUse:
    """``actions`` on the key ``key_arn``, through ``service`` (for ``kms:ViaService``)."""

    key_arn: str
    actions: tuple[str, ...]
    service: str
    region: str

    @property
    def via_service(self) -> str:
        return f"{self.service}.{self.region}.amazonaws.com"


def _key_use(reference: str | None, arn: Arn, service: str, actions: tuple[str, ...]) -> list[KeyUse]:
    if not reference:
        return []
    key = resolve_key(reference, arn.account, arn.region, arn.partition)
    return [KeyUse(key.arn, actions, service, key.region)] if key else []


def _topic(arn: Arn, raw: str) -> list[KeyUse]:
    backend = existing_backend(sns_backends, arn.account, arn.region)
    topic = backend.topics.get(raw) if backend else None
    return _key_use(topic.kms_master_key_id if topic else None, arn, "sns", WRITE_AND_READ)


def _queue(arn: Arn) -> list[KeyUse]:
    backend = existing_backend(sqs_backends, arn.account, arn.region)
    queue = backend.queues.get(arn.resource) if backend else None
    return _key_use(queue.kms_master_key_id if queue else None, arn, "sqs", WRITE_AND_READ)


def _object_read(arn: Arn) -> list[KeyUse]:
    name, _, key_name = arn.resource.partition("/")
    found = bucket(name)
    stored = found[1].keys.get(key_name) if found else None
    if found is None or stored is None or stored.encryption != "aws:kms":
        return []
    where = Arn(arn.partition, "s3", found[1].region_name, found[0], "")
    return _key_use(stored.kms_key_id or "alias/aws/s3", where, "s3", ("kms:Decrypt",))


def _object_write(arn: Arn, params: Mapping[str, Any]) -> list[KeyUse]:
    found = bucket(arn.resource.partition("/")[0])
    if found is None:
        return []
    owner, fake_bucket = found
    default = ((fake_bucket.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault") or {}
    algorithm = params.get("ServerSideEncryption") or default.get("SSEAlgorithm")
    if algorithm not in ("aws:kms", "aws:kms:dsse"):
        return []
    reference = params.get("SSEKMSKeyId") or default.get("KMSMasterKeyID") or "alias/aws/s3"
    where = Arn(arn.partition, "s3", fake_bucket.region_name, owner, "")
    return _key_use(reference, where, "s3", ("kms:GenerateDataKey",))


def key_uses(action: str, resource: str, operation: str, params: Mapping[str, Any]) -> list[KeyUse]:
    """The KMS permissions that ``action`` on ``resource`` also takes (empty when the resource is not encrypted).

    ``operation`` is the API operation (``HeadObject`` reads no object data, so it needs no key).
    """
    arn = Arn.parse(resource)
    if arn is None:
        return []
    lowered = action.lower()
    if lowered == "sns:publish":
        return _topic(arn, resource)
    if lowered == "sqs:sendmessage":
        return _queue(arn)
    if lowered in ("s3:getobject", "s3:getobjectversion") and operation != "HeadObject":
        return _object_read(arn)
    if lowered == "s3:putobject":
        return _object_write(arn, params)
    return []
