"""The stage state machine: eligibility, moves, and the registry's spelling of a ModelLifeCycle."""

from __future__ import annotations

import pytest

from sm_lifecycle.kernel.stages import (
    LifeCycle,
    Stage,
    StageStatus,
    StageTransitionError,
    check_transition,
    eligible_for,
    is_current,
    next_stage,
    stage_for_environment,
    stages_from,
)

D, S, P = Stage.DEVELOPMENT, Stage.STAGING, Stage.PRODUCTION
PENDING, APPROVED, REJECTED, DEPLOYED = (
    StageStatus.PENDING_APPROVAL,
    StageStatus.APPROVED,
    StageStatus.REJECTED,
    StageStatus.DEPLOYED,
)


def at(stage: Stage, status: StageStatus) -> LifeCycle:
    return LifeCycle(stage, status)


@pytest.mark.parametrize(
    ("lifecycle", "eligible"),
    [
        (None, {D}),
        (at(D, PENDING), set()),
        (at(D, APPROVED), {D}),
        (at(D, DEPLOYED), {D}),
        (at(D, REJECTED), set()),
        (at(S, PENDING), {D}),  # waiting for staging: still dev's
        (at(S, DEPLOYED), {D, S}),
        (at(S, REJECTED), {D}),  # stopped at staging: dev keeps it, staging does not
        (at(P, PENDING), {D, S}),
        (at(P, APPROVED), {D, S, P}),
        (at(P, REJECTED), {D, S}),
    ],
)
def test_a_version_is_eligible_for_the_stages_it_passed_and_its_own_when_approved_or_deployed(
    lifecycle: LifeCycle | None, eligible: set[Stage]
) -> None:
    assert {stage for stage in Stage if eligible_for(stage, lifecycle)} == eligible


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (None, at(D, APPROVED)),
        (None, at(D, REJECTED)),
        (at(D, APPROVED), at(D, DEPLOYED)),
        (at(D, DEPLOYED), at(S, PENDING)),
        (at(S, PENDING), at(S, APPROVED)),
        (at(S, PENDING), at(S, REJECTED)),
        (at(S, APPROVED), at(S, REJECTED)),
        (at(S, DEPLOYED), at(P, PENDING)),
        (at(S, DEPLOYED), at(S, REJECTED)),
        (at(P, PENDING), at(P, APPROVED)),
        (at(P, APPROVED), at(P, DEPLOYED)),
        (at(P, DEPLOYED), at(P, REJECTED)),
    ],
)
def test_the_moves_of_the_state_machine_are_allowed(current: LifeCycle | None, new: LifeCycle) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new", "skip"),
    [
        (None, at(S, PENDING), False),  # a new version straight to staging: not baked in dev
        (at(D, APPROVED), at(S, PENDING), False),  # not baked: never deployed in dev
        (at(D, DEPLOYED), at(P, PENDING), True),  # staging skipped
        (at(S, PENDING), at(P, APPROVED), False),  # an event claiming {Production, Approved}
        (at(S, PENDING), at(S, DEPLOYED), False),  # deployed without an approval
        (at(S, REJECTED), at(S, APPROVED), False),  # a rejection ends the way
        (at(P, DEPLOYED), at(D, PENDING), False),  # no way back
    ],
)
def test_anything_else_is_refused_naming_both_states(current: LifeCycle | None, new: LifeCycle, skip: bool) -> None:
    with pytest.raises(StageTransitionError) as refused:
        check_transition(current, new)
    assert str(new) in str(refused.value)
    assert ("skipped" in str(refused.value)) is skip


def test_writing_the_state_a_version_is_in_is_no_move() -> None:
    assert is_current(at(S, DEPLOYED), LifeCycle(S, DEPLOYED, "another description"))
    assert not is_current(at(S, APPROVED), at(S, DEPLOYED))
    assert not is_current(None, at(D, PENDING))


def test_the_registry_spelling_round_trips_and_unknown_stages_are_no_lifecycle() -> None:
    api = {"Stage": "Staging", "StageStatus": "Deployed", "StageDescription": "canary healthy"}
    assert LifeCycle.from_api(api) == LifeCycle(S, DEPLOYED, "canary healthy")
    assert LifeCycle.from_api(api).to_api() == api  # type: ignore[union-attr]
    assert LifeCycle.from_api(None) is None
    assert LifeCycle.from_api({"Stage": "QA", "StageStatus": "Approved"}) is None
    assert LifeCycle.from_api({"Stage": "Staging", "StageStatus": "Archived"}) is None


def test_a_description_is_written_on_one_line_within_sagemakers_limit() -> None:
    written = LifeCycle(S, REJECTED, "5xx burst\nduring canary\u2028" + "x" * 2000).to_api()["StageDescription"]
    assert "\n" not in written and "\u2028" not in written
    assert len(written) <= 1024
    assert written.startswith("5xx burst")


def test_stage_order_and_environments() -> None:
    assert [next_stage(D), next_stage(S), next_stage(P)] == [S, P, None]
    assert stages_from(S) == (S, P)
    assert [stage_for_environment(env) for env in ("dev", "staging", "prod")] == [D, S, P]
