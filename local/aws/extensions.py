"""Everything the embedded AWS changes in moto, in one registry: ``install()`` applies it all, once.

The patches come from the areas of :mod:`local.aws.sagemaker`, :mod:`local.aws.scheduler`,
:mod:`local.aws.cloudwatch`, :mod:`local.aws.logs` and others (each declares its own, with why); installing them also
connects event delivery and starts the extensions' workers (:mod:`local.aws.runtime`). Works for moto's server
(:class:`local.aws.server.EmbeddedAWS` calls it) and for moto's in-process ``mock_aws``. State kept outside moto
(faults, timings, the event log) is reset by ``EmbeddedAWS.start()`` or ``RUNTIME.reset()``.
"""

from __future__ import annotations

from local.aws.cloudwatch import responses as cloudwatch
from local.aws.eventbridge import forwarding, put_events
from local.aws.iam import managed_policies
from local.aws.logs import models as logs
from local.aws.patches import PatchRegistry
from local.aws.ram import responses as ram
from local.aws.runtime import RUNTIME
from local.aws.sagemaker.endpoints import responses as endpoints
from local.aws.sagemaker.events import delivery
from local.aws.sagemaker.jobs import responses as jobs
from local.aws.sagemaker.pipelines import responses as pipelines
from local.aws.sagemaker.registry import responses as registry
from local.aws.sagemaker.serving import responses as serving
from local.aws.sagemaker.tags import responses as tags
from local.aws.scheduler import responses as scheduler

PATCHES = PatchRegistry(
    [
        *endpoints.PATCHES,
        *registry.PATCHES,
        *tags.PATCHES,
        *jobs.PATCHES,
        *pipelines.PATCHES,
        *delivery.PATCHES,
        *serving.PATCHES,
        *scheduler.PATCHES,
        *cloudwatch.PATCHES,
        *logs.PATCHES,
        *put_events.PATCHES,
        *forwarding.PATCHES,
        *managed_policies.PATCHES,
        *ram.PATCHES,
    ]
)


def install() -> None:
    """Install the extensions into moto (idempotent: a second call changes nothing) and start their workers."""
    with RUNTIME.lock:
        PATCHES.install()
        RUNTIME.connect_delivery(delivery.deliver)
        RUNTIME.start()  # the workers; also when used under moto's in-process ``mock_aws``


def uninstall() -> None:
    """Put moto back as it was (the workers keep running; they only ever act on what the extensions queue)."""
    with RUNTIME.lock:
        PATCHES.uninstall()


def installed() -> bool:
    return PATCHES.installed()
