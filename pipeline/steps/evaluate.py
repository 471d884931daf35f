"""Evaluation step: metrics of the trained model on the test split, as a SageMaker model-quality statistics report.

Runs in the SageMaker XGBoost container (processing). Inputs ``/opt/ml/processing/model/model.tar.gz`` and
``/opt/ml/processing/test/*.csv`` (no header, label first); output ``/opt/ml/processing/evaluation/evaluation.json``
in the shape of Model Monitor's model quality ``binary_classification_metrics`` (each metric
``{"value": ..., "standard_deviation": ...}``; the deviation is computed as Model Monitor does: five random 80 %
samples, only from 200 rows on, else ``"NaN"``). ``/opt/ml`` paths honour ``SM_BASE_DIR`` (unset on SageMaker).
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import sys
import tarfile
import tempfile

import numpy as np
import xgboost as xgb
from sklearn import metrics

MIN_ROWS_FOR_DEVIATION = 200


def opt_ml(path: str) -> str:
    return os.environ.get("SM_BASE_DIR", "") + path


def load_model(model_dir: str) -> xgb.Booster:
    archives = glob.glob(os.path.join(model_dir, "*.tar.gz"))
    if not archives:
        raise ValueError(f"no model.tar.gz in {model_dir}")
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archives[0]) as archive:
            archive.extractall(tmp, filter="data")
        path = os.path.join(tmp, "xgboost-model")
        if not os.path.exists(path):
            raise ValueError(f"{os.path.basename(archives[0])} has no xgboost-model file")
        return xgb.Booster(model_file=path)


def load_test(test_dir: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(glob.glob(os.path.join(test_dir, "*.csv")))
    if not files:
        raise ValueError(f"no test CSV in {test_dir}")
    data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return data[:, 1:], data[:, 0].astype(int)


def _scores(y: np.ndarray, prob: np.ndarray, threshold: float) -> dict[str, float]:
    pred = (prob >= threshold).astype(int)
    tn, fp, fn, tp = metrics.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    positives, negatives = tp + fn, tn + fp
    majority = 1 if positives > negatives else 0
    constant = np.full_like(y, majority)
    both_classes = len(np.unique(y)) == 2
    return {
        "recall": metrics.recall_score(y, pred, zero_division=0),
        "precision": metrics.precision_score(y, pred, zero_division=0),
        "accuracy": metrics.accuracy_score(y, pred),
        "recall_best_constant_classifier": metrics.recall_score(y, constant, zero_division=0),
        "precision_best_constant_classifier": metrics.precision_score(y, constant, zero_division=0),
        "accuracy_best_constant_classifier": metrics.accuracy_score(y, constant),
        "true_positive_rate": tp / positives if positives else 0.0,
        "true_negative_rate": tn / negatives if negatives else 0.0,
        "false_positive_rate": fp / negatives if negatives else 0.0,
        "false_negative_rate": fn / positives if positives else 0.0,
        "auc": metrics.roc_auc_score(y, prob) if both_classes else float("nan"),
        "f0_5": metrics.fbeta_score(y, pred, beta=0.5, zero_division=0),
        "f1": metrics.f1_score(y, pred, zero_division=0),
        "f2": metrics.fbeta_score(y, pred, beta=2.0, zero_division=0),
        "f0_5_best_constant_classifier": metrics.fbeta_score(y, constant, beta=0.5, zero_division=0),
        "f1_best_constant_classifier": metrics.f1_score(y, constant, zero_division=0),
        "f2_best_constant_classifier": metrics.fbeta_score(y, constant, beta=2.0, zero_division=0),
    }


def report(y: np.ndarray, prob: np.ndarray, threshold: float, seed: int = 0) -> dict:
    values = _scores(y, prob, threshold)
    deviations: dict[str, list[float]] = {name: [] for name in values}
    if len(y) >= MIN_ROWS_FOR_DEVIATION:
        rng = np.random.default_rng(seed)
        for _ in range(5):
            sample = rng.choice(len(y), size=int(len(y) * 0.8), replace=False)
            for name, value in _scores(y[sample], prob[sample], threshold).items():
                deviations[name].append(value)
    pred = (prob >= threshold).astype(int)
    matrix = metrics.confusion_matrix(y, pred, labels=[0, 1])
    fpr, tpr, _ = metrics.roc_curve(y, prob)
    precision, recall, _ = metrics.precision_recall_curve(y, prob)

    def _metric(name: str) -> dict:
        value = values[name]
        spread = deviations[name]
        return {
            "value": None if np.isnan(value) else float(value),
            "standard_deviation": float(np.std(spread)) if spread else "NaN",
        }

    body = {
        "confusion_matrix": {
            str(actual): {str(predicted): int(matrix[actual][predicted]) for predicted in (0, 1)} for actual in (0, 1)
        },
        **{name: _metric(name) for name in values},
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": [float(v) for v in fpr],
            "true_positive_rates": [float(v) for v in tpr],
        },
        "precision_recall_curve": {
            "precisions": [float(v) for v in precision],
            "recalls": [float(v) for v in recall],
        },
    }
    return {
        "version": 0.0,
        "dataset": {
            "item_count": len(y),
            "evaluation_time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
        "binary_classification_metrics": body,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5, help="probability from which a row is predicted 1")
    args = parser.parse_args(argv)
    base = opt_ml("/opt/ml/processing")
    try:
        booster = load_model(os.path.join(base, "model"))
        features, labels = load_test(os.path.join(base, "test"))
        probabilities = booster.predict(xgb.DMatrix(features))
        result = report(labels, probabilities, args.threshold)
    except Exception as exc:
        message = f"Evaluation failed: {type(exc).__name__}: {exc}"
        print(message, file=sys.stderr)
        os.makedirs(opt_ml("/opt/ml/output"), exist_ok=True)
        with open(opt_ml("/opt/ml/output/message"), "w", encoding="utf-8") as handle:
            handle.write(message)
        return 1
    out_dir = os.path.join(base, "evaluation")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "evaluation.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    summary = {k: result["binary_classification_metrics"][k]["value"] for k in ("auc", "f1", "precision", "recall")}
    print(f"evaluation: {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
