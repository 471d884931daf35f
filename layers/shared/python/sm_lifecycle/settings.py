"""Settings of a function, from the environment that template.yaml declares (read in the handler, not at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sm_lifecycle.errors import ConfigurationError

ENVIRONMENTS = ("dev", "staging", "prod")


def required(env: Mapping[str, str], name: str) -> str:
    """The non-empty value of ``name`` in ``env``, else a ConfigurationError naming it."""
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set (declared in template.yaml)")
    return value


@dataclass(frozen=True)
class Settings:
    """What every function knows about its stack."""

    environment: str
    team: str
    git_sha: str
    pipeline_name: str
    model_package_group_name: str
    endpoint_name: str
    alert_topic_arn: str
    idempotency_table_name: str
    dead_letter_queue_url: str | None
    region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        environment = required(env, "ENVIRONMENT")
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(f"ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
        return cls(
            environment=environment,
            team=required(env, "TEAM"),
            git_sha=env.get("GIT_SHA", "unknown") or "unknown",
            pipeline_name=required(env, "PIPELINE_NAME"),
            model_package_group_name=required(env, "MODEL_PACKAGE_GROUP_NAME"),
            endpoint_name=required(env, "ENDPOINT_NAME"),
            alert_topic_arn=required(env, "ALERT_TOPIC_ARN"),
            idempotency_table_name=required(env, "IDEMPOTENCY_TABLE_NAME"),
            dead_letter_queue_url=env.get("DEAD_LETTER_QUEUE_URL") or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        )

    def console_url(self, path: str) -> str:
        """A link into the SageMaker console of this stack's region (``path`` after ``#/``)."""
        return f"https://{self.region}.console.aws.amazon.com/sagemaker/home?region={self.region}#/{path.lstrip('/')}"
