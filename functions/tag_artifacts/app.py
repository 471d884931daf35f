"""Tag artifacts function: tags every artifact of a succeeded pipeline execution (S3 objects, jobs, model package)
for cost and governance (rule and permissions: TagArtifactsFunction in template.yaml). Logic:
``sm_lifecycle.tagging``.
"""

from sm_lifecycle.kernel.handler import make_handler
from sm_lifecycle.tagging import TAG_EVENTS, tag_artifacts

lambda_handler = make_handler(
    tag_artifacts,
    events=TAG_EVENTS,
    metrics={"tagged": "ExecutionsTagged", "partial": "ExecutionsPartlyTagged"},
)
