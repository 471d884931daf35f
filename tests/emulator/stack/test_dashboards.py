"""The local stack's CloudWatch dashboards (``AWS::CloudWatch::Dashboard``): created with ``PutDashboard``, their body
resolved as CloudFormation resolves it, ``Ref`` the name (the template's, else generated)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.stack import LocalStack
from local.stack.template import TemplateError
from tests.emulator.accounts import ACCOUNT_B

DASHBOARDS = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Queue:
    Type: AWS::SQS::Queue
  Overview:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub |
        {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
          "region": "${AWS::Region}", "title": "${AWS::StackName}",
          "metrics": [["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", "${Table}"],
                      ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "${Queue.QueueName}"]]}}]}
  Named:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardName: %s
      DashboardBody: '{"widgets": []}'
Outputs:
  OverviewName:
    Value: !Ref Overview
  NamedName:
    Value: !Ref Named
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dashboard_is_put_with_its_body_resolved_and_ref_is_its_name(
    tmp_path: Path, local_stack_factory: Callable[..., LocalStack], embedded_aws: Any
) -> None:
    # GIVEN a template with an unnamed dashboard whose body refers to the region and to other resources, and a named one
    # WHEN it is deployed
    stack = local_stack_factory(write(tmp_path, DASHBOARDS % "model-overview"), stack_name="boards")

    # THEN the unnamed one is named <stack>-<LogicalId>-<SUFFIX>, the named one keeps its name; Ref gives the names
    overview, named = stack.outputs["OverviewName"], stack.outputs["NamedName"]
    assert re.fullmatch(r"boards-Overview-[A-Z0-9]{12}", overview)
    assert named == "model-overview"
    cloudwatch = embedded_aws.client("cloudwatch")
    listed = {entry["DashboardName"] for entry in cloudwatch.list_dashboards()["DashboardEntries"]}
    assert {overview, named} <= listed

    # AND the body CloudWatch holds is the template's, every ${...} resolved
    body = json.loads(cloudwatch.get_dashboard(DashboardName=overview)["DashboardBody"])
    (widget,) = body["widgets"]
    queue_name = stack.resources["Queue"].attributes["QueueName"]
    assert widget["properties"]["region"] == embedded_aws.region
    assert widget["properties"]["title"] == "boards"
    assert widget["properties"]["metrics"] == [
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", stack.resources["Table"].ref],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue_name],
    ]
    assert cloudwatch.get_dashboard(DashboardName=named)["DashboardBody"] == '{"widgets": []}'


def test_a_dashboard_is_put_by_the_deployer_of_another_account_as_iam_evaluates_it(
    tmp_path: Path, local_stack_factory: Callable[..., LocalStack], embedded_aws: Any
) -> None:
    # GIVEN the stack deployed in another account (its administrator's calls are evaluated by IAM; none denied)
    stack = local_stack_factory(
        write(tmp_path, DASHBOARDS % "model-overview"), stack_name="boards", account_id=ACCOUNT_B
    )

    # THEN its dashboards are in that account
    cloudwatch = embedded_aws.client("cloudwatch", account_id=ACCOUNT_B)
    assert cloudwatch.get_dashboard(DashboardName="model-overview")["DashboardName"] == "model-overview"
    assert cloudwatch.get_dashboard(DashboardName=stack.outputs["OverviewName"])["DashboardBody"]


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        ("fine", '{"rows": []}', "'widgets' array"),
        ("fine", '{"widgets": {}}', "'widgets' array"),
        ("not/fine", '{"widgets": []}', "alphanumerics"),
        ("x" * 256, '{"widgets": []}', "1 to 255"),
    ],
)
def test_a_dashboard_cloudwatch_would_refuse_fails_the_deployment(
    tmp_path: Path, embedded_aws: Any, name: str, body: str, error: str
) -> None:
    template = DASHBOARDS.replace("'{\"widgets\": []}'", json.dumps(body)) % json.dumps(name)
    with pytest.raises(TemplateError, match=error):
        LocalStack(embedded_aws, "dev", write(tmp_path, template), stack_name="refused").deploy()


def test_a_dashboard_body_that_is_not_json_is_refused_by_cloudwatch(tmp_path: Path, embedded_aws: Any) -> None:
    template = DASHBOARDS.replace("'{\"widgets\": []}'", "'{widgets: ['") % "broken"
    with pytest.raises(ClientError, match="InvalidParameterInput"):
        LocalStack(embedded_aws, "dev", write(tmp_path, template), stack_name="refused").deploy()
