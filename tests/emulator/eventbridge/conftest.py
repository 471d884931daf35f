"""Fixtures for EventBridge across accounts: an administrator of a second account (``tests/emulator/accounts.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from local.aws import EmbeddedAWS
from tests.emulator.accounts import ACCOUNT_B, account_clients


@pytest.fixture
def account_b(embedded_aws: EmbeddedAWS) -> Callable[[str], Any]:
    """Clients of account B's administrator (``account_b("events")``)."""
    return account_clients(embedded_aws, ACCOUNT_B)
