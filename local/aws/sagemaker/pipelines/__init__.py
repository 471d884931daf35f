"""Pipeline executions and their steps (see :mod:`.models`)."""
