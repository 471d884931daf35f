"""The model registry: model packages (see :mod:`.models`)."""
