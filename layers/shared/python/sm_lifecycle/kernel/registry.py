"""Values of the SageMaker model registry that every feature reads the same way.

- :class:`ModelApprovalStatus`: a model package's ``ModelApprovalStatus``, as the API and its events spell it.
- The git SHA a model was trained from: the pipeline's ``GitSha`` parameter, which the pipeline's RegisterModel step
  also writes as the ``GitSha`` key of the package's ``CustomerMetadataProperties``. One name (:data:`GIT_SHA`), one
  reader (:func:`git_sha_of`).
- The execution that registered a version and when it started (:data:`EXECUTION_ID`, :data:`EXECUTION_START`):
  written by the RegisterModel step from the execution variables, as a version cannot be tagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

__all__ = [
    "EXECUTION_ID",
    "EXECUTION_START",
    "GIT_SHA",
    "UNKNOWN_GIT_SHA",
    "ModelApprovalStatus",
    "git_sha_of",
    "parameter_values",
]

GIT_SHA = "GitSha"
"""The pipeline parameter and the ``CustomerMetadataProperties`` key that carry the git SHA."""
EXECUTION_ID = "PipelineExecutionId"
"""The ``CustomerMetadataProperties`` key of the execution that registered the version (its id)."""
EXECUTION_START = "PipelineExecutionStartTime"
"""The ``CustomerMetadataProperties`` key of when that execution started (ISO 8601)."""
UNKNOWN_GIT_SHA = "unknown"


class ModelApprovalStatus(StrEnum):
    APPROVED = "Approved"
    REJECTED = "Rejected"
    PENDING = "PendingManualApproval"


def git_sha_of(properties: Mapping[str, object] | None) -> str:
    """The ``GitSha`` of a package's ``CustomerMetadataProperties`` or of an execution's parameter values.

    ``unknown`` when absent or empty: nothing is guessed from other fields.
    """
    value = str((properties or {}).get(GIT_SHA) or "").strip()
    return value or UNKNOWN_GIT_SHA


def parameter_values(parameters: Iterable[Mapping[str, object]]) -> dict[str, str]:
    """``ListPipelineParametersForExecution``'s ``[{"Name": ..., "Value": ...}]`` as ``{name: value}``."""
    return {str(p.get("Name")): str(p.get("Value", "")) for p in parameters if p.get("Name")}
