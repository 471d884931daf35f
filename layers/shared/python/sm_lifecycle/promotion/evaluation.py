"""Judging a challenger's report against the policy and the champion's (pure), and the audit text of a decision."""

from __future__ import annotations

from dataclasses import dataclass

from sm_lifecycle.kernel.registry import ModelApprovalStatus
from sm_lifecycle.kernel.text import APPROVAL_DESCRIPTION, clean
from sm_lifecycle.promotion.metrics import MetricsReport, MetricsReportError
from sm_lifecycle.promotion.policy import EPSILON, METRICS, PromotionPolicy

__all__ = ["MAX_APPROVAL_DESCRIPTION", "Check", "Evaluation", "approval_description", "evaluate", "is_policy_decision"]

MAX_APPROVAL_DESCRIPTION = APPROVAL_DESCRIPTION.maximum  # UpdateModelPackage's limit on ApprovalDescription


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


def _audit_head(verdict: str, environment: str, champion_arn: str | None) -> str:
    champion = f"champion v{champion_arn.rsplit('/', 1)[-1]}" if champion_arn else "no champion"
    return f"{verdict} by promotion policy ({environment}, {champion}): "


def approval_description(
    policy: PromotionPolicy, verdict: str, evaluation: Evaluation, champion_arn: str | None, environment: str
) -> str:
    """The audit text written with the decision: each check, the champion and the policy (cleaned, <= 1024 chars)."""
    text = (
        _audit_head(verdict, environment, champion_arn)
        + "; ".join(check.render() for check in evaluation.checks)
        + f". Policy: {policy.describe()}"
    )
    return clean(text, APPROVAL_DESCRIPTION)


def is_policy_decision(status: str, description: str | None) -> bool:
    """True if a package's decision is the audit text :func:`approval_description` writes (not a human's)."""
    decided = status in (ModelApprovalStatus.APPROVED, ModelApprovalStatus.REJECTED)
    return decided and (description or "").startswith(f"{status} by promotion policy (")
