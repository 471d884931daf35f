"""Every EventBridge rule of the deployed stack has a sample event in ``events/`` that it matches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def samples() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted((ROOT / "events").glob("*.json"))}


def test_every_rule_of_the_stack_matches_a_sample_event(local_stack: LocalStack) -> None:
    # GIVEN the dev stack's rules, as installed in the embedded EventBridge, and the sample events
    events = local_stack.client("events")
    rules = [rule for rule in events.list_rules()["Rules"] if rule.get("EventPattern")]
    assert rules
    events_by_name = samples()
    # WHEN each rule's pattern is matched against every sample
    unmatched = [
        rule["Name"]
        for rule in rules
        if not any(EventPattern.load(rule["EventPattern"]).matches_event(e) for e in events_by_name.values())
    ]
    # THEN no rule lacks a sample
    assert unmatched == []
