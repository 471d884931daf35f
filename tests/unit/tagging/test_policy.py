"""The tag policy alone: our tag set, the merge with an object's own tags, the extra-tags setting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sm_lifecycle.kernel.errors import ConfigurationError, ForeignEventError, InvalidEventError
from sm_lifecycle.kernel.events import PipelineExecutionStatusChangeEvent, parse_event
from sm_lifecycle.kernel.timestamps import to_utc_datetime
from sm_lifecycle.tagging.policy import (
    S3_MAX_TAGS,
    TAG_KEYS,
    Execution,
    TaggingConfig,
    execution_tags,
    merge_tags,
    parse_extra_tags,
    stable_tags,
)
from sm_lifecycle.tagging.service import SucceededExecution, check_ours

ARN = "arn:aws:sagemaker:us-east-1:111122223333:pipeline/fraud-pipeline/execution/p4jn9xou8a8s"
PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:111122223333:pipeline/fraud-pipeline"


def ours(extra: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    execution = Execution.from_arn(ARN, start_time=datetime(2026, 3, 24, 23, 59, tzinfo=UTC))
    return execution_tags(environment="dev", team="ml", execution=execution, git_sha="3f2c1e9", extra=extra)


def test_tags_are_plain_keys_in_priority_order_then_extra_tags():
    # WHEN
    tags = ours(extra=(("cost-center", "ml"),))
    # THEN
    assert [k for k, _ in tags] == [*TAG_KEYS, "cost-center"]
    assert dict(tags) == {
        "env": "dev",
        "team": "ml",
        "pipeline": "fraud-pipeline",
        "execution": "p4jn9xou8a8s",
        "date": "2026-03-24",
        "git-sha": "3f2c1e9",
        "cost-center": "ml",
    }


def test_merge_keeps_every_user_tag_and_overwrites_stale_values_of_our_keys():
    # GIVEN an object with a user tag and a stale value of one of our keys
    existing = [("owner", "alice"), ("execution", "older-run")]
    # WHEN
    merge = merge_tags(existing, ours(), limit=S3_MAX_TAGS)
    # THEN
    assert merge.changed
    assert dict(merge.tags) == {"owner": "alice", **dict(ours())}
    assert merge.did_not_fit == ()


def test_merge_of_an_already_tagged_object_changes_nothing():
    existing = [("owner", "alice"), *reversed(ours())]
    merge = merge_tags(existing, ours(), limit=S3_MAX_TAGS)
    assert not merge.changed


def test_merge_beyond_the_limit_keeps_user_tags_and_reports_our_lowest_priority_keys():
    # GIVEN an object with 6 user tags and our 6 + 2 extra tags (14 > 10)
    existing = [(f"user-{i}", str(i)) for i in range(6)]
    tags = ours(extra=(("cost-center", "ml"), ("owner", "x")))
    # WHEN
    merge = merge_tags(existing, tags, limit=S3_MAX_TAGS)
    # THEN every user tag survives, ours fill the 4 free slots in priority order, the rest is reported
    assert len(merge.tags) == S3_MAX_TAGS
    assert set(existing) <= set(merge.tags)
    assert [k for k, _ in merge.tags[6:]] == ["env", "team", "pipeline", "execution"]
    assert merge.did_not_fit == ("date", "git-sha", "cost-center", "owner")


def test_merge_when_the_user_filled_every_slot_writes_nothing_and_reports_all_ours():
    existing = [(f"user-{i}", str(i)) for i in range(10)]
    merge = merge_tags(existing, ours(), limit=S3_MAX_TAGS)
    assert not merge.changed
    assert merge.did_not_fit == TAG_KEYS


def test_model_package_group_receives_only_tags_that_do_not_change_between_executions():
    assert dict(stable_tags(ours(extra=(("cost-center", "ml"),)))) == {
        "env": "dev",
        "team": "ml",
        "pipeline": "fraud-pipeline",
        "cost-center": "ml",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("cost-center=ml,owner=x", (("cost-center", "ml"), ("owner", "x"))),
        (" cost-center = ml , , project=fraud detection ", (("cost-center", "ml"), ("project", "fraud detection"))),
        ("flag=", (("flag", ""),)),
    ],
)
def test_extra_tags_setting(text, expected):
    assert parse_extra_tags(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=x", "env=prod", "aws:foo=1", "a=1,a=2", "bad=a*b", "k=" + "v" * 257])
def test_invalid_extra_tags_are_a_configuration_error(text):
    with pytest.raises(ConfigurationError):
        parse_extra_tags(text)


def test_config_defaults_the_prefix_to_the_pipeline_and_requires_the_bucket():
    config = TaggingConfig.from_env({"ARTIFACT_BUCKET": "b", "EXTRA_TAGS": "o=x"}, pipeline_name="fraud-pipeline")
    assert (config.artifact_prefix, config.extra_tags, config.tag_model_package_group) == (
        "fraud-pipeline/",
        (("o", "x"),),
        True,
    )
    off = TaggingConfig.from_env({"ARTIFACT_BUCKET": "b", "TAG_MODEL_PACKAGE_GROUP": "false"}, pipeline_name="p")
    assert not off.tag_model_package_group
    with pytest.raises(ConfigurationError):
        TaggingConfig.from_env({}, pipeline_name="fraud-pipeline")


def test_events_of_another_pipeline_or_status_are_refused():
    good = {"pipelineArn": PIPELINE_ARN, "pipelineExecutionArn": ARN, "currentPipelineExecutionStatus": "Succeeded"}
    check_ours(SucceededExecution.from_detail(good), pipeline_name="fraud-pipeline")
    other = {
        **good,
        "pipelineArn": PIPELINE_ARN.replace("fraud-pipeline", "other"),
        "pipelineExecutionArn": ARN.replace("fraud-pipeline", "other"),
    }
    with pytest.raises(ForeignEventError) as refused:
        check_ours(SucceededExecution.from_detail(other), pipeline_name="fraud-pipeline")
    assert refused.value.field == "detail.pipelineArn"
    with pytest.raises(InvalidEventError) as failed:
        check_ours(
            SucceededExecution.from_detail({**good, "currentPipelineExecutionStatus": "Failed"}),
            pipeline_name="fraud-pipeline",
        )
    assert failed.value.field == "detail.currentPipelineExecutionStatus"


def test_the_sample_success_event_gives_what_tagging_needs():
    # GIVEN the sample event of the Succeeded rule, parsed by the event model
    sample = Path(__file__).resolve().parents[3] / "events" / "pipeline-execution-succeeded.json"
    change = parse_event(json.loads(sample.read_text()), PipelineExecutionStatusChangeEvent)
    # WHEN
    event = SucceededExecution.from_detail(change.detail)
    # THEN
    assert event.status == "Succeeded"
    assert event.execution_arn.endswith("/execution/" + change.detail.execution_id)
    assert (
        to_utc_datetime(event.start_time).date().isoformat()
        == to_utc_datetime(json.loads(sample.read_text())["detail"]["executionStartTime"]).date().isoformat()
    )
    check_ours(event, pipeline_name=change.detail.pipeline_name)
