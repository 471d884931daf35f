"""Fixtures of the promotion tests: the stack of template.yaml on the embedded AWS, per environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.aws import EmbeddedAWS
from local.stack import LocalStack
from tests.worlds.promotion import Scene


@pytest.fixture
def promote_stack(
    embedded_aws: EmbeddedAWS, local_stack_factory: Callable[..., LocalStack], sns_inbox: Callable[[str], Any]
) -> Iterator[Callable[..., tuple[LocalStack, Scene]]]:
    """``stack, scene = promote_stack("prod", start=False, PromotionMode="auto")``: the deployed (and started) stack.

    Keyword arguments override stack parameters. ``start=False`` deploys only: the rules exist and events queue up for
    the functions, but nothing runs until ``stack.start()`` (how a test stages what happens before the promote function
    sees an event).
    """
    unstarted: list[LocalStack] = []

    def make(env: str = "dev", *, start: bool = True, **overrides: str) -> tuple[LocalStack, Scene]:
        if start:
            stack = local_stack_factory(env=env, parameter_overrides=overrides)
        else:
            stack = LocalStack(embedded_aws, env=env, retry_delays=(0.0, 0.0), parameter_overrides=overrides)
            unstarted.append(stack)
            stack.deploy()
        scene = Scene.on(embedded_aws, stack.outputs, sns_inbox(stack.outputs["AlertTopicArn"]))
        return stack, scene

    yield make
    for stack in unstarted:
        stack.stop()


def promote_records(stack: LocalStack) -> list[dict[str, Any]]:
    """Invocation records of the promote function."""
    return [r for r in stack.invocations if r["function"] == "PromoteFunction"]
