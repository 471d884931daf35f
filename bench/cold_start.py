"""Cold start of every function of template.yaml: handler import time against bare ``import boto3``, and code size.

For each function the handler module is imported in a fresh interpreter (as a new Lambda execution environment
does), with the function's environment from the template resolved on the embedded AWS, tracing enabled as under
``Tracing: Active``. The median of several runs is divided by the median of ``import boto3`` measured in the same
run, alternating, so machine load affects both alike. Target: <= 1.5.

Size: the unzipped code of the function plus the shared layer as ``sam build`` makes it (the layer's own Makefile
target: arm64 wheels of its requirements, the unused parts of Powertools left out, the domain package); the
dependencies are built once per version of the requirements and the Makefile (cached under .local/bench).
Target: <= 10 MB.

    python bench/cold_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import site
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from local.aws import EmbeddedAWS
from local.stack import LocalStack

ROOT = Path(__file__).resolve().parent.parent

LAYER = ROOT / "layers" / "shared"
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


def layer_dependencies() -> Path:
    """The layer's dependencies as ``sam build`` ships them, built with its Makefile; cached by content."""
    recipe = (LAYER / "requirements.txt").read_bytes() + (LAYER / "Makefile").read_bytes()
    target = ROOT / ".local" / "bench" / f"layer-{hashlib.sha256(recipe).hexdigest()[:12]}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        built = Path(tempfile.mkdtemp(dir=target.parent))
        subprocess.run(
            ["make", "--no-print-directory", "-C", str(LAYER), "build-SharedLayer", f"ARTIFACTS_DIR={built}",
             f"PYTHON={sys.executable}"],
            check=True,
        )  # fmt: skip
        shutil.rmtree(built / "python" / "sm_lifecycle")  # measured from the working tree, below
        (built / "python").rename(target)
        built.rmdir()
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    with EmbeddedAWS() as aws:
        stack = LocalStack(aws, env="dev")
        stack.deploy()
        functions = {lid: (spec, lambda_env(stack.function_env(lid))) for lid, spec in sorted(stack.functions.items())}

    deps = tree_bytes(layer_dependencies())
    domain = tree_bytes(LAYER / "python" / "sm_lifecycle")
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
        size_mb = (tree_bytes(spec.code_dir) + domain + deps) / 1e6
        print(f"{logical_id:<24}{handler * 1e3:>12.0f}{boto3 * 1e3:>10.0f}{ratio:>8.2f}{size_mb:>16.1f}")
    print(f"layer: {deps / 1e6:.1f} MB of dependencies (arm64 wheels) + {domain / 1e6:.2f} MB domain package")
    print(f"worst ratio: {worst:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
