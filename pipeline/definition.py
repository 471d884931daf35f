"""The pipeline: Preprocess -> Train (Spot, checkpointed) -> Evaluate -> AUC check -> Register | Fail.

Every step writes under ``s3://<bucket>/<pipeline>/<execution id>/<step>/...`` so that runs never overwrite each
other and every artifact can be traced to its execution.
"""

from __future__ import annotations

import boto3
from sagemaker import image_uris
from sagemaker.drift_check_baselines import DriftCheckBaselines
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagemaker.sklearn.processing import SKLearnProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.workflow.steps import CacheConfig, ProcessingStep, TrainingStep
from sagemaker.xgboost.estimator import XGBoost

from pipeline import STEPS_DIR, sdk_config
from pipeline.config import PipelineParams, Target
from sm_lifecycle.kernel.registry import EXECUTION_ID, EXECUTION_START, GIT_SHA, UNKNOWN_GIT_SHA

sdk_config.use_prepared_validator()

APPROVAL_STATUS = "PendingManualApproval"
AUC_JSON_PATH = "binary_classification_metrics.auc.value"
CONTENT_TYPE = "text/csv"
CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
# train.py logs "round N: train-auc:0.95, ..., validation-logloss:0.08" after every boosting round.
METRIC_DEFINITIONS = [
    {"Name": f"{data}:{metric}", "Regex": rf"{data}-{metric}:([0-9.eE+-]+)"}
    for data in ("train", "validation")
    for metric in ("auc", "logloss")
]


def data_uri(bucket: str) -> str:
    """Where ``python -m pipeline upload-data`` puts the raw data set (the InputDataUri default)."""
    return f"s3://{bucket}/datasets/default/raw/default.csv"


def session_for(target: Target, boto_session: boto3.session.Session | None = None) -> PipelineSession:
    boto_session = boto_session or boto3.session.Session(region_name=target.region)
    return PipelineSession(boto_session=boto_session, default_bucket=target.bucket)


def build_pipeline(target: Target, params: PipelineParams, session: PipelineSession) -> Pipeline:
    """The pipeline object (``.definition()`` uploads the step code to the artifact bucket)."""
    defaults = params.parameters
    input_data = ParameterString("InputDataUri", default_value=data_uri(target.bucket))
    git_sha = ParameterString(GIT_SHA, default_value=UNKNOWN_GIT_SHA)
    processing_instance = ParameterString("ProcessingInstanceType", default_value=params.processing_instance_type)
    training_instance = ParameterString("TrainingInstanceType", default_value=params.training_instance_type)
    num_round = ParameterInteger("NumRound", default_value=int(defaults["NumRound"]))
    max_depth = ParameterInteger("MaxDepth", default_value=int(defaults["MaxDepth"]))
    eta = ParameterFloat("Eta", default_value=float(defaults["Eta"]))
    scale_pos_weight = ParameterFloat("ScalePosWeight", default_value=float(defaults["ScalePosWeight"]))
    checkpoint_frequency = ParameterInteger("CheckpointFrequency", default_value=int(defaults["CheckpointFrequency"]))
    auc_threshold = ParameterFloat("AucThreshold", default_value=float(defaults["AucThreshold"]))

    def versioned(*parts: str) -> Join:
        """``s3://<bucket>/<pipeline>/<execution id>/<parts...>``"""
        return Join(
            on="/",
            values=["s3:/", target.bucket, target.pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts],
        )

    job_retries = [
        SageMakerJobStepRetryPolicy(
            exception_types=[
                SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
            ],
            max_attempts=params.job_retry_max_attempts,
            interval_seconds=60,
            backoff_rate=2.0,
        ),
        StepRetryPolicy(
            exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
            max_attempts=5,
            interval_seconds=10,
            backoff_rate=2.0,
        ),
    ]
    xgboost_image = image_uris.retrieve(
        "xgboost", region=target.region, version=params.xgboost_version, instance_type=params.training_instance_type
    )

    # ------------------------------------------------------------------ preprocess
    preprocessor = SKLearnProcessor(
        framework_version=params.sklearn_version,
        role=target.step_role_arn,
        instance_type=processing_instance,
        instance_count=1,
        base_job_name=f"{target.pipeline_name}-preprocess",
        sagemaker_session=session,
    )
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=preprocessor.run(
            code=str(STEPS_DIR / "preprocess.py"),
            inputs=[ProcessingInput(input_name="raw", source=input_data, destination="/opt/ml/processing/input/raw")],
            outputs=[
                ProcessingOutput(
                    output_name=name, source=f"/opt/ml/processing/{name}", destination=versioned("Preprocess", name)
                )
                for name in ("train", "validation", "test", "baseline")
            ],
        ),
        cache_config=CacheConfig(enable_caching=True, expire_after=params.cache_expire_after),
        retry_policies=job_retries,
    )
    split_uri = {
        split: preprocess.properties.ProcessingOutputConfig.Outputs[split].S3Output.S3Uri
        for split in ("train", "validation", "test")
    }
    # the baseline the step wrote: a cached Preprocess's is the earlier execution's (this one writes none)
    baseline_uri = preprocess.properties.ProcessingOutputConfig.Outputs["baseline"].S3Output.S3Uri

    # ------------------------------------------------------------------ train (managed Spot, checkpointed)
    estimator = XGBoost(
        entry_point=str(STEPS_DIR / "train.py"),
        framework_version=params.xgboost_version,
        py_version="py3",
        role=target.step_role_arn,
        instance_type=training_instance,
        instance_count=1,
        use_spot_instances=params.use_spot_instances,
        max_run=params.max_run_seconds,
        max_wait=params.max_wait_seconds if params.use_spot_instances else None,
        checkpoint_s3_uri=versioned("checkpoints"),
        checkpoint_local_path=CHECKPOINT_LOCAL_PATH,
        output_path=versioned("Train"),
        base_job_name=f"{target.pipeline_name}-train",
        metric_definitions=METRIC_DEFINITIONS,
        debugger_hook_config=False,
        disable_profiler=True,
        hyperparameters={
            "num_round": num_round,
            "max_depth": max_depth,
            "eta": eta,
            "scale_pos_weight": scale_pos_weight,
            "checkpoint_frequency": checkpoint_frequency,
        },
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={
                "train": TrainingInput(s3_data=split_uri["train"], content_type=CONTENT_TYPE),
                "validation": TrainingInput(s3_data=split_uri["validation"], content_type=CONTENT_TYPE),
            }
        ),
        retry_policies=job_retries,
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    # ------------------------------------------------------------------ evaluate
    evaluation_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluator = ScriptProcessor(
        image_uri=xgboost_image,
        command=["python3"],
        role=target.step_role_arn,
        instance_type=processing_instance,
        instance_count=1,
        base_job_name=f"{target.pipeline_name}-evaluate",
        sagemaker_session=session,
    )
    evaluation_uri = versioned("Evaluate", "evaluation")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=str(STEPS_DIR / "evaluate.py"),
            inputs=[
                ProcessingInput(input_name="model", source=model_data, destination="/opt/ml/processing/model"),
                ProcessingInput(input_name="test", source=split_uri["test"], destination="/opt/ml/processing/test"),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation", source="/opt/ml/processing/evaluation", destination=evaluation_uri
                )
            ],
        ),
        property_files=[evaluation_report],
        retry_policies=job_retries,
    )
    auc = JsonGet(step_name=evaluate.name, property_file=evaluation_report, json_path=AUC_JSON_PATH)

    # ------------------------------------------------------------------ register or fail
    model = Model(image_uri=xgboost_image, model_data=model_data, role=target.step_role_arn, sagemaker_session=session)
    register = ModelStep(
        name="Register",
        step_args=model.register(
            content_types=[CONTENT_TYPE],
            response_types=[CONTENT_TYPE],
            # the endpoint's instance type, from the stack: one source (the deployer refuses a package without it)
            inference_instances=target.registered_instance_types,
            transform_instances=params.transform_instance_types,
            model_package_group_name=target.model_package_group_name,
            approval_status=APPROVAL_STATUS,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=Join(on="/", values=[evaluation_uri, "evaluation.json"]), content_type="application/json"
                )
            ),
            # the training data's drift baseline (the drift check compares the endpoint's traffic with it)
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=MetricsSource(
                    s3_uri=Join(on="/", values=[baseline_uri, "statistics.json"]), content_type="application/json"
                ),
                model_data_constraints=MetricsSource(
                    s3_uri=Join(on="/", values=[baseline_uri, "constraints.json"]), content_type="application/json"
                ),
            ),
            # a version cannot be tagged: what is specific to it is recorded here, at registration
            customer_metadata_properties={
                GIT_SHA: git_sha,
                "Environment": params.environment,
                EXECUTION_ID: ExecutionVariables.PIPELINE_EXECUTION_ID,
                EXECUTION_START: ExecutionVariables.START_DATETIME,
            },
            description=Join(on=" ", values=["Trained by", target.pipeline_name, "at git", git_sha]),
        ),
    )
    below_threshold = FailStep(
        name="AucBelowThreshold",
        error_message=Join(on=" ", values=["Model AUC", auc, "is below the threshold", auc_threshold]),
    )
    check = ConditionStep(
        name="CheckAuc",
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=auc_threshold)],  # type: ignore[arg-type]  # the SDK takes a JsonGet here (its docs do) but does not annotate it
        if_steps=[register],
        else_steps=[below_threshold],
    )

    return Pipeline(
        name=target.pipeline_name,
        parameters=[
            input_data,
            git_sha,
            processing_instance,
            training_instance,
            num_round,
            max_depth,
            eta,
            scale_pos_weight,
            checkpoint_frequency,
            auc_threshold,
        ],
        steps=[preprocess, train, evaluate, check],
        sagemaker_session=session,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=False),
        pipeline_experiment_config=None,  # no Experiments/Trials: fewer permissions, nothing to clean up
    )
