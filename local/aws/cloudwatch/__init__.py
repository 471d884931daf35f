"""CloudWatch: alarm history (:mod:`.models`), metrics told apart by their identity (:mod:`.metrics`), and the
metrics of embedded-metric-format log events (:mod:`.emf`, extracted by :mod:`local.aws.logs`)."""
