"""Embedded AWS: moto's server plus the SageMaker behaviour moto lacks (see :mod:`local.aws.sagemaker_ext`)."""

from local.aws.runtime import Timings
from local.aws.server import EmbeddedAWS

__all__ = ["EmbeddedAWS", "Timings"]
