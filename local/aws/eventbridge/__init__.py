"""EventBridge as AWS runs it, where moto's differs: the checks of ``PutEvents`` (:mod:`.put_events`) and the
events AWS services put on the default bus themselves (:mod:`.service_events`)."""
