"""The requirement catalog loads, quotes the seeds exactly and covers every normative sentence."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.catalog import Catalog, CatalogError, Requirement, load_catalog

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
NORMATIVE = re.compile(r"\b(MUST|SHOULD|MAY|may|will|shall)\b")

# Normative-looking seed sentences that are deliberately not in the catalog.
EXCLUDED = {
    # Section 4 "Intellectual Property Rights" of the change request: OMA membership boilerplate,
    # not part of the chapter under test.
    "Members shall submit to the General Manager of Operations of OMA the IPR Statement and "
    "the IPR Licensing Declaration.",
}


def norm(text: str) -> str:
    """`text` with every run of whitespace collapsed to one space."""
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def seeds() -> dict[str, str]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed folder {SEEDS} is absent: cannot compare the catalog with the draft")
    return {path.name: path.read_text(encoding="utf-8") for path in SEEDS.glob("*.txt")}


def sentences(raw: str) -> list[str]:
    """The seed split into sentences: at line ends (table cells, bullets) and after . ! ?"""
    joined = re.sub(r"\n(?= [a-z])", " ", raw)  # a sentence that a hard line break cut in two
    found = []
    for line in joined.splitlines():
        found += [norm(s) for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]
    return found


def packaged_data() -> dict[str, Any]:
    text = (resources.files("conformance.catalog") / "requirements.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "requirements.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_default_catalog_loads_and_is_cached(catalog: Catalog) -> None:
    assert catalog.name == "dm20-draft"
    assert 35 <= len(catalog) <= 60
    assert load_catalog() is load_catalog()
    assert all(isinstance(r, Requirement) for r in catalog)


def test_explicit_path_loads_the_same_catalog(catalog: Catalog, tmp_path: Path) -> None:
    loaded = load_catalog(write(tmp_path, packaged_data()))
    assert list(loaded) == list(catalog)


def test_lookup_api(catalog: Catalog) -> None:
    first = next(iter(catalog))
    assert catalog[first.id] is first
    assert first.id in catalog
    assert catalog.get(first.id) is first
    assert catalog.get("DM20-6-999") is None
    assert "DM20-6-999" not in catalog
    with pytest.raises(KeyError, match="DM20-6-999"):
        catalog["DM20-6-999"]
    grouped = catalog.by_section()
    assert list(grouped) == ["5", "5.2", "5.3", "5.5", "6", "6.2", "6.3"]
    assert [r for group in grouped.values() for r in group] == list(catalog)


def test_levels_are_the_seed_words_and_defines(catalog: Catalog) -> None:
    levels = {r.level for r in catalog}
    assert levels == {"MUST", "MUST NOT", "SHOULD", "MAY", "will", "defines"}
    defining = [r for r in catalog if r.level == "defines"]
    assert {r.command for r in defining if r.command} >= {"GET", "END"}
    assert all(NORMATIVE.search(r.text) is None for r in defining if r.command)


def test_binds_properties(catalog: Catalog) -> None:
    for requirement in catalog:
        assert requirement.binds_client == (requirement.binds in ("client", "both"))
        assert requirement.binds_server == (requirement.binds in ("server", "both"))
    assert catalog["DM20-6.2-002"].binds_server and not catalog["DM20-6.2-002"].binds_client
    assert catalog["DM20-6.2-025"].binds_client and catalog["DM20-6.2-025"].binds_server


def test_command_table_and_header_tables(catalog: Catalog) -> None:
    commands = {r.command for r in catalog if r.command}
    assert commands == {
        "GET",
        "PUT/POST",
        "DELETE",
        "EXEC",
        "INCLUDE",
        "SHOW",
        "DEFAULT",
        "CONT",
        "END",
    }
    details = {r.id: r.detail for r in catalog if r.detail}
    assert details == {
        "DM20-6.2-002": "Content-Type application/dm20",
        "DM20-6.3-002": "Content-Type application/dm20status",
        "DM20-6.3-003": "Accept application/dm20; application/tnds20.",
        "DM20-6.3-005": "X-OMADMDevID Unique identifier of the device.",
    }


def test_untestable_entries_say_why(catalog: Catalog) -> None:
    for requirement in catalog:
        assert bool(requirement.why_untestable) == (not requirement.testable), requirement.id


def test_text_and_detail_are_exact_quotes(catalog: Catalog, seeds: dict[str, str]) -> None:
    for requirement in catalog:
        seed = norm(seeds[requirement.seed])
        assert norm(requirement.text) in seed, f"{requirement.id}: text not in {requirement.seed}"
        if requirement.detail:
            assert norm(requirement.detail) in seed, f"{requirement.id}: detail not in the seed"


def test_ids_unique_and_gap_free_per_section(catalog: Catalog) -> None:
    """IDs are stable: an entry added later takes the next free number of its section, so the
    numbers of a section are 1..n, each once, in whatever order the file lists them."""
    ids = [entry["id"] for entry in packaged_data()["requirements"]]
    assert len(ids) == len(set(ids))
    for section, group in catalog.by_section().items():
        numbers = sorted(int(r.id.rsplit("-", 1)[1]) for r in group)
        assert numbers == list(range(1, len(group) + 1)), f"section {section}: {numbers}"
        assert all(r.id.startswith(f"DM20-{section}-") for r in group)


def document_position(seed: str, requirement: Requirement, after: int) -> int:
    """Where `requirement` first stands in `seed` after position `after`: its text, or for a row
    of a header table (text and detail) its detail, with the text somewhere before it."""
    text = norm(requirement.text)
    if requirement.detail is None:
        found = seed.find(text, after + 1)
    else:
        found = seed.find(norm(requirement.detail), after + 1)
        if found != -1 and seed.rfind(text, 0, found) == -1:
            found = -1
    if found == -1:
        raise AssertionError(f"{requirement.id} does not stand after {after} in {requirement.seed}")
    return found


def test_the_file_lists_entries_in_document_order(catalog: Catalog, seeds: dict[str, str]) -> None:
    """Entries of one seed come in the order their sentences stand in it (none twice)."""
    last: dict[str, int] = {}
    for requirement in catalog:
        seed = norm(seeds[requirement.seed])
        last[requirement.seed] = document_position(
            seed, requirement, last.get(requirement.seed, -1)
        )


def test_document_order_is_checked(catalog: Catalog, seeds: dict[str, str]) -> None:
    """The control of the test above: two neighbouring entries swapped are out of order."""
    first, second = catalog["DM20-6.2-004"], catalog["DM20-6.2-005"]
    seed = norm(seeds[first.seed])
    after = document_position(seed, second, -1)
    with pytest.raises(AssertionError, match="does not stand after"):
        document_position(seed, first, after)


def test_every_normative_sentence_is_covered(catalog: Catalog, seeds: dict[str, str]) -> None:
    quoted = [norm(r.text) for r in catalog]
    missing = []
    for name, raw in sorted(seeds.items()):
        for sentence in sentences(raw):
            if not NORMATIVE.search(sentence) or sentence in EXCLUDED:
                continue
            if not any(sentence in text or text in sentence for text in quoted):
                missing.append(f"{name}: {sentence}")
    assert not missing, "normative sentences missing from the catalog:\n" + "\n".join(missing)


def test_allow_list_names_real_sentences(seeds: dict[str, str]) -> None:
    every = {s for raw in seeds.values() for s in sentences(raw)}
    assert every >= EXCLUDED


def test_duplicate_id_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    first, second = [e for e in data["requirements"] if e["section"] == "6.2"][:2]
    second["id"] = first["id"]
    path = write(tmp_path, data)
    with pytest.raises(CatalogError, match="duplicate id") as caught:
        load_catalog(path)
    assert str(path) in str(caught.value)
    assert first["id"] in str(caught.value)


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    data["requirements"][2]["severity"] = "high"
    path = write(tmp_path, data)
    with pytest.raises(CatalogError, match="severity") as caught:
        load_catalog(path)
    assert str(path) in str(caught.value)
    assert data["requirements"][2]["id"] in str(caught.value)


def test_missing_why_untestable_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    entry = next(e for e in data["requirements"] if not e["testable"])
    del entry["why_untestable"]
    path = write(tmp_path, data)
    with pytest.raises(CatalogError, match="why_untestable") as caught:
        load_catalog(path)
    assert str(path) in str(caught.value)
    assert entry["id"] in str(caught.value)


def test_why_untestable_on_a_testable_entry_is_rejected(tmp_path: Path) -> None:
    data = packaged_data()
    entry = next(e for e in data["requirements"] if e["testable"])
    entry["why_untestable"] = "no reason"
    path = write(tmp_path, data)
    with pytest.raises(CatalogError, match="'why_untestable' is not allowed") as caught:
        load_catalog(path)
    assert entry["id"] in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "DM20-7-001"),
        ("level", "must"),
        ("binds", "device"),
        ("section", "6.4"),
        ("level", "defined"),
        ("assumptions", ["A22"]),
    ],
)
def test_bad_values_are_rejected(tmp_path: Path, field: str, value: Any) -> None:
    data = packaged_data()
    data["requirements"][0][field] = value
    path = write(tmp_path, data)
    with pytest.raises(CatalogError, match=re.escape(str(path))):
        load_catalog(path)


def test_id_must_name_its_section(tmp_path: Path) -> None:
    data = packaged_data()
    data["requirements"][0]["section"] = "6.1"
    with pytest.raises(CatalogError, match="id names section"):
        load_catalog(write(tmp_path, data))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(CatalogError, match=re.escape(str(missing))):
        load_catalog(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("requirements: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(broken)
    not_mapping = tmp_path / "list.yaml"
    not_mapping.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="top level"):
        load_catalog(not_mapping)
