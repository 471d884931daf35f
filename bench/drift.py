"""The drift-check job's time and peak memory as the window's captured records grow.

For each size (default 10k, 100k and 1M records) the job (``pipeline/drift/check.py``) runs as its processing job
runs it, in ``.venv-drift``, on capture files in SageMaker's format (one request of one CSV row per record, 10,000
records per file, as SageMaker batches them) against the training data's baseline. Printed per size: wall time,
time per record and its ratio to the smallest size's (1.0: linear), and the job's peak resident memory (the
process's maximum RSS). Targets: linear; 1M records ≤ 2 GB peak.

    .venv/bin/python bench/drift.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline import PACKAGE_DIR
from pipeline.data import default_dataset

sys.path.insert(0, str(PACKAGE_DIR / "steps"))
import preprocess

ROOT = PACKAGE_DIR.parent
DRIFT_PYTHON = ROOT / ".venv-drift" / "bin" / "python"
PER_FILE = 10_000


def write_capture(folder: Path, features: np.ndarray, records: int) -> None:
    """``records`` capture lines sampled from ``features`` (with replacement), ``PER_FILE`` per file."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, records, PER_FILE)):
        rows = features[rng.integers(0, len(features), min(PER_FILE, records - start))]
        with (folder / f"{number:05d}.jsonl").open("w") as handle:
            for student, balance, income in rows:
                data = f"{int(student)},{balance:.4f},{income:.4f}"
                record = {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": data,
                            "encoding": "CSV",
                        }
                    },
                    "eventMetadata": {"eventId": str(start), "inferenceTime": "2026-12-06T10:00:00Z"},
                    "eventVersion": "0",
                }
                handle.write(json.dumps(record) + "\n")


def run_check(root: Path) -> tuple[float, float, dict]:
    """(seconds, peak RSS in MB, summary) of one job run, in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [str(DRIFT_PYTHON), str(PACKAGE_DIR / "drift" / "check.py"), "--endpoint", "bench"],
        env={**os.environ, "SM_BASE_DIR": str(root)},
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak >= before, done.stdout
    summary = json.loads((root / "opt/ml/processing/output/summary.json").read_text())
    return seconds, peak / 1024, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    data = preprocess.transform(default_dataset())[list(preprocess.FEATURES)]
    print(f"drift check in {DRIFT_PYTHON.parent.parent.name}, capture lines of one CSV row each")
    reference: float | None = None
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
            root = Path(tmp)
            processing = root / "opt" / "ml" / "processing"
            preprocess.write_baseline(data, str(processing / "baselines" / "v1"), reference_rows=2000, seed=42)
            write_capture(processing / "capture", data.to_numpy(dtype=float), size)
            seconds, peak_mb, summary = run_check(root)
        per_record = seconds / size
        reference = reference or per_record
        print(
            f"  {size:>9,} records: {seconds:7.2f} s, {per_record * 1e6:6.1f} µs/record "
            f"(ratio {per_record / reference:.2f}), peak {peak_mb:,.0f} MB, "
            f"checked {summary['records']:,}, drift {summary['drift_detected']}"
        )
    print("  (peak: the largest run's so far — the maximum RSS of the job processes, which only grows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
