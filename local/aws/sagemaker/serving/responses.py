"""The wire of the embedded SageMaker runtime: ``InvokeEndpoint`` requests in, the model's answers out."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from moto.core.common_types import TYPE_RESPONSE
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from local.aws.patches import Patch
from local.aws.sagemaker.serving.models import InvocationError, invoke


def invoke_endpoint(self: SageMakerRuntimeResponse) -> TYPE_RESPONSE:
    endpoint_name = unquote(urlparse(self.uri).path.split("/")[2])
    body = self.body if isinstance(self.body, bytes) else str(self.body or "").encode()
    try:
        variant, content_type, output = invoke(
            self.current_account,
            self.region,
            endpoint_name,
            body,
            content_type=self.headers.get("Content-Type") or "application/octet-stream",
            target_variant=self.headers.get("X-Amzn-SageMaker-Target-Variant"),
            inference_id=self.headers.get("X-Amzn-SageMaker-Inference-Id"),
        )
    except InvocationError as exc:
        return exc.response()
    return 200, {"Content-Type": content_type, "x-Amzn-Invoked-Production-Variant": variant}, output


PATCHES = (
    Patch(
        SageMakerRuntimeResponse,
        "invoke_endpoint",
        invoke_endpoint,
        "moto answers InvokeEndpoint with canned results: here the endpoint's model predicts, with data capture",
    ),
)
