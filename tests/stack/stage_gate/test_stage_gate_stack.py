"""The stage gate on a served stack: deployed → bake → next stage, or stopped; approvals at its stage; refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from tests.support import DRIFT_CHECKS_ON_DEMAND
from tests.worlds.deployment import NO_BAKE_ENDS, World

pytestmark = pytest.mark.slow

ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"


@pytest.fixture
def gate_world() -> Iterator[Callable[..., World]]:
    """``world = gate_world(LifecycleStage="Staging")``: dev's stack (its own group) at a stage, started."""
    made: list[World] = []

    def make(**overrides: str) -> World:
        aws = EmbeddedAWS(timings=Timings()).start()
        parameters = {"BakeMinutes": "30", **DRIFT_CHECKS_ON_DEMAND, **overrides}
        stack = LocalStack(aws, env="dev", retry_delays=(0.0, 0.0), parameter_overrides=parameters)
        world = World.on(aws, stack, stack.deploy())
        made.append(world)
        stack.start()
        return world

    yield make
    for world in made:
        world.stack.stop()
        world.aws.stop()


def lifecycle(world: World, arn: str) -> dict[str, str]:
    return world.sm.describe_model_package(ModelPackageName=arn).get("ModelLifeCycle") or {}


def stage_of(world: World, arn: str) -> tuple[str | None, str | None]:
    found = lifecycle(world, arn)
    return found.get("Stage"), found.get("StageStatus")


def settle(world: World, until: Callable[[], bool], timeout: float = 30) -> None:
    """Idle, again, until ``until()`` (a bake's schedule fires on the scaled schedule clock)."""
    deadline = time.monotonic() + timeout
    while True:
        world.idle()
        if until() or time.monotonic() > deadline:
            return
        time.sleep(0.1)


def gate_records(world: World) -> list[dict[str, Any]]:
    return [r for r in world.stack.invocations if r["function"] == "StageGateFunction"]


def bake_firings(world: World) -> list[dict[str, Any]]:
    return [f for f in world.aws.control.schedule_firings() if "bake-" in f["schedule_arn"]]


def test_a_version_deployed_in_development_bakes_and_waits_at_staging_with_the_evidence(gate_world) -> None:
    # GIVEN dev (Development, a 30-minute bake)
    world = gate_world()
    # WHEN v1 is approved, deployed and its endpoint InService
    v1 = world.register()
    world.approve(v1)
    settle(world, lambda: stage_of(world, v1) == ("Staging", "PendingApproval"))
    # THEN the gate wrote {Development, Deployed}, one bake fired, and v1 waits at Staging with the bake's evidence
    statuses = [r["result"]["status"] for r in gate_records(world) if r["result"]]
    assert "deployed" in statuses and "promoted" in statuses
    assert len(bake_firings(world)) == 1
    description = lifecycle(world, v1)["StageDescription"]
    assert "baked at Development, healthy" in description
    assert "alarms" in description and "invocations" in description
    # AND the endpoint still serves v1 (Development keeps versions that moved on)
    assert world.live_version() == 1


def test_a_duplicate_in_service_event_schedules_one_bake(gate_world) -> None:
    world = gate_world(BakeMinutes="600")  # a bake that does not end during the test
    v1 = world.register()
    world.approve(v1)
    settle(world, lambda: stage_of(world, v1) == ("Development", "Deployed"))
    in_service = [e for e in world.events(ENDPOINT_STATE_CHANGE) if e["detail"]["EndpointStatus"] == "IN_SERVICE"][-1]

    # WHEN EventBridge delivers the InService event twice more
    world.stack.replay([in_service, in_service])
    world.idle()

    # THEN one schedule was created, and the version was written once
    assert stage_of(world, v1) == ("Development", "Deployed")
    results = [r["result"] for r in gate_records(world) if r["result"] and r["result"]["status"] == "deployed"]
    assert [r["scheduled"] for r in results].count(True) == 1


def test_an_alarm_in_alarm_during_the_bake_stops_the_version_with_an_alert(gate_world) -> None:
    # a bake long enough (150 min: 9 s on the scaled clock) that the alarm surely goes off before it ends
    world = gate_world(BakeMinutes="150")
    v1 = world.register()
    world.approve(v1)
    settle(world, lambda: stage_of(world, v1) == ("Development", "Deployed"), timeout=10)
    # WHEN the 5xx rollback alarm goes to ALARM during the bake (and back)
    alarm = world.outputs["EndpointRollbackAlarmNames"].split(",")[0]
    cloudwatch = world.aws.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx burst")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="recovered")
    settle(world, lambda: stage_of(world, v1)[1] == "Rejected")
    # THEN v1 is {Development, Rejected}, saying why, and ops got one alert
    assert stage_of(world, v1) == ("Development", "Rejected")
    assert f"alarm {alarm} was in ALARM" in lifecycle(world, v1)["StageDescription"]
    [alert] = world.alerts(kind="stage-gate")
    assert "stopped at Development" in alert["Subject"]


def test_auto_policy_approves_a_version_waiting_at_its_stage(gate_world) -> None:
    world = gate_world(LifecycleStage="Staging", StagePolicy="auto")
    v1 = world.register(status="Approved")
    # WHEN the previous stage hands v1 over ({Staging, PendingApproval})
    world.sm.update_model_package(
        ModelPackageArn=v1,
        ModelLifeCycle={"Stage": "Staging", "StageStatus": "PendingApproval", "StageDescription": "baked"},
    )
    settle(world, lambda: stage_of(world, v1) == ("Staging", "Deployed"))
    # THEN the gate approved it, the deployer deployed it, and the gate recorded the deployment
    statuses = [r["result"]["status"] for r in gate_records(world) if r["result"]]
    assert "approved" in statuses and "deployed" in statuses
    assert world.live_version() == 1


def test_recommend_policy_asks_the_approvers_once_and_approves_nothing(gate_world) -> None:
    world = gate_world(LifecycleStage="Production", StagePolicy="recommend")
    v1 = world.register(status="Approved")
    handover = {"Stage": "Production", "StageStatus": "PendingApproval", "StageDescription": "baked at Staging"}
    world.sm.update_model_package(ModelPackageArn=v1, ModelLifeCycle=handover)
    world.idle()
    # AND the same event arrives again
    event = world.package_event(v1, fields=["ModelLifeCycle"])
    world.stack.replay([event])
    world.idle()
    # THEN v1 still waits, no endpoint was created, and the approvers got one request naming the command
    assert stage_of(world, v1) == ("Production", "PendingApproval")
    assert world.mutations() == []
    [request] = world.alerts(kind="approval-request")
    assert "make promote VERSION=1 STAGE=Production" in request["Message"]


@pytest.mark.parametrize("claimed", [("Production", "Approved"), ("Staging", "PendingApproval")])
def test_an_event_claiming_a_lifecycle_the_registry_does_not_show_changes_nothing(gate_world, claimed) -> None:
    world = gate_world(LifecycleStage="Staging", StagePolicy="auto")
    v1 = world.register(status="Approved")
    world.sm.update_model_package(
        ModelPackageArn=v1, ModelLifeCycle={"Stage": "Development", "StageStatus": "Deployed", "StageDescription": "x"}
    )
    world.idle()
    forged = world.package_event(v1, fields=["ModelLifeCycle"])
    forged["detail"]["ModelLifeCycle"] = {"Stage": claimed[0], "StageStatus": claimed[1]}
    records = world.stack.replay([forged])
    world.idle()
    assert stage_of(world, v1) == ("Development", "Deployed")
    assert world.mutations() == []
    # the gate and the deployer each took the event, and went by what the registry shows
    [gate] = [r for r in records if r["function"] == "StageGateFunction"]
    assert gate["result"]["status"] == "nothing" and "Development" in gate["result"]["reason"], gate
    [deploy] = [r for r in records if r["function"] == "DeployFunction"]
    assert (deploy["outcome"], deploy["result"]["status"]) == ("ok", "nothing-approved"), deploy


def test_a_bake_fired_twice_moves_the_version_once(gate_world) -> None:
    world = gate_world(BakeMinutes="600")  # the schedule does not fire by itself during the test
    v1 = world.register()
    world.approve(v1)
    settle(world, lambda: stage_of(world, v1) == ("Development", "Deployed"), timeout=30)
    scheduler = world.aws.client("scheduler")
    [summary] = [s for s in scheduler.list_schedules()["Schedules"] if s["Name"].startswith("bake-")]
    schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
    payload = json.loads(schedule["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", "2026-12-01T00:00:00Z"))
    payload["id"] = "execution-1"

    # WHEN EventBridge Scheduler delivers the firing twice (at least once), with the same execution id
    world.stack.invoke_async("StageGateFunction", payload)
    world.stack.invoke_async("StageGateFunction", payload)
    settle(world, lambda: stage_of(world, v1) == ("Staging", "PendingApproval"))

    # THEN the version moved once: one firing promoted it; the other found it in progress (conflict) or, when it ran
    # after the first had ended, was answered with the stored result (a duplicate: nothing run again)
    fired = [r for r in gate_records(world) if r["event_id"] == "execution-1" and r["result"]]
    promoted = [r for r in fired if r["result"].get("status") == "promoted" and not r["result"].get("duplicate")]
    assert len(promoted) == 1, fired
    others = [r["result"] for r in fired if r is not promoted[0]]
    assert others and all(o.get("duplicate") or o.get("status") == "conflict" for o in others), others
    assert stage_of(world, v1) == ("Staging", "PendingApproval")


def at(world: World, arn: str, stage: str, status: str, description: str = "set by the test") -> None:
    world.sm.update_model_package(
        ModelPackageArn=arn, ModelLifeCycle={"Stage": stage, "StageStatus": status, "StageDescription": description}
    )


@pytest.mark.parametrize("stage", ["Development", "Staging", "Production"])
def test_rejecting_the_live_version_at_its_stage_rolls_the_stage_back(gate_world, stage: str) -> None:
    # GIVEN the environment of the stage serving v2, v1 deployed there before it (bakes do not end in the test)
    world = gate_world(LifecycleStage=stage, StagePolicy="recommend", BakeMinutes=NO_BAKE_ENDS)
    v1 = world.register(status="Approved")
    at(world, v1, stage, "Approved")
    settle(world, lambda: world.live_version() == 1 and stage_of(world, v1) == (stage, "Deployed"))
    v2 = world.register(status="Approved")
    at(world, v2, stage, "Approved")
    settle(world, lambda: world.live_version() == 2 and stage_of(world, v2) == (stage, "Deployed"))

    # WHEN a person of that stage rejects v2 at the stage (the registry's stage update)
    at(world, v2, stage, "Rejected", f"rejected at {stage} by a person")
    settle(world, lambda: world.live_version() == 1)

    # THEN the endpoint serves v1 again, v2 stays {stage, Rejected} (nothing moves it on), v1 is untouched
    assert world.live_version() == 1
    assert stage_of(world, v2) == (stage, "Rejected")
    assert stage_of(world, v1) == (stage, "Deployed")
    assert world.sm.describe_model_package(ModelPackageName=v2)["ModelApprovalStatus"] == "Approved"


def test_a_lifecycle_event_for_a_stage_the_environment_does_not_own_changes_nothing(gate_world) -> None:
    # GIVEN staging serving v1, and v2 approved in the registry but not yet past Development
    world = gate_world(LifecycleStage="Staging", StagePolicy="auto", BakeMinutes=NO_BAKE_ENDS)
    v1 = world.register(status="Approved")
    at(world, v1, "Staging", "Approved")
    settle(world, lambda: world.live_version() == 1 and stage_of(world, v1) == ("Staging", "Deployed"))
    v2 = world.register(status="Approved")
    world.idle()
    before, gate_before = len(world.mutations()), len(gate_records(world))

    # WHEN Development's moves of v2 reach staging (the registry's own events: approved, then deployed in dev)
    at(world, v2, "Development", "Approved", "approved at Development")
    at(world, v2, "Development", "Deployed", "deployed at Development")
    world.idle()

    # THEN staging's gate approved nothing and its endpoint still serves v1: Development is not staging's stage
    results = [r["result"] for r in gate_records(world)[gate_before:]]
    assert results and {r["status"] for r in results} == {"nothing"}, results
    assert world.mutations()[before:] == []
    assert world.live_version() == 1
    assert stage_of(world, v2) == ("Development", "Deployed")


def test_an_event_claiming_production_approved_for_a_version_at_staging_deploys_nothing_in_prod(gate_world) -> None:
    # GIVEN prod, and v1 that the registry shows {Staging, Deployed}
    world = gate_world(LifecycleStage="Production", StagePolicy="recommend", BakeMinutes=NO_BAKE_ENDS)
    v1 = world.register(status="Approved")
    at(world, v1, "Staging", "Deployed")
    world.idle()
    # WHEN an event claims {Production, Approved} for it (forged, or late and out of order)
    forged = world.package_event(v1, fields=["ModelLifeCycle"])
    forged["detail"]["ModelLifeCycle"] = {"Stage": "Production", "StageStatus": "Approved"}
    records = world.stack.replay([forged])
    world.idle()
    # THEN prod deploys nothing and the registry is unchanged: the deployer went by what the registry shows
    assert world.mutations() == []
    assert stage_of(world, v1) == ("Staging", "Deployed")
    [deploy] = [r for r in records if r["function"] == "DeployFunction"]
    assert (deploy["outcome"], deploy["result"]["status"]) == ("ok", "nothing-approved"), deploy
