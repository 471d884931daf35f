"""The model registry of the embedded SageMaker: model packages as the API reference describes them.

``CreateModelPackage`` and every ``UpdateModelPackage`` emit "SageMaker Model Package State Change" (updates name
the fields they changed in ``UpdatedModelPackageFields``; the creation event leaves it out unless the control API
chose another of the shapes AWS may send: :func:`creation_fields`); ``UpdateModelPackage`` changes only the fields
it is given (moto wipes the others), merges ``CustomerMetadataProperties`` and validates everything before changing
anything; version numbers are never reused, even after a version is deleted; ``DeleteModelPackage`` (new) removes
a version; a version cannot be tagged (:data:`VERSION_TAGS_REFUSED`). The methods of :class:`ModelPackageBackend`
replace or join moto's ``SageMakerModelBackend``'s.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.utils import utcnow
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import ModelPackage, SageMakerModelBackend
from moto.sagemaker.utils import arn_formatter

from local.aws.ram.models import SHARES
from local.aws.runtime import RUNTIME
from local.aws.sagemaker.events import models as ev
from local.aws.sagemaker.paging import check_enum, next_token, page_size, page_start
from local.aws.sagemaker.registry.lifecycle import life_cycle_errors, raise_validation, stored_life_cycle
from local.aws.sagemaker.registry.search import search_model_packages
from local.aws.timestamps import iso

UPDATABLE_PACKAGE_FIELDS = (
    # (request parameter, field named in UpdatedModelPackageFields)
    ("ModelApprovalStatus", "ModelApprovalStatus"),
    ("ApprovalDescription", "ApprovalDescription"),
    ("CustomerMetadataProperties", "CustomerMetadataProperties"),
    ("CustomerMetadataPropertiesToRemove", "CustomerMetadataProperties"),
    ("AdditionalInferenceSpecificationsToAdd", "AdditionalInferenceSpecifications"),
    ("InferenceSpecification", "InferenceSpecification"),
    ("SourceUri", "SourceUri"),
    ("ModelCard", "ModelCard"),
    ("ModelLifeCycle", "ModelLifeCycle"),
)
EXTRA_FIELDS = ("SourceUri", "ModelCard", "ModelLifeCycle")  # kept by us: moto's ModelPackage has no such fields
PACKAGE_CREATION_FIELDS = ("absent", "empty", "given")  # shapes of a creation event's UpdatedModelPackageFields
_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:")
# AWS refuses tags on versioned packages, in AddTags and at registration (aws/aws-cdk#33699: CloudFormation's
# CreateModelPackage with Tags; aws-controllers-k8s/sagemaker-controller#54: "versioned model package cannot have
# tags"): a version carries CustomerMetadataProperties, its group the tags.
VERSION_TAGS_REFUSED = "Tags are not supported in Model Package versions. Please add them to the Model Package Group"

_moto_create_model_package = SageMakerModelBackend.create_model_package
_moto_describe_model_package_group = SageMakerModelBackend.describe_model_package_group
_moto_package_response = ModelPackage.gen_response_object


def model_package_or_error(backend: SageMakerModelBackend, name_or_arn: str) -> ModelPackage:
    """The package a name or an ARN (any case, versioned or not) designates; ValidationException if none."""
    mapped = backend.model_package_name_mapping.get(name_or_arn, name_or_arn)
    package = backend.model_packages.get(mapped) or backend.model_packages.get(mapped.lower())
    if package is None and _ARN.match(name_or_arn):
        lowered = name_or_arn.lower()
        package = next((p for p in backend.model_packages.values() if p.arn.lower() == lowered), None)
    if package is None:
        raise ValidationError(f"ModelPackage {name_or_arn} does not exist.")
    return package


def package_response(self: ModelPackage) -> dict[str, Any]:
    """DescribeModelPackage: always with ModelPackageName (a versioned package is named after its group), and the
    fields moto does not keep."""
    response = _moto_package_response(self)
    response.setdefault("ModelPackageName", self.model_package_name)
    for key in EXTRA_FIELDS:
        value = self.__dict__.get(f"_local_{key}")
        if value is not None:
            response[key] = value
    return response


def emit_package_state(backend: SageMakerModelBackend, package: ModelPackage, updated: list[str] | None) -> None:
    detail = ev.model_package_detail(package.gen_response_object(), updated)
    ev.emit(
        ev.MODEL_PACKAGE_STATE_CHANGE,
        detail,
        [package.arn],
        account=backend.account_id,
        region=backend.region_name,
        time=iso(package.last_modified_time or package.creation_time),
        wait=False,
    )


def creation_fields(package: ModelPackage) -> list[str] | None:
    """``UpdatedModelPackageFields`` of the creation event, in the shape ``RUNTIME.package_creation_fields`` says."""
    shape = RUNTIME.package_creation_fields
    if shape == "absent":
        return None
    if shape == "empty":
        return []
    described = package.gen_response_object()
    return list(dict.fromkeys(field for _, field in UPDATABLE_PACKAGE_FIELDS if described.get(field)))


def _highest_versions(backend: SageMakerModelBackend) -> dict[str, int]:
    """The highest version number each group ever had (kept on moto's backend, so its reset forgets it)."""
    highest = backend.__dict__.get("_local_highest_versions")
    if highest is None:
        highest = backend.__dict__["_local_highest_versions"] = {}
    return highest


def _renumber(backend: SageMakerModelBackend, package: ModelPackage, version: int) -> str:
    """Give a package the version number ``version`` (and the ARN that goes with it)."""
    old_arn = package.arn
    new_arn = arn_formatter(
        "model-package", f"{package.model_package_name.lower()}/{version}", backend.account_id, backend.region_name
    )
    backend.model_packages.pop(old_arn, None)
    for key, value in list(backend.model_package_name_mapping.items()):
        if value == old_arn:
            backend.model_package_name_mapping[key] = new_arn
    backend.model_package_name_mapping.pop(old_arn, None)
    package.model_package_version = version
    package.arn = new_arn
    for statuses in package.model_package_status_details.values():
        for status in statuses:
            if status.get("Name") == old_arn:
                status["Name"] = new_arn
    backend.model_packages[new_arn] = package
    backend.model_package_name_mapping[new_arn] = new_arn
    return new_arn


def _given_fields(given: dict[str, Any]) -> list[str]:
    """UpdatedModelPackageFields: the fields the request gave a value, once each, in the API's order."""
    updated: list[str] = []
    for parameter, field_name in UPDATABLE_PACKAGE_FIELDS:
        if given.get(parameter) not in (None, [], {}) and field_name not in updated:
            updated.append(field_name)
    return updated


def _validate_update(package: ModelPackage, given: dict[str, Any]) -> None:
    """Everything an update is refused for, checked before anything changes."""
    added, removed = given["CustomerMetadataProperties"], given["CustomerMetadataPropertiesToRemove"]
    if added and removed:
        overlap = set(added) & set(removed)
        if overlap:
            raise ValidationError(f"Customer metadata properties {sorted(overlap)} cannot be both added and removed.")
    if given["ModelApprovalStatus"] is not None:
        sm_models.validate_model_approval_status(given["ModelApprovalStatus"])
    if given["AdditionalInferenceSpecificationsToAdd"]:
        package.validate_additional_inference_specifications(given["AdditionalInferenceSpecificationsToAdd"])
    raise_validation(life_cycle_errors(given["ModelLifeCycle"]))


def _apply_update(package: ModelPackage, given: dict[str, Any]) -> None:
    """Change the fields the update gives, and only those."""
    if given["ModelApprovalStatus"] is not None:
        package.set_model_approval_status(given["ModelApprovalStatus"])
    if given["ApprovalDescription"] is not None:
        package.approval_description = given["ApprovalDescription"]
    if given["CustomerMetadataProperties"] is not None:
        merged = dict(package.customer_metadata_properties or {})
        merged.update(given["CustomerMetadataProperties"])
        package.customer_metadata_properties = merged
    removed = given["CustomerMetadataPropertiesToRemove"]
    if removed:
        remaining = {k: v for k, v in (package.customer_metadata_properties or {}).items() if k not in removed}
        package.customer_metadata_properties = remaining or None
    if given["AdditionalInferenceSpecificationsToAdd"]:
        package.add_additional_inference_specifications(given["AdditionalInferenceSpecificationsToAdd"])
    if given["InferenceSpecification"] is not None:
        package.inference_specification = given["InferenceSpecification"]
    keep_extra_fields(package, given)
    package.modifications_done()


def keep_extra_fields(package: ModelPackage, given: dict[str, Any]) -> None:
    """Store the given fields moto's ModelPackage has no attribute for (ModelLifeCycle with its members only)."""
    for key in EXTRA_FIELDS:
        value = given.get(key)
        if value is not None:
            package.__dict__[f"_local_{key}"] = stored_life_cycle(value) if key == "ModelLifeCycle" else value


class ModelPackageBackend(SageMakerModelBackend):
    """The model registry operations of the embedded SageMaker (installed on ``SageMakerModelBackend``)."""

    def describe_model_package(self, model_package_name: str) -> ModelPackage:
        with RUNTIME.lock:
            return model_package_or_error(self, model_package_name)

    def describe_model_package_group(self, model_package_group_name: str) -> Any:
        """The group of a name or an ARN (the API's pattern: ``(arn:...:model-package-group/)?<name>``)."""
        name = model_package_group_name
        if _ARN.match(name):
            lowered = name.lower()
            found = next((g for g in self.model_package_groups.values() if g.arn.lower() == lowered), None)
            if found is not None:
                return found
            name = name.rsplit("/", 1)[-1]
        return _moto_describe_model_package_group(self, name)

    def create_model_package(  # type: ignore[override]
        self,
        *,
        source_uri: str | None = None,
        model_card: dict[str, Any] | None = None,
        model_life_cycle: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> str:
        if kwargs.get("model_package_group_name") and kwargs.get("tags"):
            raise ValidationError(VERSION_TAGS_REFUSED)
        raise_validation(life_cycle_errors(model_life_cycle))
        with RUNTIME.lock:
            arn = _moto_create_model_package(self, **kwargs)
            package = self.model_packages[arn]
            keep_extra_fields(
                package, {"SourceUri": source_uri, "ModelCard": model_card, "ModelLifeCycle": model_life_cycle}
            )
            group = package.model_package_group_name
            if package.model_package_version is not None and group:
                # versions are never reused, even after a version is deleted (moto counts the live ones)
                highest = _highest_versions(self)
                version = max(highest.get(group, 0) + 1, package.model_package_version)
                highest[group] = version
                if version != package.model_package_version:
                    arn = _renumber(self, package, version)
            package.last_modified_time = package.creation_time
            if package.tags is None:
                package.tags = []
            emit_package_state(self, package, creation_fields(package))
            return arn

    def search_model_packages(self, request: dict[str, Any]) -> dict[str, Any]:
        """``CrossAccount``: only the versions of other accounts' groups made discoverable to this one (a RAM share
        it accepted); otherwise (``SameAccount`` or none) only this account's."""
        option = request.get("CrossAccountFilterOption")
        check_enum(option, ("SameAccount", "CrossAccount"), "crossAccountFilterOption")
        with RUNTIME.lock:
            packages = shared_packages(self) if option == "CrossAccount" else list(self.model_packages.values())
            return search_model_packages(packages, request)

    def delete_model_package(self, model_package_name: str) -> None:
        with RUNTIME.lock:
            package = model_package_or_error(self, model_package_name)
            self.model_packages.pop(package.arn, None)
            for key, value in list(self.model_package_name_mapping.items()):
                if value == package.arn:
                    del self.model_package_name_mapping[key]
            # a versioned package's group name maps to its latest version in moto: point it at a remaining one
            remaining = [p for p in self.model_packages.values() if p.model_package_name == package.model_package_name]
            if remaining:
                self.model_package_name_mapping[package.model_package_name] = remaining[-1].arn
            package.model_package_status = "Deleting"
            package.last_modified_time = utcnow()
            emit_package_state(self, package, None)

    def update_model_package(  # type: ignore[override]
        self,
        model_package_arn: str,
        *,
        model_approval_status: str | None = None,
        approval_description: str | None = None,
        customer_metadata_properties: dict[str, str] | None = None,
        customer_metadata_properties_to_remove: list[str] | None = None,
        additional_inference_specifications_to_add: list[Any] | None = None,
        inference_specification: dict[str, Any] | None = None,
        source_uri: str | None = None,
        model_card: dict[str, Any] | None = None,
        model_life_cycle: dict[str, Any] | None = None,
        **_: Any,
    ) -> str:
        given = {
            "ModelApprovalStatus": model_approval_status,
            "ApprovalDescription": approval_description,
            "CustomerMetadataProperties": customer_metadata_properties,
            "CustomerMetadataPropertiesToRemove": customer_metadata_properties_to_remove,
            "AdditionalInferenceSpecificationsToAdd": additional_inference_specifications_to_add,
            "InferenceSpecification": inference_specification,
            "SourceUri": source_uri,
            "ModelCard": model_card,
            "ModelLifeCycle": model_life_cycle,
        }
        with RUNTIME.lock:
            package = model_package_or_error(self, model_package_arn)
            _validate_update(package, given)
            _apply_update(package, given)
            emit_package_state(self, package, _given_fields(given))
            return str(package.arn)


def shared_groups(backend: SageMakerModelBackend) -> list[Any]:
    """The groups other accounts shared with ``backend``'s account (RAM, promoted) and which it accepted."""
    found = []
    for group_arn in SHARES.discoverable(backend.account_id, backend.region_name):
        owner, name = group_arn.split(":")[4], group_arn.rsplit("/", 1)[-1]
        if owner == backend.account_id or owner not in sm_models.sagemaker_backends:
            continue
        group = sm_models.sagemaker_backends[owner][backend.region_name].model_package_groups.get(name)
        if group is not None:
            found.append(group)
    return found


def shared_packages(backend: SageMakerModelBackend) -> list[ModelPackage]:
    """The versions of the groups other accounts shared with ``backend``'s account, which it accepted."""
    found: list[ModelPackage] = []
    for group in shared_groups(backend):
        owner = sm_models.sagemaker_backends[group.arn.split(":")[4]][backend.region_name]
        found += [
            p for p in owner.model_packages.values() if p.model_package_group_name == group.model_package_group_name
        ]
    return found


def shared_group_summaries(backend: SageMakerModelBackend, request: dict[str, Any]) -> dict[str, Any]:
    """``ListModelPackageGroups`` with ``CrossAccountFilterOption=CrossAccount``: the shared groups, newest first
    (``NameContains``, ``MaxResults``, ``NextToken`` as for the account's own)."""
    with RUNTIME.lock:
        contains = request.get("NameContains") or ""
        groups = [g for g in shared_groups(backend) if contains in g.model_package_group_name]
        groups.sort(key=lambda g: g.creation_time, reverse=True)
        limit = page_size(request.get("MaxResults"), 100)
        start = page_start(request.get("NextToken"), len(groups))
        response: dict[str, Any] = {
            "ModelPackageGroupSummaryList": [g.gen_response_object() for g in groups[start : start + limit]]
        }
        following = next_token(start, limit, len(groups))
        if following:
            response["NextToken"] = following
        return response
