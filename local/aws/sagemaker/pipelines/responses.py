"""The wire of the embedded SageMaker's pipeline executions: request parameters in, results out, and the patches."""

from __future__ import annotations

from typing import cast

from moto.core.responses import ActionResult
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from local.aws.patches import methods
from local.aws.sagemaker.pipelines.models import PipelineBackend


def _backend(response: SageMakerResponse) -> PipelineBackend:
    """moto\'s backend of the request, with the methods of :class:`PipelineBackend` installed on it."""
    return cast(PipelineBackend, response.sagemaker_backend)


class PipelineResponses(SageMakerResponse):
    """Pipeline execution actions of the SageMaker API (installed on ``SageMakerResponse``)."""

    def list_pipeline_executions(self) -> ActionResult:
        return ActionResult(
            _backend(self).list_pipeline_executions(
                pipeline_name=self._get_param("PipelineName"),
                sort_by=self._get_param("SortBy"),
                sort_order=self._get_param("SortOrder"),
                next_token=self._get_param("NextToken"),
                max_results=self._get_param("MaxResults"),
            )
        )

    def list_pipeline_execution_steps(self) -> ActionResult:
        steps, next_token = _backend(self).list_pipeline_execution_steps(
            pipeline_execution_arn=self._get_param("PipelineExecutionArn"),
            next_token=self._get_param("NextToken"),
            max_results=self._get_param("MaxResults"),
            sort_order=self._get_param("SortOrder"),
        )
        return ActionResult({"PipelineExecutionSteps": steps, "NextToken": next_token})


PATCHES = (
    *methods(
        SageMakerModelBackend,
        PipelineBackend,
        {
            "start_pipeline_execution": "moto runs nothing: the execution goes to the attached pipeline executor",
            "list_pipeline_execution_steps": "moto has no ListPipelineExecutionSteps",
            "list_pipeline_executions": "sorted and paginated; failure reasons only for executions that failed",
            "describe_pipeline_execution": "the status and failure reason the executor set (moto: always empty)",
        },
    ),
    *methods(
        SageMakerResponse,
        PipelineResponses,
        {
            "list_pipeline_executions": "passes SortBy, SortOrder, NextToken and MaxResults on to the backend",
            "list_pipeline_execution_steps": "moto has no ListPipelineExecutionSteps action",
        },
    ),
)
