"""Collection and schema validation of many case files: is it linear, and under 2 ms a case?

    python benchmarks/bench_collection.py [--sizes 1000 10000]

Generates N case files in a temporary folder (copies of the shipped cases, one case a file, each
with a new ID, in a `client/` or `server/` folder as the case's role says) and times, for each N:

- `load_all([folder])` in this process (YAML with line numbers, testcase schema, catalog and
  profile checks), after a warm-up on the shipped cases so the one-time costs are out;
- `pytest --collect-only -q --cases FOLDER FOLDER` in a subprocess, minus the same command on an
  empty folder (interpreter, plugin and pytest start-up).

Prints milliseconds per case, wall and CPU (the CPU figures hold on a busy machine), and the
ratio of the per-case CPU cost at the largest N to that at the smallest (1.0 is linear)."""

from __future__ import annotations

import argparse
import copy
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from common import machine, table

from conformance.engine.loader import (
    case_files,
    load_all,
    load_case_file,
    packaged_cases_dir,
    role_of,
)
from conformance.inputs import InputError

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def shipped_cases() -> list[tuple[str, dict[str, Any]]]:
    """The shipped cases that load cleanly, as YAML data, each with the role its folder gives."""
    found = []
    for path in case_files([packaged_cases_dir()]):
        if path.name.startswith("_"):
            continue
        try:
            load_case_file(path)
        except InputError:
            continue  # a file being edited right now; not a sample to copy
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found += [
            (case.get("role") or role_of(path), case)
            for case in (data if isinstance(data, list) else [data])
        ]
    return found


def generate(cases: list[tuple[str, dict[str, Any]]], count: int, folder: Path) -> None:
    """`count` files, one case each, cycling through `cases` with IDs made unique, each below
    the folder of its role."""
    for role in {role for role, _ in cases}:
        (folder / role).mkdir(parents=True)
    for index in range(count):
        role, case = cases[index % len(cases)]
        case = copy.deepcopy(case)
        case["id"] = f"{case['id']}-B{index:05d}"
        text = yaml.dump(case, Dumper=DUMPER, sort_keys=False, allow_unicode=True)
        (folder / role / f"case-{index:05d}.yaml").write_text(text, encoding="utf-8")


def time_load_all(folder: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, cases, problems) of load_all on `folder`."""
    started, cpu = time.perf_counter(), time.process_time()
    cases, problems = load_all([folder])
    return time.perf_counter() - started, time.process_time() - cpu, len(cases), len(problems)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_collect(folder: Path, rootdir: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, last line) of pytest --collect-only on `folder`."""
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        "/dev/null",
        "--rootdir",
        str(rootdir),
        "-p",
        "no:cacheprovider",
        "--collect-only",
        "-q",
        "--cases",
        str(folder),
        str(folder),
    ]
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
    lines = done.stdout.strip().splitlines()
    return seconds, cpu, (lines[-1] if lines else done.stderr.strip()[-300:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    sizes = sorted(parser.parse_args().sizes)
    print(machine())
    cases = shipped_cases()
    load_all([packaged_cases_dir()])  # warm-up: schemas, catalog, profile
    root = Path(tempfile.mkdtemp(prefix="dm20-bench-collection-"))
    rows, per_case = [], {}
    try:
        empty = root / "empty"
        empty.mkdir()
        startup, startup_cpu, _ = time_collect(empty, root)
        for size in sizes:
            folder = root / f"cases-{size}"
            generate(cases, size, folder)
            seconds, cpu, loaded, problems = time_load_all(folder)
            collect_s, collect_cpu, last = time_collect(folder, root)
            per = (
                cpu / size * 1000,
                (collect_cpu - startup_cpu) / size * 1000,
            )
            per_case[size] = per
            rows.append(
                [
                    f"{size:,}",
                    f"{loaded:,} ({problems} problems)",
                    f"{seconds:.2f} s / {cpu:.2f} s",
                    f"{seconds / size * 1000:.2f} / {per[0]:.2f}",
                    f"{collect_s:.2f} s / {collect_cpu:.2f} s",
                    f"{(collect_s - startup) / size * 1000:.2f} / {per[1]:.2f}",
                    last,
                ]
            )
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{len(cases)} shipped cases copied; pytest start-up on an empty folder "
        f"{startup:.2f} s wall / {startup_cpu:.2f} s CPU (subtracted below)"
    )
    print("wall / CPU: the CPU figures hold on a busy machine, the wall ones do not")
    print(
        table(
            [
                "case files",
                "loaded",
                "load_all",
                "ms/case",
                "pytest --collect-only",
                "ms/case",
                "pytest says",
            ],
            rows,
        )
    )
    if len(sizes) > 1:
        small, large = per_case[sizes[0]], per_case[sizes[-1]]
        print(
            f"linearity (CPU per case at {sizes[-1]:,} / at {sizes[0]:,}): "
            f"load_all {large[0] / small[0]:.2f}, pytest collection {large[1] / small[1]:.2f} "
            "(1.0 is linear)"
        )
    print("goal: linear, under 2 ms per case")


if __name__ == "__main__":
    main()
