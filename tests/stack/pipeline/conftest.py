"""One pipeline world (embedded AWS, pipeline upserted from the SDK definition, runner installed) for the package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stack.pipeline.world import PipelineWorld, pipeline_world


@pytest.fixture(scope="package")
def world() -> Iterator[PipelineWorld]:
    with pipeline_world() as opened:
        yield opened
