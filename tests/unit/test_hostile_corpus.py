"""The corpus of malformed and forged events (tests/fixtures/events/hostile/) checked against the code it is about:
the committed files are what its generator writes, the rules of template.yaml deliver each event to the functions its
manifest names, and each function's own event parsing refuses every invalid event naming the manifest's field and
accepts every forged one."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from moto.events.models import EventPattern

from local.aws.eventbridge.service_events import service_event
from local.stack.template import read_yaml
from sm_lifecycle.alerting import ALERT_EVENTS
from sm_lifecycle.deployment import DEPLOY_EVENTS
from sm_lifecycle.kernel.errors import InvalidEventError
from sm_lifecycle.kernel.events import parse_one_of
from sm_lifecycle.promotion import PROMOTE_EVENTS
from sm_lifecycle.stage_gate import STAGE_GATE_EVENTS
from sm_lifecycle.tagging import TAG_EVENTS
from tools.artifacts import template_parameters
from tools.samconfig import stack_name

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "fixtures" / "events" / "hostile"
EVENTS_OF = {
    "AlertFunction": ("alert", "ALERT_EVENTS", ALERT_EVENTS),
    "DeployFunction": ("deploy", "DEPLOY_EVENTS", DEPLOY_EVENTS),
    "PromoteFunction": ("promote", "PROMOTE_EVENTS", PROMOTE_EVENTS),
    "TagArtifactsFunction": ("tag_artifacts", "TAG_EVENTS", TAG_EVENTS),
    "StageGateFunction": ("stage_gate", "STAGE_GATE_EVENTS", STAGE_GATE_EVENTS),
}


@functools.cache
def generator() -> ModuleType:
    """tests/fixtures/events/hostile/generate.py (a script beside its files, not a package)."""
    spec = importlib.util.spec_from_file_location("hostile_corpus_generator", HOSTILE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve the module's annotations through it
    spec.loader.exec_module(module)
    return module


MANIFEST: dict[str, dict[str, Any]] = json.loads((HOSTILE / "manifest.json").read_text())


def event_of(name: str) -> dict[str, Any]:
    return dict(json.loads((HOSTILE / name).read_text(encoding="ascii")))


def named(folder: str) -> list[str]:
    return sorted(name for name in MANIFEST if name.startswith(f"{folder}/"))


# -- the files ------------------------------------------------------------------------------------------------------
def test_the_committed_corpus_is_what_its_generator_writes() -> None:
    # GIVEN what the generator would write
    expected = generator().outputs()
    # THEN the committed files are exactly those, with the same text
    committed = {
        str(path.relative_to(HOSTILE)): path.read_text(encoding="ascii") for path in sorted(HOSTILE.rglob("*.json"))
    }
    assert sorted(committed) == sorted(expected)
    assert [name for name in expected if committed[name] != expected[name]] == []


def test_the_corpus_holds_over_a_hundred_events_of_every_kind_and_every_function() -> None:
    invalid, forged = named("invalid"), named("forged")
    assert len(invalid) + len(forged) >= 100
    assert len(invalid) >= 50 and len(forged) >= 50
    for folder in (invalid, forged):
        detail_types = {event_of(name)["detail-type"] for name in folder}
        targeted = {function for name in folder for function in MANIFEST[name]["functions"]}
        assert len(detail_types) == 5, detail_types
        assert targeted == set(EVENTS_OF)
    # AND each invalid event reaches a function, and names the one field its functions must report
    assert all(MANIFEST[name]["functions"] and MANIFEST[name]["field"] for name in invalid)


# -- what the rules deliver -----------------------------------------------------------------------------------------
def _resolved(value: Any, template: dict[str, Any], values: dict[str, str]) -> Any:
    """The dev stack's value of a rule pattern's intrinsics (Ref, Sub, If on the stack's role, the GetAtt of a named
    role's Arn)."""
    if isinstance(value, list):
        return [_resolved(v, template, values) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return values[value["Ref"]]
    if set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], value["Fn::Sub"])
    if set(value) == {"Fn::If"} and value["Fn::If"][0] == "IsRegistry":  # a rule pattern by the stack's role
        _, when_true, when_false = value["Fn::If"]
        return _resolved(when_true if values["StackRole"] == "registry" else when_false, template, values)
    if set(value) == {"Fn::GetAtt"}:
        resource, attribute = value["Fn::GetAtt"]
        role = template["Resources"][resource]
        assert (role["Type"], attribute) == ("AWS::IAM::Role", "Arn"), value
        name = _resolved(role["Properties"]["RoleName"], template, values)
        return f"arn:aws:iam::{values['AWS::AccountId']}:role/{name}"
    return {k: _resolved(v, template, values) for k, v in value.items()}


def rules() -> dict[str, list[EventPattern]]:
    """The EventBridge rule patterns of each function of the dev stack, resolved."""
    template = read_yaml(ROOT / "template.yaml")
    constants = generator().STACK
    values = {
        **{k: str(v) for k, v in template_parameters("dev").items()},
        "AWS::AccountId": constants["account"],
        "AWS::Region": constants["region"],
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name("dev"),
    }
    patterns: dict[str, list[EventPattern]] = {}
    for function in EVENTS_OF:
        events = template["Resources"][function]["Properties"].get("Events", {})
        patterns[function] = [
            EventPattern.load(json.dumps(_resolved(rule["Properties"]["Pattern"], template, values)))
            for rule in events.values()
            if rule["Type"] == "EventBridgeRule"
        ]
    return patterns


def test_the_stack_names_of_the_corpus_are_the_dev_stacks() -> None:
    constants = generator().STACK
    parameters = template_parameters("dev")
    assert (constants["pipeline"], constants["group"], constants["endpoint"]) == (
        parameters["PipelineName"],
        parameters["ModelPackageGroupName"],
        parameters["EndpointName"],
    )


def test_the_rules_deliver_each_event_to_the_functions_its_manifest_names_and_the_put_path_accepts_it() -> None:
    patterns = rules()
    constants = generator().STACK
    wrong = {}
    for name, entry in MANIFEST.items():
        event = event_of(name)
        # as EventBridge delivers a service's event (the put path refuses what no service sends)
        delivered = service_event(event, account=constants["account"], region=constants["region"])
        delivered["time"] = event["time"]
        matched = sorted(f for f, rules in patterns.items() if any(p.matches_event(delivered) for p in rules))
        if matched != entry["functions"]:
            wrong[name] = matched
    assert wrong == {}


# -- what the functions' parsing says -------------------------------------------------------------------------------
def test_each_function_parses_the_events_of_its_app() -> None:
    for function, (folder, name, _) in EVENTS_OF.items():
        app = (ROOT / "functions" / folder / "app.py").read_text()
        assert f"events={name}," in app, function


@pytest.mark.parametrize("name", named("invalid"))
def test_every_function_an_invalid_event_reaches_refuses_it_naming_the_manifests_field(name: str) -> None:
    event, entry = event_of(name), MANIFEST[name]
    for function in entry["functions"]:
        with pytest.raises(InvalidEventError) as raised:
            parse_one_of(event, EVENTS_OF[function][2])
        assert raised.value.field == entry["field"], function
        assert entry["field"] in str(raised.value)


@pytest.mark.parametrize("name", named("forged"))
def test_every_forged_event_is_well_formed_for_the_functions_it_reaches(name: str) -> None:
    event, entry = event_of(name), MANIFEST[name]
    for function in entry["functions"]:
        parse_one_of(event, EVENTS_OF[function][2])
    assert set(entry["dead_lettered"]) <= set(entry["functions"])
