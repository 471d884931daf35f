"""Tagging: every artifact of a succeeded pipeline execution tagged for cost allocation and governance.

    tag_artifacts(event, context)   # the tag_artifacts function's entry point (functions/tag_artifacts/app.py)

Modules: ``policy`` (the tags and their merge, pure), ``report`` (what a run did, pure), ``discovery`` (what the
execution produced), ``service`` (one run), and the adapters ``sagemaker`` (reads, AddTags) and ``s3`` (objects).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sm_lifecycle.kernel import clients
from sm_lifecycle.kernel.events import PipelineExecutionStatusChangeEvent
from sm_lifecycle.kernel.settings import Settings
from sm_lifecycle.tagging.policy import TaggingConfig
from sm_lifecycle.tagging.s3 import S3Tagger
from sm_lifecycle.tagging.sagemaker import SageMakerArtifacts
from sm_lifecycle.tagging.service import SucceededExecution, finish, tag_succeeded_execution

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["TAG_EVENTS", "tag_artifacts"]

TAG_EVENTS = (PipelineExecutionStatusChangeEvent,)
"""The events the tag_artifacts function receives (its rule in template.yaml: successes of the stack's pipeline)."""


def tag_artifacts(event: PipelineExecutionStatusChangeEvent, context: LambdaContext) -> dict[str, Any]:
    """Tag what the execution of ``event`` produced, with the stack's settings and the process's shared clients."""
    settings = Settings.from_env()
    config = TaggingConfig.from_env(os.environ, pipeline_name=settings.pipeline_name)
    report = tag_succeeded_execution(
        SucceededExecution.from_detail(event.detail),
        environment=settings.environment,
        team=settings.team,
        pipeline_name=settings.pipeline_name,
        config=config,
        sagemaker=SageMakerArtifacts(clients.client("sagemaker")),
        s3=S3Tagger(clients.client("s3")),
        deadline=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    return finish(report, settings)
