"""Training, processing and transform jobs: names in their own case, ARNs in lower case (see :mod:`.models`)."""
