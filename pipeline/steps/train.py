"""Training step (XGBoost framework container, script mode): binary classifier of credit-card default.

SageMaker runs ``python train.py --num_round 100 --max_depth 4 ...`` with ``SM_CHANNEL_TRAIN``,
``SM_CHANNEL_VALIDATION`` and ``SM_MODEL_DIR`` set; the embedded AWS runs it the same way. Data: CSV, no header,
label first.

Managed Spot: a checkpoint ``xgboost-checkpoint.<rounds>`` is written every ``--checkpoint_frequency`` rounds to
``/opt/ml/checkpoints`` (SageMaker syncs that folder with ``CheckpointConfig.S3Uri``); on start the newest one is
loaded and training continues from it, so rounds done before an interruption are not redone.

The model is saved as ``$SM_MODEL_DIR/xgboost-model``, the file the SageMaker XGBoost serving container loads.
On failure the reason goes to ``/opt/ml/output/failure`` (SageMaker's FailureReason). ``/opt/ml`` paths honour the
``SM_BASE_DIR`` prefix (unset on SageMaker).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import traceback

import numpy as np
import xgboost as xgb

CHECKPOINT_PREFIX = "xgboost-checkpoint."
MODEL_FILE = "xgboost-model"


def opt_ml(path: str) -> str:
    return os.environ.get("SM_BASE_DIR", "") + path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="XGBoost training with Spot checkpoints")
    parser.add_argument("--num_round", type=int, default=100)
    parser.add_argument("--max_depth", type=int, default=4)
    parser.add_argument("--eta", type=float, default=0.2)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--min_child_weight", type=float, default=1.0)
    parser.add_argument("--scale_pos_weight", type=float, default=1.0)
    parser.add_argument("--checkpoint_frequency", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", opt_ml("/opt/ml/input/data/train")))
    parser.add_argument(
        "--validation", default=os.environ.get("SM_CHANNEL_VALIDATION", opt_ml("/opt/ml/input/data/validation"))
    )
    parser.add_argument("--model_dir", default=os.environ.get("SM_MODEL_DIR", opt_ml("/opt/ml/model")))
    parser.add_argument("--checkpoint_dir", default=opt_ml("/opt/ml/checkpoints"))
    args, _unknown = parser.parse_known_args(argv)  # the container may pass extra framework arguments
    return args


def load_csv(channel_dir: str, name: str) -> xgb.DMatrix:
    files = sorted(glob.glob(os.path.join(channel_dir, "*.csv")))
    if not files:
        raise ValueError(f"channel {name!r} has no CSV file in {channel_dir}")
    data = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    if data.shape[0] == 0 or data.shape[1] < 2:
        raise ValueError(f"channel {name!r} needs rows of label + features, got shape {data.shape}")
    return xgb.DMatrix(data[:, 1:], label=data[:, 0])


def newest_checkpoint(checkpoint_dir: str) -> tuple[str, int] | None:
    found = []
    for path in glob.glob(os.path.join(checkpoint_dir, CHECKPOINT_PREFIX + "*")):
        match = re.fullmatch(re.escape(CHECKPOINT_PREFIX) + r"(\d+)", os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    if not found:
        return None
    rounds, path = max(found)
    return path, rounds


class Checkpoint(xgb.callback.TrainingCallback):
    """Saves the booster every ``frequency`` rounds (atomic rename: a reader never sees half a file)."""

    def __init__(self, directory: str, frequency: int) -> None:
        super().__init__()
        self.directory = directory
        self.frequency = max(1, frequency)

    def after_iteration(self, model, epoch, evals_log) -> bool:
        rounds = model.num_boosted_rounds()
        scores = ", ".join(
            f"{data}-{metric}:{values[-1]:.5f}" for data, m in evals_log.items() for metric, values in m.items()
        )
        print(f"round {rounds}: {scores}", flush=True)
        if rounds % self.frequency == 0:
            os.makedirs(self.directory, exist_ok=True)
            target = os.path.join(self.directory, f"{CHECKPOINT_PREFIX}{rounds}")
            model.save_model(target + ".tmp.json")
            os.replace(target + ".tmp.json", target)
            print(f"checkpoint {os.path.basename(target)} saved", flush=True)
        return False


def train(args: argparse.Namespace) -> xgb.Booster:
    dtrain = load_csv(args.train, "train")
    dvalidation = load_csv(args.validation, "validation")
    params = {
        "objective": "binary:logistic",
        "eval_metric": ["auc", "logloss"],
        "max_depth": args.max_depth,
        "eta": args.eta,
        "subsample": args.subsample,
        "min_child_weight": args.min_child_weight,
        "scale_pos_weight": args.scale_pos_weight,
        "seed": args.seed,
        "tree_method": "hist",
    }
    previous = None
    done = 0
    checkpoint = newest_checkpoint(args.checkpoint_dir)
    if checkpoint:
        path, done = checkpoint
        previous = xgb.Booster()
        with open(path, "rb") as handle:  # by content: the file name has no format extension
            previous.load_model(bytearray(handle.read()))
        done = previous.num_boosted_rounds()
        print(f"resuming from checkpoint {os.path.basename(path)}: {done} of {args.num_round} rounds done", flush=True)
    else:
        print(f"no checkpoint in {args.checkpoint_dir}: training {args.num_round} rounds from scratch", flush=True)
    remaining = max(0, args.num_round - done)
    if remaining == 0 and previous is not None:
        return previous
    return xgb.train(
        params,
        dtrain,
        num_boost_round=remaining,
        evals=[(dtrain, "train"), (dvalidation, "validation")],
        xgb_model=previous,
        callbacks=[Checkpoint(args.checkpoint_dir, args.checkpoint_frequency)],
        verbose_eval=False,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        booster = train(args)
        os.makedirs(args.model_dir, exist_ok=True)
        # JSON content under the serving container's file name: loadable by every XGBoost version since 1.0.
        with open(os.path.join(args.model_dir, MODEL_FILE), "wb") as handle:
            handle.write(booster.save_raw(raw_format="json"))
        summary = {"num_round": booster.num_boosted_rounds(), "best_score": booster.attributes().get("best_score")}
        print(f"model saved: {json.dumps(summary)}", flush=True)
    except Exception as exc:
        traceback.print_exc()
        os.makedirs(opt_ml("/opt/ml/output"), exist_ok=True)
        with open(opt_ml("/opt/ml/output/failure"), "w", encoding="utf-8") as handle:
            handle.write(f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
