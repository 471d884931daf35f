"""The wire of the embedded SageMaker's tags: moto's own AddTags / ListTags / DeleteTags actions serve them, on the
backend methods patched here."""

from __future__ import annotations

from moto.sagemaker.models import SageMakerModelBackend

from local.aws.patches import methods
from local.aws.sagemaker.tags.models import TagBackend

PATCHES = methods(
    SageMakerModelBackend,
    TagBackend,
    {
        "_get_resource_from_arn": "resolves model package versions and pipeline executions (moto crashes on them)",
        "add_tags": "AddTags overwrites the keys it is given (moto appends), refuses over 50 tags and package versions",
        "delete_tags": "DeleteTags on every resource the ARN lookup resolves",
    },
)
