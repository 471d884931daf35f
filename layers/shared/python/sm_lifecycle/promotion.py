"""Promotion of a newly registered model package: judge its metrics against the policy and the live champion.

``evaluate`` is pure (policy + reports -> checks). ``PromotionService`` orchestrates one decision through ports
(registry, champion locator, report store, notifier); the boto3 adapters live in ``promotion_aws``.

Safety rules:
- only the package the event names is judged, never "the newest in the group";
- a decision is written only while the package is still ``PendingManualApproval``, re-checked right before the
  write, so a human's approval or rejection is never overridden;
- a missing, unreadable or malformed report (the challenger's or the champion's) never approves anything: the
  package is left pending and the approvers are alerted with the reason.

Duplicates: the status re-check alone makes a duplicate harmless in ``auto`` mode (the second run finds the package
decided), but not in ``recommend`` mode or for unusable metrics, where the package stays pending and every duplicate
would notify again. So the handler also wraps ``judge`` in Powertools idempotency keyed on the package ARN
(``promotion_aws.judge_once``): a duplicate gets the stored result, with no AWS call. A run that fails stores nothing;
its retry recognises a decision an earlier attempt already wrote (our audit text) and only re-sends the notice.
UpdateModelPackage has no condition, so a human deciding in the milliseconds between the re-check and the write
cannot be excluded; the window is kept to one DescribeModelPackage call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from sm_lifecycle.errors import InvalidEventError
from sm_lifecycle.promotion_metrics import MetricsReport, MetricsReportError, parse_report
from sm_lifecycle.promotion_policy import EPSILON, METRICS, Mode, PromotionPolicy

logger = Logger(child=True)

PENDING = "PendingManualApproval"
APPROVED = "Approved"
REJECTED = "Rejected"
MAX_APPROVAL_DESCRIPTION = 1024  # UpdateModelPackage's limit on ApprovalDescription


class Outcome(StrEnum):
    APPROVED = "approved"  # auto mode, every check passed: written Approved
    REJECTED = "rejected"  # auto mode, a check failed: written Rejected
    RECOMMENDED = "recommended"  # recommend mode: left pending, approvers notified with the comparison
    UNDECIDED = "undecided"  # the evidence could not be read: left pending, alert with the reason
    SKIPPED = "skipped"  # mode off, or the package is no longer pending (someone decided)


# ---------------------------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Check:
    metric: str
    rule: str  # "auc>=0.9", "beats champion by >=0.01", "worse than champion by <=0.02"
    challenger: float
    champion: float | None
    passed: bool

    def render(self) -> str:
        against = "" if self.champion is None else f" vs champion {self.champion:.4g}"
        return f"{self.metric} {self.challenger:.4g}{against}: {self.rule} {'ok' if self.passed else 'FAIL'}"


@dataclass(frozen=True)
class Evaluation:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.passed)


def evaluate(policy: PromotionPolicy, challenger: MetricsReport, champion: MetricsReport | None) -> Evaluation:
    """Checks of ``challenger`` against the thresholds and, if there is one, the champion.

    Raises ``MetricsReportError`` if a report lacks a policy metric or the two reports are of different problem
    types: an incomplete comparison is no comparison.
    """
    values = {metric: challenger.get(metric) for metric in policy.metrics}
    checks = [Check(t.metric, str(t), values[t.metric], None, t.passes(values[t.metric])) for t in policy.thresholds]
    if champion is not None:
        if champion.problem_type != challenger.problem_type:
            raise MetricsReportError(
                f"champion report is {champion.problem_type}, challenger report is {challenger.problem_type}"
            )
        for metric in policy.metrics:
            theirs = champion.get(metric)
            sign = 1.0 if METRICS[metric].higher_is_better else -1.0
            gain = (values[metric] - theirs) * sign
            if metric == policy.primary_metric:
                rule = f"beats champion by >={policy.margin:g} (by {gain:+.4g})"
                checks.append(Check(metric, rule, values[metric], theirs, gain >= policy.margin - EPSILON))
            else:
                rule = f"worse than champion by <={policy.tolerance:g} (by {-gain:+.4g})"
                checks.append(Check(metric, rule, values[metric], theirs, -gain <= policy.tolerance + EPSILON))
    return Evaluation(tuple(checks))


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

    def decide(self, arn: str, status: str, description: str) -> None: ...

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
    console_url: Any = None  # callable(path) -> str

    def judge(self, package_arn: str) -> Result:
        """Judge the package ``package_arn`` (and only it) and act according to the policy's mode."""
        if self.policy.mode is Mode.OFF:
            return Result(Outcome.SKIPPED, package_arn, reason="promotion mode is off")
        package = self.registry.describe(package_arn)
        if package.group != self.group:
            raise InvalidEventError(
                f"model package {package_arn} is in group {package.group!r}, not {self.group!r}",
                field="detail.ModelPackageGroupName",
            )
        if package.status != PENDING:
            if _decided_by_policy(package):
                # An earlier attempt wrote this decision, then failed (e.g. publishing the notice): finish its job.
                return self._announce(package, package.status, None, None, package.approval_description or "")
            return Result(Outcome.SKIPPED, package_arn, reason=f"package is already {package.status}")

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


def _decided_by_policy(package: Package) -> bool:
    """True if the package's decision is the audit text this module writes (not a human's)."""
    text = package.approval_description or ""
    return package.status in (APPROVED, REJECTED) and text.startswith(f"{package.status} by promotion policy (")


def approval_description(
    policy: PromotionPolicy, verdict: str, evaluation: Evaluation, champion_arn: str | None, environment: str
) -> str:
    """The audit text written with the decision: each check, the champion and the policy (<= 1024 chars)."""
    champion = f"champion v{champion_arn.rsplit('/', 1)[-1]}" if champion_arn else "no champion"
    head = f"{verdict} by promotion policy ({environment}, {champion}): "
    text = head + "; ".join(check.render() for check in evaluation.checks) + f". Policy: {policy.describe()}"
    if len(text) > MAX_APPROVAL_DESCRIPTION:
        text = text[: MAX_APPROVAL_DESCRIPTION - 3] + "..."
    return text
