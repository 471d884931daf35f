"""A template's resources created in the embedded AWS in dependency order, as CloudFormation creates a stack.

Resources whose ``Condition`` is false are not created; resource types the local stack does not create are skipped
(and referring to one fails loudly); ``Ref`` and ``Fn::GetAtt`` resolve to what was created; the template's Outputs
are resolved last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from local.stack.deliveries import RuleTarget
from local.stack.functions import LAMBDA_TYPES, LambdaResources, Sessions
from local.stack.intrinsics import Resolver, references
from local.stack.resources import Provisioned, Provisioners
from local.stack.rules import create_rule
from local.stack.template import Template, TemplateError, UnsupportedResourceError, as_list

logger = logging.getLogger(__name__)

RULE_TYPE = "AWS::Events::Rule"


class Deployment:
    """One stack's resources: created once by :meth:`deploy`, then looked up by logical id."""

    def __init__(
        self,
        template: Template,
        client: Callable[[str], Any],
        *,
        account_id: str,
        region: str,
        endpoint_url: str,
        default_concurrency: int,
        account_concurrency: int,
        sessions: Sessions | None = None,
    ) -> None:
        self.template = template
        self.client = client
        self.provisioners = Provisioners(client, stack_name=template.stack_name, region=region, account_id=account_id)
        self.lambdas = LambdaResources(
            template,
            client,
            account_id=account_id,
            region=region,
            endpoint_url=endpoint_url,
            default_concurrency=default_concurrency,
            account_concurrency=account_concurrency,
            sessions=sessions,
        )
        self.resolver = Resolver(template, account_id=account_id, ref=self._ref, get_att=self._get_att)
        self.resources: dict[str, Provisioned] = {}
        self.skipped: dict[str, str] = {}  # logical id -> type, for types not created locally
        self.rules: dict[str, list[str]] = {}  # rule logical id -> function logical ids it targets
        self.targets: list[RuleTarget] = []  # the rules' targets that are functions of the stack
        self.outputs: dict[str, Any] = {}
        self.deployed = False

    # -- creation ---------------------------------------------------------------------------------------------------
    def order(self) -> list[str]:
        """Logical ids, each after what it refers to or depends on; a circular dependency is a TemplateError."""
        resources = self.template.resources
        ordered: list[str] = []
        state: dict[str, int] = {}

        def visit(logical_id: str, path: tuple[str, ...]) -> None:
            if state.get(logical_id) == 2:
                return
            if state.get(logical_id) == 1:
                raise TemplateError(f"circular dependency: {' -> '.join((*path, logical_id))}")
            state[logical_id] = 1
            resource = resources[logical_id]
            depends = set(references(resource.get("Properties", {})))
            depends.update(as_list(resource.get("DependsOn")))
            for dependency in sorted(depends):
                if dependency in resources:
                    visit(dependency, (*path, logical_id))
            state[logical_id] = 2
            ordered.append(logical_id)

        for logical_id in resources:
            visit(logical_id, ())
        return ordered

    def deploy(self) -> dict[str, Any]:
        """Create the template's resources; return the template's Outputs, resolved."""
        if self.deployed:
            return self.outputs
        self.resolver.check_rules()
        for logical_id in self.order():
            self._deploy(logical_id)
        self.lambdas.finish()
        self.outputs = {}
        for name, output in self.template.outputs.items():
            if "Condition" in output and not self.resolver.condition(output["Condition"]):
                continue
            self.outputs[name] = self.resolver.resolve(output["Value"])
        self.deployed = True
        return self.outputs

    def _deploy(self, logical_id: str) -> None:
        resource = self.template.resources[logical_id]
        resource_type = resource["Type"]
        if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
            logger.debug("%s: condition %s is false; not created", logical_id, resource["Condition"])
            return
        if resource_type not in (*LAMBDA_TYPES, RULE_TYPE) and not self.provisioners.supports(resource_type):
            logger.debug("%s: type %s is not created locally", logical_id, resource_type)
            self.skipped[logical_id] = resource_type
            return
        properties = self.resolver.resolve(resource.get("Properties", {}))
        if resource_type in LAMBDA_TYPES:
            created = self.lambdas.create(logical_id, resource_type, properties)
        elif resource_type == RULE_TYPE:
            created, targets = create_rule(self.client, self.lambdas, logical_id, properties)
            self.targets += targets
            self.rules[logical_id] = [target.function for target in targets]
        else:
            created = self.provisioners.create(logical_id, resource_type, properties)
        created.properties = properties
        self.resources[logical_id] = created
        logger.debug("%s (%s): %s", logical_id, resource_type, created.ref)

    # -- lookups ----------------------------------------------------------------------------------------------------
    def _created(self, logical_id: str) -> Provisioned:
        if logical_id in self.skipped:
            raise UnsupportedResourceError(
                f"{logical_id} ({self.skipped[logical_id]}) is not created by the local stack, yet it is referenced"
            )
        resource = self.template.resources.get(logical_id, {})
        if "Condition" in resource and not self.resolver.condition(resource["Condition"]):
            raise TemplateError(f"{logical_id} is not created (condition {resource['Condition']}) but referenced")
        if logical_id not in self.resources:
            raise TemplateError(f"{logical_id} is referenced before it exists (circular dependency?)")
        return self.resources[logical_id]

    def _ref(self, logical_id: str) -> Any:
        return self._created(logical_id).ref

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        return self._created(logical_id).get_att(attribute)

    def physical_id(self, logical_id: str) -> Any:
        """What ``Ref`` gives for a resource of the template (SAM logical ids of layers are accepted too)."""
        if logical_id not in self.resources:
            for candidate in self.resources.values():
                if (
                    candidate.type == "AWS::Lambda::LayerVersion"
                    and candidate.properties.get("LayerName") == logical_id
                ):
                    return candidate.ref
        return self._ref(logical_id)

    def of_type(self, resource_type: str) -> list[Provisioned]:
        """The created resources of one type, in the order they were created."""
        return [resource for resource in self.resources.values() if resource.type == resource_type]

    def queue_url_by_name(self, queue_name: str) -> str | None:
        for resource in self.of_type("AWS::SQS::Queue"):
            if resource.attributes["QueueName"] == queue_name:
                return str(resource.ref)
        sqs = self.client("sqs")
        try:
            return str(sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])
        except sqs.exceptions.QueueDoesNotExist:
            return None
