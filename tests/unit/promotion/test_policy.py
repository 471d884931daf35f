"""Unit tests of the promotion policy: parsing settings, thresholds and validation errors."""

from __future__ import annotations

import pytest

from sm_lifecycle.kernel.errors import ConfigurationError
from sm_lifecycle.promotion.policy import Mode, PromotionPolicy, Threshold, parse_thresholds

BASE_ENV = {
    "PROMOTION_MODE": "auto",
    "PROMOTION_THRESHOLDS": "auc>=0.90,false_positive_rate<=0.05",
    "PROMOTION_PRIMARY_METRIC": "auc",
    "PROMOTION_MARGIN": "0.01",
    "PROMOTION_TOLERANCE": "0.005",
}


def test_thresholds_parse_metric_operator_and_bound():
    # GIVEN thresholds written as in samconfig.toml, with spaces and every operator
    text = "auc >= 0.90, false_positive_rate<=.05,f1>0.5,false_negative_rate < 1e-1"

    # WHEN parsed
    thresholds = parse_thresholds(text)

    # THEN each keeps its metric, operator and bound, in order
    assert thresholds == (
        Threshold("auc", ">=", 0.90),
        Threshold("false_positive_rate", "<=", 0.05),
        Threshold("f1", ">", 0.5),
        Threshold("false_negative_rate", "<", 0.1),
    )


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [(">=", 0.9, True), (">=", 0.8999, False), (">", 0.9, False), ("<=", 0.9, True), ("<", 0.9, False)],
)
def test_threshold_passes_on_its_boundary_only_when_inclusive(operator, value, expected):
    # GIVEN a threshold at 0.9 WHEN a value is tested THEN the operator decides the boundary
    assert Threshold("auc", operator, 0.9).passes(value) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("auc=>0.9", "cannot parse"),
        ("auc>=", "cannot parse"),
        ("auc>=0.9,,f1>=0.5", "empty threshold"),
        ("aucc>=0.9", "unknown metric 'aucc'"),
        ("AUC>=0.9", "cannot parse"),
        ("auc>=1.5", "outside its range"),
        ("false_positive_rate<=-0.1", "outside its range"),
        ("auc>=0.9,auc>0.95", "two > bounds"),
        ("auc>=0.9; f1>=0.5", "cannot parse"),
    ],
)
def test_bad_thresholds_raise_configuration_error_naming_the_setting(text, message):
    # GIVEN a malformed threshold list WHEN parsed THEN the error names the variable and the problem
    with pytest.raises(ConfigurationError, match="PROMOTION_THRESHOLDS") as caught:
        parse_thresholds(text)
    assert message in str(caught.value)


def test_policy_from_env_reads_every_setting():
    # GIVEN the environment the template gives the function WHEN the policy is read
    policy = PromotionPolicy.from_env(BASE_ENV)

    # THEN every setting is there, and the primary metric's direction is known
    assert policy.mode is Mode.AUTO
    assert policy.thresholds == parse_thresholds(BASE_ENV["PROMOTION_THRESHOLDS"])
    assert (policy.primary_metric, policy.margin, policy.tolerance) == ("auc", 0.01, 0.005)
    assert policy.metrics == ("auc", "false_positive_rate")
    assert policy.higher_is_better is True


def test_policy_defaults_to_recommend_and_first_threshold_as_primary():
    # GIVEN only thresholds (lower is better for the first one)
    policy = PromotionPolicy.from_env({"PROMOTION_THRESHOLDS": "rmse<=0.7,r2>=0.5"})

    # THEN a human decides by default, and the primary metric is the first threshold's
    assert policy.mode is Mode.RECOMMEND
    assert policy.primary_metric == "rmse"
    assert policy.higher_is_better is False
    assert (policy.margin, policy.tolerance) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"PROMOTION_MODE": "yolo"}, "PROMOTION_MODE"),
        ({"PROMOTION_THRESHOLDS": ""}, "PROMOTION_THRESHOLDS"),
        ({"PROMOTION_THRESHOLDS": "accuracy>=0.9,gini>=0.5"}, "PROMOTION_THRESHOLDS"),
        ({"PROMOTION_PRIMARY_METRIC": "roc"}, "PROMOTION_PRIMARY_METRIC"),
        ({"PROMOTION_PRIMARY_METRIC": "rmse"}, "mixed problem types"),
        ({"PROMOTION_MARGIN": "a lot"}, "PROMOTION_MARGIN"),
        ({"PROMOTION_MARGIN": "-0.1"}, "PROMOTION_MARGIN"),
        ({"PROMOTION_TOLERANCE": "nan"}, "PROMOTION_TOLERANCE"),
        ({"PROMOTION_TOLERANCE": "inf"}, "PROMOTION_TOLERANCE"),
    ],
)
def test_bad_setting_is_named_in_the_configuration_error(change, setting):
    # GIVEN one bad setting WHEN the policy is read THEN the error names it
    with pytest.raises(ConfigurationError, match=setting):
        PromotionPolicy.from_env({**BASE_ENV, **change})


def test_describe_states_the_whole_policy():
    # GIVEN a policy WHEN described (for the audit text) THEN thresholds, margin and tolerance are all stated
    text = PromotionPolicy.from_env(BASE_ENV).describe()
    assert "auc>=0.9,false_positive_rate<=0.05" in text
    assert "auc better by >=0.01" in text
    assert "worse by <=0.005" in text
    assert "mode=auto" in text
