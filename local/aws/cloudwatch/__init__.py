"""CloudWatch alarm history (see :mod:`.models`)."""
