"""Pipeline executions in the embedded SageMaker: what moto lacks or gets wrong of their API.

``ListPipelineExecutionSteps`` (new) reports the steps a pipeline executor recorded (:mod:`.store`);
``ListPipelineExecutions`` is sorted and paginated as the API reference describes, with a failure reason only for
executions that failed; ``DescribePipelineExecution`` reports the status and reason the executor set;
``StartPipelineExecution`` hands each new execution to the attached executor (:mod:`.executors`), if any, and is
idempotent on its ``ClientRequestToken`` as the API reference says ("an idempotent operation completes no more than
once"): a start with the token of an earlier execution of the pipeline returns that execution and starts nothing.
The methods of :class:`PipelineBackend` replace or join moto's ``SageMakerModelBackend``'s.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend

from local.aws.runtime import RUNTIME
from local.aws.sagemaker.paging import check_enum, page_size, page_start
from local.aws.sagemaker.pipelines import executors
from local.aws.sagemaker.pipelines.store import pipeline_execution, recorded_steps

SORT_ORDERS = ("Ascending", "Descending")
EXECUTION_SORT_KEYS = ("CreationTime", "PipelineExecutionArn")
DEFAULT_PAGE_SIZE = 50

_moto_start_pipeline_execution = SageMakerModelBackend.start_pipeline_execution
_moto_describe_pipeline_execution = SageMakerModelBackend.describe_pipeline_execution


def _newest_first(steps: list[dict[str, Any]], sort_order: str | None) -> list[dict[str, Any]]:
    """Newest first unless asked otherwise; steps recorded together keep their recording order."""
    indexed = list(enumerate(steps))
    indexed.sort(key=lambda item: (item[1].get("StartTime") or datetime.min, item[0]))
    if sort_order != "Ascending":
        indexed.reverse()
    return [copy.deepcopy(step) for _, step in indexed]


def _execution_summary(arn: str, execution: Any) -> dict[str, Any]:
    summary = {
        "PipelineExecutionArn": arn,
        "StartTime": execution.start_time,
        "PipelineExecutionStatus": execution.pipeline_execution_status,
        "PipelineExecutionDescription": execution.pipeline_execution_description,
        "PipelineExecutionDisplayName": execution.pipeline_execution_display_name,
    }
    if getattr(execution, "pipeline_execution_failure_reason", None):
        summary["PipelineExecutionFailureReason"] = execution.pipeline_execution_failure_reason
    return summary


class PipelineBackend(SageMakerModelBackend):
    """Pipeline execution operations of the embedded SageMaker (installed on ``SageMakerModelBackend``)."""

    def start_pipeline_execution(self, pipeline_name: str, *args: Any, **kwargs: Any) -> dict[str, str]:
        token = kwargs.get("client_request_token") or (args[4] if len(args) > 4 else None)
        with RUNTIME.lock:  # two starts with one token: one execution
            pipeline = self.pipelines.get(pipeline_name)
            for arn, execution in pipeline.pipeline_executions.items() if token and pipeline is not None else ():
                if getattr(execution, "client_request_token", None) == token:
                    return {"PipelineExecutionArn": arn}
            result = _moto_start_pipeline_execution(self, pipeline_name, *args, **kwargs)
        executor = executors.attached()
        if executor is not None:
            executor.launch(self, pipeline_name, result["PipelineExecutionArn"])
        return result

    def list_pipeline_execution_steps(
        self,
        pipeline_execution_arn: str,
        next_token: str | None = None,
        max_results: int | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        with RUNTIME.lock:
            recorded = recorded_steps(self).get(pipeline_execution_arn)
            if recorded is None and pipeline_execution(self, pipeline_execution_arn) is None:
                raise ValidationError(
                    f"Could not find pipeline execution with PipelineExecutionArn {pipeline_execution_arn}."
                )
            check_enum(sort_order, SORT_ORDERS, "sortOrder")
            limit = page_size(max_results, DEFAULT_PAGE_SIZE)
            ordered = _newest_first(recorded or [], sort_order)
            start = page_start(next_token, len(ordered))
            following = start + limit
            return ordered[start:following], (str(following) if following < len(ordered) else None)

    def list_pipeline_executions(  # type: ignore[override]
        self,
        pipeline_name: str,
        sort_by: str | None = None,
        sort_order: str | None = None,
        next_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        pipeline = self.pipelines.get(pipeline_name)
        if pipeline is None:
            raise ValidationError(f"Pipeline '{pipeline_name}' does not exist.")
        check_enum(sort_by, EXECUTION_SORT_KEYS, "sortBy")
        check_enum(sort_order, SORT_ORDERS, "sortOrder")
        summaries = [_execution_summary(arn, execution) for arn, execution in pipeline.pipeline_executions.items()]
        key = "PipelineExecutionArn" if sort_by == "PipelineExecutionArn" else "StartTime"
        summaries.sort(key=lambda item: str(item[key]), reverse=sort_order != "Ascending")
        limit = DEFAULT_PAGE_SIZE if max_results is None else int(max_results)
        start = int(next_token) if next_token and next_token.isdigit() else 0
        response: dict[str, Any] = {"PipelineExecutionSummaries": summaries[start : start + limit]}
        if start + limit < len(summaries):
            response["NextToken"] = str(start + limit)
        return response

    def describe_pipeline_execution(self, pipeline_execution_arn: str) -> dict[str, Any]:
        with RUNTIME.lock:
            response = _moto_describe_pipeline_execution(self, pipeline_execution_arn)
            execution = pipeline_execution(self, pipeline_execution_arn)
            reason = getattr(execution, "pipeline_execution_failure_reason", None)
            if reason:
                response["FailureReason"] = reason
            else:
                response.pop("FailureReason", None)
            return response
