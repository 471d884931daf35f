"""The SageMaker SDK's configuration check, without its cost.

The SDK validates its configuration (``sagemaker-config.yaml`` here, for ``TelemetryOptOut``) against its JSON
schema every time it looks a default up: some 60 times for one pipeline definition. Each validation goes through
``jsonschema.validate``, which first checks the schema itself against the JSON Schema metaschema, and that check is
almost all of the time (≈7 s of an 8 s definition build on a 2-core machine). The schema is the SDK's own constant:
:func:`use_prepared_validator` checks it once and validates every configuration with the same prepared validator,
raising the same error ``jsonschema.validate`` would (its best match).
"""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import sagemaker.session
import sagemaker.utils
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from sagemaker.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA


def _prepared_validator() -> Any:
    cls = jsonschema.validators.validator_for(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)
    cls.check_schema(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)
    return cls(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)


_VALIDATOR = _prepared_validator()


def validate_sagemaker_config(sagemaker_config: dict[str, Any] | None = None) -> None:
    """``sagemaker.config.validate_sagemaker_config``, with the schema checked once (at import)."""
    error = best_match(_VALIDATOR.iter_errors(sagemaker_config))
    if error is not None:
        raise error


def use_prepared_validator() -> None:
    """Make the SDK's modules that validate on each lookup use :func:`validate_sagemaker_config`."""
    sagemaker.utils.validate_sagemaker_config = validate_sagemaker_config  # type: ignore[attr-defined]
    sagemaker.session.validate_sagemaker_config = validate_sagemaker_config  # type: ignore[attr-defined]
