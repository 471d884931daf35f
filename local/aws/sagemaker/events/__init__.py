"""The events SageMaker sends to EventBridge (see :mod:`.models` and :mod:`.delivery`)."""
