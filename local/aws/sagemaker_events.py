"""Import point kept for code written against the former single module of SageMaker's events.

New code imports :mod:`local.aws.sagemaker.events.models` (shapes, publishing) and :mod:`local.aws.timestamps`.
"""

from local.aws.sagemaker.events.models import (
    ENDPOINT_DEPLOYMENT_STATE_CHANGE,
    ENDPOINT_STATE_CHANGE,
    MODEL_PACKAGE_STATE_CHANGE,
    PIPELINE_EXECUTION_STATUS_CHANGE,
    PIPELINE_STEP_STATUS_CHANGE,
    PROCESSING_JOB_STATE_CHANGE,
    SOURCE,
    TRAINING_JOB_STATE_CHANGE,
    emit,
    endpoint_detail,
    envelope,
    model_package_detail,
    pipeline_execution_detail,
    pipeline_step_detail,
    publish,
    training_job_detail,
    upper_snake,
)
from local.aws.timestamps import as_datetime, epoch_ms, epoch_ms_str, iso

__all__ = [
    "ENDPOINT_DEPLOYMENT_STATE_CHANGE",
    "ENDPOINT_STATE_CHANGE",
    "MODEL_PACKAGE_STATE_CHANGE",
    "PIPELINE_EXECUTION_STATUS_CHANGE",
    "PIPELINE_STEP_STATUS_CHANGE",
    "PROCESSING_JOB_STATE_CHANGE",
    "SOURCE",
    "TRAINING_JOB_STATE_CHANGE",
    "as_datetime",
    "emit",
    "endpoint_detail",
    "envelope",
    "epoch_ms",
    "epoch_ms_str",
    "iso",
    "model_package_detail",
    "pipeline_execution_detail",
    "pipeline_step_detail",
    "publish",
    "training_job_detail",
    "upper_snake",
]
