"""``python -m tools.event_entries [--out DIR] PATH...``: the events of files or folders (EventBridge's delivered
shape, as in ``events/``) as PutEvents entry files for the AWS CLI, and the commands that send them.

    python -m tools.event_entries events/
    aws events put-events --entries file://.local/entries/pipeline-execution-failed.json [--endpoint-url ...]

Events of AWS services (``aws.*`` sources, e.g. every SageMaker sample) are refused by PutEvents on AWS
(``NotAuthorizedForSourceException``) and on the embedded AWS alike: only the service itself sends them. For a
served local stack they are written as the body of the embedded AWS's control action ``put_service_events``
instead, with the ``curl`` command that posts it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from local.cli import read_events
from local.stack.events import PUT_EVENTS_BATCH, is_service_event
from tools.stackinfo import LOCAL_STATE, served_stack


def entry(event: Mapping[str, Any]) -> dict[str, Any]:
    """The PutEvents entry of an event, JSON as the AWS CLI reads it (``Time`` as the event's own string)."""
    result: dict[str, Any] = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event.get("detail", {})),
        "Resources": list(event.get("resources", [])),
    }
    if event.get("time"):
        result["Time"] = str(event["time"])
    return result


def write(events: Iterable[tuple[str, dict[str, Any]]], out: Path, endpoint_url: str | None) -> list[str]:
    """Write one file per source file (entries, or a control-action body for service events); the commands."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for file, event in events:
        by_file.setdefault(file, []).append(event)
    out.mkdir(parents=True, exist_ok=True)
    commands = []
    endpoint = f" --endpoint-url {endpoint_url}" if endpoint_url else ""
    for file, group in by_file.items():
        stem = Path(file).stem
        service = [e for e in group if is_service_event(e)]
        customer = [entry(e) for e in group if not is_service_event(e)]
        for start in range(0, len(customer), PUT_EVENTS_BATCH):
            path = out / f"{stem}-{start // PUT_EVENTS_BATCH + 1}.entries.json"
            path.write_text(json.dumps(customer[start : start + PUT_EVENTS_BATCH], indent=2), encoding="utf-8")
            commands.append(f"aws events put-events --entries file://{path}{endpoint}")
        if service:
            path = out / f"{stem}.service-events.json"
            path.write_text(json.dumps({"action": "put_service_events", "events": service}, indent=2), "utf-8")
            url = endpoint_url or "$AWS_ENDPOINT_URL"
            commands.append(f"curl -sS -X POST {url}/_local/control --data @{path}  # aws.* sources: the service only")
    return commands


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.event_entries", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="event file (one event or a list) or folder")
    parser.add_argument("--out", type=Path, default=LOCAL_STATE / "entries", help="folder for the entry files")
    parser.add_argument("--env", default="dev", help="the served stack whose endpoint the commands name")
    args = parser.parse_args(argv)
    served = served_stack(args.env)
    for command in write(read_events(args.paths), args.out, served.endpoint_url if served else None):
        print(command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
