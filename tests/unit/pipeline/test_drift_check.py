"""The drift-check job (pipeline/drift/check.py), run as its processing job runs it: its own interpreter
(.venv-drift, with Evidently), SageMaker's /opt/ml paths under SM_BASE_DIR, capture files in SageMaker's format,
and the baseline the training pipeline's preprocessing writes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pipeline import PACKAGE_DIR
from pipeline.data import default_dataset

ROOT = PACKAGE_DIR.parent
DRIFT_PYTHON = Path(os.environ.get("DRIFT_PYTHON", ROOT / ".venv-drift" / "bin" / "python"))
CHECK = PACKAGE_DIR / "drift" / "check.py"

sys.path.insert(0, str(PACKAGE_DIR / "steps"))
import preprocess  # noqa: E402


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    """The training data's features as the endpoint is sent them (student 0/1, balance, income)."""
    return preprocess.transform(default_dataset())[list(preprocess.FEATURES)]


def write_baseline(base: Path, version: int, frame: pd.DataFrame) -> None:
    preprocess.write_baseline(frame, str(base / "baselines" / f"v{version}"), reference_rows=2000, seed=42)


def capture_line(values: Iterable[Any], at: str = "2026-12-06T10:00:00Z", encoding: str = "CSV") -> str:
    data = ",".join(str(v) for v in values)
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": encoding},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.1", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": at},
        "eventVersion": "0",
    }
    return json.dumps(record)


def write_capture(base: Path, lines: list[str], name: str = "00-00-000-a.jsonl", version: int | None = None) -> None:
    """Lines in SageMaker's key layout: under ``v<version>/`` (the version's own capture folder) if given."""
    root = base / "capture" / f"v{version}" if version is not None else base / "capture"
    folder = root / "fraud-detector-dev" / "AllTraffic" / "2026" / "12" / "06" / "10"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


Check = Callable[..., dict[str, Any]]


@pytest.fixture
def check(tmp_path: Path) -> Check:
    def run(*args: str) -> dict[str, Any]:
        assert DRIFT_PYTHON.exists(), f"{DRIFT_PYTHON} missing: make drift-env"
        env = {**os.environ, "SM_BASE_DIR": str(tmp_path / "root")}
        done = subprocess.run(
            [str(DRIFT_PYTHON), str(CHECK), "--endpoint", "fraud-detector-dev", *args],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        output = tmp_path / "root" / "opt" / "ml" / "processing" / "output"
        summary: dict[str, Any] = json.loads((output / "summary.json").read_text())
        summary["_report_exists"] = (output / "report.html").exists()
        return summary

    return run


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "root" / "opt" / "ml" / "processing"


def traffic(features: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    return features.sample(n=rows, random_state=seed).reset_index(drop=True)


def test_traffic_like_the_training_data_has_no_drift(check: Check, base: Path, features: pd.DataFrame) -> None:
    write_baseline(base, 1, features)
    write_capture(base, [capture_line(row) for row in traffic(features, 600, seed=7).itertuples(index=False)])
    summary = check()
    assert (summary["status"], summary["records"], summary["version"]) == ("ok", 600, 1)
    assert summary["drift_detected"] is False and summary["drift_share"] < 0.5
    assert set(summary["features"]) == {"student", "balance", "income"}
    for feature in summary["features"].values():
        assert {"score", "method", "threshold", "drifted"} <= set(feature)
    assert summary["_report_exists"] and summary["report"] == "report.html"


def test_tripled_balances_and_flipped_students_are_detected_with_those_features(
    check: Check, base: Path, features: pd.DataFrame
) -> None:
    write_baseline(base, 1, features)
    shifted = traffic(features, 600, seed=7).assign(
        balance=lambda f: f["balance"] * 3, student=lambda f: 1 - f["student"]
    )
    write_capture(base, [capture_line(row) for row in shifted.itertuples(index=False)])
    summary = check()
    assert summary["drift_detected"] is True
    drifted = {name for name, f in summary["features"].items() if f["drifted"]}
    assert drifted == {"balance", "student"}
    assert summary["drift_share"] == pytest.approx(2 / 3)
    assert [f["drifted"] for f in summary["features"].values()] == [True, True, False]  # drifted features first


def test_a_missing_column_and_wrong_types_are_reported_per_feature(
    check: Check, base: Path, features: pd.DataFrame
) -> None:
    write_baseline(base, 1, features)
    rows = traffic(features, 300, seed=3)
    lines = [capture_line([r.student, r.balance]) for r in rows.itertuples(index=False)]  # income left out
    lines += [capture_line([r.student, "lots", r.income]) for r in rows.head(20).itertuples(index=False)]
    write_capture(base, lines)
    summary = check()
    assert summary["records"] == 320
    assert summary["missing_values"] == {"income": 300}
    assert summary["type_violations"] == {"balance": 20}
    assert summary["extra_columns"] == 0


def test_malformed_lines_are_counted_and_skipped(check: Check, base: Path, features: pd.DataFrame) -> None:
    write_baseline(base, 1, features)
    rows = traffic(features, 200, seed=5)
    lines = [capture_line(r, encoding="BASE64") for r in rows.itertuples(index=False)]
    lines += ["{not json", json.dumps({"captureData": {}}), json.dumps([1, 2, 3])]
    write_capture(base, lines)
    summary = check()
    assert summary["records"] == 200
    assert summary["lines"]["malformed"] == 3 and summary["lines"]["lines"] == 203


def test_too_few_records_is_a_result_not_a_failure(check: Check, base: Path, features: pd.DataFrame) -> None:
    write_baseline(base, 1, features)
    write_capture(base, [capture_line(r) for r in traffic(features, 10, seed=1).itertuples(index=False)])
    summary = check("--min-records", "50")
    assert (summary["status"], summary["records"], summary["drift_detected"]) == ("insufficient-data", 10, False)
    assert summary["_report_exists"] is False


def test_a_window_across_a_deployment_compares_each_record_with_its_version_s_baseline(
    check: Check, base: Path, features: pd.DataFrame
) -> None:
    # GIVEN v1 trained on today's customers, v2 on customers whose balances are three times higher
    write_baseline(base, 1, features)
    richer = features.assign(balance=features["balance"] * 3)
    write_baseline(base, 2, richer)
    served = [
        {"version": 1, "from": "2026-12-06T09:00:00Z", "to": "2026-12-06T10:30:00Z"},
        {"version": 2, "from": "2026-12-06T10:30:00Z", "to": None},
    ]
    (base / "baselines" / "served.json").write_text(json.dumps(served))
    # WHEN v1 served today's traffic and v2, after its deployment, the richer traffic it was trained on
    lines = [capture_line(r, at="2026-12-06T10:10:00Z") for r in traffic(features, 400, 1).itertuples(index=False)]
    lines += [capture_line(r, at="2026-12-06T10:40:00Z") for r in traffic(richer, 400, 2).itertuples(index=False)]
    write_capture(base, lines)
    summary = check("--window-start", "2026-12-06T10:00:00Z", "--window-end", "2026-12-06T11:00:00Z")
    # THEN neither version drifted from its own baseline, and the summary is the version served last
    assert [(s["version"], s["records"], s["drift_detected"]) for s in summary["segments"]] == [
        (1, 400, False),
        (2, 400, False),
    ]
    assert summary["version"] == 2


def test_during_a_rollout_each_record_is_compared_with_the_version_whose_folder_it_is_in(
    check: Check, base: Path, features: pd.DataFrame
) -> None:
    # GIVEN v1 trained on today's customers, v2 on customers whose balances are three times higher, and a served.json
    # that says v2 served the whole window (what the check's starter knows: the version the endpoint serves now)
    write_baseline(base, 1, features)
    richer = features.assign(balance=features["balance"] * 3)
    write_baseline(base, 2, richer)
    served = [{"version": 2, "from": "2026-12-06T09:00:00Z", "to": None}]
    (base / "baselines" / "served.json").write_text(json.dumps(served))
    # WHEN a blue/green rollout shared the same minutes between them: each version's config captured in its folder
    at = "2026-12-06T10:10:00Z"
    old = [capture_line(r, at=at) for r in traffic(features, 400, 1).itertuples(index=False)]
    new = [capture_line(r, at=at) for r in traffic(richer, 400, 2).itertuples(index=False)]
    write_capture(base, old, version=1)
    write_capture(base, new, version=2)
    summary = check("--window-start", "2026-12-06T10:00:00Z", "--window-end", "2026-12-06T11:00:00Z")
    # THEN each version's records were compared with its own baseline: neither drifted
    assert [(s["version"], s["records"], s["drift_detected"]) for s in summary["segments"]] == [
        (1, 400, False),
        (2, 400, False),
    ]
    assert summary["lines"]["unserved"] == 0


def test_records_of_a_version_without_a_staged_baseline_are_unserved(
    check: Check, base: Path, features: pd.DataFrame
) -> None:
    write_baseline(base, 2, features)
    write_baseline(base, 3, features)
    lines = [capture_line(r, at="2026-12-06T10:10:00Z") for r in traffic(features, 300, 1).itertuples(index=False)]
    write_capture(base, lines, version=1)
    write_capture(base, lines, version=3)
    summary = check("--window-start", "2026-12-06T10:00:00Z", "--window-end", "2026-12-06T11:00:00Z")
    assert [(s["version"], s["records"]) for s in summary["segments"]] == [(3, 300)]
    assert summary["lines"]["unserved"] == 300


def test_after_a_rollback_the_summary_is_the_version_serving_now(
    check: Check, base: Path, features: pd.DataFrame
) -> None:
    # GIVEN v2 was rejected and the endpoint serves v1 again (served.json's open span)
    write_baseline(base, 1, features)
    write_baseline(base, 2, features)
    (base / "baselines" / "served.json").write_text(json.dumps([{"version": 1, "from": "2026-12-06T10:30:00Z"}]))
    lines = [capture_line(r, at="2026-12-06T10:10:00Z") for r in traffic(features, 300, 1).itertuples(index=False)]
    write_capture(base, lines, version=2)
    write_capture(base, lines, version=1)
    summary = check("--window-start", "2026-12-06T10:00:00Z", "--window-end", "2026-12-06T11:00:00Z")
    assert [s["version"] for s in summary["segments"]] == [2, 1]
    assert (summary["version"], summary["records"]) == (1, 300)
