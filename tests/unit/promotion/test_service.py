"""Unit tests of PromotionService with in-memory fakes of its ports (no AWS)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from sm_lifecycle.kernel.errors import ForeignEventError, InvalidEventError, TransientError
from sm_lifecycle.promotion.evaluation import MAX_APPROVAL_DESCRIPTION
from sm_lifecycle.promotion.metrics import MetricsReportError
from sm_lifecycle.promotion.policy import PromotionPolicy
from sm_lifecycle.promotion.service import APPROVED, PENDING, REJECTED, Outcome, Package, PromotionService

GROUP = "fraud-detector-dev"
BAD = sorted((Path(__file__).parents[2] / "fixtures" / "metrics" / "bad").iterdir())


def arn(version: int) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{GROUP}/{version}"


def report(auc: float, fpr: float) -> bytes:
    metrics = {"auc": auc, "false_positive_rate": fpr}
    section = {name: {"value": value, "standard_deviation": "NaN"} for name, value in metrics.items()}
    return json.dumps({"binary_classification_metrics": section}).encode()


@dataclass
class FakeRegistry:
    packages: dict[str, Package] = field(default_factory=dict)
    decisions: list[tuple[str, str, str]] = field(default_factory=list)
    describes: int = 0
    on_describe: dict[int, str] = field(default_factory=dict)  # nth describe -> status a human sets before it

    def add(self, version: int, status: str = PENDING, uri: str | None = "default") -> str:
        package_arn = arn(version)
        metrics_uri = f"s3://bucket/{version}/evaluation.json" if uri == "default" else uri
        self.packages[package_arn] = Package(package_arn, GROUP, version, status, metrics_uri)
        return package_arn

    def describe(self, package_arn: str) -> Package:
        self.describes += 1
        if package_arn not in self.packages:
            raise InvalidEventError(f"{package_arn} not found")
        if self.describes in self.on_describe:
            self.packages[package_arn] = replace(self.packages[package_arn], status=self.on_describe[self.describes])
        return self.packages[package_arn]

    def decide(self, package_arn: str, status: str, description: str) -> None:
        self.decisions.append((package_arn, status, description))
        self.packages[package_arn] = replace(
            self.packages[package_arn], status=status, approval_description=description
        )

    def newest_approved(self, group: str) -> str | None:
        approved = [p for p in self.packages.values() if p.group == group and p.status == APPROVED]
        return max(approved, key=lambda p: p.version or 0).arn if approved else None


@dataclass
class FakeChampions:
    live: str | None = None

    def live_package_arn(self) -> str | None:
        return self.live


@dataclass
class FakeReports:
    objects: dict[str, bytes] = field(default_factory=dict)

    def read(self, uri: str) -> bytes:
        if uri not in self.objects:
            raise MetricsReportError(f"report {uri} cannot be read: NoSuchKey")
        return self.objects[uri]


@dataclass
class FakeNotifier:
    sent: list[dict] = field(default_factory=list)
    failures: int = 0  # the next N notices fail (SNS unavailable)

    def notify(self, subject: str, message: str, severity: str, attributes: dict[str, str]) -> None:
        if self.failures:
            self.failures -= 1
            raise TransientError("SNS Publish: ServiceUnavailable")
        self.sent.append({"subject": subject, "message": message, "severity": severity, **attributes})


@pytest.fixture
def world():
    registry, reports, notifier, champions = FakeRegistry(), FakeReports(), FakeNotifier(), FakeChampions()

    def service(mode: str = "auto") -> PromotionService:
        policy = PromotionPolicy.from_env(
            {
                "PROMOTION_MODE": mode,
                "PROMOTION_THRESHOLDS": "auc>=0.90,false_positive_rate<=0.05",
                "PROMOTION_MARGIN": "0.01",
                "PROMOTION_TOLERANCE": "0.005",
            }
        )
        return PromotionService(
            policy, GROUP, "dev", registry, champions, reports, notifier, console_url=lambda p: f"https://console/{p}"
        )

    def register(version: int, auc: float, fpr: float, status: str = PENDING) -> str:
        package_arn = registry.add(version, status)
        reports.objects[f"s3://bucket/{version}/evaluation.json"] = report(auc, fpr)
        return package_arn

    return SimpleNamespace(
        registry=registry, reports=reports, notifier=notifier, champions=champions, service=service, register=register
    )


def test_better_challenger_than_the_live_champion_is_approved_with_an_audit_text(world):
    # GIVEN v1 live at auc 0.92 and v2 registered at auc 0.95
    world.champions.live = world.register(1, 0.92, 0.03, status=APPROVED)
    challenger = world.register(2, 0.95, 0.03)

    # WHEN judged in auto mode
    result = world.service().judge(challenger)

    # THEN v2 is approved; the description holds metric, values, threshold and policy; approvers are told
    assert result.status is Outcome.APPROVED
    assert result.champion_arn == arn(1)
    [(decided, status, description)] = world.registry.decisions
    assert (decided, status) == (challenger, APPROVED)
    assert "auc 0.95 vs champion 0.92" in description
    assert "auc>=0.9 ok" in description
    assert "Policy: mode=auto" in description
    assert len(description) <= MAX_APPROVAL_DESCRIPTION
    assert world.notifier.sent[0]["decision"] == APPROVED


def test_worse_challenger_is_rejected(world):
    world.champions.live = world.register(1, 0.95, 0.02, status=APPROVED)
    challenger = world.register(2, 0.94, 0.02)  # passes thresholds, loses to the champion

    result = world.service().judge(challenger)

    assert result.status is Outcome.REJECTED
    assert world.registry.decisions[0][1] == REJECTED
    assert "beats champion by >=0.01 (by -0.01) FAIL" in world.registry.decisions[0][2]


def test_without_live_endpoint_the_newest_approved_package_is_the_champion(world):
    world.register(1, 0.99, 0.01, status=APPROVED)
    world.register(2, 0.93, 0.02, status=APPROVED)
    world.register(3, 0.97, 0.02, status=REJECTED)
    challenger = world.register(4, 0.935, 0.02)

    result = world.service().judge(challenger)

    assert result.champion_arn == arn(2)  # newest approved, not the best, not the rejected one
    assert result.status is Outcome.REJECTED  # +0.005 < margin 0.01


def test_recommend_mode_leaves_pending_and_sends_the_comparison_to_approvers(world):
    world.champions.live = world.register(1, 0.92, 0.03, status=APPROVED)
    challenger = world.register(2, 0.95, 0.03)

    result = world.service("recommend").judge(challenger)

    assert result.status is Outcome.RECOMMENDED
    assert world.registry.decisions == []
    assert world.registry.packages[challenger].status == PENDING
    [notice] = world.notifier.sent
    assert notice["decision"] == "recommend-approve"
    assert "auc 0.95 vs champion 0.92" in notice["message"]
    assert "https://console/model-registry/fraud-detector-dev/versions/2" in notice["message"]


def test_off_mode_does_nothing_at_all(world):
    challenger = world.register(2, 0.95, 0.03)
    result = world.service("off").judge(challenger)
    assert result.status is Outcome.SKIPPED
    assert (world.registry.describes, world.registry.decisions, world.notifier.sent) == (0, [], [])


def test_package_a_human_already_decided_is_left_alone(world):
    challenger = world.register(2, 0.50, 0.50, status=APPROVED)  # a human approved it before we ran
    result = world.service().judge(challenger)
    assert result.status is Outcome.SKIPPED
    assert world.registry.decisions == []


def test_a_package_set_back_to_pending_after_a_decision_is_not_judged_again(world):
    # GIVEN a pending package that carries an ApprovalDescription: someone decided on it, then set it back to pending
    challenger = world.register(2, 0.95, 0.03)
    world.registry.packages[challenger] = replace(
        world.registry.packages[challenger], approval_description="review again with the new data"
    )

    # WHEN its event reaches the promote function
    result = world.service().judge(challenger)

    # THEN it is not a new registration: nothing is decided nor sent, the person's review stands
    assert result.status is Outcome.SKIPPED
    assert "ApprovalDescription" in result.reason
    assert world.registry.decisions == []
    assert world.notifier.sent == []


def test_human_decision_between_reading_and_writing_is_not_overridden(world):
    # GIVEN a human rejects the package while the reports are being read (before the re-check: the 2nd describe)
    challenger = world.register(2, 0.95, 0.03)
    world.registry.on_describe = {2: REJECTED}

    # WHEN judged
    result = world.service().judge(challenger)

    # THEN nothing is written: the human's decision stands
    assert result.status is Outcome.SKIPPED
    assert "became Rejected" in result.reason
    assert world.registry.decisions == []
    assert world.registry.packages[challenger].status == REJECTED


def test_champion_without_metrics_never_approves(world):
    live = world.registry.add(1, APPROVED, uri=None)
    world.champions.live = live
    challenger = world.register(2, 0.99, 0.01)

    result = world.service().judge(challenger)

    assert result.status is Outcome.UNDECIDED
    assert "champion" in result.reason
    assert world.registry.decisions == []
    assert world.notifier.sent[0]["decision"] == "undecided"


def test_champion_that_cannot_be_described_never_approves(world):
    world.champions.live = arn(99)  # the endpoint runs a package that is gone
    challenger = world.register(2, 0.99, 0.01)
    assert world.service().judge(challenger).status is Outcome.UNDECIDED
    assert world.registry.decisions == []


def test_package_of_another_group_is_foreign_and_not_judged(world):
    other = "arn:aws:sagemaker:us-east-1:123456789012:model-package/other/1"
    world.registry.packages[other] = Package(other, "other", 1, PENDING, "s3://bucket/x.json")
    with pytest.raises(ForeignEventError):
        world.service().judge(other)
    assert world.registry.decisions == []
    assert world.notifier.sent == []


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_malformed_challenger_report_never_approves(world, path):
    # GIVEN a pending package whose report is malformed
    challenger = world.registry.add(2)
    world.reports.objects["s3://bucket/2/evaluation.json"] = path.read_bytes()

    # WHEN judged in auto mode THEN it stays pending and the approvers get the reason
    result = world.service().judge(challenger)
    assert result.status is Outcome.UNDECIDED
    assert world.registry.decisions == []
    assert world.notifier.sent[0]["decision"] == "undecided"
    assert result.reason in world.notifier.sent[0]["message"]


def test_missing_report_object_and_missing_model_metrics_never_approve(world):
    no_object = world.registry.add(2)  # report URI given, object absent
    no_metrics = world.registry.add(3, uri=None)
    assert world.service().judge(no_object).status is Outcome.UNDECIDED
    assert world.service().judge(no_metrics).status is Outcome.UNDECIDED
    assert world.registry.decisions == []


def test_retry_after_a_failed_notice_announces_the_decision_without_deciding_again(world):
    # GIVEN the decision is written but its notice fails (Lambda will retry the invocation)
    challenger = world.register(2, 0.95, 0.03)
    world.notifier.failures = 1
    with pytest.raises(TransientError):
        world.service().judge(challenger)
    assert world.registry.packages[challenger].status == APPROVED

    # WHEN the retry runs
    result = world.service().judge(challenger)

    # THEN it recognises its own decision: one write, one notice, same outcome
    assert result.status is Outcome.APPROVED
    assert len(world.registry.decisions) == 1
    assert [n["decision"] for n in world.notifier.sent] == [APPROVED]
    assert world.registry.decisions[0][2] in world.notifier.sent[0]["message"]


def test_human_decision_is_not_mistaken_for_the_policy_s_own(world):
    challenger = world.register(2, 0.95, 0.03, status=APPROVED)
    world.registry.packages[challenger] = replace(
        world.registry.packages[challenger], approval_description="Approved by the ML lead after review"
    )
    assert world.service().judge(challenger).status is Outcome.SKIPPED
    assert world.notifier.sent == []
