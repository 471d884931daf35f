"""Starting a drift check: the window, the version the endpoint serves and its baseline, the check's parameters.

The starter reads the served version as the stage gate does (the deployer's ``model-package-arn`` tag on the
endpoint's current config, serving since the endpoint's ``LastModifiedTime``) and that version's
``DriftCheckBaselines`` from the registry. Each version's config captures in its own folder
(``data-capture/<endpoint>/v<N>/``): the other versions whose folders hold requests of the window (a rollout, a
rollback) are named by them, and their baselines read too. It stages the baselines beside the check
(``drift/<endpoint>/<window>/baselines/``) with the time the served version serves from (requests outside a
version's folder, captured before then, were another version's: the check counts them ``unserved``), and the
manifest of the window's captured requests (``capture.manifest``: the job downloads those only). It starts the
drift-check pipeline on them, its result going to ``drift/<endpoint>/<window>/result/``; a window without
captured requests is ``insufficient-data`` at once, no job started. The start is idempotent on ``token`` (the schedule's
execution id): a firing delivered twice starts one check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from sm_lifecycle.drift.config import DriftSettings
from sm_lifecycle.drift.model import CHECK_DISPLAY_PREFIX, Window
from sm_lifecycle.drift.s3 import CapturedRequests, DriftObjects
from sm_lifecycle.drift.sagemaker import Baseline, DriftPipelines
from sm_lifecycle.kernel.endpoints import Endpoints, LiveEndpoint

logger = Logger(child=True)

Alert = Callable[[str, str, dict[str, str]], None]  # (subject, message, dedupe key) -> None: once per key


@dataclass(frozen=True)
class CheckRequest:
    """What one check reads and where it writes."""

    endpoint: str
    bucket: str
    window: Window
    min_records: int
    drift_share: float

    @property
    def prefix(self) -> str:
        return f"drift/{self.endpoint}/{self.window.name}"

    def parameters(self, staged: Staged) -> dict[str, str]:
        return {
            "EndpointName": self.endpoint,
            "CaptureManifestUri": staged.manifest_uri,
            "BaselinesUri": staged.baselines_uri,
            "OutputUri": f"s3://{self.bucket}/{self.window.result_folder(self.endpoint)}",
            "WindowStart": Window.iso(self.window.start),
            "WindowEnd": Window.iso(self.window.end),
            "MinRecords": str(self.min_records),
            "DriftShare": repr(self.drift_share),
        }


def client_token(*parts: str) -> str:
    """A ``ClientRequestToken`` (32-128 characters) that is the same for the same ``parts``."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Staged:
    """What a check reads, staged beside it: its baselines and the manifest of its captured requests."""

    baselines_uri: str
    manifest_uri: str


@dataclass(frozen=True)
class CheckStaging:
    """A check's inputs beside it: the manifest of the window's captured requests, and the baselines of the served
    version and of the other versions whose capture folders hold requests of the window (a rollout, a rollback):
    each request is compared with its version's."""

    pipelines: DriftPipelines
    objects: DriftObjects
    captures: CapturedRequests

    def stage(self, request: CheckRequest, live: LiveEndpoint, baseline: Baseline) -> Staged | None:
        """Stage them (``baseline``: the served version's); None when the window has no captured requests."""
        by_version = self.captures.in_window(request.endpoint, request.window)
        if not by_version:
            return None
        others = [v for v in by_version if v is not None and v != baseline.version]
        keys = [key for keys in by_version.values() for key in keys]
        return Staged(
            self.objects.stage(request.prefix, baseline, live.since, self._baselines(str(live.package_arn), others)),
            self.objects.stage_manifest(request.prefix, self.captures.root(request.endpoint), keys),
        )

    def _baselines(self, package_arn: str, versions: list[int]) -> list[Baseline]:
        found = []
        for version in sorted(versions):
            other = self.pipelines.baseline(f"{package_arn.rsplit('/', 1)[0]}/{version}")
            if other is None:
                logger.warning(f"version {version} served requests of the window but has no baseline: not checked")
                continue
            found.append(other)
        return found


class DriftCheckStarter:
    def __init__(
        self,
        settings: DriftSettings,
        endpoints: Endpoints,
        pipelines: DriftPipelines,
        staging: CheckStaging,
        alert: Alert,
    ) -> None:
        self.settings = settings
        self._endpoints = endpoints
        self._pipelines = pipelines
        self._staging = staging
        self._alert = alert

    def start(self, token: str, now: datetime | None = None) -> dict[str, Any]:
        """Start one check of the last window; the outcome (``started``, ``idle``, ``no-baseline``, or
        ``insufficient-data`` when the window has no captured request)."""
        s = self.settings
        live = self._endpoints.live(s.endpoint_name)
        if live is None or not live.package_arn:
            reason = f"endpoint {s.endpoint_name} " + ("does not exist" if live is None else "serves no tagged version")
            logger.info(f"nothing to check: {reason}")
            return {"status": "idle", "reason": reason}
        baseline = self._pipelines.baseline(live.package_arn)
        if baseline is None:
            return self._no_baseline(live.package_arn)
        request = CheckRequest(s.endpoint_name, s.bucket, Window.last(s.window, now), s.min_records, s.drift_share)
        staged = self._staging.stage(request, live, baseline)
        if staged is None:  # a result, not a failure; no job is started for it
            logger.info("nothing to check: no captured requests in the window", extra={"window": request.window.name})
            return {
                "status": "insufficient-data",
                "records": 0,
                "version": baseline.version,
                "window": request.window.name,
            }
        arn = self._pipelines.start(
            s.drift_pipeline_name,
            request.parameters(staged),
            token=client_token(s.drift_pipeline_name, token),
            display_name=f"{CHECK_DISPLAY_PREFIX}{request.window.name}",
            why=f"Drift check of {s.endpoint_name} (version {baseline.version}) over {request.window.name}",
        )
        logger.info("drift check started", extra={"execution_arn": arn, "version": baseline.version})
        return {"status": "started", "execution_arn": arn, "version": baseline.version, "window": request.window.name}

    def _no_baseline(self, package_arn: str) -> dict[str, Any]:
        s = self.settings
        reason = f"{package_arn} has no DriftCheckBaselines (registered before baselines were kept?)"
        logger.warning(f"no drift check: {reason}")
        message = (
            f"The drift check of {s.endpoint_name} cannot run: the version it serves, {package_arn}, was registered "
            f"without a training baseline (DriftCheckBaselines.ModelDataQuality).\n"
            f"Retrain and deploy a version of the current pipeline, which records one.\n"
            f"Package: {s.common.console_url('model-registry')}"
        )
        self._alert(
            f"[{s.common.environment}] drift check of {s.endpoint_name}: no baseline",
            message,
            {"package": package_arn, "problem": "no-baseline"},
        )
        return {"status": "no-baseline", "reason": reason}
