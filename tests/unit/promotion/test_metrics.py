"""Unit tests of the model-quality statistics report parser, over the fixture corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sm_lifecycle.promotion.metrics import MAX_REPORT_BYTES, MetricsReportError, parse_report
from sm_lifecycle.promotion.policy import BINARY, MULTICLASS, REGRESSION

CORPUS = Path(__file__).parents[2] / "fixtures" / "metrics"
BAD = sorted((CORPUS / "bad").iterdir())
# Well-formed reports that simply lack what a binary auc/fpr policy needs: refused at evaluation, not parsing.
PARSEABLE_BUT_UNUSABLE = {"missing-policy-metric.json", "wrong-problem-type-regression.json"}


def test_corpus_has_enough_bad_reports():
    assert len(BAD) >= 10


def test_sagemaker_documented_binary_report_is_read_as_is():
    # GIVEN the binary example of SageMaker's documentation
    report = parse_report((CORPUS / "good" / "binary-sagemaker-doc-example.json").read_bytes())

    # THEN its reported values are kept (not re-derived), curves and baselines ignored
    assert report.problem_type == BINARY
    assert report.values["auc"] == 1.0
    assert report.values["false_positive_rate"] == pytest.approx(2 / 3)
    assert report.derived == frozenset()
    assert "f1_best_constant_classifier" not in report.values


def test_rates_missing_from_a_binary_report_are_derived_from_its_confusion_matrix():
    # GIVEN a report with auc and a confusion matrix (actual -> predicted) but no false_positive_rate
    report = parse_report((CORPUS / "good" / "binary-evaluation-step.json").read_bytes())

    # THEN FPR = FP / (FP + TN) and TNR come from the matrix, reported values stay as reported
    assert report.values["false_positive_rate"] == pytest.approx(120 / (120 + 9500))
    assert report.values["true_negative_rate"] == pytest.approx(9500 / 9620)
    assert report.values["precision"] == 0.88
    assert {"false_positive_rate", "true_negative_rate"} <= report.derived
    assert "precision" not in report.derived


def test_derived_rate_with_zero_denominator_is_left_out():
    # GIVEN a matrix without any actual negative
    body = json.dumps({BINARY: {"auc": {"value": 0.9}, "confusion_matrix": {"1": {"0": 2, "1": 8}}}}).encode()

    # WHEN parsed THEN the false positive rate is unknown (not 0, not an error) and recall is known
    report = parse_report(body)
    assert "false_positive_rate" not in report.values
    with pytest.raises(MetricsReportError, match="false_positive_rate"):
        report.get("false_positive_rate")


def test_regression_and_multiclass_reports_are_understood():
    regression = parse_report((CORPUS / "good" / "regression.json").read_bytes())
    multiclass = parse_report((CORPUS / "good" / "multiclass.json").read_bytes())
    assert regression.problem_type == REGRESSION
    assert regression.values["r2"] < 0  # r2 has no lower bound
    assert multiclass.problem_type == MULTICLASS
    assert multiclass.values["weighted_f1"] == 0.9


@pytest.mark.parametrize("path", [p for p in BAD if p.name not in PARSEABLE_BUT_UNUSABLE], ids=lambda p: p.name)
def test_every_malformed_report_is_refused_with_a_reason(path):
    # GIVEN a malformed report WHEN parsed THEN a MetricsReportError explains it (never another exception)
    with pytest.raises(MetricsReportError) as caught:
        parse_report(path.read_bytes(), source=f"s3://bucket/{path.name}")
    assert str(caught.value)


def test_oversized_report_is_refused_before_parsing():
    # GIVEN a syntactically valid report larger than the limit
    padding = " " * MAX_REPORT_BYTES
    body = f'{{"binary_classification_metrics": {{"auc": {{"value": 0.99}}}}, "pad": "{padding}"}}'.encode()

    # THEN it is refused for its size
    with pytest.raises(MetricsReportError, match="more than"):
        parse_report(body)
