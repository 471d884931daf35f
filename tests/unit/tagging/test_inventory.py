"""Governance report: every artifact of an execution with its tags; untagged, unversioned and missing ones flagged."""

from __future__ import annotations

import json

import boto3

from local.aws.sagemaker.pipelines.store import SageMakerStore
from sm_lifecycle.tagging.policy import Execution
from tests.unit.tagging.conftest import BUCKET, PIPELINE, REGION
from tests.worlds.tagging import World
from tools import artifacts
from tools.inventory import inventory


def rows_by_ref(world: World, run) -> dict:
    rows = inventory(world.sm, world.s3, Execution.from_arn(run.arn), bucket=BUCKET, prefix=f"{PIPELINE}/")
    return {row.ref: row for row in rows}


def test_report_lists_every_artifact_and_flags_the_untagged_ones(world, handler):
    # GIVEN two executions, only one of them tagged
    tagged, untagged = world.execution(), world.execution()
    handler(world.event(tagged))
    # WHEN
    good, bad = rows_by_ref(world, tagged), rows_by_ref(world, untagged)
    # THEN every artifact is listed: objects, jobs, package, group
    for run, rows in ((tagged, good), (untagged, bad)):
        assert set(rows) == {
            *(f"s3://{BUCKET}/{k}" for k in run.objects),
            *run.jobs,
            run.package_arn,
            run.group_arn,
        }
    # AND the tagged execution is clean, the other flagged everywhere but on what is not tagged by a run
    assert {ref: row.flags for ref, row in good.items() if row.flags} == {}
    shared_or_registered = {untagged.group_arn, untagged.package_arn}
    assert all(row.flags == ["untagged"] for ref, row in bad.items() if ref not in shared_or_registered)
    assert bad[untagged.group_arn].flags == []  # the group is shared: tagged (stable keys) by the first execution
    # (a version cannot be tagged: its row shows what its metadata, written at registration, says of it)
    assert bad[untagged.package_arn].flags == []
    assert bad[untagged.package_arn].tags == {
        "execution": untagged.execution_id,
        "date": untagged.date,
        "git-sha": "3f2c1e9aa",
    }
    assert good[f"s3://{BUCKET}/{tagged.objects[0]}"].tags["execution"] == tagged.execution_id


def test_report_flags_unversioned_missing_partly_tagged_and_foreign_artifacts(world, handler):
    # GIVEN a tagged execution, then: an object rewritten while versioning was suspended, the evaluation report
    # deleted, an object stripped of two of our tags, a job tagged with another execution
    run = world.execution()
    handler(world.event(run))
    world.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    unversioned = run.objects[0]
    world.s3.put_object(Bucket=BUCKET, Key=unversioned, Body=b"y", Tagging="owner=alice")
    world.s3.delete_object(Bucket=BUCKET, Key=run.report_key)
    partial = run.objects[1]
    kept = {k: v for k, v in world.object_tags(partial).items() if k not in ("date", "git-sha")}
    world.s3.put_object_tagging(
        Bucket=BUCKET, Key=partial, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in kept.items()]}
    )
    world.sm.add_tags(ResourceArn=run.jobs[0], Tags=[{"Key": "execution", "Value": "someone-else"}])
    # WHEN
    rows = rows_by_ref(world, run)
    # THEN
    assert rows[f"s3://{BUCKET}/{unversioned}"].flags == ["untagged", "unversioned"]
    assert rows[f"s3://{BUCKET}/{run.report_key}"].flags == ["missing"]
    assert rows[f"s3://{BUCKET}/{partial}"].flags == ["untagged:date,git-sha"]
    assert rows[run.jobs[0]].flags == ["other-execution"]


def test_command_prints_a_table_and_json(aws, capsys):
    # GIVEN the dev environment's pipeline (samconfig.toml) with one tagged and one untagged artifact
    world = World(
        boto3.client("sagemaker", region_name=REGION),
        boto3.client("s3", region_name=REGION),
        SageMakerStore().record_step,
        bucket="dev-artifacts",
        pipeline="fraud-pipeline-dev",
    )
    run = world.execution(steps=("Preprocess",))
    world.s3.put_object_tagging(
        Bucket=world.bucket,
        Key=run.objects[0],
        Tagging={
            "TagSet": [{"Key": k, "Value": "x"} for k in ("env", "team", "pipeline", "date", "git-sha")]
            + [{"Key": "execution", "Value": run.execution_id}]
        },
    )
    # WHEN the table is asked for by execution id
    status = artifacts.main(["--env", "dev", "--bucket", "dev-artifacts", "--strict", run.execution_id])
    table = capsys.readouterr().out
    # THEN it lists each artifact with its flags and exits 1 (strict: something is flagged)
    assert status == 1
    assert f"s3://dev-artifacts/{run.objects[0]}" in table and f"execution={run.execution_id}" in table
    assert "untagged" in table and f"{len(run.objects) + len(run.jobs)} artifacts, " in table
    # WHEN JSON is asked for
    assert artifacts.main(["--env", "dev", "--bucket", "dev-artifacts", "--json", run.arn]) == 0
    report = json.loads(capsys.readouterr().out)
    flags = {a["ref"]: a["flags"] for a in report["artifacts"]}
    assert flags[f"s3://dev-artifacts/{run.objects[0]}"] == []
    assert flags[run.jobs[0]] == ["untagged"]
    # AND an unknown execution is an error, not an empty report
    assert artifacts.main(["--env", "dev", "nosuchexecution"]) == 2
