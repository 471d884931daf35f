"""The drift-check pipeline: one processing step (``check.py``) in its own image, built from ``requirements.txt``.

The image's repository name is :data:`IMAGE_REPOSITORY`; locally, the embedded AWS runs jobs of that image with the
interpreter of ``.venv-drift`` (``make drift-env``), installed from the same requirements file.
"""

from __future__ import annotations

from pathlib import Path

DRIFT_DIR = Path(__file__).resolve().parent
IMAGE_REPOSITORY = "sagemaker-lifecycle-drift-check"
REQUIREMENTS = DRIFT_DIR / "requirements.txt"
