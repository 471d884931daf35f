"""CloudFormation's intrinsic functions (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, conditions...) on a loaded template.

:func:`references` lists what a value refers to (for the order of creation); :class:`Resolver` evaluates values
against the template's parameters, the pseudo parameters and the resources the caller has created.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3

from local.stack.template import Template, TemplateError

NO_VALUE = object()  # AWS::NoValue


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")
INTRINSICS = {
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Cidr",
    "Fn::Length",
    "Fn::ToJsonString",
}


RULE_FUNCTIONS = {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Contains"}  # ``Fn::Contains``: Rules only


def _intrinsic(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key in INTRINSICS:
            return key, value[key]
    return None


def references(value: Any) -> Iterator[str]:
    """Logical ids (resources or parameters) that ``value`` refers to through Ref, GetAtt or Sub."""
    found = _intrinsic(value)
    if found:
        name, arg = found
        if name == "Ref" and isinstance(arg, str):
            yield arg
            return
        if name == "Fn::GetAtt":
            target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
            yield target
            return
        if name == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for match in _SUB_VARIABLE.finditer(text):
                ref = match.group(1)
                if not ref.startswith("!") and ref not in variables:
                    yield ref.split(".", 1)[0]
            yield from references(variables)
            return
    if isinstance(value, dict):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


class Resolver:
    """Evaluates intrinsic functions of a translated template.

    ``ref(logical_id)`` and ``get_att(logical_id, attribute)`` answer for resources (created locally by the caller).
    """

    def __init__(
        self,
        template: Template,
        *,
        account_id: str,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
    ) -> None:
        self.template = template
        self._ref = ref
        self._get_att = get_att
        region = template.region
        partition = boto3.session.Session().get_partition_for_region(region)
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": partition,
            "AWS::StackName": template.stack_name,
            "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{template.stack_name}/local",
            "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self.conditions: dict[str, bool] = {}
        for name in template.cfn.get("Conditions", {}):
            self.condition(name)

    # -- conditions
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            definitions = self.template.cfn.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(definitions[name]))
        return self.conditions[name]

    # -- rules
    def check_rules(self) -> None:
        """The template's ``Rules``: a rule whose ``RuleCondition`` holds (or that has none) fails the deployment
        with its ``AssertDescription`` when one of its ``Assertions`` does not, as CloudFormation refuses a stack
        whose parameters break them (rule functions: ``Fn::Equals``, ``Not``, ``And``, ``Or``, ``Contains`` on
        parameters)."""
        for name, rule in (self.template.cfn.get("Rules") or {}).items():
            if "RuleCondition" in rule and not self._rule_value(rule["RuleCondition"]):
                continue
            for assertion in rule.get("Assertions", []):
                if not self._rule_value(assertion["Assert"]):
                    why = assertion.get("AssertDescription") or "Template assertion failed"
                    raise TemplateError(f"rule {name}: {why}")

    def _rule_value(self, value: Any) -> Any:
        """A rule function's value; anything else (``Ref`` to a parameter, a literal) resolved as usual."""
        name = next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None
        if name not in RULE_FUNCTIONS:
            return self.resolve(value)
        values = [self._rule_value(item) for item in value[name]]
        if name == "Fn::Contains":
            return values[1] in values[0]
        if name == "Fn::Not":
            return not values[0]
        if name == "Fn::And":
            return all(values)
        if name == "Fn::Or":
            return any(values)
        return str(values[0]) == str(values[1])

    # -- values
    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated (``AWS::NoValue`` removed)."""
        found = _intrinsic(value)
        if found:
            return self._call(*found)
        if isinstance(value, dict):
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(entry) for entry in value) if item is not NO_VALUE]
        return value

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.parameters:
            return self.template.parameters[name]
        if name in self.template.resources:
            return self._ref(name)
        raise TemplateError(f"Ref to unknown name {name}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.template.resources:
            raise TemplateError(f"GetAtt to unknown resource {logical_id}")
        return self._get_att(logical_id, attribute)

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                value = self.get_att(logical_id, attribute)
            else:
                value = self.ref(name)
            if isinstance(value, list | dict):
                raise TemplateError(f"Fn::Sub variable {name} is not a string")
            return str(value)

        return _SUB_VARIABLE.sub(replace, text)

    def _call(self, name: str, arg: Any) -> Any:
        if name == "Ref":
            return self.ref(arg)
        if name == "Condition":
            return self.condition(arg)
        if name == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return self.get_att(logical_id, attribute)
        if name == "Fn::Sub":
            if isinstance(arg, str):
                return self._sub(arg, {})
            text, variables = arg
            return self._sub(text, {key: self.resolve(value) for key, value in variables.items()})
        if name == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Fn::Equals":
            left, right = (self.resolve(item) for item in arg)
            return str(left) == str(right) if not isinstance(left, list | dict) else left == right
        if name == "Fn::Not":
            return not self.resolve(arg[0])
        if name == "Fn::And":
            return all(self.resolve(item) for item in arg)
        if name == "Fn::Or":
            return any(self.resolve(item) for item in arg)
        if name == "Fn::Join":
            separator, items = arg
            return str(separator).join(str(item) for item in self.resolve(items))
        if name == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            separator, text = arg
            return str(self.resolve(text)).split(separator)
        if name == "Fn::FindInMap":
            map_name, top, second = (self.resolve(item) for item in arg[:3])
            try:
                return self.template.cfn.get("Mappings", {})[map_name][top][second]
            except KeyError as exc:
                raise TemplateError(f"Fn::FindInMap {map_name}/{top}/{second} not found") from exc
        if name == "Fn::Base64":
            return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        if name == "Fn::GetAZs":
            region = self.resolve(arg) or self.template.region
            return [f"{region}{zone}" for zone in "abc"]
        if name == "Fn::Length":
            return len(self.resolve(arg))
        if name == "Fn::ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        raise TemplateError(f"{name} cannot be resolved locally")
