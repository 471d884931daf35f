"""Drift check: an endpoint's captured requests of one window against the training baseline of the version that
served them, with Evidently.

Runs as a SageMaker processing job in the drift-check image (``pipeline/drift/requirements.txt``), and locally,
unchanged, in ``.venv-drift``. Paths honour ``SM_BASE_DIR`` (a prefix for every ``/opt/ml`` path; unset on AWS).

Inputs (under ``/opt/ml/processing``):
  ``capture/**.jsonl``     SageMaker data capture: one JSON record per line, the request in
                           ``captureData.endpointInput`` (``CSV``, ``JSON`` or ``BASE64`` encoded; CSV or JSON);
                           under ``capture/v<N>/`` the records version N served (each version's config captures
                           in its own folder), elsewhere the version ``served.json`` names for their time
  ``baselines/v<N>/``      each served version's baseline as the training pipeline wrote it: ``constraints.json``
                           (feature names, order and types) and ``reference.csv``
  ``baselines/served.json`` which version served when: ``[{"version": N, "from": ISO time, "to": ISO | null}]``
                           (optional with one baseline: it served the whole window)

Output ``/opt/ml/processing/output/``: ``summary.json`` and, when there were enough records, Evidently's
``report.html``. Each record is compared with the baseline of the version that served it (its folder, else the one
serving at its ``inferenceTime``); the
summary's top level is the segment of the version served last (``segments`` has every version's). A line that is
not a capture record, or whose payload cannot be read, is counted and skipped; a value that is not a number is a
type violation of its feature; a row with fewer values than the baseline has missing columns, one with more has
extra columns. Fewer than ``--min-records`` readable records is a result (``insufficient-data``), not a failure.
"""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")  # no telemetry leaves the job

import argparse
import base64
import csv
import glob
import io
import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

CATEGORICAL_MAX_VALUES = 20  # an integral feature whose baseline domain is at most this is categorical


def opt_ml(path: str) -> str:
    return os.environ.get("SM_BASE_DIR", "") + path


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ------------------------------------------------------------------------------------------------ baselines
@dataclass
class Baseline:
    version: int
    features: list[str]
    categorical: list[str]
    reference: pd.DataFrame

    @classmethod
    def load(cls, folder: str, version: int) -> Baseline:
        with open(os.path.join(folder, "constraints.json"), encoding="utf-8") as handle:
            constraints = json.load(handle)
        features = [f["name"] for f in constraints["features"]]
        categorical = [
            f["name"]
            for f in constraints["features"]
            if f.get("inferred_type") in ("Integral", "String")
            and 0 < len((f.get("string_constraints") or {}).get("domains") or []) <= CATEGORICAL_MAX_VALUES
        ]
        reference = pd.read_csv(os.path.join(folder, "reference.csv"))[features]
        return cls(version, features, categorical, reference)


@dataclass
class Served:
    version: int
    start: datetime | None
    end: datetime | None

    def covers(self, at: datetime | None) -> bool:
        if at is None:
            return self.end is None
        return (self.start is None or self.start <= at) and (self.end is None or at < self.end)


def load_served(base: str, baselines: dict[int, Baseline]) -> list[Served]:
    path = os.path.join(base, "baselines", "served.json")
    if not os.path.exists(path):  # one baseline served the window; with several, only version folders say which
        return [Served(next(iter(baselines)), None, None)] if len(baselines) == 1 else []
    with open(path, encoding="utf-8") as handle:
        entries = json.load(handle)
    return [Served(int(e["version"]), parse_time(e.get("from")), parse_time(e.get("to"))) for e in entries]


# ------------------------------------------------------------------------------------------------ capture
@dataclass
class Segment:
    """The records one version served, as rows of its features, with what could not be read."""

    baseline: Baseline
    rows: list[list[float]] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    type_violations: dict[str, int] = field(default_factory=dict)
    extra_columns: int = 0

    def add(self, values: list[object]) -> None:
        names = self.baseline.features
        if len(values) > len(names):
            self.extra_columns += 1
        row = []
        for index, name in enumerate(names):
            if index >= len(values) or values[index] in (None, ""):
                self.missing[name] = self.missing.get(name, 0) + 1
                row.append(math.nan)
                continue
            try:
                row.append(float(values[index]))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                self.type_violations[name] = self.type_violations.get(name, 0) + 1
                row.append(math.nan)
        self.rows.append(row)


def payload_rows(captured: dict, features: list[str]) -> list[list[object]]:
    """The rows of one captured request (CSV lines, or JSON objects / arrays / ``{"instances": [...]}``)."""
    data = str(captured["data"])
    encoding = str(captured.get("encoding", "CSV")).upper()
    text = base64.b64decode(data).decode() if encoding == "BASE64" else data
    content_type = str(captured.get("observedContentType", "text/csv")).lower()
    if "json" in content_type:
        body = json.loads(text)
        items = body.get("instances", [body]) if isinstance(body, dict) else body
        return [[item.get(n) for n in features] if isinstance(item, dict) else list(item) for item in items]
    return [list[object](row) for row in csv.reader(io.StringIO(text)) if row]


def folder_version(capture_root: str, path: str) -> int | None:
    """N when ``path`` lies under ``<capture_root>/v<N>/`` (the folder of the version that served its records)."""
    first = os.path.relpath(path, capture_root).split(os.sep, 1)[0]
    return int(first[1:]) if first[:1] == "v" and first[1:].isdigit() else None


def read_capture(base: str, served: list[Served], baselines: dict[int, Baseline], window: tuple) -> dict:
    segments: dict[int, Segment] = {}
    counts = {"lines": 0, "malformed": 0, "outside_window": 0, "unserved": 0}
    start, end = window
    root = os.path.join(base, "capture")
    for path in sorted(glob.glob(os.path.join(root, "**", "*.jsonl"), recursive=True)):
        served_by = folder_version(root, path)
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    continue
                counts["lines"] += 1
                try:
                    record = json.loads(line)
                    captured = record["captureData"]["endpointInput"]
                    at = parse_time((record.get("eventMetadata") or {}).get("inferenceTime"))
                except (ValueError, KeyError, TypeError, AttributeError):
                    counts["malformed"] += 1
                    continue
                if at is not None and ((start and at < start) or (end and at >= end)):
                    counts["outside_window"] += 1
                    continue
                version = (
                    served_by if served_by is not None else next((s.version for s in served if s.covers(at)), None)
                )
                if version is None or version not in baselines:
                    counts["unserved"] += 1
                    continue
                segment = segments.setdefault(version, Segment(baselines[version]))
                try:
                    rows = payload_rows(captured, segment.baseline.features)
                except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
                    counts["malformed"] += 1
                    continue
                for values in rows:
                    segment.add(values)
    return {"segments": segments, "counts": counts}


# ------------------------------------------------------------------------------------------------ drift
def evaluate(segment: Segment, drift_share: float, report_path: str | None) -> dict:
    """Evidently's data drift preset on the segment against its version's reference sample."""
    from evidently import DataDefinition, Dataset, Report  # noqa: PLC0415 - heavy: only when there is data
    from evidently.presets import DataDriftPreset  # noqa: PLC0415

    baseline = segment.baseline
    numerical = [n for n in baseline.features if n not in baseline.categorical]
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=baseline.categorical)
    current = pd.DataFrame(segment.rows, columns=baseline.features)
    report = Report([DataDriftPreset(drift_share=drift_share)], include_tests=True)
    result = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(baseline.reference, data_definition=definition),
    )
    if report_path:
        result.save_html(report_path)
    return _features(result.dict())


def _features(result: dict) -> dict:
    drifted = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in result.get("tests", [])}
    features = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        features[config["column"]] = {
            "score": float(metric["value"]),
            "method": config["method"],
            "threshold": float(config["threshold"]),
            "drifted": drifted.get(metric["id"], False),
        }
    return features


def segment_summary(segment: Segment, drift_share: float, min_records: int, report_path: str | None) -> dict:
    summary = {
        "version": segment.baseline.version,
        "records": len(segment.rows),
        "missing_values": segment.missing,
        "missing_columns": sorted(n for n, c in segment.missing.items() if c == len(segment.rows)),
        "extra_columns": segment.extra_columns,
        "type_violations": segment.type_violations,
    }
    if len(segment.rows) < min_records:
        return {**summary, "status": "insufficient-data", "drift_detected": False, "drift_share": 0.0, "features": {}}
    features = evaluate(segment, drift_share, report_path)
    share = sum(f["drifted"] for f in features.values()) / len(features) if features else 0.0
    return {
        **summary,
        "status": "ok",
        "drift_share": share,
        "drift_detected": share >= drift_share,
        "features": dict(sorted(features.items(), key=lambda kv: not kv[1]["drifted"])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="")
    parser.add_argument("--window-start", default="")
    parser.add_argument("--window-end", default="")
    parser.add_argument("--min-records", type=int, default=100)
    parser.add_argument("--drift-share", type=float, default=0.5)
    args = parser.parse_args(argv)
    base = opt_ml("/opt/ml/processing")
    out = opt_ml("/opt/ml/processing/output")
    os.makedirs(out, exist_ok=True)
    folders = {int(os.path.basename(f)[1:]): f for f in glob.glob(os.path.join(base, "baselines", "v[0-9]*"))}
    baselines = {version: Baseline.load(folder, version) for version, folder in sorted(folders.items())}
    if not baselines:
        raise SystemExit("no baseline under /opt/ml/processing/baselines/v<N>/")
    window = (parse_time(args.window_start), parse_time(args.window_end))
    served = load_served(base, baselines)
    read = read_capture(base, served, baselines, window)
    # the version serving now (served.json's open span) last: the summary's top level is its segment
    current = next((s.version for s in served if s.end is None), None)
    segments = [read["segments"][v] for v in sorted(read["segments"], key=lambda v: (v == current, v))]
    summaries = [
        segment_summary(s, args.drift_share, args.min_records, os.path.join(out, "report.html") if i == 0 else None)
        for i, s in enumerate(reversed(segments))
    ][::-1]
    latest = (
        summaries[-1]
        if summaries
        else {"status": "insufficient-data", "records": 0, "drift_detected": False, "drift_share": 0.0, "features": {}}
    )
    summary = {
        "endpoint": args.endpoint,
        "window": {"start": args.window_start or None, "end": args.window_end or None},
        **latest,
        "drift_share_threshold": args.drift_share,
        "lines": read["counts"],
        "segments": summaries,
        "report": "report.html" if os.path.exists(os.path.join(out, "report.html")) else None,
    }
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
    print(json.dumps({k: summary.get(k) for k in ("status", "records", "drift_detected", "drift_share")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
