"""A certification package a test lab would accept, end to end: `dm20-conformance run` (in a
subprocess, in a tmp folder) of a faulty client with a baseline that waives its failures and a
vendor case folder (one case of its own, one that overrides an official case); `package --sign`
with a throwaway OpenSSH key; `verify` passes, says who signed, fails with another signer's key,
and names the one file whose byte was changed. The package's report.html is read in headless
Chromium: each waived failure with its reason, each requirement's state, the provenance, the
vendor cases apart."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main
from conformance.engine.loader import packaged_cases_dir
from conformance.report.package import MANIFEST, SIGNATURE
from tests.mutants import client_mutants  # noqa: F401  (registers the client mutants)
from tests.mutants.registry import MUTANTS, write_dut
from tests.report.test_report_in_browser import print_page, sees, squeeze

CLI = Path(sys.executable).parent / "dm20-conformance"
REPO = Path(__file__).resolve().parents[2]
FAULT = "client-no-device-id"
BROKEN = "DM20-6.3-005"  # what the fault breaks (a MUST)
SERVER_MUST = "DM20-6.2-002"  # binds the server: out of scope in a client run
WAIVER = {
    "requirement": BROKEN,
    "reason": "ticket DM-42: the device ID header comes with firmware 2.1",
    "waived_by": "Jo Vendor (QA lead)",
}
OVERRIDDEN = "DM20-C-HDR-001"
VENDOR_CASE = {
    "id": "DM20-C-ACME-001",
    "title": "Acme: a session opens and closes",
    "requirements": ["DM20-6.2-004"],
    "assumptions": ["A13"],
    "steps": [{"open": "session"}, {"close": "session"}],
}
SELECTION = f"{OVERRIDDEN} or DM20-C-GET-001 or {VENDOR_CASE['id']}"
RUN_BY = "Ann Lab (Acme test lab)"
LOG = f"work/main/{OVERRIDDEN}/dut-1-session.log"


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed command in a subprocess."""
    return subprocess.run(
        [str(CLI), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The same command in this process (its startup is the slow part): status and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def keypair(folder: Path, name: str, principal: str) -> tuple[Path, Path]:
    """A throwaway ed25519 key and an allowed_signers file that names its public half."""
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(key)],
        check=True,
        timeout=60,
    )
    kind, blob = key.with_suffix(".pub").read_text().split()[:2]
    signers = folder / f"{name}.allowed_signers"
    signers.write_text(f"{principal} {kind} {blob}\n")
    return key, signers


@dataclass
class Packaged:
    folder: Path  # the tmp folder the run was made in
    run: Path  # the run folder
    ran: subprocess.CompletedProcess[str]
    package: Path
    packed: subprocess.CompletedProcess[str]
    dut: Path
    baseline: Path
    vendor: Path  # the vendor case file
    signers: Path  # allowed_signers naming the key that signed
    strangers: Path  # allowed_signers naming another key

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.run / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    if shutil.which("ssh-keygen") is None:
        pytest.fail("ssh-keygen (openssh-client) is needed: .ci/run installs it")
    folder = tmp_path_factory.mktemp("lab")
    dut = write_dut(MUTANTS[FAULT], folder)
    baseline = folder / "baseline.yaml"
    baseline.write_text(yaml.safe_dump({"deviations": [WAIVER]}, sort_keys=False))
    official = yaml.safe_load((packaged_cases_dir() / "client" / "headers.yaml").read_text())
    replaced = copy.deepcopy(next(c for c in official if c["id"] == OVERRIDDEN))
    replaced.update(overrides=True, title="Acme's own HDR-001")
    vendor = folder / "acme-cases" / "client" / "acme.yaml"
    vendor.parent.mkdir(parents=True)
    vendor.write_text(yaml.safe_dump([replaced, VENDOR_CASE], sort_keys=False))
    key, signers = keypair(folder, "lab", "lab@acme-lab.example")
    _, strangers = keypair(folder, "stranger", "someone@else.example")
    ran = cli(
        "run", "--dut", dut.name, "--baseline", baseline.name, "--cases", "acme-cases",
        "--role", "client", "-k", SELECTION, "--run-by", RUN_BY, "--timeout", "10",
        cwd=folder,
    )  # fmt: skip
    runs = list((folder / "reports").iterdir())
    assert len(runs) == 1, ran.stdout + ran.stderr
    package = folder / "lab-package.zip"
    packed = command("package", runs[0], "--out", package, "--sign", key)
    return Packaged(
        folder, runs[0], ran, package, packed, dut, baseline, vendor, signers, strangers
    )


def test_the_waived_run_passes_the_gate_and_is_packed(packaged: Packaged) -> None:
    ran = packaged.ran
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "gate PASSED" in ran.stdout and WAIVER["reason"] in ran.stdout
    assert packaged.packed.returncode == 0, packaged.packed.stdout + packaged.packed.stderr
    assert f"signed: {SIGNATURE}" in packaged.packed.stdout
    with zipfile.ZipFile(packaged.package) as archive:
        names = archive.namelist()
    root = packaged.run.name
    assert all(n.startswith(f"{root}/") for n in names)
    inside = {n.removeprefix(f"{root}/") for n in names}
    for name in ("report.html", "report.json", "junit.xml", MANIFEST, SIGNATURE, LOG):
        assert name in inside, name
    assert any(n.startswith("allure-results/") and n.endswith("-result.json") for n in inside)
    assert any(n.startswith("results/") and n.endswith(".jsonl") for n in inside)
    assert f"inputs/dut/client-{packaged.dut.name}" in inside
    assert f"inputs/baseline/{packaged.baseline.name}" in inside
    assert "inputs/vendor-cases/1-acme-cases/client/acme.yaml" in inside
    # The manifest is `sha256sum -c` text naming every other file.
    with zipfile.ZipFile(packaged.package) as archive:
        manifest = archive.read(f"{root}/{MANIFEST}").decode()
        listed = {}
        for line in manifest.splitlines():
            digest, name = line.split("  ", 1)
            listed[name] = digest
            assert hashlib.sha256(archive.read(f"{root}/{name}")).hexdigest() == digest
    assert set(listed) == inside - {MANIFEST, SIGNATURE}


def test_verify_passes_says_who_signed_and_refuses_another_key(packaged: Packaged) -> None:
    plain = command("verify", packaged.package)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "verify OK" in plain.stdout and "signature not checked" in plain.stdout
    signed = command("verify", packaged.package, "--allowed-signers", packaged.signers)
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert "verify OK" in signed.stdout and "signed by lab@acme-lab.example" in signed.stdout
    named = command(
        "verify", packaged.package, "--allowed-signers", packaged.signers,
        "--identity", "lab@acme-lab.example",
    )  # fmt: skip
    assert named.returncode == 0, named.stdout + named.stderr
    other = command("verify", packaged.package, "--allowed-signers", packaged.strangers)
    assert other.returncode == 1, other.stdout + other.stderr
    assert "verify FAILED" in other.stdout and "signature BAD" in other.stdout
    assert command("verify", packaged.folder / "none.zip").returncode == 2


def rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """A copy of a zip with members replaced (bytes) or left out (None); new names are added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        root = old.namelist()[0].split("/", 1)[0]
        for info in old.infolist():
            name = info.filename.removeprefix(f"{root}/")
            if name in change:
                data = change[name]
                if data is not None:
                    new.writestr(info, data)
            else:
                new.writestr(info, old.read(info))
        for name, data in change.items():
            if data is not None and f"{root}/{name}" not in old.namelist():
                new.writestr(f"{root}/{name}", data)


def test_verify_names_the_file_whose_byte_was_changed(packaged: Packaged) -> None:
    with zipfile.ZipFile(packaged.package) as archive:
        log = bytearray(archive.read(f"{packaged.run.name}/{LOG}"))
    log[len(log) // 2] ^= 0x01  # one bit of one byte
    tampered = packaged.folder / "tampered.zip"
    rewrite(packaged.package, tampered, {LOG: bytes(log)})
    found = cli("verify", tampered, "--allowed-signers", packaged.signers, cwd=packaged.folder)
    assert found.returncode == 1, found.stdout + found.stderr
    changed = [line for line in found.stdout.splitlines() if line.startswith("CHANGED")]
    assert len(changed) == 1 and changed[0].split()[1] == LOG, found.stdout
    assert "verify FAILED: 1 changed, 0 missing, 0 added" in found.stdout
    # A manifest made again to match the changed log is no longer the one that was signed.
    with zipfile.ZipFile(packaged.package) as archive:
        manifest = archive.read(f"{packaged.run.name}/{MANIFEST}").decode()
    digest = hashlib.sha256(bytes(log)).hexdigest()
    remade = "".join(
        f"{digest}  {LOG}\n" if line.endswith(f"  {LOG}") else line + "\n"
        for line in manifest.splitlines()
    )
    forged = packaged.folder / "forged.zip"
    rewrite(packaged.package, forged, {LOG: bytes(log), MANIFEST: remade.encode()})
    assert command("verify", forged).returncode == 0  # unsigned, it cannot tell
    found = command("verify", forged, "--allowed-signers", packaged.signers)
    assert found.returncode == 1, found.stdout
    assert "verify FAILED: the" in found.stdout and "signature BAD" in found.stdout
    # A file taken out and one slipped in are named too.
    other = packaged.folder / "other.zip"
    rewrite(packaged.package, other, {"junit.xml": None, "work/extra.log": b"not from the run"})
    found = command("verify", other)
    assert found.returncode == 1
    assert "MISSING  junit.xml" in found.stdout and "ADDED    work/extra.log" in found.stdout


def test_a_tar_package_and_an_unpacked_one_verify_too(packaged: Packaged) -> None:
    tar = packaged.folder / "lab-package.tar.gz"
    packed = command("package", packaged.run, "--out", tar)
    assert packed.returncode == 0, packed.stdout + packed.stderr
    assert command("verify", tar).returncode == 0
    unpacked = packaged.folder / "unpacked"
    with zipfile.ZipFile(packaged.package) as archive:
        archive.extractall(unpacked)
    folder = unpacked / packaged.run.name
    ok = command("verify", folder, "--allowed-signers", packaged.signers)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    check = subprocess.run(
        ["sha256sum", "--quiet", "-c", MANIFEST], cwd=folder, capture_output=True, check=False
    )
    assert check.returncode == 0, check.stdout  # the manifest is sha256sum's own format
    assert command("package", packaged.folder / "nothing").returncode == 2


def test_every_report_marks_the_vendor_cases(packaged: Packaged) -> None:
    """Allure too (the engineer's report): an `origin` label, and tags on vendor cases."""
    origins = {}
    for path in (packaged.run / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text())
        found: dict[str, list[str]] = {}
        for label in result["labels"]:
            found.setdefault(label["name"], []).append(label["value"])
        origins[found["as_id"][0]] = (found["origin"], sorted(found["tag"]))
    assert origins["DM20-C-GET-001"][0] == ["official"]
    assert origins[VENDOR_CASE["id"]][0] == ["vendor"]
    assert "vendor case" in origins[VENDOR_CASE["id"]][1]
    assert {"vendor case", "overrides official"} <= set(origins[OVERRIDDEN][1])


def test_report_json_says_where_it_comes_from(packaged: Packaged) -> None:
    report = packaged.report
    prov = report["provenance"]
    harness = prov["harness"]
    assert harness["version"] and harness["source"] in ("git", "installed")
    if (REPO / ".git").exists() and harness["folder"] == str(REPO):
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
        assert harness["source"] == "git" and harness["commit"] == head.stdout.strip()
        assert isinstance(harness["dirty"], bool)

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    [dut] = prov["implementations"]
    assert (dut["path"], dut["sha256"]) == (str(packaged.dut.resolve()), sha(packaged.dut))
    assert FAULT in dut["name"] and dut["version"]
    assert prov["baseline"]["sha256"] == sha(packaged.baseline)
    [profile] = prov["profile"]["files"]
    assert profile["sha256"] == sha(Path(profile["path"]))
    assert prov["catalog"]["sha256"] == sha(Path(prov["catalog"]["path"]))
    run = prov["run"]
    assert run["operator"] == RUN_BY and run["host"] and run["python"]
    assert run["started"] <= run["finished"]
    assert run["command"].startswith("dm20-conformance run --dut")
    assert "pytest" in run["packages"] and "dm20-conformance" in run["packages"]
    files = prov["cases"]["files"]
    official = [f for f in files if f["origin"] == "official"]
    [vendor] = [f for f in files if f["origin"] == "vendor"]
    assert all(Path(f["path"]).is_relative_to(packaged_cases_dir().resolve()) for f in official)
    assert vendor["path"] == str(packaged.vendor.resolve()) and vendor["sha256"] == sha(
        packaged.vendor
    )
    assert vendor["cases"] == [OVERRIDDEN, VENDOR_CASE["id"]]
    [replaced] = vendor["overrides"]
    assert replaced["case"] == OVERRIDDEN and "headers.yaml:" in replaced["official"]
    suite = prov["cases"]["suite"]
    assert suite["files"] == len(official) and len(suite["sha256"]) == 64
    cases = {c["name"]: c for c in report["cases"]}
    assert cases[OVERRIDDEN]["origin"] == "vendor" and cases[OVERRIDDEN]["overrides"]
    assert cases[VENDOR_CASE["id"]]["file"] == str(packaged.vendor.resolve())
    assert cases["DM20-C-GET-001"]["origin"] == "official"
    waived = {w["case"]: w for w in report["waived_failures"]}
    assert set(waived) == set(cases) == set(report["gate"]["known"])
    for entry in waived.values():
        assert entry["broke"] == [{"id": BROKEN, "level": "MUST"}]
        assert (entry["reason"], entry["waived_by"]) == (WAIVER["reason"], WAIVER["waived_by"])
    states = {r["id"]: r for r in report["requirements"]}
    assert states[BROKEN]["state"] == "WAIVED" and WAIVER["reason"] in states[BROKEN]["reason"]
    assert states[SERVER_MUST]["state"] == "OUT OF SCOPE"
    assert states[SERVER_MUST]["out_of_scope_by"] == "role"
    statement = report["statement"]
    assert statement["in_scope_states"]["WAIVED"] == 1 and statement["out_of_scope"]["role"] > 0
    assert sum(report["requirement_states"].values()) == len(report["requirements"])


def test_the_packaged_report_reads_as_a_lab_needs_it(packaged: Packaged, tmp_path: Path) -> None:
    """The report.html inside the package, printed by headless Chromium."""
    with zipfile.ZipFile(packaged.package) as archive:
        archive.extract(f"{packaged.run.name}/report.html", tmp_path)
    text = print_page(tmp_path / packaged.run.name / "report.html", tmp_path)
    assert sees(text, "CI gate: PASSED")
    start, end = text.index(squeeze("Waived failures (3)")), text.index(squeeze("Case selection"))
    waived = text[start:end]
    for case in (OVERRIDDEN, "DM20-C-GET-001", VENDOR_CASE["id"]):
        line = waived[waived.index(squeeze(case)) :]
        assert sees(line, f"broke {BROKEN} (MUST)")
        assert sees(line, WAIVER["reason"]) and sees(line, WAIVER["waived_by"])
    table = text[text.index(squeeze("State of each requirement")) :]
    for state in ("WAIVED", "PASS", "NOT EXERCISED", "OUT OF SCOPE", "UNTESTABLE"):
        assert sees(table, state), state
    assert sees(table, "binds the server; this run tested a DM client")
    assert sees(text, "This statement puts")
    provenance = text[text.index(squeeze("Provenance")) : text.index(squeeze("Waived failures"))]
    report = packaged.report["provenance"]
    for fact in (
        f"dm20-conformance {report['harness']['version']}",
        f"operator {RUN_BY}",
        f"host {report['run']['host']}",
        report["implementations"][0]["sha256"],
        report["baseline"]["sha256"],
        report["profile"]["files"][0]["sha256"],
        report["catalog"]["sha256"],
        report["cases"]["suite"]["sha256"],
        "dm20-conformance run --dut",
        "vendor cases 1 files, 2 cases",
    ):
        assert sees(provenance, fact), fact
    if report["harness"]["commit"]:
        assert sees(provenance, f"git commit {report['harness']['commit']}")
    selection = text[text.index(squeeze("Case selection")) :]
    assert sees(selection, "vendor case files (1), not part of the suite")
    assert sees(selection, str(packaged.vendor.resolve()))
    assert sees(selection, f"{OVERRIDDEN} (line") and sees(selection, "overrides the official case")
    verdicts = text[text.index(squeeze("Verdict per case")) :]
    assert sees(verdicts, f"{OVERRIDDEN}client·vendorcase·overridestheofficialcaseat")
    assert sees(verdicts, f"{VENDOR_CASE['id']}client·vendorcase")
