"""Tags on every SageMaker ARN (see :mod:`.models`)."""
