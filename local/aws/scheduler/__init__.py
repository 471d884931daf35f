"""EventBridge Scheduler schedules that fire (see :mod:`.models`)."""
