"""Evaluation of pipeline definition expressions (no AWS involved)."""

from __future__ import annotations

import json

import pytest

from local.pipelines.containers import script_mode_args
from local.pipelines.expressions import Context, ExpressionError, condition, lookup, references, resolve


@pytest.fixture
def ctx():
    files = {"s3://b/p/e1/Evaluate/evaluation/evaluation.json": json.dumps({"m": {"auc": {"value": 0.93}}}).encode()}
    context = Context(
        parameters={"Threshold": 0.9, "Name": "x"},
        execution={"PipelineExecutionId": "e1", "PipelineName": "p"},
        read_s3=files.__getitem__,
    )
    context.steps["Evaluate"] = {
        "ProcessingOutputConfig": {
            "Outputs": [{"OutputName": "evaluation", "S3Output": {"S3Uri": "s3://b/p/e1/Evaluate/evaluation"}}]
        }
    }
    context.property_files["Evaluate.Report"] = {"S3Uri": "s3://b/p/e1/Evaluate/evaluation/evaluation.json"}
    return context


def test_join_of_parameters_execution_variables_and_step_properties(ctx):
    value = {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3:/",
                {"Get": "Parameters.Name"},
                {"Get": "Execution.PipelineExecutionId"},
                {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
            ],
        }
    }
    assert resolve(value, ctx) == "s3://x/e1/s3://b/p/e1/Evaluate/evaluation"


def test_json_get_reads_the_property_file(ctx):
    value = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "m.auc.value"}}
    assert resolve(value, ctx) == 0.93


@pytest.mark.parametrize(
    ("kind", "threshold", "expected"),
    [("GreaterThanOrEqualTo", 0.9, True), ("GreaterThanOrEqualTo", 0.95, False), ("LessThan", 0.95, True)],
)
def test_conditions_compare_resolved_values(ctx, kind, threshold, expected):
    ctx.parameters["Threshold"] = threshold
    spec = {
        "Type": kind,
        "LeftValue": {
            "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "m.auc.value"}
        },
        "RightValue": {"Get": "Parameters.Threshold"},
    }
    assert condition(spec, ctx) is expected
    assert condition({"Type": "Not", "Condition": spec}, ctx) is not expected


def test_undefined_references_are_errors(ctx):
    with pytest.raises(ExpressionError, match="Missing"):
        resolve({"Get": "Parameters.Missing"}, ctx)
    with pytest.raises(ExpressionError, match="Train"):
        resolve({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, ctx)


def test_references_name_the_steps_a_value_depends_on():
    value = {"A": [{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, {"Get": "Parameters.X"}]}
    assert references(value) == {"Train"}


def test_lookup_by_list_index_and_name():
    doc = {"Channels": [{"ChannelName": "train", "Uri": "a"}, {"ChannelName": "test", "Uri": "b"}]}
    assert lookup(doc, "Channels['test'].Uri") == "b"
    assert lookup(doc, "Channels[0].Uri") == "a"


def test_script_mode_arguments_are_json_decoded_and_exclude_container_settings():
    args, decoded = script_mode_args({"num_round": "20", "eta": "0.2", "sagemaker_program": '"train.py"'})
    assert args == ["--num_round", "20", "--eta", "0.2"]
    assert decoded["sagemaker_program"] == "train.py"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("P30D", 30 * 86400), ("PT1H", 3600), ("30dT5h", 30 * 86400 + 5 * 3600), ("T16m", 960), (None, float("inf"))],
)
def test_cache_expiry_reads_iso_8601_durations(value, seconds):
    from local.pipelines.cache import expire_after_seconds  # noqa: PLC0415

    assert expire_after_seconds(value) == seconds


def test_cache_expiry_refuses_what_is_not_a_duration():
    from local.pipelines.cache import ExpressionError, expire_after_seconds  # noqa: PLC0415

    with pytest.raises(ExpressionError, match="not an ISO 8601 duration"):
        expire_after_seconds("soon")
