"""Fixtures of the deployment tests: the stack of template.yaml on a fresh embedded AWS with zero delays."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from local.aws import EmbeddedAWS, Timings
from local.stack import LocalStack
from tests.support import DRIFT_CHECKS_ON_DEMAND
from tests.worlds.deployment import NO_BAKE_ENDS, World


@pytest.fixture
def deploy_world() -> Iterator[Callable[..., World]]:
    """``world = deploy_world("dev", DeploymentStrategy="Canary")``: the environment's stack, deployed and started."""
    made: list[World] = []

    def make(env: str = "dev", **overrides: str) -> World:
        assert not made, "one embedded AWS per test (moto's state is process-global)"
        aws = EmbeddedAWS(timings=Timings()).start()
        parameters = {"BakeMinutes": NO_BAKE_ENDS, **DRIFT_CHECKS_ON_DEMAND, **overrides}
        stack = LocalStack(aws, env=env, retry_delays=(0.0, 0.0), parameter_overrides=parameters)
        world = World.on(aws, stack, stack.deploy())
        made.append(world)
        stack.start()
        return world

    yield make
    for world in made:
        world.stack.stop()
        world.aws.stop()


@pytest.fixture
def world(deploy_world: Callable[..., World]) -> World:
    return deploy_world("dev")


@pytest.fixture
def live_v1(world: World) -> tuple[World, str]:
    """GIVEN an endpoint serving version 1, created by the deployer after its approval."""
    v1 = world.register()
    world.approve(v1)
    world.idle()
    assert world.live_version() == 1
    return world, v1
