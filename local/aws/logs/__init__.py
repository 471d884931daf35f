"""CloudWatch Logs: the metrics of embedded-metric-format log events (see :mod:`.models`)."""
