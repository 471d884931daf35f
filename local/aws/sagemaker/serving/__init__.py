"""Real-time inference: InvokeEndpoint and data capture (see :mod:`.models`)."""
