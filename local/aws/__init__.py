"""Embedded AWS: moto's server plus the SageMaker behaviour moto lacks (see :mod:`local.aws.sagemaker`)."""

from local.aws.server import EmbeddedAWS
from local.aws.timings import Timings

__all__ = ["EmbeddedAWS", "Timings"]
