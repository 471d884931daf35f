"""The drift alert (pure): which version drifted over which window, the top drifted features with their scores, where
the HTML report is, and what the retrain policy did."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sm_lifecycle.drift.config import DriftSettings
from sm_lifecycle.drift.model import DriftResult, Retraining

TOP_FEATURES = 5


@dataclass(frozen=True)
class DriftAlert:
    subject: str
    message: str
    severity: str
    attributes: dict[str, str]


def _s3_console(uri: str, region: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return f"https://{region}.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={quote(key)}"


def _retraining_line(retraining: Retraining | None, settings: DriftSettings) -> str:
    if retraining is None:
        return f"Policy: {settings.policy} (no retraining)."
    if retraining.status == "started":
        return f"Retraining started: {retraining.execution_arn}"
    if retraining.status == "failed":
        return f"Retraining NOT started: {retraining.reason}. The next check that finds drift tries again."
    if retraining.status == "cooldown" and retraining.until is not None:
        return (
            f"Retraining held: cooldown after {retraining.execution_arn} until {retraining.until:%Y-%m-%dT%H:%M:%SZ}."
        )
    return f"Retraining held: {retraining.execution_arn} is still running."


def drift_alert(
    settings: DriftSettings,
    result: DriftResult,
    *,
    check_arn: str,
    window: tuple[str, str],
    report_uri: str | None,
    retraining: Retraining | None,
) -> DriftAlert:
    common = settings.common
    version = f"v{result.version}" if result.version is not None else "an unknown version"
    drifted = result.drifted
    lines = [
        f"Drift in the requests {settings.endpoint_name} served with {version} of {common.model_package_group_name}.",
        f"Window: {window[0]} to {window[1]} ({result.records} records).",
        f"Drifted features: {len(drifted)} of {len(result.features)} (share {result.drift_share:.2f}).",
        *(f"  {f.name}: {f.method} score {f.score:.4g} (threshold {f.threshold:.4g})" for f in drifted[:TOP_FEATURES]),
    ]
    if result.missing_columns:
        lines.append(f"Missing columns: {', '.join(result.missing_columns)}")
    if report_uri:
        lines += [f"Report: {report_uri}", f"  {_s3_console(report_uri, common.region)}"]
    lines += [
        _retraining_line(retraining, settings),
        f"Check: {check_arn}",
        f"  {common.console_url(f'pipelines/{settings.drift_pipeline_name}')}",
    ]
    top = ", ".join(f.name for f in drifted[:3])
    subject = f"[{common.environment}] drift in {settings.endpoint_name} {version}: {top}"
    severity = "error" if retraining is not None and retraining.status == "failed" else "warning"
    return DriftAlert(subject, "\n".join(lines), severity, {"kind": "drift", "endpoint": settings.endpoint_name})
