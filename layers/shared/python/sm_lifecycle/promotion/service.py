"""Promotion of a newly registered model package: judge its metrics against the policy and the live champion.

``evaluation.evaluate`` is pure (policy + reports -> checks). ``PromotionService`` orchestrates one decision through
ports (registry, champion locator, report store, notifier); the adapters are ``sagemaker``, ``s3`` and ``sns``.

Safety rules:
- only the package the event names is judged, never "the newest in the group", and only a new registration: a
  package pending with an ``ApprovalDescription`` was decided on and set back to pending by a person;
- a decision is written only while the package is still ``PendingManualApproval``, re-checked right before the
  write, so a human's approval or rejection is never overridden;
- a missing, unreadable or malformed report (the challenger's or the champion's) never approves anything: the
  package is left pending and the approvers are alerted with the reason.

Duplicates: the status re-check alone makes a duplicate harmless in ``auto`` mode (the second run finds the package
decided), but not in ``recommend`` mode or for unusable metrics, where the package stays pending and every duplicate
would notify again. So the function also wraps ``judge`` in the kernel's idempotency keyed on the package ARN
(:func:`judge_once`): a duplicate gets the stored result, with no AWS call. A run that fails stores nothing;
its retry recognises a decision an earlier attempt already wrote (our audit text) and only re-sends the notice.
UpdateModelPackage has no condition, so a human deciding in the milliseconds between the re-check and the write
cannot be excluded; the window is kept to one DescribeModelPackage call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from sm_lifecycle.kernel.errors import ForeignEventError, InvalidEventError
from sm_lifecycle.kernel.idempotency import Idempotent
from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.promotion.evaluation import Evaluation, approval_description, evaluate, is_policy_decision
from sm_lifecycle.promotion.metrics import MetricsReport, MetricsReportError, parse_report
from sm_lifecycle.promotion.policy import Mode, PromotionPolicy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = [
    "KEY_PREFIX",
    "ChampionLocator",
    "Notifier",
    "Outcome",
    "Package",
    "PromotionService",
    "Registry",
    "ReportStore",
    "Result",
    "judge_once",
]

logger = Logger(child=True)

KEY_PREFIX = "promote"
PENDING = ModelApprovalStatus.PENDING
APPROVED = ModelApprovalStatus.APPROVED
REJECTED = ModelApprovalStatus.REJECTED


class Outcome(StrEnum):
    APPROVED = "approved"  # auto mode, every check passed: written Approved
    REJECTED = "rejected"  # auto mode, a check failed: written Rejected
    RECOMMENDED = "recommended"  # recommend mode: left pending, approvers notified with the comparison
    UNDECIDED = "undecided"  # the evidence could not be read: left pending, alert with the reason
    SKIPPED = "skipped"  # mode off, or the package is no longer pending (someone decided)


# ---------------------------------------------------------------------------------------------------- ports
@dataclass(frozen=True)
class Package:
    arn: str
    group: str
    version: int | None
    status: str
    metrics_uri: str | None  # ModelMetrics.ModelQuality.Statistics.S3Uri
    approval_description: str | None = None


class Registry(Protocol):
    def describe(self, arn: str) -> Package: ...

    def decide(self, arn: str, status: ModelApprovalStatus, description: str) -> None: ...

    def newest_approved(self, group: str) -> str | None: ...


class ChampionLocator(Protocol):
    def live_package_arn(self) -> str | None:
        """The package the environment's endpoint runs now, or None (no endpoint, or not identifiable)."""


class ReportStore(Protocol):
    def read(self, uri: str) -> bytes:
        """The report's bytes; ``MetricsReportError`` if missing or unreadable, ``TransientError`` to retry."""


class Notifier(Protocol):
    def notify(self, subject: str, message: str, severity: str, attributes: dict[str, str]) -> None: ...


# ---------------------------------------------------------------------------------------------------- service
@dataclass
class Result:
    status: Outcome
    package_arn: str
    reason: str = ""
    champion_arn: str | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass
class PromotionService:
    policy: PromotionPolicy
    group: str
    environment: str
    registry: Registry
    champions: ChampionLocator
    reports: ReportStore
    notifier: Notifier
    console_url: Callable[[str], str] | None = None

    def judge(self, package_arn: str) -> Result:
        """Judge the package ``package_arn`` (and only it) and act according to the policy's mode."""
        if self.policy.mode is Mode.OFF:
            return Result(Outcome.SKIPPED, package_arn, reason="promotion mode is off")
        package = self.registry.describe(package_arn)
        if package.group != self.group:
            raise ForeignEventError(
                f"model package {package_arn} is in group {package.group!r}, not {self.group!r}",
                field="detail.ModelPackageGroupName",
            )
        if package.status != PENDING:
            if is_policy_decision(package.status, package.approval_description):
                # An earlier attempt wrote this decision, then failed (e.g. publishing the notice): finish its job.
                return self._announce(package, package.status, None, None, package.approval_description or "")
            return Result(Outcome.SKIPPED, package_arn, reason=f"package is already {package.status}")
        if package.approval_description:
            # pending again after a decision (its ApprovalDescription says so): a person's review, not a registration
            reason = "pending with an ApprovalDescription: decided before and set back to pending, not judged again"
            return Result(Outcome.SKIPPED, package_arn, reason=reason)

        champion_arn: str | None = None
        try:
            challenger = self._report(package, "challenger")
            champion_arn = self._champion_arn(package_arn)
            champion = self._champion_report(champion_arn) if champion_arn else None
            evaluation = evaluate(self.policy, challenger, champion)
        except MetricsReportError as exc:
            return self._undecided(package, champion_arn, str(exc))

        checks = [asdict(check) for check in evaluation.checks]
        verdict = APPROVED if evaluation.passed else REJECTED
        if self.policy.mode is Mode.RECOMMEND:
            self._notify_recommendation(package, champion_arn, evaluation, verdict)
            return Result(Outcome.RECOMMENDED, package_arn, f"recommend {verdict}", champion_arn, checks)

        # Re-read right before writing: a human may have decided while we were reading reports.
        current = self.registry.describe(package_arn).status
        if current != PENDING:
            return Result(Outcome.SKIPPED, package_arn, f"package became {current} meanwhile", champion_arn, checks)
        description = approval_description(self.policy, verdict, evaluation, champion_arn, self.environment)
        self.registry.decide(package_arn, verdict, description)
        return self._announce(package, verdict, champion_arn, evaluation, description)

    def _announce(
        self, package: Package, verdict: str, champion_arn: str | None, evaluation: Evaluation | None, description: str
    ) -> Result:
        headline = f"Automatically {verdict.lower()}."
        message = (
            self._message(package, champion_arn, evaluation, headline=headline)
            if evaluation is not None
            else f"{headline}\nPackage: {package.arn}\n{description}\n{self._link(package)}"
        )
        self.notifier.notify(
            f"Model package {self._name(package)} {verdict.lower()} automatically",
            message,
            "info" if verdict == APPROVED else "warning",
            self._attributes(package, verdict),
        )
        checks = [asdict(check) for check in evaluation.checks] if evaluation is not None else []
        outcome = Outcome.APPROVED if verdict == APPROVED else Outcome.REJECTED
        return Result(outcome, package.arn, description, champion_arn, checks)

    # -------------------------------------------------------------------------------------------- helpers
    def _report(self, package: Package, role: str) -> MetricsReport:
        if not package.metrics_uri:
            raise MetricsReportError(f"{role} {package.arn} has no ModelMetrics.ModelQuality.Statistics report")
        try:
            return parse_report(self.reports.read(package.metrics_uri), source=package.metrics_uri)
        except MetricsReportError as exc:
            raise MetricsReportError(f"{role} {package.arn}: {exc}") from None

    def _champion_report(self, arn: str) -> MetricsReport:
        try:
            package = self.registry.describe(arn)
        except InvalidEventError as exc:  # the champion's package vanished or is out of reach
            raise MetricsReportError(f"champion {arn} cannot be described: {exc}") from None
        return self._report(package, "champion")

    def _champion_arn(self, challenger_arn: str) -> str | None:
        live = self.champions.live_package_arn()
        if live and live != challenger_arn:
            return live
        newest = self.registry.newest_approved(self.group)
        return newest if newest and newest != challenger_arn else None

    def _undecided(self, package: Package, champion_arn: str | None, reason: str) -> Result:
        logger.warning("promotion undecided: package left pending", extra={"package": package.arn, "reason": reason})
        self.notifier.notify(
            f"Model package {self._name(package)} left pending: metrics unusable",
            f"No decision was taken; the package stays {PENDING}.\nPackage: {package.arn}\nReason: {reason}\n"
            f"Champion: {champion_arn or 'none'}\nPolicy: {self.policy.describe()}\n{self._link(package)}",
            "warning",
            self._attributes(package, "undecided"),
        )
        return Result(Outcome.UNDECIDED, package.arn, reason, champion_arn)

    def _notify_recommendation(
        self, package: Package, champion_arn: str | None, evaluation: Evaluation, verdict: str
    ) -> None:
        action = "approve" if verdict == APPROVED else "reject"
        self.notifier.notify(
            f"Approval requested: {self._name(package)} (policy recommends: {action})",
            self._message(package, champion_arn, evaluation, headline=f"Recommendation: {action}. Awaiting a human."),
            "info",
            self._attributes(package, "recommend-" + action),
        )

    def _message(self, package: Package, champion_arn: str | None, evaluation: Evaluation, *, headline: str) -> str:
        lines = [
            headline,
            f"Package: {package.arn}",
            f"Champion: {champion_arn or 'none (first model: thresholds only)'}",
            *(f"- {check.render()}" for check in evaluation.checks),
            f"Policy ({self.environment}): {self.policy.describe()}",
            self._link(package),
        ]
        return "\n".join(lines)

    def _link(self, package: Package) -> str:
        if self.console_url is None:
            return ""
        return "Console: " + self.console_url(f"model-registry/{package.group}/versions/{package.version}")

    @staticmethod
    def _attributes(package: Package, decision: str) -> dict[str, str]:
        """SNS message attributes: approvers filter on ``kind``/``decision``, tools find the ``package``."""
        return {"kind": "promotion", "decision": decision, "package": package.arn}

    @staticmethod
    def _name(package: Package) -> str:
        return f"{package.group} v{package.version}" if package.version is not None else package.arn


def judge_once(
    service: PromotionService, package_arn: str, once: Idempotent, *, context: LambdaContext | None
) -> dict[str, Any]:
    """``service.judge(package_arn)`` at most once per package ARN (the kernel's idempotency on DynamoDB).

    A duplicate delivery gets ``{"status": "duplicate", "judged": <first status>, ...}`` back, from the stored result,
    without any AWS call or notification; a duplicate that arrives while the first is still running is a
    ``ConflictError`` (normal outcome). A failed judgement stores nothing, so Lambda's retry judges again.
    """
    recorded = once.run(package_arn, lambda: service.judge(package_arn).to_dict(), context=context)
    if not recorded.duplicate:
        return recorded.result
    logger.info("duplicate delivery: already judged", extra={"package": package_arn})
    return {**recorded.result, "status": "duplicate", "judged": recorded.result.get("status")}
