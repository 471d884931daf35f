"""The patches of the embedded SageMaker's jobs: lower-cased ARNs, DescribeTrainingJob's not-found answer."""

from __future__ import annotations

from moto.sagemaker.models import FakeProcessingJob, FakeTrainingJob, FakeTransformJob, SageMakerModelBackend

from local.aws.patches import Patch, methods
from local.aws.sagemaker.jobs.models import JobBackend, lower_cased_arn

PATCHES = (
    *(
        Patch(
            owner,
            "arn_formatter",
            staticmethod(lower_cased_arn(resource_type)),
            "SageMaker lower-cases the job's name in its ARN (the name itself keeps its case); moto keeps it",
        )
        for owner, resource_type in (
            (FakeTrainingJob, "training-job"),
            (FakeProcessingJob, "processing-job"),
            (FakeTransformJob, "transform-job"),
        )
    ),
    *methods(
        SageMakerModelBackend,
        JobBackend,
        {"describe_training_job": "an unknown job is AWS's 'Requested resource not found.' (moto: its own text)"},
    ),
)
