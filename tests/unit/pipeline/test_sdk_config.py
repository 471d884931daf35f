"""The SDK's configuration is validated as ``jsonschema.validate`` does it, with the schema checked once."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import sagemaker.session
import sagemaker.utils
import yaml
from sagemaker.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

from pipeline import PACKAGE_DIR, definition, sdk_config

BAD_CONFIGS = [
    {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": "yes"}}}},
    {"SchemaVersion": "2.0"},
    {"SageMaker": {"Nonsense": {}}},
]


def test_the_package_s_configuration_is_valid() -> None:
    config = yaml.safe_load((PACKAGE_DIR / "sagemaker-config.yaml").read_text())
    sdk_config.validate_sagemaker_config(config)


@pytest.mark.parametrize("config", BAD_CONFIGS)
def test_a_bad_configuration_raises_what_jsonschema_validate_raises(config: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(config, SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)
    with pytest.raises(jsonschema.ValidationError) as raised:
        sdk_config.validate_sagemaker_config(config)
    assert (raised.value.message, list(raised.value.path)) == (expected.value.message, list(expected.value.path))


def test_the_sdk_s_lookups_use_the_prepared_validator_once_the_definition_is_imported() -> None:
    assert definition is not None
    assert sagemaker.utils.validate_sagemaker_config is sdk_config.validate_sagemaker_config
    assert sagemaker.session.validate_sagemaker_config is sdk_config.validate_sagemaker_config
    # a lookup in a bad configuration still fails
    with pytest.raises(jsonschema.ValidationError):
        sagemaker.utils.get_sagemaker_config_value(None, "SageMaker.PythonSDK.Modules", sagemaker_config=BAD_CONFIGS[0])
