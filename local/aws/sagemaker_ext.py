"""Import point kept for code written against the former single module of SageMaker extensions.

New code imports :mod:`local.aws.extensions` (``install``, ``installed``) and
:class:`local.aws.sagemaker.pipelines.store.SageMakerStore` directly.
"""

from local.aws.extensions import install, installed
from local.aws.sagemaker.pipelines.store import SageMakerStore

__all__ = ["SageMakerStore", "install", "installed"]
