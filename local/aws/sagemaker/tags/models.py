"""Tags in the embedded SageMaker: every ARN moto stores resolves, model package versions, executions and jobs (by
their lower-cased ARNs) included.

moto crashes on a versioned package's ARN (``.../model-package/group/3``) and appends tags that AddTags should
overwrite; here AddTags overwrites keys, refuses more than 50 tags and any tag on a versioned package (as AWS does),
and an unknown ARN is a ValidationException.
The methods of :class:`TagBackend` replace moto's ``SageMakerModelBackend``'s.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import ModelPackage, SageMakerModelBackend

from local.aws.runtime import RUNTIME
from local.aws.sagemaker.jobs.models import JOB_TYPES, job_by_arn
from local.aws.sagemaker.registry.models import VERSION_TAGS_REFUSED, model_package_or_error

MAX_TAGS = 50

_moto_resource_from_arn = SageMakerModelBackend._get_resource_from_arn


def _pipeline_execution(backend: SageMakerModelBackend, arn: str, resource_id: str) -> Any:
    pipeline = backend.pipelines.get(resource_id.split("/", 1)[0])
    return pipeline.pipeline_executions.get(arn) if pipeline else None


def _moto_resource(backend: SageMakerModelBackend, parts: list[str], resource_type: str, resource_id: str) -> Any:
    try:
        return _moto_resource_from_arn(backend, f"{':'.join(parts[:5])}:{resource_type}/{resource_id}")
    except (ValidationError, ValueError, AttributeError):
        return None


class TagBackend(SageMakerModelBackend):
    """Tag operations of the embedded SageMaker (installed on ``SageMakerModelBackend``)."""

    def _get_resource_from_arn(self, arn: str) -> Any:
        parts = arn.split(":", 5)
        resource_part = parts[5] if len(parts) == 6 else ""
        resource_type, _, resource_id = resource_part.partition("/")
        resource: Any = None
        if resource_type == "model-package":
            try:
                resource = model_package_or_error(self, arn)
            except ValidationError:
                resource = None
        elif resource_type == "pipeline" and "/execution/" in resource_id:
            resource = _pipeline_execution(self, arn, resource_id)
        elif resource_type in JOB_TYPES:
            resource = job_by_arn(self, resource_type, arn)
        else:
            resource = _moto_resource(self, parts, resource_type, resource_id)
        if resource is None:
            raise ValidationError(f"Resource {arn} does not exist.")
        if getattr(resource, "tags", None) is None:
            resource.tags = []
        return resource

    def add_tags(self, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
        with RUNTIME.lock:
            resource = self._get_resource_from_arn(arn)
            if isinstance(resource, ModelPackage) and resource.model_package_version is not None:
                raise ValidationError(VERSION_TAGS_REFUSED)
            merged = {t["Key"]: t for t in resource.tags}
            for tag in tags or []:
                merged[tag["Key"]] = {"Key": tag["Key"], "Value": tag.get("Value", "")}
            if len(merged) > MAX_TAGS:
                raise ValidationError(f"Resource {arn} cannot have more than {MAX_TAGS} tags.")
            resource.tags = list(merged.values())
            return list(tags or [])

    def delete_tags(self, arn: str, tag_keys: list[str]) -> None:
        with RUNTIME.lock:
            resource = self._get_resource_from_arn(arn)
            resource.tags = [t for t in resource.tags if t["Key"] not in set(tag_keys or [])]
