"""Tagging the artifacts of a succeeded execution on the embedded AWS (moto + the project's SageMaker extensions)."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sm_lifecycle.kernel.errors import TransientError
from sm_lifecycle.tagging.s3 import S3Tagger
from sm_lifecycle.tagging.sagemaker import SageMakerArtifacts
from sm_lifecycle.tagging.service import SucceededExecution, raise_for_retry, tag_succeeded_execution
from tests.unit.tagging.conftest import BUCKET, PIPELINE, REGION
from tests.worlds.tagging import World

MODEL_PACKAGE_EVENT = "SageMaker Model Package State Change"


def expected_tags(run: Any, git_sha: str = "3f2c1e9aa") -> dict[str, str]:
    return {
        "env": "dev",
        "team": "ml-platform",
        "pipeline": PIPELINE,
        "execution": run.execution_id,
        "date": run.date,  # the day the execution started (DescribePipelineExecution)
        "git-sha": git_sha,
        "cost-center": "ml",  # EXTRA_TAGS
    }


def run_domain(world: World, run: Any, config: Any, *, s3: Any = None) -> Any:
    return tag_succeeded_execution(
        SucceededExecution.from_detail(world.event(run)["detail"]),
        environment="dev",
        team="ml-platform",
        pipeline_name=PIPELINE,
        config=config,
        sagemaker=SageMakerArtifacts(world.sm),
        s3=S3Tagger(s3 or world.s3),
    )


# -------------------------------------------------------------------------------------------------------- the tags
def test_every_artifact_of_the_execution_carries_the_tags(world, handler, emitted_events):
    # GIVEN a succeeded execution: 3 processing/training jobs, a model package, 7 S3 objects
    run = world.execution()
    other = world.execution()  # another execution of the same pipeline must stay untouched
    events_before_tagging = emitted_events()
    assert any(e["detail-type"] == MODEL_PACKAGE_EVENT for e in events_before_tagging)  # the log sees them
    # WHEN SageMaker reports the success
    result = handler(world.event(run))
    # THEN every S3 object and job carries the tags; the group the stable ones only
    assert result["status"] == "tagged", result
    want = expected_tags(run)
    for key in run.objects:
        assert world.object_tags(key) == want, key
    for arn in run.jobs:
        assert world.resource_tags(arn).items() >= want.items(), arn
    assert world.resource_tags(run.group_arn) == {k: want[k] for k in ("env", "team", "pipeline", "cost-center")}
    assert result["tagged"] == len(run.objects) + len(run.jobs) + 1  # + group
    # AND the package version, which AWS refuses to tag, is reported with the facts its metadata records
    assert world.resource_tags(run.package_arn) == {}
    assert result["recorded"] == {
        run.package_arn: f"execution={run.execution_id}, date={want['date']}, git-sha={want['git-sha']}"
    }
    assert all(world.object_tags(key) == {} for key in other.objects)
    assert not any(world.resource_tags(arn) for arn in other.jobs)
    # AND tagging emitted no model package event (the deployer is not woken up)
    assert [e for e in emitted_events()[len(events_before_tagging) :] if e["detail-type"] == MODEL_PACKAGE_EVENT] == []


def test_a_version_whose_metadata_names_another_execution_is_reported_and_alerted(world, handler, stack_env):
    # GIVEN an execution whose registered version says it came from another execution (registered by hand)
    run = world.execution()
    world.sm.update_model_package(
        ModelPackageArn=run.package_arn, CustomerMetadataProperties={"PipelineExecutionId": "someone-else"}
    )
    # WHEN it is tagged
    result = handler(world.event(run))
    # THEN everything else is tagged; the version is reported as not carrying this execution, and ops are alerted
    assert result["status"] == "tagged"
    assert result["recorded"] == {}
    assert "execution=someone-else" in result["skipped"][run.package_arn]
    [alert] = stack_env.received()
    assert run.package_arn in alert["Message"]


@pytest.mark.parametrize("forged_start", ["1999-01-01T00:00:00Z", "915148800000"], ids=["iso", "epoch-ms-string"])
def test_times_and_descriptions_of_a_forged_success_event_change_no_tag(world, handler, forged_start):
    # GIVEN a succeeded execution, and an event about it whose start time and description are forged
    run = world.execution(description="nightly")
    event = world.event(run)
    event["detail"]["executionStartTime"] = forged_start
    event["detail"]["pipelineExecutionDescription"] = "forged, git deadbeef"
    event["detail"]["pipelineExecutionDisplayName"] = "forged"
    # WHEN it is handled
    result = handler(event)
    # THEN the tags carry what the API says of the execution, not the event
    assert result["status"] == "tagged", result
    for key in run.objects:
        assert world.object_tags(key)["date"] == run.date, key
    for arn in run.jobs:
        assert world.resource_tags(arn)["date"] == run.date, arn
    assert result["recorded"] == {
        run.package_arn: f"execution={run.execution_id}, date={run.date}, git-sha={run.git_sha}"
    }


def test_git_sha_is_read_from_the_gitsha_parameter_only(world, handler):
    # GIVEN an execution started without the GitSha parameter, whose description names a commit
    run = world.execution(git_sha=None, description="nightly, git 0a1b2c3d")
    # WHEN
    handler(world.event(run))
    # THEN nothing is guessed from free text: the SHA is unknown
    assert world.object_tags(run.objects[0])["git-sha"] == "unknown"


def test_existing_user_tags_survive(world, handler):
    # GIVEN objects a user already tagged, one of them with a stale value of one of our keys
    run = world.execution()
    world.s3.put_object_tagging(
        Bucket=BUCKET, Key=run.objects[0], Tagging={"TagSet": [{"Key": "owner", "Value": "alice"}]}
    )
    world.s3.put_object_tagging(
        Bucket=BUCKET,
        Key=run.objects[1],
        Tagging={"TagSet": [{"Key": "retention", "Value": "90d"}, {"Key": "execution", "Value": "stale"}]},
    )
    world.sm.add_tags(ResourceArn=run.jobs[0], Tags=[{"Key": "owner", "Value": "bob"}])
    # WHEN
    handler(world.event(run))
    # THEN the user's tags are still there beside ours
    want = expected_tags(run)
    assert world.object_tags(run.objects[0]) == {"owner": "alice", **want}
    assert world.object_tags(run.objects[1]) == {"retention": "90d", **want}
    assert world.resource_tags(run.jobs[0]) == {"owner": "bob", **want}


def test_ten_tag_limit_keeps_user_tags_and_reports_and_alerts_what_did_not_fit(world, handler, stack_env):
    # GIVEN an object that already carries 6 user tags (6 + our 7 > 10)
    run = world.execution()
    crowded = run.objects[0]
    user = {f"user-{i}": str(i) for i in range(6)}
    world.s3.put_object_tagging(
        Bucket=BUCKET, Key=crowded, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in user.items()]}
    )
    # WHEN
    result = handler(world.event(run))
    # THEN the user's 6 stay, ours fill the 4 free slots in priority order, the 3 others are reported and alerted
    tags = world.object_tags(crowded)
    assert len(tags) == 10
    assert tags.items() >= user.items()
    assert set(tags) - set(user) == {"env", "team", "pipeline", "execution"}
    uri = f"s3://{BUCKET}/{crowded}"
    assert result["status"] == "partial"
    assert result["did_not_fit"] == {uri: ["date", "git-sha", "cost-center"]}
    alerts = stack_env.received()
    assert len(alerts) == 1
    assert uri in alerts[0]["Message"] and "git-sha" in alerts[0]["Message"]
    assert alerts[0]["MessageAttributes"]["kind"]["Value"] == "artifact-tagging"
    # AND every other object is fully tagged
    assert all(world.object_tags(k) == expected_tags(run) for k in run.objects[1:])


# -------------------------------------------------------------------------------------------------------- failures
class _Interfering:
    """An S3 client through which the world changes while the run reads it."""

    def __init__(self, s3: Any, on_get: dict[str, Any]) -> None:
        self._s3, self._on_get = s3, on_get

    def get_object_tagging(self, **kwargs: Any) -> Any:
        action = self._on_get.pop(kwargs["Key"], None)
        if action:
            action()
        return self._s3.get_object_tagging(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def _throttled() -> None:
    raise ClientError(
        {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}, "GetObjectTagging"
    )


def test_an_object_deleted_mid_run_is_reported_and_the_rest_is_tagged(world, config):
    # GIVEN an object that is deleted after the run listed it and before it tags it
    run = world.execution()
    doomed = run.objects[1]
    s3 = _Interfering(world.s3, {doomed: lambda: world.s3.delete_object(Bucket=BUCKET, Key=doomed)})
    # WHEN
    report = run_domain(world, run, config, s3=s3)
    # THEN it is reported missing, precisely, and nothing else is lost
    assert report.missing == {f"s3://{BUCKET}/{doomed}": "deleted before it could be tagged"}
    assert report.status == "partial" and report.needs_alert
    assert not report.retryable and not report.failed
    assert all(world.object_tags(k)["execution"] == run.execution_id for k in run.objects if k != doomed)
    raise_for_retry(report)  # nothing a retry could fix: no exception


def test_throttling_is_retried_and_the_retry_skips_what_is_already_tagged(world, config, calls):
    # GIVEN S3 throttles the read of one object (beyond the client's own retries)
    run = world.execution()
    throttled = run.objects[2]
    # WHEN the first attempt runs
    first = run_domain(world, run, config, s3=_Interfering(world.s3, {throttled: _throttled}))
    # THEN the rest is tagged and the event is handed back to Lambda for a retry
    assert list(first.retryable) == [f"s3://{BUCKET}/{throttled}"]
    assert len([r for r in first.tagged if r.startswith("s3://")]) == len(run.objects) - 1
    with pytest.raises(TransientError, match="1 artifacts"):
        raise_for_retry(first)
    assert world.object_tags(throttled) == {}
    # WHEN Lambda retries
    calls.clear()
    second = run_domain(world, run, config)
    # THEN only the throttled object is written; the others are read and skipped
    assert second.status == "tagged"
    assert calls["PutObjectTagging"] == 1
    assert calls["GetObjectTagging"] == len(run.objects)
    assert world.object_tags(throttled)["execution"] == run.execution_id


def test_a_run_that_reaches_its_deadline_hands_the_rest_to_a_retry_which_resumes(world, config, calls):
    # GIVEN a Lambda whose time runs out after 3 objects
    run = world.execution()
    ticks = itertools.count()

    def deadline() -> float:
        return 300.0 if next(ticks) < 3 else 1.0

    # WHEN
    first = tag_succeeded_execution(
        SucceededExecution.from_detail(world.event(run)["detail"]),
        environment="dev",
        team="ml-platform",
        pipeline_name=PIPELINE,
        config=config,
        sagemaker=SageMakerArtifacts(world.sm),
        s3=S3Tagger(world.s3),
        deadline=deadline,
    )
    # THEN 3 objects are tagged, the others are handed back to Lambda, none is lost
    done = [ref for ref in first.tagged if ref.startswith("s3://")]
    assert len(done) == 3
    assert sorted(done + list(first.retryable)) == sorted(f"s3://{BUCKET}/{k}" for k in run.objects)
    with pytest.raises(TransientError):
        raise_for_retry(first)
    # WHEN Lambda retries with time enough
    calls.clear()
    second = run_domain(world, run, config)
    # THEN it writes only what the first attempt did not reach
    assert second.status == "tagged"
    assert calls["PutObjectTagging"] == len(run.objects) - 3
    assert all(world.object_tags(k) == expected_tags(run) for k in run.objects)


def test_a_shared_location_is_not_tagged_with_one_execution(world, config):
    # GIVEN a training job whose checkpoints go to a prefix every execution shares
    run = world.execution(steps=())
    name = f"pipelines-{run.execution_id}-train-shared"
    shared = f"s3://{BUCKET}/{PIPELINE}/checkpoints"
    world.sm.create_training_job(
        TrainingJobName=name,
        RoleArn="arn:aws:iam::123456789012:role/r",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/{PIPELINE}/{run.execution_id}/Train"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
        CheckpointConfig={"S3Uri": shared},
    )
    world.s3.put_object(Bucket=BUCKET, Key=f"{PIPELINE}/checkpoints/ckpt-1", Body=b"x")
    arn = world.sm.describe_training_job(TrainingJobName=name)["TrainingJobArn"]
    world.record_step(
        run.arn, {"StepName": "Train", "StepStatus": "Succeeded", "Metadata": {"TrainingJob": {"Arn": arn}}}
    )
    # WHEN
    report = run_domain(world, run, config)
    # THEN the shared prefix is reported, not tagged
    assert "shared location" in report.skipped[shared]
    assert world.object_tags(f"{PIPELINE}/checkpoints/ckpt-1") == {}
    assert report.needs_alert


# -------------------------------------------------------------------------------------------------------- deliveries
def test_duplicate_delivery_rewrites_nothing_in_s3(world, handler, config, calls):
    # GIVEN an execution already tagged once
    run = world.execution()
    event = world.event(run)
    handler(event)
    tags_before = {k: world.object_tags(k) for k in run.objects}
    # WHEN the same event is delivered again
    calls.clear()
    again = run_domain(world, run, config)
    second = handler(event)
    # THEN the result is the same and no object is written again
    assert second["status"] == "tagged"
    assert second["unchanged"] == len(run.objects)
    assert again.status == "tagged"
    assert calls["PutObjectTagging"] == 0 and calls["GetObjectTagging"] == len(run.objects)
    assert {k: world.object_tags(k) for k in run.objects} == tags_before


def test_out_of_order_deliveries_tag_each_execution_with_its_own_values(world, handler):
    # GIVEN two executions whose success events arrive newest first, then the oldest again
    older, newer = world.execution(git_sha="1111111"), world.execution(git_sha="2222222")
    # WHEN
    for run in (newer, older, newer, older):
        assert handler(world.event(run))["status"] == "tagged"
    # THEN each artifact carries its own execution's tags
    for run, sha in ((older, "1111111"), (newer, "2222222")):
        assert all(world.object_tags(k) == expected_tags(run, git_sha=sha) for k in run.objects)
        assert all(world.resource_tags(a).items() >= expected_tags(run, git_sha=sha).items() for a in run.jobs)


@pytest.mark.parametrize("foreign", ["another-pipeline", "another-account"])
def test_an_execution_that_is_not_this_stacks_is_ignored_and_nothing_is_tagged(world, handler, stack_env, foreign):
    # GIVEN a succeeded execution of a pipeline that is not this stack's, or an event of another account
    if foreign == "another-pipeline":
        stranger = World(world.sm, world.s3, world.record_step, bucket="other-bucket", pipeline="someone-elses")
        run = stranger.execution()
        event, field = stranger.event(run), "detail.pipelineArn"
    else:
        stranger, run = world, world.execution()
        event, field = {**world.event(run), "account": "210987654321"}, "account"
    # WHEN its event reaches the function anyway
    result = handler(event)
    # THEN it is ignored (not dead-lettered, not alerted, not retried), and nothing of it is tagged
    assert result["status"] == "foreign" and result["field"] == field
    assert all(stranger.object_tags(k) == {} for k in run.objects)
    assert not any(stranger.resource_tags(arn) for arn in [*run.jobs, run.package_arn])
    sqs = boto3.client("sqs", region_name=REGION)
    assert sqs.receive_message(QueueUrl=stack_env.dlq_url).get("Messages", []) == []
    assert stack_env.received() == []


def test_an_event_whose_execution_did_not_succeed_is_refused(world, handler):
    run = world.execution()
    result = handler(world.event(run, status="Failed"))
    assert result["status"] == "invalid"
    assert all(world.object_tags(k) == {} for k in run.objects)


def test_an_execution_that_does_not_exist_is_refused(world, handler):
    # GIVEN an event naming an execution of our pipeline that SageMaker does not know
    run = world.execution(steps=())
    event = world.event(run)
    missing = run.arn.rsplit("/", 1)[0] + "/doesnotexist"
    event["detail"]["pipelineExecutionArn"] = missing
    event["resources"][1] = missing
    # WHEN
    result = handler(event)
    # THEN it is refused as invalid (dead-lettered), not retried
    assert result["status"] == "invalid"
    assert result["field"] == "detail.pipelineExecutionArn"


def test_a_cached_step_keeps_the_tags_of_the_execution_that_made_its_results(world, handler, stack_env):
    # GIVEN a first execution, tagged when it succeeded, and a second whose Preprocess was a cache hit on the first
    # (SageMaker lists the step with CacheHitResult and the first execution's processing job)
    first = world.execution()
    assert handler(world.event(first))["status"] == "tagged"
    second = world.execution(steps=("Train", "Evaluate", "Register"))
    preprocess = next(
        s
        for s in world.sm.list_pipeline_execution_steps(PipelineExecutionArn=first.arn)["PipelineExecutionSteps"]
        if s["StepName"] == "Preprocess"
    )
    world.record_step(second.arn, {**preprocess, "CacheHitResult": {"SourcePipelineExecutionArn": first.arn}})
    received_before = len(stack_env.received())

    # WHEN the second execution's success is reported
    result = handler(world.event(second))

    # THEN its own artifacts are tagged, the reused ones keep the first execution's tags, and nobody is alerted
    assert result["status"] == "tagged", result
    assert result["reused"] == {"Preprocess": first.arn}
    assert result["counts"]["skipped"] == 0
    for key in second.objects:
        assert world.object_tags(key)["execution"] == second.execution_id, key
    for key in (k for k in first.objects if "/Preprocess/" in k):
        assert world.object_tags(key)["execution"] == first.execution_id, key
    first_preprocess_job = preprocess["Metadata"]["ProcessingJob"]["Arn"]
    assert world.resource_tags(first_preprocess_job)["execution"] == first.execution_id
    assert len(stack_env.received()) == received_before
