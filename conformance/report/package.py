"""The certification package: one archive (zip, or tar) of a run folder that a test lab can take
away and check without trusting whoever handed it over.

    <run>/MANIFEST.sha256        SHA-256 of every other file, `sha256sum -c` format
    <run>/MANIFEST.sha256.sig    optional: an OpenSSH signature of the manifest
    <run>/PACKAGE.json           what the package is: the run, when it was packed, the inputs
    <run>/report.html, report.json, junit.xml
    <run>/allure-results/…, results/*.jsonl, work/<worker>/<case>/… (the per-case logs)
    <run>/inputs/dut/<role>-<file>          the DUT files the report names
    <run>/inputs/baseline/<file>            the baseline the gate used
    <run>/inputs/vendor-cases/<n>-<folder>/… the vendor case files (--cases)

`verify` recomputes every hash and names each file changed, missing or added; it also checks
that the inputs in the package are the very files whose SHA-256 the report's provenance states.
Signing uses OpenSSH (`ssh-keygen -Y sign -n dm20-conformance`), whose keys labs already hold:
`verify --allowed-signers FILE` says which principal of that file signed, and fails when no key
of it did. Nothing is extracted to disk while verifying; a member outside the package's folder,
a link or a name used twice is a finding, not a file."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from conformance import __version__
from conformance.report.provenance import harness_source, operator

MANIFEST = "MANIFEST.sha256"
SIGNATURE = MANIFEST + ".sig"
DESCRIPTION = "PACKAGE.json"
NAMESPACE = "dm20-conformance"  # the ssh-keygen -Y namespace: a signature for this purpose only
REQUIRED = ("report.json", "report.html")
RUN_FILES = ("report.html", "report.json", "junit.xml")
RUN_FOLDERS = ("allure-results", "results", "work")
SSH_TIMEOUT_S = 60.0


class PackageError(ValueError):
    """Not a run folder, not a package, or a signing step that failed: an input error."""


KEPT = (MANIFEST, SIGNATURE, DESCRIPTION, "report.json")  # the members verify reads
KEPT_LIMIT = 256 << 20  # bytes of a kept member, at most
BLOCK = 1 << 16


@dataclass
class Contents:
    """An archive's members, read as streams: path below the package folder -> SHA-256, the
    bytes of the few members verify reads (KEPT), and what is wrong with the archive's layout
    itself (links, names outside the folder, names used twice)."""

    root: str
    hashes: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _digest(stream: IO[bytes], keep: bool) -> tuple[str, bytes | None]:
    """The SHA-256 of a stream, and its bytes when `keep` (up to KEPT_LIMIT)."""
    digest, parts, size = hashlib.sha256(), [], 0
    for block in iter(lambda: stream.read(BLOCK), b""):
        digest.update(block)
        size += len(block)
        if keep and size <= KEPT_LIMIT:
            parts.append(block)
    return digest.hexdigest(), (b"".join(parts) if keep and size <= KEPT_LIMIT else None)


def _run_files(run: Path) -> Iterator[tuple[str, Path]]:
    """(path in the package, file) of the run folder's reports and logs: regular files only."""
    for name in RUN_FILES:
        if (run / name).is_file():
            yield name, run / name
    for folder in RUN_FOLDERS:
        base = run / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(run).as_posix(), path


def _inputs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The inputs the report's provenance names, with where each goes in the package."""
    prov = report.get("provenance") or {}
    out: list[dict[str, Any]] = []
    for dut in prov.get("implementations", []):
        name = f"inputs/dut/{dut['role']}-{Path(dut['path']).name}"
        out.append({"kind": "dut", "source": dut["path"], "sha256": dut["sha256"], "path": name})
    baseline = prov.get("baseline")
    if baseline:
        name = f"inputs/baseline/{Path(baseline['path']).name}"
        out.append(
            {"kind": "baseline", "source": baseline["path"], "sha256": baseline["sha256"]}
            | {"path": name}
        )
    roots = (prov.get("cases") or {}).get("vendor", {}).get("roots", [])
    folders = {
        root: f"inputs/vendor-cases/{i + 1}-{Path(root).name}" for i, root in enumerate(roots)
    }
    for entry in (prov.get("cases") or {}).get("files", []):
        if entry["origin"] != "vendor" or entry["root"] not in folders:
            continue
        name = f"{folders[entry['root']]}/{entry['relative']}"
        out.append(
            {"kind": "vendor case", "source": entry["path"], "sha256": entry["sha256"]}
            | {"path": name}
        )
    return out


def manifest_text(hashes: dict[str, str]) -> str:
    """`sha256sum` lines of every file, sorted by path."""
    return "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes))


def _hash_file(path: Path) -> str:
    with path.open("rb") as stream:
        return _digest(stream, keep=False)[0]


def make(run: Path, out: Path, sign_key: Path | None = None) -> dict[str, Any]:
    """Pack the run folder `run` into `out` (.zip, .tar, .tar.gz or .tgz); sign the manifest
    with the OpenSSH key `sign_key` when given. Returns the package's description."""
    run = run.resolve()
    report_path = run / "report.json"
    if not report_path.is_file():
        raise PackageError(f"{run}: not a run folder (no report.json)")
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"{report_path}: cannot read: {exc}") from None
    files: dict[str, Path | bytes] = dict(_run_files(run))
    inputs = _inputs(report)
    for entry in inputs:
        source = Path(entry["source"])
        if not source.is_file():
            entry["packed"], entry["note"] = False, "not there any more"
        elif _hash_file(source) != entry["sha256"]:
            entry["packed"], entry["note"] = False, "changed since the run"
        else:
            entry["packed"], entry["note"] = True, ""
            files[entry["path"]] = source
    description = {
        "format": "dm20-conformance certification package 1",
        "run": run.name,
        "run_folder": str(run),
        "packed": datetime.now(UTC).isoformat(timespec="seconds"),
        "packed_by": operator(),
        "harness": {**harness_source(), "version": __version__},
        "gate": (report.get("gate") or {}).get("outcome"),
        "inputs": inputs,
        "signed": sign_key is not None,
    }
    files[DESCRIPTION] = (json.dumps(description, indent=2, ensure_ascii=False) + "\n").encode()
    try:
        hashes = {
            name: hashlib.sha256(item).hexdigest() if isinstance(item, bytes) else _hash_file(item)
            for name, item in files.items()
        }
    except OSError as exc:
        raise PackageError(f"cannot read a file of {run}: {exc}") from None
    manifest = manifest_text(hashes).encode()
    files[MANIFEST] = manifest
    if sign_key is not None:
        files[SIGNATURE] = sign(manifest, sign_key)
    _write(out, run.name, files)
    return {**description, "manifest_files": len(files) - 1 - int(SIGNATURE in files)}


def _open(item: Path | bytes) -> IO[bytes]:
    return io.BytesIO(item) if isinstance(item, bytes) else item.open("rb")


def _write(out: Path, root: str, files: dict[str, Path | bytes]) -> None:
    """The archive, written beside `out` and then moved there (no half-written package)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    order = [MANIFEST, *(p for p in ([SIGNATURE] if SIGNATURE in files else [])), DESCRIPTION]
    names = order + sorted(p for p in files if p not in order)
    stamp = datetime.now(UTC)
    try:
        if out.name.endswith(".zip"):
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in names:
                    info = zipfile.ZipInfo(f"{root}/{name}", stamp.timetuple()[:6])
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    with _open(files[name]) as source, archive.open(info, "w") as target:
                        shutil.copyfileobj(source, target, BLOCK)
        else:
            gz = out.name.endswith((".tar.gz", ".tgz"))
            with tarfile.open(partial, "w:gz") if gz else tarfile.open(partial, "w") as archive:
                for name in names:
                    item = files[name]
                    entry = tarfile.TarInfo(f"{root}/{name}")
                    size = len(item) if isinstance(item, bytes) else item.stat().st_size
                    entry.size, entry.mode, entry.mtime = size, 0o644, stamp.timestamp()
                    with _open(item) as source:
                        archive.addfile(entry, source)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise PackageError(f"cannot write {out}: {exc}") from None
    partial.replace(out)


def archive_kind(path: Path) -> str | None:
    name = path.name
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        return "tar"
    return None


def _place(contents: Contents, name: str, stream: IO[bytes] | None, why: str = "") -> None:
    """Hash a member below the package's one folder, or say why it cannot be there."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        contents.problems.append(f"{name}: outside the package folder")
        return
    top, rest = pure.parts[0], "/".join(pure.parts[1:])
    if not contents.root:
        contents.root = top
    if top != contents.root or not rest:
        contents.problems.append(f"{name}: outside the package folder {contents.root}/")
        return
    if stream is None:
        contents.problems.append(f"{rest}: {why}")
        return
    if rest in contents.hashes:
        contents.problems.append(f"{rest}: in the archive twice")
        return
    contents.hashes[rest], data = _digest(stream, keep=rest in KEPT)
    if data is not None:
        contents.kept[rest] = data


def read(path: Path) -> Contents:
    """The members of a package (zip, tar, or an unpacked folder), hashed as streams: nothing
    is extracted to disk."""
    contents = Contents(root="")
    try:
        if path.is_dir():
            for member in sorted(path.rglob("*")):
                name = f"{path.name}/{member.relative_to(path).as_posix()}"
                if member.is_symlink() or not member.is_file():
                    if not member.is_dir() or member.is_symlink():
                        _place(contents, name, None, "a link or special file, not a file")
                    continue
                with member.open("rb") as handle:
                    _place(contents, name, handle)
            contents.root = contents.root or path.name
        elif archive_kind(path) == "zip":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        _place(contents, info.filename, None, "a link, not a file")
                        continue
                    with archive.open(info) as member_stream:
                        _place(contents, info.filename, member_stream)
        elif archive_kind(path) == "tar":
            with tarfile.open(path) as archive:
                for item in archive:
                    if item.isdir():
                        continue
                    stream = archive.extractfile(item) if item.isfile() else None
                    _place(contents, item.name, stream, "not a regular file")
        else:
            raise PackageError(f"{path}: not a package (.zip, .tar, .tar.gz, .tgz or a folder)")
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise PackageError(f"{path}: cannot read the package: {exc}") from None
    return contents


@dataclass
class Verification:
    """What `verify` found."""

    files: int = 0  # files the manifest lists
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # path, expected, found
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # layout, inconsistent inputs
    notes: list[str] = field(default_factory=list)  # what the package says it left out
    signature: str = "unsigned"  # unsigned | not checked | good | bad | missing
    signer: str = ""  # the principal a good signature names
    signature_detail: str = ""

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.added or self.problems)

    @property
    def ok(self) -> bool:
        return self.intact and self.signature not in ("bad", "missing")

    def lines(self) -> list[str]:
        out = [f"CHANGED  {p}  (manifest {e[:16]}…, file {f[:16]}…)" for p, e, f in self.changed]
        out += [f"MISSING  {p}" for p in self.missing]
        out += [f"ADDED    {p}  (not in the manifest)" for p in self.added]
        out += [f"PROBLEM  {p}" for p in self.problems]
        out += [f"NOTE     {p}" for p in self.notes]
        signature = {
            "unsigned": "not signed",
            "not checked": "signed; signature not checked (give --allowed-signers)",
            "good": f"the manifest's signature is good: signed by {self.signer}",
            "bad": "signature BAD",
            "missing": "signature MISSING (the package is not signed)",
        }[self.signature]
        if self.signature_detail and self.signature != "good":
            signature += f": {self.signature_detail}"
        if self.ok:
            verdict = f"verify OK: {self.files} files match {MANIFEST};"
        elif self.intact:
            verdict = f"verify FAILED: the {self.files} files match {MANIFEST}, but"
        else:
            verdict = (
                f"verify FAILED: {len(self.changed)} changed, {len(self.missing)} missing, "
                f"{len(self.added)} added, {len(self.problems)} other problem(s);"
            )
        return [*out, f"{verdict} {signature}"]


def parse_manifest(text: str) -> tuple[dict[str, str], list[str]]:
    """path -> SHA-256 of a manifest, and its malformed lines."""
    entries: dict[str, str] = {}
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name or name in entries:
            bad.append(f"{MANIFEST}:{number}: not a `<sha256>  <path>` line: {line[:80]!r}")
            continue
        entries[name.removeprefix("*")] = digest.lower()
    return entries, bad


def verify(
    path: Path, allowed_signers: Path | None = None, identity: str | None = None
) -> Verification:
    """Check a package: every file against the manifest, the inputs against the report's
    provenance, and the signature against `allowed_signers` when given."""
    contents = read(path)
    result = Verification(problems=list(contents.problems))
    files, kept = contents.hashes, contents.kept
    if MANIFEST not in kept:
        raise PackageError(f"{path}: not a package: no {MANIFEST}")
    try:
        manifest, bad = parse_manifest(kept[MANIFEST].decode("utf-8"))
    except UnicodeDecodeError:
        raise PackageError(f"{path}: {MANIFEST} is not text") from None
    result.problems += bad
    result.files = len(manifest)
    for name, expected in sorted(manifest.items()):
        if name not in files:
            result.missing.append(name)
            continue
        found = files[name]
        if found != expected:
            result.changed.append((name, expected, found))
    result.added = sorted(p for p in files if p not in manifest and p not in (MANIFEST, SIGNATURE))
    result.problems += [
        f"{name}: missing from the manifest" for name in REQUIRED if name not in manifest
    ]
    problems, result.notes = _inputs_match_report(contents)
    result.problems += problems
    _check_signature(result, kept, allowed_signers, identity)
    return result


def _inputs_match_report(contents: Contents) -> tuple[list[str], list[str]]:
    """The DUT files, baseline and vendor cases in the package are those whose SHA-256 the
    report's provenance states. (problems, notes): an input the package says it left out (gone
    or changed since the run) is a note."""
    kept, hashes = contents.kept, contents.hashes
    try:
        description = json.loads(kept[DESCRIPTION]) if DESCRIPTION in kept else {}
        report = json.loads(kept["report.json"]) if "report.json" in kept else {}
    except ValueError as exc:
        return [f"cannot read {DESCRIPTION} or report.json: {exc}"], []
    stated = {(i["path"], i["sha256"]) for i in _inputs(report)}
    problems, notes = [], []
    for entry in description.get("inputs", []):
        name, kind = entry.get("path", ""), entry.get("kind", "input")
        if (name, entry.get("sha256")) not in stated:
            problems.append(f"{name}: {DESCRIPTION} names an input the report does not")
        elif not entry.get("packed"):
            notes.append(
                f"the {kind} file {entry.get('source')} is not in the package: "
                f"{entry.get('note') or 'left out'}"
            )
        elif name in hashes and hashes[name] != entry["sha256"]:
            problems.append(f"{name}: not the {kind} file whose SHA-256 the report states")
    return problems, notes


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise PackageError("ssh-keygen (OpenSSH) is not installed: it signs and checks packages")
    return found


def sign(manifest: bytes, key: Path) -> bytes:
    """An OpenSSH signature (`ssh-keygen -Y sign`) of the manifest with `key` (a private key,
    or a public key whose private half is in ssh-agent)."""
    if not key.is_file():
        raise PackageError(f"{key}: no such key file")
    with tempfile.TemporaryDirectory(prefix="dm20-sign-") as folder:
        target = Path(folder) / MANIFEST
        target.write_bytes(manifest)
        try:
            done = subprocess.run(
                [_ssh_keygen(), "-q", "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(target)],
                capture_output=True,
                timeout=SSH_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PackageError(f"ssh-keygen did not sign within {SSH_TIMEOUT_S:.0f} s") from None
        signature = target.with_name(MANIFEST + ".sig")
        if done.returncode != 0 or not signature.is_file():
            why = done.stderr.decode(errors="replace").strip()
            raise PackageError(f"ssh-keygen could not sign with {key}: {why}")
        return signature.read_bytes()


def _check_signature(
    result: Verification,
    files: dict[str, bytes],
    allowed_signers: Path | None,
    identity: str | None,
) -> None:
    signed = SIGNATURE in files
    if allowed_signers is None:
        result.signature = "not checked" if signed else "unsigned"
        return
    if not allowed_signers.is_file():
        raise PackageError(f"{allowed_signers}: no such allowed-signers file")
    if not signed:
        result.signature = "missing"
        return
    keygen = _ssh_keygen()
    with tempfile.TemporaryDirectory(prefix="dm20-verify-") as folder:
        signature = Path(folder) / SIGNATURE
        signature.write_bytes(files[SIGNATURE])
        principals = [identity] if identity else _principals(keygen, signature, allowed_signers)
        if not principals:
            result.signature = "bad"
            result.signature_detail = f"made by no key of {allowed_signers}"
            return
        for principal in principals:
            argv = [keygen, "-Y", "verify", "-f", str(allowed_signers), "-I", principal]
            done = subprocess.run(
                [*argv, "-n", NAMESPACE, "-s", str(signature)],
                input=files[MANIFEST],
                capture_output=True,
                timeout=SSH_TIMEOUT_S,
                check=False,
            )
            if done.returncode == 0:
                result.signature = "good"
                said = done.stdout.decode(errors="replace").strip()
                result.signer = said.removeprefix(f'Good "{NAMESPACE}" signature for ') or principal
                return
        result.signature = "bad"
        result.signature_detail = (
            f"not a signature of this manifest by {', '.join(principals)} ({allowed_signers})"
        )


def _principals(keygen: str, signature: Path, allowed_signers: Path) -> list[str]:
    done = subprocess.run(
        [keygen, "-Y", "find-principals", "-s", str(signature), "-f", str(allowed_signers)],
        capture_output=True,
        text=True,
        timeout=SSH_TIMEOUT_S,
        check=False,
    )
    return [p for p in done.stdout.splitlines() if p.strip()] if done.returncode == 0 else []
