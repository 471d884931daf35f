"""Fixtures of the IAM engine's tests: moto in process, requests as botocore builds them, an enforced moto server.

- ``moto_aws``: moto in process (fresh state), fake credentials; ``moto_aws.client("iam")`` gives clients.
- ``botocore_request``: ``botocore_request("s3", "get_object", Bucket=..., Key=...)`` -> ``(environ, body)`` of the
  HTTP request botocore sends (captured before sending: no server involved).
- ``enforced_server``: moto's own WSGI app behind ``enforce`` on a werkzeug server thread; ``.client(service,
  credentials=None)``, ``.authorizer``, ``.log``, ``.app`` (the ``Enforcer``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.test import EnvironBuilder

from local.iam import Authorizer, DecisionLog, Enforcer, enforce

ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class MotoAws:
    def client(self, service: str, **kwargs: Any) -> Any:
        return boto3.client(service, region_name=REGION, **kwargs)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoAws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield MotoAws()


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _body(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes):
        return body
    return body.read()


def capture_request(
    service: str, operation: str, access_key: str = "AKIAEXAMPLE", **params: Any
) -> tuple[dict[str, Any], bytes]:
    """The WSGI environ and body of the request botocore builds for the call (a before-send handler stops it)."""
    client = boto3.client(
        service,
        region_name=REGION,
        endpoint_url="http://127.0.0.1:5000",
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",  # noqa: S106 - fake
    )

    def stop(request: Any, **_: Any) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send", stop)
    with pytest.raises(_Captured) as captured:
        getattr(client, operation)(**params)
    request = captured.value.request
    body = _body(request)
    parts = urlsplit(request.url)
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    builder = EnvironBuilder(
        method=request.method,
        path=parts.path,
        query_string=parts.query,
        headers=headers,
        data=body,
        base_url=f"{parts.scheme}://{parts.netloc}",
    )
    return builder.get_environ(), body


@pytest.fixture
def botocore_request() -> Callable[..., tuple[dict[str, Any], bytes]]:
    return capture_request


@dataclass
class EnforcedServer:
    url: str
    authorizer: Authorizer
    log: DecisionLog
    app: Enforcer

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        keys = credentials or {"AccessKeyId": "testing", "SecretAccessKey": "testing"}
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys.get("SessionToken"),
        )

    def role(self, name: str, statements: list[dict[str, Any]], trusted: str = f"arn:aws:iam::{ACCOUNT}:root") -> str:
        """A role in moto's IAM (trusting ``trusted``) with one inline policy; its ARN."""
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}],
        }
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        document = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
        return str(arn)


@pytest.fixture
def enforced_server() -> Iterator[EnforcedServer]:
    moto_api_backend.reset()
    authorizer = Authorizer(ACCOUNT)
    app = enforce(DomainDispatcherApplication(create_backend_app), authorizer)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield EnforcedServer(f"http://127.0.0.1:{server.server_address[1]}", authorizer, app.log, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        moto_api_backend.reset()
