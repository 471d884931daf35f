"""Cold start of every function of template.yaml: handler import time against bare ``import boto3``, and code size.

For each function the handler module is imported in a fresh interpreter (as a new Lambda execution environment
does), with the function's environment from the template resolved on the embedded AWS, tracing enabled as under
``Tracing: Active``. The median of several runs is divided by the median of ``import boto3`` measured in the same
run, alternating, so machine load affects both alike. Target: <= 1.5.

Size: the unzipped code of the function plus the shared layer, both as ``sam build`` ships them (``make build``, the
step ``make test`` runs: ``.aws-sam/build/``; the layer is its Makefile's arm64 wheels, the unused parts of Powertools
left out, and the domain package). Imports are timed on the working tree and this interpreter's packages, as the
arm64 wheels do not load here. Target: <= 10 MB.

    python bench/cold_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import site
import statistics
import subprocess
import sys
from pathlib import Path

from local.aws import EmbeddedAWS
from local.stack import LocalStack

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({module!r}); "
    "print(time.perf_counter() - t)"
)


def import_seconds(module: str, env: dict[str, str], cwd: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-S", "-P", "-c", PROBE.format(module=module)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def lambda_env(function_env: dict[str, str]) -> dict[str, str]:
    env = dict(function_env)
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # Tracing: Active in Lambda
    env.pop("AWS_ENDPOINT_URL", None)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def sam_build() -> Path:
    """``make build`` (``sam build``, cached by content) and its output folder."""
    command = ["make", "--no-print-directory", "-C", str(ROOT), "build"]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"make build failed:\n{done.stdout}{done.stderr}")
    return ROOT / ".aws-sam" / "build"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    with EmbeddedAWS() as aws:
        stack = LocalStack(aws, env="dev")
        stack.deploy()
        functions = {lid: (spec, lambda_env(stack.function_env(lid))) for lid, spec in sorted(stack.functions.items())}

    built = sam_build()
    layer = built / "SharedLayer" / "python"
    domain = tree_bytes(layer / "sm_lifecycle")
    deps = tree_bytes(layer) - domain
    # the reference sees the interpreter's packages as a function does (Lambda's runtime path), nothing else
    reference_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    reference_env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())

    print(f"cold start: handler import / bare `import boto3` (median of {args.runs} fresh processes; target <= 1.5)")
    print(f"{'function':<24}{'handler ms':>12}{'boto3 ms':>10}{'ratio':>8}{'code+layer MB':>16}")
    worst = 0.0
    for logical_id, (spec, env) in functions.items():
        module = spec.handler.rsplit(".", 1)[0]
        handler_runs, boto3_runs = [], []
        for _ in range(args.runs):
            handler_runs.append(import_seconds(module, env, spec.code_dir))
            boto3_runs.append(import_seconds("boto3", reference_env, ROOT))
        handler, boto3 = statistics.median(handler_runs), statistics.median(boto3_runs)
        ratio = handler / boto3
        worst = max(worst, ratio)
        size_mb = (tree_bytes(built / logical_id) + domain + deps) / 1e6
        print(f"{logical_id:<24}{handler * 1e3:>12.0f}{boto3 * 1e3:>10.0f}{ratio:>8.2f}{size_mb:>16.1f}")
    print(f"layer (sam build): {deps / 1e6:.1f} MB of arm64 dependencies + {domain / 1e6:.2f} MB domain package")
    print(f"worst ratio: {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
