"""Where the stack's pipeline writes: the artifact bucket and the pipeline's prefix in it.

What a function reads or tags of S3 must lie there; anything else named by an event, a package or a report is not
the stack's (another account's bucket, the endpoint's captured traffic under ``data-capture/``) and is neither read
nor quoted: :meth:`ArtifactLocation.outside` says so without repeating the foreign key.

    location = ArtifactLocation.from_env(os.environ, pipeline_name=settings.pipeline_name)
    location.holds("s3://bucket/pipeline/exec/Evaluate/evaluation.json")   # True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sm_lifecycle.kernel.settings import required

__all__ = ["ArtifactLocation", "split_s3_uri"]


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``(bucket, key)``; ``ValueError`` for anything else."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValueError(uri)
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


@dataclass(frozen=True)
class ArtifactLocation:
    bucket: str
    prefix: str  # ends with "/"

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, pipeline_name: str) -> ArtifactLocation:
        """``ARTIFACT_BUCKET`` (required) and ``ARTIFACT_PREFIX`` (default ``<pipeline>/``), as template.yaml sets."""
        prefix = env.get("ARTIFACT_PREFIX", "").strip() or f"{pipeline_name}/"
        return cls(required(env, "ARTIFACT_BUCKET"), prefix if prefix.endswith("/") else prefix + "/")

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def holds(self, uri: str) -> bool:
        """Whether ``uri`` names an object (or prefix) under the pipeline's prefix of the artifact bucket."""
        try:
            bucket, key = split_s3_uri(uri)
        except ValueError:
            return False
        segments = key.split("/")
        return bucket == self.bucket and key.startswith(self.prefix) and ".." not in segments and "." not in segments

    def outside(self, what: str) -> str:
        """The reason a location outside is refused, naming only the stack's own location (never the foreign key)."""
        return f"{what} is outside the pipeline's artifacts ({self.uri}): not read"
