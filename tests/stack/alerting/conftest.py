"""The alert tests' world: failures that exist in the embedded SageMaker, for the alert function to confirm."""

from __future__ import annotations

from typing import Any

import pytest

from tests.worlds.alerting import Failures


@pytest.fixture
def failures(local_stack: Any, embedded_aws: Any) -> Failures:
    """Failures in the SageMaker of ``local_stack``'s account (its pipeline, ``fraud-pipeline-dev``)."""
    return Failures(embedded_aws.client("sagemaker"), embedded_aws.sagemaker_store)
