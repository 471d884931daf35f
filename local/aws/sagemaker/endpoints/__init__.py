"""Endpoints, endpoint configs and models (see :mod:`.models`)."""
