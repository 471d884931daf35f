"""One error taxonomy for every function.

- ``InvalidEventError``: the input can never succeed (malformed event, wrong group, missing fields). Never retried:
  the handler logs it, dead-letters the event and alerts.
- ``TransientError``: throttling, timeouts, 5xx. Re-raised so that Lambda retries the invocation. Its subclass
  ``RefusedError`` says more: the service answered and refused the request (throttling, a 5xx it answered), so the
  request was not applied; a timeout or a lost connection stays a plain ``TransientError`` (the outcome is unknown).
- ``ForeignEventError``: the event is about something that is not this stack's (another account, model package group,
  pipeline or endpoint). Nothing to do and nothing wrong: the handler logs it at info and returns; no alert, no dead
  letter, no retry.
- ``ConflictError``: someone else is already doing it (endpoint busy, record in progress). A normal outcome.
- ``ConfigurationError``: the function's environment (template.yaml's parameters) is wrong. Retrying cannot help
  either: the handler logs it, dead-letters the event (to be redriven once the stack is fixed) and alerts.

AWS error codes are mapped to these only in adapters (``sm_lifecycle.kernel.clients.classify``).
"""

from __future__ import annotations


class LifecycleError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidEventError(LifecycleError):
    """The event (or what it points at) is invalid; retrying cannot help."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ForeignEventError(LifecycleError):
    """The event is about another account's or another stack's resource: ignored."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ConfigurationError(LifecycleError):
    """The function's environment (from template.yaml) is missing or invalid."""


class TransientError(LifecycleError):
    """A temporary failure; raising it makes Lambda retry the invocation."""


class RefusedError(TransientError):
    """A temporary failure the service answered: it refused the request, which therefore was not applied."""


class ConflictError(LifecycleError):
    """Another actor holds the resource (e.g. the endpoint is updating); handled as a normal outcome."""
