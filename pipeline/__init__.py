"""The SageMaker pipeline (SDK v2) that trains, evaluates and registers the credit-card default model.

Only this package (and the local pipeline runner, through it) imports the ``sagemaker`` SDK. Importing it configures
the SDK for non-interactive use before ``sagemaker`` is imported, on every path that reaches the SDK (commands,
tests, benchmarks): no v3 upgrade banner, telemetry opted out through the SDK's own configuration file
(``sagemaker-config.yaml`` beside this file), and no telemetry notice.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
STEPS_DIR = PACKAGE_DIR / "steps"
PARAMS_DIR = PACKAGE_DIR / "params"

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
os.environ.setdefault("SAGEMAKER_USER_CONFIG_OVERRIDE", str(PACKAGE_DIR / "sagemaker-config.yaml"))
# The SDK prints which configuration files it reads, to stdout, at import, unless its logger already has a level.
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
# The SDK logs "will collect telemetry" (INFO) on every pipeline create/start before it reads TelemetryOptOut, and
# one of its modules configures the root logger at INFO when imported: opted out as we are, the notice is untrue.
logging.getLogger("sagemaker.telemetry").setLevel(logging.WARNING)


def quiet_sdk_logs() -> None:
    """Keep command output readable: the SDK logs every default it applies and warns on each pipeline variable."""
    for name in ("sagemaker", "sagemaker.config"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("botocore").setLevel(logging.WARNING)
