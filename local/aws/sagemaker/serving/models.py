"""Real-time inference for the embedded AWS: ``InvokeEndpoint`` answered by the endpoint's model, with data capture.

moto's ``InvokeEndpoint`` returns canned results. Here an endpoint that serves (``InService``, or ``Updating`` /
``SystemUpdating`` / ``RollingBack``, when the old fleet still answers) loads the model of its current endpoint
config's variant: the ``model.tar.gz`` of the model's container, or of the model package the container names
(``InferenceSpecification.Containers[0].ModelDataUrl``), from the embedded S3. Inside is ``xgboost-model``, as the
SageMaker XGBoost container expects; it is loaded with xgboost (only ever in this process, never in Lambda code) and
predicts ``text/csv`` rows, one prediction per line, as the XGBoost container answers.

Data capture follows the endpoint config's ``DataCaptureConfig``: a sampled request (``InitialSamplingPercentage``)
is written as one JSON line in SageMaker's capture format::

    {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",  "data": "...",
                                        "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                        "data": "...", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2026-03-29T09:12:40Z"},
     "eventVersion": "0"}

under ``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`` (content types listed in
``CaptureContentTypeHeader`` are captured as ``CSV`` / ``JSON`` text, others as ``BASE64``; SSE-KMS when the config
names ``KmsKeyId``). SageMaker batches several records per file; here every captured request gets its own file.

Errors as the service reports them: unknown endpoint or endpoint not serving → ``ValidationError`` (400); a model
that cannot be loaded or input it cannot read → ``ModelError`` (424); errors injected into the model
(:mod:`.invocation_faults`) → ``ModelError`` with their status. Every invocation of a variant publishes its
``AWS/SageMaker`` metrics (:mod:`.metrics`).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import tarfile
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from moto.core.common_types import TYPE_RESPONSE
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends

from local.aws.sagemaker.registry.accounts import container_package
from local.aws.sagemaker.serving.invocation_faults import INVOCATION_FAULTS
from local.aws.sagemaker.serving.metrics import publish
from local.aws.timestamps import iso

logger = logging.getLogger(__name__)

MODEL_FILE = "xgboost-model"
SERVING_STATUSES = ("InService", "Updating", "SystemUpdating", "RollingBack")
CSV_RESPONSE_TYPE = "text/csv; charset=utf-8"

_models: dict[tuple[str, str], Any] = {}  # (model data url, etag) -> loaded booster
_models_lock = threading.Lock()


class InvocationError(Exception):
    def __init__(self, status: int, code: str, message: str, original_status: int = 400) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.original_status = original_status  # what the model answered (a ModelError's OriginalStatusCode)

    def response(self) -> TYPE_RESPONSE:
        body: dict[str, Any] = {"__type": self.code, "message": self.message, "Message": self.message}
        if self.code == "ModelError":
            body["OriginalStatusCode"] = self.original_status
        headers = {"status": str(self.status), "Content-Type": "application/json", "x-amzn-ErrorType": self.code}
        return self.status, headers, json.dumps(body)


# ----------------------------------------------------------------------------------------------------- the model
def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _model_data_url(backend: Any, model_name: str) -> str:
    model = backend._models.get(model_name)
    if model is None:
        raise InvocationError(424, "ModelError", f"Model {model_name} of the endpoint does not exist any more.")
    containers = list(model.containers or []) or ([model.primary_container] if model.primary_container else [])
    if not containers:
        raise InvocationError(424, "ModelError", f"Model {model_name} has no container.")
    container = containers[0]
    if container.get("ModelDataUrl"):
        return str(container["ModelDataUrl"])
    package_name = container.get("ModelPackageName")
    if package_name:
        package = container_package(backend, package_name)
        spec_containers = (package.inference_specification or {}).get("Containers") or []
        if spec_containers and spec_containers[0].get("ModelDataUrl"):
            return str(spec_containers[0]["ModelDataUrl"])
    raise InvocationError(424, "ModelError", f"Model {model_name} names no model data.")


def _load_booster(account: str, url: str) -> Any:
    import xgboost  # noqa: PLC0415 - heavy, and needed only once an endpoint is invoked

    bucket, key = _split_s3(url)
    try:
        obj = s3_backends[account]["aws"].get_object(bucket, key)
    except Exception as exc:
        raise InvocationError(424, "ModelError", f"Could not download model data {url}: {exc}") from exc
    if obj is None:
        raise InvocationError(424, "ModelError", f"Could not download model data {url}: no such object")
    cache_key = (url, str(obj.etag))
    with _models_lock:
        if cache_key in _models:
            return _models[cache_key]
    try:
        with tarfile.open(fileobj=io.BytesIO(obj.value), mode="r:gz") as archive:
            member = next((m for m in archive.getmembers() if m.name.lstrip("./") == MODEL_FILE), None)
            if member is None:
                raise InvocationError(424, "ModelError", f"{url} holds no {MODEL_FILE} file.")
            raw = archive.extractfile(member).read()  # type: ignore[union-attr]
        booster = xgboost.Booster()
        booster.load_model(bytearray(raw))
    except InvocationError:
        raise
    except Exception as exc:
        raise InvocationError(424, "ModelError", f"Could not load {MODEL_FILE} from {url}: {exc}") from exc
    with _models_lock:
        _models[cache_key] = booster
    return booster


def _predict(booster: Any, body: bytes, content_type: str) -> str:
    import numpy as np  # noqa: PLC0415 - heavy, and needed only once an endpoint is invoked
    import xgboost  # noqa: PLC0415

    if content_type.split(";", maxsplit=1)[0].strip().lower() != "text/csv":
        raise InvocationError(424, "ModelError", f"Content type {content_type} is not supported by this model.")
    try:
        rows = np.loadtxt(io.StringIO(body.decode()), delimiter=",", ndmin=2, dtype=float)
    except ValueError as exc:
        raise InvocationError(424, "ModelError", f"Could not read the CSV payload: {exc}") from exc
    predictions = booster.predict(xgboost.DMatrix(rows))
    return "\n".join(format(float(p), ".10g") for p in np.ravel(predictions))


# ----------------------------------------------------------------------------------------------------- capture
def _encoding(content_type: str, header: dict[str, Any]) -> str:
    base = content_type.split(";", maxsplit=1)[0].strip().lower()
    if base in {t.lower() for t in header.get("CsvContentTypes") or []}:
        return "CSV"
    if base in {t.lower() for t in header.get("JsonContentTypes") or []}:
        return "JSON"
    return "BASE64"


def _captured(mode: str, content_type: str, data: bytes, header: dict[str, Any]) -> dict[str, str]:
    encoding = _encoding(content_type, header)
    text = base64.b64encode(data).decode() if encoding == "BASE64" else data.decode()
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def capture_key(prefix: str, endpoint: str, variant: str, at: datetime, event_id: str) -> str:
    stamp = at.strftime("%Y/%m/%d/%H")
    name = f"{at:%M-%S}-{at.microsecond // 1000:03d}-{event_id}.jsonl"
    return "/".join(part for part in (prefix.strip("/"), endpoint, variant, stamp, name) if part)


def _capture(
    account: str,
    config: dict[str, Any],
    *,
    endpoint: str,
    variant: str,
    request: tuple[str, bytes],
    response: tuple[str, bytes],
    inference_id: str | None,
) -> None:
    if not config or config.get("EnableCapture") is False:
        return
    if random.uniform(0, 100) >= float(config.get("InitialSamplingPercentage", 0)):
        return
    modes = {str(o.get("CaptureMode")) for o in config.get("CaptureOptions") or []}
    header = config.get("CaptureContentTypeHeader") or {}
    capture: dict[str, Any] = {}
    if modes & {"Input", "InputAndOutput"}:
        capture["endpointInput"] = _captured("INPUT", request[0], request[1], header)
    if modes & {"Output", "InputAndOutput"}:
        capture["endpointOutput"] = _captured("OUTPUT", response[0], response[1], header)
    now = datetime.now(UTC)
    event_id = str(uuid.uuid4())
    metadata = {"eventId": event_id, "inferenceTime": iso(now)}
    if inference_id:
        metadata["inferenceId"] = inference_id
    record = {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}
    bucket, prefix = _split_s3(str(config["DestinationS3Uri"]))
    key = capture_key(prefix, endpoint, variant, now, event_id)
    kms = config.get("KmsKeyId")
    try:
        s3_backends[account]["aws"].put_object(
            bucket,
            key,
            (json.dumps(record) + "\n").encode(),
            encryption="aws:kms" if kms else None,
            kms_key_id=kms or None,
        )
    except Exception as exc:  # SageMaker drops captures it cannot write; the invocation still succeeds
        logger.warning("data capture to s3://%s/%s failed: %s", bucket, key, exc)


# ----------------------------------------------------------------------------------------------------- invoke
def invoke(
    account: str,
    region: str,
    endpoint_name: str,
    body: bytes,
    *,
    content_type: str = "application/octet-stream",
    target_variant: str | None = None,
    inference_id: str | None = None,
) -> tuple[str, str, bytes]:
    """Answer one invocation: ``(variant name, response content type, response body)``."""
    backend = sagemaker_backends[account][region]
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        raise InvocationError(400, "ValidationError", f"Endpoint {endpoint_name} of account {account} not found.")
    if endpoint.endpoint_status not in SERVING_STATUSES:
        raise InvocationError(
            400, "ValidationError", f"Endpoint {endpoint_name} is {endpoint.endpoint_status}: it serves no traffic."
        )
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    if config is None or not config.production_variants:
        raise InvocationError(424, "ModelError", f"Endpoint config {endpoint.endpoint_config_name} is gone.")
    variants = config.production_variants
    if target_variant:
        variants = [v for v in variants if v["VariantName"] == target_variant]
        if not variants:
            raise InvocationError(400, "ValidationError", f"Variant {target_variant} is not on {endpoint_name}.")
    weights = [float(v.get("InitialVariantWeight", 1.0)) for v in variants]
    variant = random.choices(variants, weights=weights)[0] if sum(weights) > 0 else variants[0]
    output = _answer(
        account, region, endpoint_name, variant=variant, backend=backend, body=body, content_type=content_type
    )
    _capture(
        account,
        endpoint.data_capture_config or config.data_capture_config,
        endpoint=endpoint_name,
        variant=variant["VariantName"],
        request=(content_type, body),
        response=(CSV_RESPONSE_TYPE, output),
        inference_id=inference_id,
    )
    return variant["VariantName"], CSV_RESPONSE_TYPE, output


def _answer(
    account: str, region: str, endpoint: str, *, variant: dict[str, Any], backend: Any, body: bytes, content_type: str
) -> bytes:
    """The variant's model's answer (or an injected error), its invocation metrics published either way."""
    started = time.perf_counter()
    model_seconds = 0.0
    status = 200
    try:
        fault = INVOCATION_FAULTS.take(endpoint)
        if fault is not None:
            kind = "server" if fault.status >= 500 else "client"
            message = f'Received {kind} error ({fault.status}) from primary with message "{fault.message}".'
            raise InvocationError(424, "ModelError", message, original_status=fault.status)
        booster = _load_booster(account, _model_data_url(backend, variant["ModelName"]))
        model_started = time.perf_counter()
        output = _predict(booster, body, content_type).encode()
        model_seconds = time.perf_counter() - model_started
        return output
    except InvocationError as error:
        status = error.original_status
        raise
    finally:
        overhead = max(time.perf_counter() - started - model_seconds, 0.0)
        publish(
            account,
            region,
            endpoint,
            variant["VariantName"],
            status=status,
            model_latency_us=model_seconds * 1e6,
            overhead_latency_us=overhead * 1e6,
        )
