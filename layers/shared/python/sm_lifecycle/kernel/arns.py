"""SageMaker ARNs in the one spelling SageMaker gives them, so that two spellings of a resource are one key.

SageMaker lower-cases the resource part of the ARNs it makes (``model-package/Fraud/3`` is returned as
``model-package/fraud/3``; pipelines, executions and jobs alike), and resolves an ARN whatever the case of that part;
the ``arn:<partition>:sagemaker:<region>:<account>:`` prefix is kept as it is (AWS compares it exactly).

    canonical_arn("arn:aws:sagemaker:us-east-1:123456789012:model-package/Fraud/3")
    # 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/3'

Anything that is not a SageMaker ARN (a name, a status, another service's ARN) is returned unchanged.
"""

from __future__ import annotations

import re

__all__ = ["canonical_arn"]

_SAGEMAKER_ARN = re.compile(r"^(arn:[^:]+:sagemaker:[^:]*:[^:]*:)(.+)$", re.DOTALL)


def canonical_arn(value: str) -> str:
    """``value`` with the resource part of a SageMaker ARN lower-cased (see the module docstring)."""
    match = _SAGEMAKER_ARN.match(value)
    if match is None:
        return value
    return match.group(1) + match.group(2).lower()
