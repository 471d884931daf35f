"""The deployer: a level-triggered reconcile loop between the model registry and the endpoint.

Every wake-up (a model package approval change, an endpoint state change, a retry, a duplicate) runs the same pass:

1. desired: the newest ``Approved`` version of the environment's package group, by version number;
2. observed: the endpoint's status and config;
3. act: endpoint missing → create it; busy → nothing (its next state change wakes us); on the desired config →
   nothing; otherwise claim the move in the ledger (exactly one claimer per target config), create the model and the
   endpoint config under deterministic names (a retry finds them) and ``UpdateEndpoint`` with the environment's
   blue/green deployment config.

A claim never stalls a version silently: a mutation SageMaker refused (throttled, a 5xx) releases it before the error
propagates; one whose outcome is unknown (a timeout) stays, and a later wake-up claims again once the endpoint shows
no trace of it past ``DEPLOYMENT_CLAIM_GRACE_SECONDS``; a version a claim keeps waiting longer than
``DEPLOYMENT_STALL_ALERT_SECONDS`` is alerted once.

A guardrail rollback (the endpoint stable again, changed since our claim, not on our target) is recorded in the
ledger and alerted once; that version is not tried again until it is approved again. Endpoint configs and models are
never deleted: they cost nothing while unused, and a rollback (SageMaker's or a rejection's) reuses them.
The deployer never sleeps and never polls SageMaker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from sm_lifecycle.deployment.config import DeploySettings
from sm_lifecycle.deployment.dynamodb import Claim, DeploymentLedger, LedgerRecord
from sm_lifecycle.deployment.model import (
    APPROVED,
    BROKEN_STATUSES,
    BUSY_STATUSES,
    ObservedEndpoint,
    Outcome,
    PackageDetails,
    PackageVersion,
    Trigger,
)
from sm_lifecycle.deployment.sagemaker import SageMakerGateway
from sm_lifecycle.kernel import tags
from sm_lifecycle.kernel.errors import ConflictError, InvalidEventError, RefusedError
from sm_lifecycle.kernel.stages import LifeCycle, Stage, StageStatus
from sm_lifecycle.kernel.tags import tag_value
from sm_lifecycle.kernel.timestamps import optional_utc_datetime

logger = Logger(child=True)

Alert = Callable[[str, str, str], None]  # (subject, message, severity)

TAG_ENV, TAG_TEAM, TAG_GIT_SHA = tags.ENV, tags.TEAM, tags.GIT_SHA
TAG_PACKAGE_ARN, TAG_PACKAGE_VERSION = tags.MODEL_PACKAGE_ARN, tags.MODEL_PACKAGE_VERSION
TAG_PACKAGE_GROUP, TAG_MANAGED_BY = tags.MODEL_PACKAGE_GROUP, tags.MANAGED_BY
MANAGED_BY = "sagemaker-lifecycle-deploy"
# The endpoint outlives versions: it carries the stable tags only. Which version it serves is told by the tags of
# its current endpoint config, which follow every update and every rollback exactly (endpoint tags would not).
PER_VERSION_TAG_KEYS = (TAG_PACKAGE_ARN, TAG_PACKAGE_VERSION, TAG_GIT_SHA)


class Reconciler:
    def __init__(
        self,
        settings: DeploySettings,
        gateway: SageMakerGateway,
        ledger: DeploymentLedger,
        alert: Alert,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.ledger = ledger
        self.alert = alert
        self.clock = clock
        self.new_token = new_token

    @property
    def endpoint_name(self) -> str:
        return self.settings.endpoint_name

    # ------------------------------------------------------------------ the pass
    def reconcile(self, trigger: Trigger, *, request_id: str | None = None) -> Outcome:
        """One pass. ``request_id``: the invocation's (Lambda keeps it across the retries of one invocation, so a
        retry recognises the claim its failed attempt made; duplicate deliveries have their own)."""
        desired = self._desired()
        observed = self.gateway.describe_endpoint(self.endpoint_name)
        self._note_stale_trigger(trigger, desired)

        if desired is None:
            return self._nothing_approved(trigger, observed)
        if observed is not None and observed.status in BUSY_STATUSES:
            return self._outcome("busy", desired, observed, detail="its next state change wakes the deployer")
        if observed is not None and observed.status in BROKEN_STATUSES:
            return self._broken(trigger, desired, observed)

        model_name = self.settings.model_name(desired.arn, desired.version)
        config_name = self.settings.endpoint_config_name(model_name, desired.version)
        if observed is not None and observed.config_name == config_name:
            return self._outcome("in-sync", desired, observed, config_name)

        claim = Claim(
            target_config=config_name,
            target_version=desired.version,
            target_package_arn=desired.arn,
            token=request_id or self.new_token(),
            claimed_at=self.clock().isoformat(),
            observed_modified=observed.last_modified if observed else "",
            observed_config=observed.config_name if observed else "",
            event_id=trigger.event_id,
        )
        held = self.ledger.claim(self.endpoint_name, claim)
        if held is not None:
            outcome = self._resolve_held(held, claim, trigger, desired, observed)
            if outcome is not None:
                return outcome
        return self._mutate(claim, trigger, desired, observed, model_name)

    def _desired(self) -> PackageVersion | None:
        """Without a stage: the newest approved version. With one: the newest version eligible for it."""
        stage = self.settings.lifecycle_stage
        if stage is None:
            return self.gateway.newest_approved(self.settings.common.model_package_group_name)
        return self.gateway.newest_eligible(self.settings.common.model_package_group, stage)

    # ------------------------------------------------------------------ decisions
    def _note_stale_trigger(self, trigger: Trigger, desired: PackageVersion | None) -> None:
        if trigger.kind != "model-package" or trigger.approval_status != APPROVED or trigger.package_version is None:
            return
        if self.settings.lifecycle_stage not in (None, Stage.DEVELOPMENT):
            return  # a newer approved version that has not reached this stage yet is the normal case
        if desired is None or trigger.package_version > desired.version:
            logger.error(
                "the event's package is not an approved version of the group any more (deleted or re-rated since)",
                extra={"package_arn": trigger.package_arn, "newest_approved": desired.arn if desired else None},
            )

    def _nothing_approved(self, trigger: Trigger, observed: ObservedEndpoint | None) -> Outcome:
        group, stage = self.settings.common.model_package_group_name, self.settings.lifecycle_stage
        if observed is None:
            eligible = f" eligible for {stage}" if stage is not None else ""
            return Outcome("nothing-approved", self.endpoint_name, detail=f"no approved version{eligible} in {group}")
        detail = (
            f"no version of {group} is approved any more; endpoint {self.endpoint_name} keeps serving "
            f"{observed.config_name} until a version is approved (it is never deleted automatically)"
        )
        logger.error(detail)
        if trigger.kind == "model-package" and trigger.approval_changed:
            self.alert(
                f"[{self.settings.common.environment}] no approved model left for {self.endpoint_name}",
                f"{detail}.\nLast change: {trigger.package_arn} is now {trigger.approval_status}.\n"
                f"Endpoint: {self.settings.common.console_url(f'endpoints/{self.endpoint_name}')}",
                "error",
            )
        return Outcome(
            "nothing-approved",
            self.endpoint_name,
            endpoint_config_name=observed.config_name,
            endpoint_status=observed.status,
            detail=detail,
        )

    def _broken(self, trigger: Trigger, desired: PackageVersion, observed: ObservedEndpoint) -> Outcome:
        detail = (
            f"endpoint {self.endpoint_name} is {observed.status} ({observed.failure_reason or 'no reason given'}); "
            f"version {desired.version} cannot be deployed until it is repaired or deleted by a person"
        )
        logger.error(detail)
        first_notice = self.ledger.note_broken(
            self.endpoint_name, status=observed.status, since=observed.last_modified, version=desired.version
        )
        if first_notice:  # duplicates and further wake-ups while it lasts say nothing new
            self.alert(
                f"[{self.settings.common.environment}] endpoint {self.endpoint_name} is {observed.status}",
                f"{detail}.\nDesired: {desired.arn}\nTrigger: {trigger.kind} event {trigger.event_id}\n"
                f"Endpoint: {self.settings.common.console_url(f'endpoints/{self.endpoint_name}')}",
                "error",
            )
        return self._outcome("blocked", desired, observed, detail=detail)

    def _resolve_held(
        self,
        held: LedgerRecord,
        claim: Claim,
        trigger: Trigger,
        desired: PackageVersion,
        observed: ObservedEndpoint | None,
    ) -> Outcome | None:
        """The ledger refused our claim: decide between waiting, a rollback, a take-over. ``None`` = proceed."""
        if held.failed_config == claim.target_config:
            if self._approved_after_failure(held, trigger, desired) and self.ledger.take_over(
                self.endpoint_name, claim, from_token=held.claim_token, clear_failure=True
            ):
                logger.info("approved again after its failed rollout: retrying", extra={"version": desired.version})
                return None
            detail = (
                f"version {desired.version} was rolled back at {held.failed_at} ({held.failure_reason}); "
                "approve it again (or approve a newer version) to deploy"
            )
            logger.warning(detail)
            return self._outcome("blocked", desired, observed, claim.target_config, detail)

        changed_since_claim = observed is not None and observed.last_modified != held.observed_modified
        if changed_since_claim and observed is not None and observed.status == "InService":
            return self._rolled_back(held, desired, observed)

        if held.claim_token == claim.token:
            logger.info("retrying the deployment this invocation claimed", extra={"claimed_at": held.claimed_at})
            return None
        # The endpoint is stable and shows no change since the claim: its mutation did not happen (an accepted
        # CreateEndpoint/UpdateEndpoint makes it Creating/Updating at once). Past the grace no live invocation can
        # still be about to make it (the grace exceeds the function's timeout): claim it again.
        age = self._claim_age(held)
        if (
            not changed_since_claim
            and age > timedelta(seconds=self.settings.claim_grace_seconds)
            and self.ledger.take_over(self.endpoint_name, claim, from_token=held.claim_token, clear_failure=False)
        ):
            logger.warning(
                "the endpoint shows no trace of the claimed deployment: claimed again",
                extra={"claimed_at": held.claimed_at, "endpoint_modified": held.observed_modified},
            )
            return None
        return self._waiting(held, claim, desired, observed, age)

    def _claim_age(self, held: LedgerRecord) -> timedelta:
        claimed_at = optional_utc_datetime(held.claimed_at)
        return timedelta.max if claimed_at is None else self.clock() - claimed_at

    def _waiting(
        self,
        held: LedgerRecord,
        claim: Claim,
        desired: PackageVersion,
        observed: ObservedEndpoint | None,
        age: timedelta,
    ) -> Outcome:
        """A claim keeps ``desired`` waiting; past the stall limit, ops are told once (per claim)."""
        detail = f"another invocation claimed this deployment at {held.claimed_at}"
        if (
            age > timedelta(seconds=self.settings.stall_alert_seconds)
            and held.claim_token is not None
            and self.ledger.note_stalled(self.endpoint_name, token=held.claim_token)
        ):
            logger.error(f"version {desired.version} waits on a deployment claim: {detail}")
            self.alert(
                f"[{self.settings.common.environment}] version {desired.version} waits to be deployed to "
                f"{self.endpoint_name}",
                f"Version {desired.version} is approved but not deployed: {detail} "
                f"(more than {self.settings.stall_alert_seconds} s ago) and the endpoint is "
                f"{observed.status if observed else 'missing'} on {observed.config_name if observed else 'no config'}."
                f"\nPackage: {desired.arn}\nTarget config: {claim.target_config}\n"
                f"Endpoint: {self.settings.common.console_url(f'endpoints/{self.endpoint_name}')}",
                "error",
            )
        return self._outcome("in-progress", desired, observed, claim.target_config, detail=detail)

    def _approved_after_failure(self, held: LedgerRecord, trigger: Trigger, desired: PackageVersion) -> bool:
        """Whether a person approved the failed version again after its rollout came back.

        The event is only the hint that makes the deployer look (an approval of that version, not the re-delivered
        event that started the failed rollout); the answer is the registry's: the package is ``Approved`` and its
        ``LastModifiedTime`` (which an approval sets) is not older than the recorded failure. Times, ids and
        statuses of the event are never compared.
        """
        if not (trigger.approves(desired.arn) and trigger.approval_changed and trigger.event_id != held.event_id):
            return False
        failed_at = optional_utc_datetime(held.failed_at)
        package = self.gateway.describe_package(desired.arn)
        if failed_at is None or package.last_modified is None or package.approval_status != APPROVED:
            return False
        # the API's times carry milliseconds
        approved_after = package.last_modified >= failed_at.replace(microsecond=failed_at.microsecond // 1000 * 1000)
        if not approved_after:
            logger.warning(
                "an approval event of a rolled-back version that the registry does not back: nothing done",
                extra={"event_id": trigger.event_id, "registry_last_modified": package.last_modified.isoformat()},
            )
        return approved_after

    def _rolled_back(self, held: LedgerRecord, desired: PackageVersion, observed: ObservedEndpoint) -> Outcome:
        version = held.target_version or desired.version
        reason = observed.failure_reason or f"the endpoint came back to {observed.config_name}"
        detail = (
            f"the rollout of version {version} to {self.endpoint_name} was rolled back: {reason}. "
            f"The endpoint serves {observed.config_name}; version {version} is not retried until it is approved again"
        )
        self._reject_at_stage(held.target_package_arn, reason)
        recorded = self.ledger.mark_failed(
            self.endpoint_name,
            token=held.claim_token or "",
            config=held.target_config or "",
            version=version,
            at=self.clock().isoformat(),
            reason=reason,
        )
        if recorded:
            logger.error(detail)
            self.alert(
                f"[{self.settings.common.environment}] version {version} rolled back on {self.endpoint_name}",
                f"{detail}.\nPackage: {held.target_package_arn}\n"
                f"Endpoint: {self.settings.common.console_url(f'endpoints/{self.endpoint_name}')}",
                "error",
            )
        return self._outcome("rolled-back", desired, observed, held.target_config, detail)

    def _reject_at_stage(self, package_arn: str | None, reason: str) -> None:
        """With a stage: the version the guardrails rolled back stops there, ``{S, Rejected}`` in the registry (so
        the stage's desired state is the version still eligible, and the audit trail says why)."""
        stage = self.settings.lifecycle_stage
        if stage in (None, Stage.DEVELOPMENT) or not package_arn:
            return  # Development follows the approval status: approving the version again retries it
        description = (
            f"rejected at {stage} by the deployer of {self.endpoint_name}: the rollout was rolled back by the "
            f"endpoint's guardrails ({reason})"
        )
        self.gateway.move_to(package_arn, LifeCycle(stage, StageStatus.REJECTED, description))

    # ------------------------------------------------------------------ the mutation
    def _mutate(
        self,
        claim: Claim,
        trigger: Trigger,
        desired: PackageVersion,
        observed: ObservedEndpoint | None,
        model_name: str,
    ) -> Outcome:
        mutation_sent = False
        try:
            package = self._package(desired)
            tags = self._tags(package)
            self.gateway.ensure_model(
                model_name, package_arn=desired.arn, role_arn=self.settings.execution_role_arn, tags=tags
            )
            self.gateway.ensure_endpoint_config(
                claim.target_config,
                production_variants=self.settings.production_variants(model_name),
                data_capture_config=self.settings.data_capture_config(desired.version),
                tags=tags,
            )
            mutation_sent = True
            if observed is None:
                endpoint_tags = {k: v for k, v in tags.items() if k not in PER_VERSION_TAG_KEYS}
                self.gateway.create_endpoint(self.endpoint_name, config_name=claim.target_config, tags=endpoint_tags)
            else:
                self.gateway.update_endpoint(
                    self.endpoint_name,
                    config_name=claim.target_config,
                    deployment_config=self.settings.deployment_config(),
                )
        except ConflictError as exc:
            self.ledger.release(self.endpoint_name, claim.token)
            logger.info("endpoint changed by someone else meanwhile", extra={"error": str(exc)})
            return self._outcome("conflict", desired, observed, claim.target_config, str(exc))
        except InvalidEventError as exc:
            return self._undeployable(claim, desired, observed, str(exc))
        except Exception as exc:
            # Before the endpoint call, or refused by SageMaker (throttled, a 5xx it answered), nothing happened: free
            # the claim for whoever comes next (Lambda's retry, a redrive, a re-approval). Otherwise (a timeout, a lost
            # connection) the outcome is unknown: keep the claim; Lambda's retry of this invocation (same request id)
            # resumes it, another wake-up checks the endpoint (_resolve_held).
            if not mutation_sent or isinstance(exc, RefusedError):
                self.ledger.release(self.endpoint_name, claim.token)
            raise

        action = "created" if observed is None else "updated"
        logger.info(
            f"endpoint {action}",
            extra={"endpoint": self.endpoint_name, "config": claim.target_config, "version": desired.version},
        )
        return self._outcome(action, desired, observed, claim.target_config)

    def _package(self, desired: PackageVersion) -> PackageDetails:
        # the registry's, never an event's copy: the Search record that chose it, else DescribeModelPackage
        package = desired.details or self.gateway.describe_package(desired.arn)
        if not package.has_inference_specification:
            raise InvalidEventError(f"model package {desired.arn} has no InferenceSpecification to deploy")
        instance_type = self.settings.instance_type
        if package.refuses_instance_type(instance_type):
            raise InvalidEventError(
                f"model package {desired.arn} is registered for real-time inference on "
                f"{', '.join(package.realtime_instance_types)} only, not on the endpoint's {instance_type} "
                "(SupportedRealtimeInferenceInstanceTypes; EndpointInstanceType)"
            )
        return package

    def _undeployable(
        self, claim: Claim, desired: PackageVersion, observed: ObservedEndpoint | None, error: str
    ) -> Outcome:
        detail = f"version {desired.version} cannot be deployed: {error}"
        logger.error(detail, extra={"package_arn": desired.arn})
        recorded = self.ledger.mark_failed(
            self.endpoint_name,
            token=claim.token,
            config=claim.target_config,
            version=desired.version,
            at=self.clock().isoformat(),
            reason=error,
        )
        if recorded:
            self.alert(
                f"[{self.settings.common.environment}] approved version {desired.version} cannot be deployed",
                f"{detail}.\nThe endpoint {self.endpoint_name} is left as it is.\nPackage: {desired.arn}",
                "error",
            )
        return self._outcome("blocked", desired, observed, claim.target_config, detail)

    # ------------------------------------------------------------------ tags
    def _tags(self, package: PackageDetails) -> dict[str, str]:
        common = self.settings.common
        return {
            TAG_ENV: tag_value(common.environment),
            TAG_TEAM: tag_value(common.team),
            TAG_PACKAGE_GROUP: tag_value(package.group),
            TAG_PACKAGE_VERSION: str(package.version),
            TAG_PACKAGE_ARN: tag_value(package.arn),
            TAG_GIT_SHA: tag_value(package.git_sha),
            TAG_MANAGED_BY: MANAGED_BY,
        }

    # ------------------------------------------------------------------ result
    def _outcome(
        self,
        action: str,
        desired: PackageVersion | None,
        observed: ObservedEndpoint | None,
        config_name: str | None = None,
        detail: str = "",
    ) -> Outcome:
        return Outcome(
            action=action,
            endpoint_name=self.endpoint_name,
            desired_version=desired.version if desired else None,
            desired_package_arn=desired.arn if desired else None,
            endpoint_config_name=config_name or (observed.config_name if observed else None),
            endpoint_status=observed.status if observed else None,
            detail=detail,
        )
