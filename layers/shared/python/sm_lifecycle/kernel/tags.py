"""The tag keys this stack writes, for cost allocation and governance, and the values S3 and SageMaker accept.

Plain keys, as the stacks themselves are tagged in samconfig.toml (``env``, ...), so one cost-allocation key covers
the stack's own resources and every artifact it manages.
"""

from __future__ import annotations

import re

from sm_lifecycle.kernel.text import TAG_VALUE, clean

__all__ = ["ARTIFACT_KEYS", "STABLE_KEYS", "UNKNOWN", "tag_value"]

ENV, TEAM, PIPELINE, EXECUTION, DATE, GIT_SHA = "env", "team", "pipeline", "execution", "date", "git-sha"
# every artifact of a pipeline execution carries these, in this priority order (S3 objects hold at most 10 tags)
ARTIFACT_KEYS = (ENV, TEAM, PIPELINE, EXECUTION, DATE, GIT_SHA)
# the ones that do not change from one execution to the next (for resources the executions share)
STABLE_KEYS = (ENV, TEAM, PIPELINE)

# models and endpoint configs the deployer creates also name the package they serve
MODEL_PACKAGE_ARN = "model-package-arn"
MODEL_PACKAGE_VERSION = "model-package-version"
MODEL_PACKAGE_GROUP = "model-package-group"
MANAGED_BY = "managed-by"

UNKNOWN = "unknown"
_INVALID_VALUE_CHARS = re.compile(r"[^\w\s+\-=.:/@]", re.UNICODE)
MAX_VALUE_LENGTH = TAG_VALUE.maximum


def tag_value(value: str) -> str:
    """A value S3 and SageMaker both accept (letters, digits, spaces and ``+ - = . _ : / @``; at most 256)."""
    cleaned = _INVALID_VALUE_CHARS.sub("-", clean(value, TAG_VALUE)).strip()
    return (cleaned or UNKNOWN)[:MAX_VALUE_LENGTH]


def has_invalid_value_characters(value: str) -> bool:
    return bool(_INVALID_VALUE_CHARS.search(value))
