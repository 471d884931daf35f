"""Preprocessing step: split the raw credit-card default CSV into train / validation / test.

Runs in the SageMaker scikit-learn processing container (and locally, unchanged, by the embedded AWS).

Input  ``/opt/ml/processing/input/raw/*.csv``: header row with columns ``default, student, balance, income``
       (``default`` and ``student`` as ``Yes``/``No``, as in the ISLR ``Default`` data set).
Output ``/opt/ml/processing/{train,validation,test}/<split>.csv``: no header, label first (XGBoost CSV convention):
       ``default`` (1/0), ``student`` (1/0), ``balance``, ``income``.
       ``/opt/ml/processing/baseline/``: the drift baseline of the training split's features (what the endpoint is
       sent: ``student,balance,income``): ``statistics.json`` and ``constraints.json`` in SageMaker Model Monitor's
       documented shapes (per feature: type, presence, mean, spread, range and a 10-bucket histogram; completeness,
       sign and, for a feature of few values, its domain), and ``reference.csv``, a sample of up to
       ``--reference-rows`` training rows with a header, which the drift check compares captured traffic with.

Bad data exits non-zero with the reason in ``/opt/ml/output/message`` (SageMaker shows it as the job's ExitMessage
and failure reason). Paths honour ``SM_BASE_DIR`` (a prefix for every ``/opt/ml`` path; unset on SageMaker).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import numpy as np
import pandas as pd

LABEL = "default"
FEATURES = ("student", "balance", "income")
BINARY = {"yes": 1, "no": 0, "1": 1, "0": 0}


class DataError(Exception):
    """The input data cannot be used; the message says why."""


def opt_ml(path: str) -> str:
    """``path`` (absolute, under /opt/ml) inside ``SM_BASE_DIR`` when that is set (local runs)."""
    return os.environ.get("SM_BASE_DIR", "") + path


def _binary(column: pd.Series, name: str) -> pd.Series:
    mapped = column.astype(str).str.strip().str.lower().map(BINARY)
    bad = column[mapped.isna()]
    if not bad.empty:
        raise DataError(
            f"column {name!r} must be Yes/No (or 1/0); row {int(bad.index[0]) + 2} has {str(bad.iloc[0])!r} "
            f"({len(bad)} bad values)"
        )
    return mapped.astype(int)


def _numeric(column: pd.Series, name: str) -> pd.Series:
    converted = pd.to_numeric(column, errors="coerce")
    bad = column[converted.isna()]
    if not bad.empty:
        raise DataError(
            f"column {name!r} must be numeric; row {int(bad.index[0]) + 2} has {str(bad.iloc[0])!r} "
            f"({len(bad)} non-numeric values)"
        )
    return converted.astype(float)


def load(input_dir: str) -> pd.DataFrame:
    files = sorted(glob.glob(os.path.join(input_dir, "**", "*.csv"), recursive=True))
    if not files:
        raise DataError(f"no CSV file in the input {input_dir}")
    frames = []
    for path in files:
        if os.path.getsize(path) == 0:
            raise DataError(f"input file {os.path.basename(path)} is empty")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError as exc:
            raise DataError(f"input file {os.path.basename(path)} is empty") from exc
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    missing = [c for c in (LABEL, *FEATURES) if c not in data.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; expected {LABEL} (label), {', '.join(FEATURES)}; "
            f"found {', '.join(data.columns) or 'none'}"
        )
    if data.empty:
        raise DataError("input has a header but no rows")
    return data


def transform(data: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            LABEL: _binary(data[LABEL], LABEL),
            "student": _binary(data["student"], "student"),
            "balance": _numeric(data["balance"], "balance"),
            "income": _numeric(data["income"], "income"),
        }
    )


def split(data: pd.DataFrame, train: float, validation: float, seed: int) -> dict[str, pd.DataFrame]:
    """Stratified split (the positive class is rare: ~3 %)."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[pd.DataFrame]] = {"train": [], "validation": [], "test": []}
    for _, group in data.groupby(LABEL):
        order = rng.permutation(len(group))
        n_train = round(len(group) * train)
        n_validation = round(len(group) * validation)
        parts["train"].append(group.iloc[order[:n_train]])
        parts["validation"].append(group.iloc[order[n_train : n_train + n_validation]])
        parts["test"].append(group.iloc[order[n_train + n_validation :]])
    result = {}
    for name, frames in parts.items():
        frame = pd.concat(frames)
        result[name] = frame.iloc[rng.permutation(len(frame))]
        if result[name].empty:
            raise DataError(f"the {name} split is empty: {len(data)} rows are too few")
    return result


BUCKETS = 10  # Model Monitor materialises its distributions in 10 buckets
DOMAIN_MAX_VALUES = 20  # a feature with at most this many distinct values gets a domain constraint
MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}


def _inferred_type(column: pd.Series) -> str:
    return "Integral" if pd.api.types.is_integer_dtype(column) else "Fractional"


def _histogram(values: np.ndarray) -> list[dict[str, float]]:
    counts, edges = np.histogram(values, bins=BUCKETS)
    return [
        {"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": float(counts[i])}
        for i in range(len(counts))
    ]


def feature_statistics(name: str, column: pd.Series) -> dict:
    """One feature's entry of statistics.json (numerical: every feature here is a number after preprocessing)."""
    present = column.dropna()
    values = present.to_numpy(dtype=float)
    return {
        "name": name,
        "inferred_type": _inferred_type(column),
        "numerical_statistics": {
            "common": {"num_present": len(present), "num_missing": int(len(column) - len(present))},
            "mean": float(values.mean()),
            "sum": float(values.sum()),
            "std_dev": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
            "distribution": {"kll": {"buckets": _histogram(values)}},
        },
    }


def feature_constraints(name: str, column: pd.Series) -> dict:
    """One feature's entry of constraints.json: its type, completeness, sign, and domain when it has few values."""
    entry: dict = {
        "name": name,
        "inferred_type": _inferred_type(column),
        "completeness": float(column.notna().mean()),
        "num_constraints": {"is_non_negative": bool((column.dropna() >= 0).all())},
    }
    distinct = sorted(column.dropna().unique().tolist())
    if len(distinct) <= DOMAIN_MAX_VALUES:
        entry["string_constraints"] = {"domains": [str(v) for v in distinct]}
    return entry


def write_baseline(train: pd.DataFrame, out_dir: str, reference_rows: int, seed: int) -> None:
    """statistics.json, constraints.json and reference.csv of the training split's features."""
    features = train[list(FEATURES)]
    statistics = {
        "version": 0.0,
        "dataset": {"item_count": len(features)},
        "features": [feature_statistics(name, features[name]) for name in FEATURES],
    }
    constraints = {
        "version": 0.0,
        "features": [feature_constraints(name, features[name]) for name in FEATURES],
        "monitoring_config": MONITORING_CONFIG,
    }
    os.makedirs(out_dir, exist_ok=True)
    for file_name, body in (("statistics.json", statistics), ("constraints.json", constraints)):
        with open(os.path.join(out_dir, file_name), "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2)
    sample = features.sample(n=min(reference_rows, len(features)), random_state=seed)
    sample.to_csv(os.path.join(out_dir, "reference.csv"), index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-ratio", type=float, default=0.7)
    parser.add_argument("--validation-ratio", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reference-rows", type=int, default=2000)
    args = parser.parse_args(argv)
    base = opt_ml("/opt/ml/processing")
    try:
        data = transform(load(os.path.join(base, "input", "raw")))
        splits = split(data, args.train_ratio, args.validation_ratio, args.seed)
    except DataError as exc:
        message = f"Invalid input data: {exc}"
        print(message, file=sys.stderr)
        os.makedirs(opt_ml("/opt/ml/output"), exist_ok=True)
        with open(opt_ml("/opt/ml/output/message"), "w", encoding="utf-8") as handle:
            handle.write(message)
        return 1
    for name, frame in splits.items():
        out_dir = os.path.join(base, name)
        os.makedirs(out_dir, exist_ok=True)
        frame.to_csv(os.path.join(out_dir, f"{name}.csv"), header=False, index=False)
        print(f"{name}: {len(frame)} rows, {int(frame[LABEL].sum())} positive")
    write_baseline(splits["train"], os.path.join(base, "baseline"), args.reference_rows, args.seed)
    print(f"baseline: statistics and constraints of {', '.join(FEATURES)}, reference sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
