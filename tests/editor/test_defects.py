"""The seed text as the page shows it, and the draft's defects as data: every catalog sentence is
found where it stands, every defect quotes its seed exactly, and the list covers what the issue
names (the profile's contradictions, the deferred items, the typos, every assumption)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from conformance.catalog import load_catalog
from conformance.editor.defects import (
    KINDS,
    DefectError,
    counts,
    dependent_cases,
    load_defects,
    markdown,
)
from conformance.editor.seed import load_seeds, locate_requirement, norm, seed_named
from conformance.engine.loader import load_all, packaged_cases_dir
from conformance.profiles import load_profile
from tests.editor.conftest import REPO, cli

SHARED_SEEDS = REPO.parent / "shared" / "seeds"
DEFECTS = resources.files("conformance.catalog") / "defects.yaml"


def raw_data() -> dict:
    return yaml.safe_load(DEFECTS.read_text(encoding="utf-8"))


def seed_texts() -> dict[str, str]:
    folder = resources.files("conformance.catalog") / "seeds"
    return {s.name: (folder / s.name).read_text(encoding="utf-8") for s in load_seeds()}


def test_the_packaged_seeds_are_the_shared_seeds() -> None:
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"{SHARED_SEEDS} is absent")
    shared = {p.name: p.read_bytes() for p in SHARED_SEEDS.glob("*.txt")}
    folder = resources.files("conformance.catalog") / "seeds"
    packaged = {p.name: p.read_bytes() for p in folder.iterdir() if p.name.endswith(".txt")}
    assert packaged == shared


def test_the_chapters_come_in_document_order_with_their_headings() -> None:
    headings = [
        b.text for s in load_seeds() for b in s.blocks if b.kind == "heading" and not b.front
    ]
    assert headings == [
        "5. OMA DM 2.0 Overview",
        "5.1 DM Notification",
        "5.2 DM Protocol",
        "5.3 Content Delivery",
        "5.4 User Interaction",
        "5.5 Management Object Data, Meta-Data and Alerts",
        "6 DM 2.0 Protocol",
        "6.1 Initiate DM Session",
        "6.2 DM Commands",
        "6.3 DM Status",
    ]


def test_every_catalog_sentence_is_found_in_its_seed_section() -> None:
    seeds = load_seeds()
    for requirement in load_catalog():
        place = locate_requirement(seeds, requirement)
        assert place is not None, requirement.id
        block = seed_named(seeds, requirement.seed).blocks[place.block]
        text = block.text if place.cell is None else block.cells[place.cell]
        assert text[place.start : place.end] == norm(requirement.detail or requirement.text)
        assert block.section == requirement.section, requirement.id
        assert not block.front


def test_every_quote_is_in_its_seed_whitespace_normalised() -> None:
    texts = {name: norm(text) for name, text in seed_texts().items()}
    for defect in raw_data()["defects"]:
        for quote in defect["quotes"]:
            assert norm(quote["text"]) in texts[quote["seed"]], (defect["id"], quote["text"])


def test_the_list_loads_with_every_kind_and_stable_ids() -> None:
    defects = load_defects()
    found = counts(defects)
    assert set(found) == set(KINDS) and all(found.values()), found
    ids = [d.id for d in defects]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    catalog, profile = load_catalog(), load_profile()
    for defect in defects:
        assert all(r in catalog for r in defect.requirements)
        assert all(profile.basis(a) for a in defect.assumptions)


def test_the_profile_s_contradictions_are_listed() -> None:
    contradictions = [d for d in load_defects() if d.kind == "contradiction"]
    accept = next(d for d in contradictions if "A3" in d.assumptions)
    assert any("application/dm20; application/tnds20" in q.text for q in accept.quotes)
    multipart = next(d for d in contradictions if "A8" in d.assumptions)
    quoted = " ".join(q.text for q in multipart.quotes)
    assert "HTTP multipart" in quoted and "application/dm20status" in quoted


def test_every_deferred_phrase_of_the_seeds_is_a_deferred_item() -> None:
    deferred = " ".join(q.text for d in load_defects() if d.kind == "deferred" for q in d.quotes)
    for phrase in (
        "will be defined later",
        "see later chapter",
        "This spec needs to be added later",
        "Name needs to be defined",
    ):
        assert phrase in deferred, phrase
    lines = [line for text in seed_texts().values() for line in text.splitlines()]
    later = [line for line in lines if re.search(r"\blater\b", line)]
    assert len(later) == 3  # the three phrases above, each on a line of its own


def test_each_typo_is_in_the_seed_and_its_correction_is_not() -> None:
    everything = norm(" ".join(seed_texts().values()))
    typos = [d for d in load_defects() if d.kind == "typo"]
    words = " ".join(q.text for d in typos for q in d.quotes)
    for word in ("Comamnd", "childe", "evens", "Brower", "the all MO instances", "the it due"):
        assert word in words, word
    for defect in typos:
        assert defect.suggestion, defect.id
        proposed = norm(defect.suggestion)
        quoted = [norm(q.text) for q in defect.quotes]
        assert proposed not in quoted, defect.id
        if not any(q.startswith(proposed) for q in quoted):  # a correction by deletion aside
            assert proposed not in everything, defect.id


def test_every_assumption_and_rule_answers_some_defect() -> None:
    profile = load_profile()
    cited = {a for d in load_defects() for a in d.assumptions}
    assert set(profile.assumptions) <= cited, set(profile.assumptions) - cited
    assert set(profile.rules) <= cited, set(profile.rules) - cited


def test_ambiguities_named_by_the_issue_are_decided_by_their_assumption() -> None:
    by_assumption = {a: d for d in load_defects() if d.kind == "ambiguity" for a in d.assumptions}
    assert "Levels=1" in " ".join(q.text for q in by_assumption["A7"].quotes)
    assert "ServerURI if it is specified" in by_assumption["A10"].quotes[0].text
    assert "If ClientURI is specified" in by_assumption["A19"].quotes[0].text


def test_a_quote_that_is_not_in_the_seed_is_refused(tmp_path: Path) -> None:
    data = raw_data()
    data["defects"][0]["quotes"][0]["text"] = "This sentence is in no seed."
    data["defects"][1]["assumptions"] = ["A99"]
    path = tmp_path / "defects.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DefectError) as caught:
        load_defects(path, catalog=load_catalog())
    assert "is not in seed" in str(caught.value) and "A99" in str(caught.value)


def test_cases_resting_on_a_defect_come_from_the_case_files() -> None:
    cases, problems = load_all([packaged_cases_dir()])
    assert not problems
    resting = dependent_cases(["A2"], cases)
    assert "DM20-C-END-001" in resting and "names A2" in resting["DM20-C-END-001"]
    assert all(c.id in resting for c in cases if "A2" in c.assumptions)


def test_the_markdown_export_is_a_change_request(tmp_path: Path) -> None:
    out = tmp_path / "defects.md"
    ran = cli("defects", "--format", "markdown", "--out", out)
    assert ran.code == 0, ran.tail()
    text = out.read_text(encoding="utf-8")
    defects = load_defects()
    found = counts(defects)
    assert f"{len(defects)} defects" in text
    assert f"## Contradictions ({found['contradiction']})" in text
    for defect in defects:
        assert f"### {defect.id}: {defect.title}" in text
        for quote in defect.quotes:
            assert f"> “{quote.text}”" in text
    assert "Proposed text: “When this Command is included”" in text
    assert "Cases resting on it" in text
    assert markdown(defects[:1]).startswith("# Defects of the draft text")


def test_the_defects_command_lists_and_filters() -> None:
    ran = cli("defects", "--kind", "deferred")
    assert ran.code == 0, ran.tail()
    deferred = [d for d in load_defects() if d.kind == "deferred"]
    assert [line.split()[0] for line in ran.stdout.splitlines() if line.startswith("DEF-")] == [
        d.id for d in deferred
    ]
    assert f"{len(deferred)} draft defects" in ran.stderr
