"""The tag keys this stack writes, for cost allocation and governance: one place for every function.

Plain keys, as the stacks themselves are tagged in samconfig.toml (``env``, ...), so one cost-allocation key covers
the stack's own resources and every artifact it manages.
"""

from __future__ import annotations

ENV, TEAM, PIPELINE, EXECUTION, DATE, GIT_SHA = "env", "team", "pipeline", "execution", "date", "git-sha"
# every artifact of a pipeline execution carries these, in this priority order (S3 objects hold at most 10 tags)
ARTIFACT_KEYS = (ENV, TEAM, PIPELINE, EXECUTION, DATE, GIT_SHA)

# models and endpoint configs the deployer creates also name the package they serve
MODEL_PACKAGE_ARN = "model-package-arn"
MODEL_PACKAGE_VERSION = "model-package-version"
MODEL_PACKAGE_GROUP = "model-package-group"
MANAGED_BY = "managed-by"
