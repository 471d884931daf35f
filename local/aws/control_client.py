"""The control API of an embedded AWS running in another process (``make serve``): ``POST /_local/control``.

control = ControlClient("http://127.0.0.1:4566")
control.call("put_service_events", events=[...])      # the action's result; ControlError if it failed
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from local.aws.control_route import CONTROL_PATH


class ControlError(RuntimeError):
    """The embedded AWS refused a control action (unknown action, bad arguments, or the action failed)."""


class ControlClient:
    """Control actions (:data:`local.aws.control_route.HTTP_ACTIONS`) of the embedded AWS at ``endpoint_url``."""

    def __init__(self, endpoint_url: str, timeout: float = 120.0) -> None:
        if not endpoint_url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ValueError(f"the control API is the embedded AWS's, on this machine: not {endpoint_url}")
        self.url = endpoint_url.rstrip("/") + CONTROL_PATH
        self.timeout = timeout

    def call(self, action: str, **arguments: Any) -> Any:
        data = json.dumps({"action": action, **arguments}, default=str).encode()
        request = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - a loopback http URL (checked above)
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read() or b"{}")
        if not answer.get("ok"):
            raise ControlError(f"{action}: {answer.get('error', 'refused')}")
        return answer.get("result")
