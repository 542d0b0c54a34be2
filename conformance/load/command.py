"""The `dm20-conformance load` subcommand: its options and what it prints (the CLI registers it
with `add_parser`). The asyncio engine (runner.py) runs in this process; the locust engine
(distributed.py) runs Locust's master and workers as processes of their own."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from conformance.dut import bundled_dut, load_dut
from conformance.load.distributed import LocustSettings, locust_missing, run_locust
from conformance.load.runner import LoadError, LoadSettings, run_load


def _say(text: str) -> None:
    print(text, flush=True)


def cmd_load(args: argparse.Namespace) -> int:
    """Exit status: 0 when sessions completed and no exchange broke a requirement, 1 otherwise,
    2 when the load could not run."""
    if args.engine == "locust" and (missing := locust_missing()):
        print(f"dm20-conformance load: {missing}", file=sys.stderr)
        return 2
    dut = load_dut(args.dut or bundled_dut("server"))
    settings = LoadSettings(
        devices=args.devices,
        duration_s=args.duration,
        rate=args.rate,
        timeout_s=args.timeout,
        enqueue=args.enqueue,
        ramp_s=args.ramp,
    )
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="dm20-load-"))
    print(f"dm20-conformance load: work folder {work} (server and enqueue logs)", flush=True)
    where = LocustSettings(
        workers=args.workers,
        expect_workers=args.expect_workers,
        master_host=args.master_host,
        master_port=args.master_port,
        workers_wait_s=args.workers_wait,
        html=args.html or "",
    )
    try:
        if args.engine == "locust":
            stats = run_locust(dut, settings, where, work, _say)
        else:
            stats = run_load(dut, settings, work, _say)
    except LoadError as exc:
        print(f"dm20-conformance load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dm20-conformance load: interrupted before the load started", file=sys.stderr)
        return 130
    print(stats.report())
    if args.json:
        data = {"dut": str(dut.path), "engine": args.engine, "settings": asdict(settings)}
        if args.engine == "locust":
            data["locust"] = asdict(where)
        data |= stats.as_dict()
        Path(args.json).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return 1 if stats.non_conformant or stats.completed == 0 else 0


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add `load` to the CLI's subcommands (the object `add_subparsers` returned)."""
    load = commands.add_parser(
        "load",
        help="many simulated devices against a DM server at once, every exchange judged",
        description="Run many simulated devices through DM sessions against a DM server at "
        "once; judge every answer; print sessions/s, latency percentiles and every "
        "non-conformant exchange by requirement. Exit status: 0 when sessions completed and no "
        "exchange broke a requirement, 1 otherwise, 2 when the load could not run.",
    )
    load.add_argument("--dut", help="DUT file of a DM server (default: the bundled sample)")
    load.add_argument("--devices", type=int, default=10, help="simulated devices (default: 10)")
    load.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="seconds of load (default: 10)"
    )
    load.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="sessions started per second, all devices together (default: as fast as answered)",
    )
    load.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="deadline of every request (default: the DUT file's timeout_s)",
    )
    load.add_argument(
        "--enqueue",
        type=int,
        default=0,
        metavar="N",
        help="first queue N one-command batches per device through the enqueue hook "
        "(the first session of each device carries them)",
    )
    load.add_argument(
        "--ramp",
        type=float,
        default=1.0,
        metavar="S",
        help="start the devices evenly over S seconds (default: 1)",
    )
    load.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    engine = load.add_argument_group(
        "engine",
        "asyncio (default): one loop in this process, for one machine's core. locust: a Locust "
        "master and worker processes, here and on other machines; needs the load extra.",
    )
    engine.add_argument(
        "--engine",
        choices=("asyncio", "locust"),
        default="asyncio",
        help="what carries the devices' requests (default: asyncio)",
    )
    engine.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="locust: worker processes on this machine (default: 1; 0: only other machines')",
    )
    engine.add_argument(
        "--expect-workers",
        type=int,
        default=0,
        metavar="N",
        help="locust: workers the load waits for, here and on other machines (default: "
        "--workers); for the rest it prints the command to run on each other machine",
    )
    engine.add_argument(
        "--master-host",
        default="127.0.0.1",
        metavar="H",
        help="locust: address the master listens on, and workers connect to (default: "
        "127.0.0.1; this machine's address on the lab network for other machines' workers)",
    )
    engine.add_argument(
        "--master-port",
        type=int,
        default=0,
        metavar="P",
        help="locust: port the master listens on (default: a free one)",
    )
    engine.add_argument(
        "--workers-wait",
        type=float,
        default=60.0,
        metavar="S",
        help="locust: how long to wait for every worker to connect (default: 60)",
    )
    engine.add_argument("--html", metavar="FILE", help="locust: also write Locust's HTML report")
    load.add_argument("--work", metavar="DIR", help="work folder (default: a new temporary one)")
    load.set_defaults(func=cmd_load)
    parser: argparse.ArgumentParser = load
    return parser
