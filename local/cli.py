"""``python -m local``: run the stack of template.yaml on the embedded AWS.

    python -m local serve  [--env dev] [--port N] [--delays demo|zero]   # prints one JSON line, runs until signalled
    python -m local serve  --env all                  # dev (registry), staging, prod, each in its account
    python -m local replay [--env dev] [--standalone] PATH...            # one JSON line per handler invocation
    python -m local demo   [--env dev]

Machine-readable output goes to stdout; logs (including the handlers' logs) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger("local")

DEFAULT_TEMPLATE = "template.yaml"
DELAYS = {
    # (Lambda's waits before the 2nd and 3rd attempt, SageMaker timings preset)
    "zero": (0.0, 0.0),
    "demo": (1.0, 2.0),
}


def _timings(delays: str) -> Any:
    from local.aws import Timings  # noqa: PLC0415 - keep `--help` fast

    return Timings.demo() if delays == "demo" else Timings()


def _start(args: argparse.Namespace, delays: str) -> tuple[Any, Any, Any]:
    """Embedded AWS up, the template deployed and started, pipelines runnable: ``(aws, stack, pipeline_runner)``."""
    from local.aws import EmbeddedAWS  # noqa: PLC0415
    from local.pipelines import PipelineRunner  # noqa: PLC0415
    from local.stack import LocalStack  # noqa: PLC0415
    from pipeline.config import git_sha  # noqa: PLC0415

    aws = EmbeddedAWS(region=args.region, port=getattr(args, "port", 0), timings=_timings(delays)).start()
    try:
        stack = LocalStack(
            aws,
            env=args.env,
            template_path=args.template,
            retry_delays=DELAYS[delays],
            parameter_overrides={**_git_sha_parameter(args.template, git_sha), **_parameters(args)},
        )
        stack.deploy()
        stack.start()
        # StartPipelineExecution on this embedded AWS runs the pipeline's own definition, steps as subprocesses.
        runner = PipelineRunner(aws).install()
    except BaseException:
        aws.stop()
        raise
    return aws, stack, runner


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    """``--parameter KEY=VALUE`` overrides, over samconfig.toml's (as ``sam deploy --parameter-overrides``)."""
    pairs = [item.partition("=") for item in getattr(args, "parameter", None) or []]
    return {key: value for key, _, value in pairs}


def _git_sha_parameter(template: str, git_sha: Any) -> dict[str, str]:
    """``GitSha`` = the working tree's commit, as ``make deploy`` would pass it, when the template declares it."""
    from local.stack.template import PROJECT_ROOT, read_yaml  # noqa: PLC0415

    path = Path(template) if Path(template).is_absolute() else PROJECT_ROOT / template
    return {"GitSha": git_sha()} if "GitSha" in read_yaml(path).get("Parameters", {}) else {}


def _stop(aws: Any, stack: Any, runner: Any) -> None:
    runner.uninstall()
    stack.stop()
    aws.stop()


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, default=str) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------------------- serve
def _until_signalled() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    logger.info("stopping")


def serve_all(args: argparse.Namespace) -> int:
    """Every environment's stack in its account (``--env all``): one JSON line with each stack's account, outputs
    and credentials acting in that account; each environment's ready file for the operator commands."""
    from local.aws import EmbeddedAWS  # noqa: PLC0415
    from local.pipelines import PipelineRunner  # noqa: PLC0415
    from local.stack.landscape import ENVIRONMENTS, Landscape  # noqa: PLC0415
    from pipeline.config import git_sha  # noqa: PLC0415
    from tools.stackinfo import serve_file  # noqa: PLC0415

    aws = EmbeddedAWS(region=args.region, port=args.port, timings=_timings(args.delays)).start()
    landscape = Landscape(
        aws,
        ENVIRONMENTS,
        template_path=args.template,
        retry_delays=DELAYS[args.delays],
        parameter_overrides=_git_sha_parameter(args.template, git_sha),
    )
    runner = None
    files: list[Path] = []
    try:
        landscape.deploy()
        landscape.start()
        runner = PipelineRunner(aws).install()
        aws.control.idle_waiter = landscape.wait_idle
        stacks = {}
        for env, stack in landscape.stacks.items():
            credentials = aws.account_credentials(stack.account_id)
            stacks[env] = {
                "account_id": stack.account_id,
                "stack_name": stack.stack_name,
                "outputs": stack.outputs,
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key,
            }
            ready = {"endpoint_url": aws.endpoint_url, "region": aws.region, "env": env, **stacks[env]}
            files.append(serve_file(env))
            files[-1].parent.mkdir(parents=True, exist_ok=True)
            files[-1].write_text(json.dumps(ready, default=str), encoding="utf-8")
        _emit({"endpoint_url": aws.endpoint_url, "region": aws.region, "stacks": stacks})
        logger.info("serving %s on %s; Ctrl-C to stop", ", ".join(landscape.stacks), aws.endpoint_url)
        _until_signalled()
    finally:
        for file in files:
            file.unlink(missing_ok=True)
        if runner is not None:
            runner.uninstall()
        landscape.stop()
        aws.stop()
    return 0


def serve(args: argparse.Namespace) -> int:
    if args.env == "all":
        return serve_all(args)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    from tools.stackinfo import serve_file  # noqa: PLC0415

    aws, stack, runner = _start(args, args.delays)
    # the control action wait_idle (the only wait other processes have) waits for the stack's functions too
    aws.control.idle_waiter = stack.wait_idle
    ready_file = serve_file(args.env)
    try:
        ready = {
            "endpoint_url": aws.endpoint_url,
            "region": aws.region,
            "account_id": aws.account_id,
            "env": args.env,
            "stack_name": stack.stack_name,
            "outputs": stack.outputs,
            "functions": {logical_id: spec.name for logical_id, spec in stack.functions.items()},
        }
        # Operator commands (make approve / run-pipeline / artifacts / monitor) find the served stack here.
        ready_file.parent.mkdir(parents=True, exist_ok=True)
        ready_file.write_text(json.dumps(ready, default=str), encoding="utf-8")
        _emit(ready)
        logger.info("serving %s on %s; Ctrl-C to stop", stack.stack_name, aws.endpoint_url)
        while not stop.wait(0.5):
            pass
        logger.info("stopping")
    finally:
        ready_file.unlink(missing_ok=True)
        _stop(aws, stack, runner)
    return 0


# ---------------------------------------------------------------------------------------------------------- replay
def read_events(paths: Sequence[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(file, event)`` for every event of the given files and folders (``*.json``; one event or a list)."""
    for raw in paths:
        path = Path(raw)
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        for file in files:
            content = json.loads(file.read_text(encoding="utf-8"))
            for event in content if isinstance(content, list) else [content]:
                if not isinstance(event, dict):
                    raise ValueError(f"{file}: an event must be a JSON object")
                yield str(file), event


def replay(args: argparse.Namespace) -> int:
    """Feed the served stack of the environment (``make serve``) when one runs, else a stack of its own."""
    events = list(read_events(args.paths))
    if not events:
        logger.error("no events in %s", ", ".join(args.paths))
        return 2
    from tools.stackinfo import served_stack  # noqa: PLC0415

    # a served stack runs template.yaml: another template, or --standalone, gets a stack of its own
    own = args.standalone or args.template != DEFAULT_TEMPLATE
    served = None if own else served_stack(args.env)
    if served is not None:
        return replay_on_served(served, events, args.timeout)
    return replay_standalone(args, events)


def replay_on_served(served: Any, events: list[tuple[str, dict[str, Any]]], timeout: float) -> int:
    """Put the events on a served stack's EventBridge: one JSON line per event (its id); the served process runs
    the functions, whose outcomes ``make monitor`` and the functions' logs show."""
    from local.aws.control_client import ControlClient  # noqa: PLC0415
    from local.stack.events import put_events  # noqa: PLC0415

    ids = put_events(served.endpoint_url, served.client, [event for _, event in events])
    ControlClient(served.endpoint_url).call("wait_idle", timeout=timeout)
    for (file, event), event_id in zip(events, ids, strict=True):
        line = {"file": file, "detail_type": event.get("detail-type"), "event_id": event_id}
        _emit({**line, "served": served.endpoint_url})
    logger.info("%d events sent to the served stack at %s: see make monitor", len(ids), served.endpoint_url)
    return 0


def replay_standalone(args: argparse.Namespace, events: list[tuple[str, dict[str, Any]]]) -> int:
    aws, stack, runner = _start(args, args.delays)
    try:
        ids = stack.put_events([event for _, event in events])
        stack.wait_idle(args.timeout)
        for (file, event), event_id in zip(events, ids, strict=True):
            records = sorted(stack.records_for(event_id), key=lambda record: record["function"])
            if not records:
                logger.info("%s: %s matched no rule", file, event.get("detail-type"))
            for record in records:
                _emit({"file": file, "detail_type": event.get("detail-type"), **record})
    finally:
        _stop(aws, stack, runner)
    return 0


# ---------------------------------------------------------------------------------------------------------- demo
def demo(args: argparse.Namespace) -> int:
    """The whole lifecycle, narrated (see local/demo.py)."""
    from local.demo import Demo  # noqa: PLC0415

    return Demo(args.env).run()


# ---------------------------------------------------------------------------------------------------------- main
def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n\n")[0])
    root.add_argument("--log-level", help="log level of the runtime and handlers on stderr (INFO; demo: WARNING)")
    commands = root.add_subparsers(dest="command", required=True)

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument("--env", default="dev", help="samconfig.toml environment (dev, staging, prod; serve: all)")
        command.add_argument("--template", default=DEFAULT_TEMPLATE, help="SAM template (default: template.yaml)")
        command.add_argument("--region", default="us-east-1")

    serve_cmd = commands.add_parser("serve", help="embedded AWS + the stack; prints one JSON line, runs until stopped")
    common(serve_cmd)
    serve_cmd.add_argument("--port", type=int, default=0, help="port of the embedded AWS (default: any free port)")
    serve_cmd.add_argument("--delays", choices=sorted(DELAYS), default="demo", help="retry and SageMaker delays")
    serve_cmd.add_argument(
        "--parameter", action="append", metavar="KEY=VALUE", help="a stack parameter over samconfig.toml's (repeatable)"
    )
    serve_cmd.set_defaults(func=serve)

    replay_cmd = commands.add_parser(
        "replay", help="put events through EventBridge (the served stack's, else its own); one JSON line each"
    )
    common(replay_cmd)
    replay_cmd.add_argument("paths", nargs="+", metavar="PATH", help="event file (one event or a list) or folder")
    replay_cmd.add_argument("--delays", choices=sorted(DELAYS), default="zero")
    replay_cmd.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the stack to settle")
    replay_cmd.add_argument(
        "--standalone", action="store_true", help="start a stack of its own even when `serve` runs one for the env"
    )
    replay_cmd.set_defaults(func=replay)

    demo_cmd = commands.add_parser("demo", help="the whole model lifecycle on the embedded AWS, narrated")
    common(demo_cmd)
    demo_cmd.set_defaults(func=demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = args.log_level or ("WARNING" if args.command == "demo" else "INFO")
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "samtranslator"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except Exception:
        logger.exception("%s failed", args.command)
        return 1
