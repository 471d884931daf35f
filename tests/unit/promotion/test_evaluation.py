"""Unit tests of the evaluation of a challenger against thresholds and the champion."""

from __future__ import annotations

import pytest

from sm_lifecycle.promotion.evaluation import evaluate
from sm_lifecycle.promotion.metrics import MetricsReport, MetricsReportError
from sm_lifecycle.promotion.policy import BINARY, REGRESSION, PromotionPolicy


def policy(**env: str) -> PromotionPolicy:
    base = {
        "PROMOTION_MODE": "auto",
        "PROMOTION_THRESHOLDS": "auc>=0.90,false_positive_rate<=0.05",
        "PROMOTION_MARGIN": "0.01",
        "PROMOTION_TOLERANCE": "0.005",
    }
    return PromotionPolicy.from_env({**base, **env})


def binary(auc: float, fpr: float) -> MetricsReport:
    return MetricsReport(BINARY, {"auc": auc, "false_positive_rate": fpr})


def test_first_model_is_judged_on_thresholds_only():
    evaluation = evaluate(policy(), binary(0.93, 0.02), None)
    assert evaluation.passed
    assert [c.rule for c in evaluation.checks] == ["auc>=0.9", "false_positive_rate<=0.05"]


def test_threshold_miss_fails_that_check_only():
    evaluation = evaluate(policy(), binary(0.93, 0.08), None)
    assert not evaluation.passed
    assert [c.metric for c in evaluation.failures] == ["false_positive_rate"]


def test_challenger_must_beat_the_champion_by_the_margin():
    # GIVEN a champion at auc 0.92 and a margin of 0.01
    champion = binary(0.92, 0.03)

    # WHEN the challenger gains exactly the margin (float noise included) THEN it passes; just under, it fails
    assert evaluate(policy(), binary(0.93, 0.03), champion).passed
    under = evaluate(policy(), binary(0.929, 0.03), champion)
    assert [c.metric for c in under.failures] == ["auc"]
    assert under.failures[0].champion == 0.92


def test_other_metrics_may_regress_within_tolerance_only():
    champion = binary(0.90, 0.020)
    # fpr is lower-is-better: 0.024 is worse by 0.004 (within 0.005), 0.026 by 0.006 (beyond)
    assert evaluate(policy(), binary(0.95, 0.024), champion).passed
    beyond = evaluate(policy(), binary(0.95, 0.026), champion)
    assert [(c.metric, c.champion) for c in beyond.failures] == [("false_positive_rate", 0.020)]


def test_lower_is_better_primary_metric_must_decrease_by_the_margin():
    regression = policy(PROMOTION_THRESHOLDS="rmse<=1.0", PROMOTION_PRIMARY_METRIC="rmse", PROMOTION_MARGIN="0.05")
    champion = MetricsReport(REGRESSION, {"rmse": 0.60})
    assert evaluate(regression, MetricsReport(REGRESSION, {"rmse": 0.55}), champion).passed
    assert not evaluate(regression, MetricsReport(REGRESSION, {"rmse": 0.58}), champion).passed


def test_missing_metric_in_either_report_is_an_error_not_a_failure():
    with pytest.raises(MetricsReportError, match="false_positive_rate"):
        evaluate(policy(), MetricsReport(BINARY, {"auc": 0.99}), None)
    with pytest.raises(MetricsReportError, match="auc"):
        evaluate(policy(), binary(0.99, 0.01), MetricsReport(BINARY, {"false_positive_rate": 0.01}))


def test_reports_of_different_problem_types_cannot_be_compared():
    champion = MetricsReport(REGRESSION, {"auc": 0.5, "false_positive_rate": 0.5})
    with pytest.raises(MetricsReportError, match="champion report is regression_metrics"):
        evaluate(policy(), binary(0.99, 0.01), champion)
