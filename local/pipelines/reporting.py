"""What the local runner tells the embedded AWS about an execution: statuses, recorded steps, events.

The events SageMaker sends (pipeline execution and step status, training and processing job state) go through the
embedded AWS's EventBridge; the steps go to its store for ``ListPipelineExecutionSteps``; the execution's end to
``DescribePipelineExecution``. A failure to report is logged, never raised into the run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from local.aws.sagemaker.events import models as events
from local.aws.timestamps import with_iso_times
from local.pipelines.execution import Execution, StepRecord, now

logger = logging.getLogger(__name__)


class Reporter:
    """Reports to ``aws`` (``account_id``, ``region``; optionally ``emit(...)`` and ``sagemaker_store``) about the
    executions of ``account`` (default: ``aws``'s account), whose bus gets their events."""

    def __init__(self, aws: Any, sagemaker: Any, account: str | None = None) -> None:
        self.aws = aws
        self.sagemaker = sagemaker
        self.account = account or aws.account_id

    def emit(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        try:
            if hasattr(self.aws, "emit") and self.account == self.aws.account_id:
                self.aws.emit(detail_type, detail, resources)
            else:
                events.emit(detail_type, detail, resources, account=self.account, region=self.aws.region)
        except Exception:
            logger.exception("could not emit %s", detail_type)

    def execution_status(self, execution: Execution, previous: str | None) -> None:
        detail = events.pipeline_execution_detail(
            pipeline_arn=execution.pipeline_arn,
            pipeline_execution_arn=execution.arn,
            current_status=execution.status,
            previous_status=previous,
            execution_start_time=execution.start_time,
            execution_end_time=execution.end_time,
            display_name=execution.display_name,
            description=execution.description,
        )
        self.emit(events.PIPELINE_EXECUTION_STATUS_CHANGE, detail, [execution.pipeline_arn, execution.arn])

    def execution_end(self, fake: Any, execution: Execution) -> None:
        """What DescribePipelineExecution reports once the execution has ended (``fake``: moto's execution)."""
        store = getattr(self.aws, "sagemaker_store", None)
        if store is not None and hasattr(store, "set_pipeline_execution_status"):
            store.set_pipeline_execution_status(execution.arn, execution.status, execution.failure_reason)
        else:
            fake.pipeline_execution_status = execution.status
            fake.pipeline_execution_failure_reason = execution.failure_reason
        fake.last_modified_time = execution.end_time or now()

    def step(self, execution: Execution, record: StepRecord, previous: str | None) -> None:
        store = getattr(self.aws, "sagemaker_store", None)
        if store is not None and hasattr(store, "record_step"):
            try:
                store.record_step(execution.arn, record.summary())
            except Exception:
                logger.exception("could not record step %s", record.name)
        detail = events.pipeline_step_detail(
            pipeline_arn=execution.pipeline_arn,
            pipeline_execution_arn=execution.arn,
            step_name=record.name,
            current_status=record.status,
            previous_status=previous,
            step_type=record.step_type,
            step_start_time=record.start_time,
            step_end_time=record.end_time,
            failure_reason=record.failure_reason,
            metadata=record.metadata,
        )
        self.emit(events.PIPELINE_STEP_STATUS_CHANGE, detail, [execution.pipeline_arn, execution.arn])

    def training_job(self, name: str, arn: str) -> None:
        description = self.sagemaker.describe_training_job(TrainingJobName=name)
        description.pop("ResponseMetadata", None)
        self.job(events.TRAINING_JOB_STATE_CHANGE, arn, events.training_job_detail(description))

    def processing_job(self, arn: str, description: Mapping[str, Any]) -> None:
        self.job(events.PROCESSING_JOB_STATE_CHANGE, arn, description)

    def job(self, detail_type: str, arn: str, detail: Mapping[str, Any]) -> None:
        self.emit(detail_type, with_iso_times(detail), [arn])
