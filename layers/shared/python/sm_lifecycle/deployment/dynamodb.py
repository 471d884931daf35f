"""Adapter: the deployment ledger, one DynamoDB item per endpoint (table ``DEPLOYMENT_STATE_TABLE_NAME``).

The item (key ``id = deployment#<endpoint>``) records the last endpoint mutation the deployer claimed, and the last
version whose rollout failed, as two map attributes:

- ``claim``: ``target_config`` / ``target_version`` / ``target_package_arn`` (what the mutation moves the endpoint
  to), ``token`` (the claiming invocation's request id: Lambda's retries of that invocation resume it),
  ``claimed_at`` (after ``DEPLOYMENT_CLAIM_GRACE_SECONDS``, a claim the endpoint shows no trace of is claimed
  again: its claimer died, or its call did not apply), ``event_id`` (the event it reconciled), ``observed_modified``
  / ``observed_config`` (the endpoint's ``LastModifiedTime`` and config when the claim was made). An endpoint that is
  stable again, changed since then, and not on the target went through our update and came back: a guardrail
  (auto-rollback) or a failed update;
- ``failed``: ``config`` / ``version`` / ``at`` / ``reason`` of the rollout that came back. That config is not tried
  again until its package is explicitly approved again: an approval event of that version (not the one that started
  the failed rollout) makes the deployer look, and the registry decides (the package ``Approved``, its
  ``LastModifiedTime`` not older than ``at``).

Two marks make an alert be sent once: ``broken`` (the endpoint's breakage a version waits on) and ``stalled`` (the
token of a claim that kept a version waiting longer than ``DEPLOYMENT_STALL_ALERT_SECONDS``).

A claim is a conditional write: of any number of concurrent deliveries, exactly one may move the endpoint to a given
config. The item never expires (no ``expiration`` attribute): it is the memory of the failed version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sm_lifecycle.kernel.clients import classify, error_code

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class LedgerRecord:
    target_config: str | None = None
    target_version: int | None = None
    target_package_arn: str | None = None
    claim_token: str | None = None
    claimed_at: str | None = None
    observed_modified: str = ""
    observed_config: str = ""
    event_id: str | None = None
    failed_config: str | None = None
    failed_version: int | None = None
    failed_at: str | None = None
    failure_reason: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> LedgerRecord:
        claim = ((item or {}).get("claim") or {}).get("M") or {}
        failed = ((item or {}).get("failed") or {}).get("M") or {}

        def s(values: dict[str, Any], name: str) -> str | None:
            value = values.get(name)
            return value.get("S") if value else None

        def n(values: dict[str, Any], name: str) -> int | None:
            value = values.get(name)
            return int(value["N"]) if value and "N" in value else None

        return cls(
            target_config=s(claim, "target_config"),
            target_version=n(claim, "target_version"),
            target_package_arn=s(claim, "target_package_arn"),
            claim_token=s(claim, "token"),
            claimed_at=s(claim, "claimed_at"),
            observed_modified=s(claim, "observed_modified") or "",
            observed_config=s(claim, "observed_config") or "",
            event_id=s(claim, "event_id"),
            failed_config=s(failed, "config"),
            failed_version=n(failed, "version"),
            failed_at=s(failed, "at"),
            failure_reason=s(failed, "reason"),
        )


@dataclass(frozen=True)
class Claim:
    """What the deployer is about to do to the endpoint, written before it does it."""

    target_config: str
    target_version: int
    target_package_arn: str
    token: str
    claimed_at: str
    observed_modified: str
    observed_config: str
    event_id: str

    def item(self) -> dict[str, Any]:
        return {
            "M": {
                "target_config": {"S": self.target_config},
                "target_version": {"N": str(self.target_version)},
                "target_package_arn": {"S": self.target_package_arn},
                "token": {"S": self.token},
                "claimed_at": {"S": self.claimed_at},
                "observed_modified": {"S": self.observed_modified},
                "observed_config": {"S": self.observed_config},
                "event_id": {"S": self.event_id},
            }
        }


class DeploymentLedger:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    @staticmethod
    def key(endpoint_name: str) -> dict[str, Any]:
        return {"id": {"S": f"deployment#{endpoint_name}"}}

    def _update(self, endpoint_name: str, what: str, **kwargs: Any) -> LedgerRecord | None:
        """Run a conditional update; ``None`` when it applied, else the item as it was (the condition failed)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self.key(endpoint_name),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                item = exc.response.get("Item")  # ReturnValuesOnConditionCheckFailure: the item as it was
                return LedgerRecord.from_item(item if isinstance(item, dict) else None)
            raise classify(exc, what=f"{what} ({self._table})") from exc
        except BotoCoreError as exc:
            raise classify(exc, what=f"{what} ({self._table})") from exc
        return None

    def claim(self, endpoint_name: str, claim: Claim) -> LedgerRecord | None:
        """Claim the move to ``claim.target_config`` unless it is already claimed or failed.

        Returns ``None`` when the claim is ours, else the current record (someone claimed it, or it failed before).
        """
        return self._update(
            endpoint_name,
            "claim deployment",
            UpdateExpression="SET claim = :claim",
            ConditionExpression=(
                "(attribute_not_exists(claim) OR claim.target_config <> :target) "
                "AND (attribute_not_exists(failed) OR failed.config <> :target)"
            ),
            ExpressionAttributeValues={":claim": claim.item(), ":target": {"S": claim.target_config}},
        )

    def take_over(self, endpoint_name: str, claim: Claim, *, from_token: str | None, clear_failure: bool) -> bool:
        """Replace the claim ``from_token`` (one the endpoint shows did not happen, or a re-approved failed version)."""
        values: dict[str, Any] = {":claim": claim.item()}
        if from_token is None:
            condition = "attribute_not_exists(claim)"
        else:
            condition = "claim.#token = :previous"
            values[":previous"] = {"S": from_token}
        update = "SET claim = :claim" + (" REMOVE failed" if clear_failure else "")
        kwargs: dict[str, Any] = {}
        if from_token is not None:
            kwargs["ExpressionAttributeNames"] = {"#token": "token"}
        applied = self._update(
            endpoint_name,
            "take over deployment claim",
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            **kwargs,
        )
        return applied is None

    def release(self, endpoint_name: str, token: str) -> bool:
        """Forget our claim because the mutation did not happen (the next delivery or retry may claim again)."""
        applied = self._update(
            endpoint_name,
            "release deployment claim",
            UpdateExpression="REMOVE claim",
            ConditionExpression="claim.#token = :token",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={":token": {"S": token}},
        )
        return applied is None

    def mark_failed(self, endpoint_name: str, *, token: str, config: str, version: int, at: str, reason: str) -> bool:
        """Record that the rollout claimed by ``token`` came back; ``True`` only for the caller that recorded it."""
        applied = self._update(
            endpoint_name,
            "record failed rollout",
            UpdateExpression="SET failed = :failed",
            ConditionExpression="claim.#token = :token AND (attribute_not_exists(failed) OR failed.config <> :config)",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={
                ":token": {"S": token},
                ":config": {"S": config},
                ":failed": {
                    "M": {
                        "config": {"S": config},
                        "version": {"N": str(version)},
                        "at": {"S": at},
                        "reason": {"S": reason or "unknown"},
                    }
                },
            },
        )
        return applied is None

    def note_broken(self, endpoint_name: str, *, status: str, since: str, version: int) -> bool:
        """Record that the endpoint is broken (``status`` since ``since``) while ``version`` waits to be deployed.

        ``True`` only for the first caller to record this breakage for this version: ops are told once, not on every
        duplicate delivery or endpoint event, and again when a newer version is approved while it lasts.
        """
        noted = {"S": f"{status} since {since}; waiting: v{version}"}
        applied = self._update(
            endpoint_name,
            "record broken endpoint",
            UpdateExpression="SET broken = :noted",
            ConditionExpression="attribute_not_exists(broken) OR broken <> :noted",
            ExpressionAttributeValues={":noted": noted},
        )
        return applied is None

    def note_stalled(self, endpoint_name: str, *, token: str) -> bool:
        """Record that the claim ``token`` keeps a version waiting too long; ``True`` only for the first caller."""
        applied = self._update(
            endpoint_name,
            "record stalled deployment",
            UpdateExpression="SET stalled = :token",
            ConditionExpression="attribute_not_exists(stalled) OR stalled <> :token",
            ExpressionAttributeValues={":token": {"S": token}},
        )
        return applied is None
