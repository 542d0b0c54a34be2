"""The seed text itself, as an editor reads it: each seed file parsed into blocks in document
order (headings, paragraphs, bullets, table rows, captions and the Word comments the export left
in the text), and a way to find a quoted sentence in it.

The seeds are packaged beside the catalog (`conformance/catalog/seeds/`, copies of
`../shared/seeds/`) so that an installed harness can show the draft. Text is compared with runs
of whitespace collapsed to one space, as the catalog quotes it (`norm`); a line that begins with
a space and a lower-case letter continues the line before it (the export cut a sentence there).

A seed is a change request: its own sections (reason, impact, IPR, recommendation) come first,
then "Add the following content" and the chapter itself. Blocks before the chapter's first
heading are the change request's wrapper (`front`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from conformance.catalog import Catalog, Requirement, load_catalog

__all__ = [
    "Block",
    "Place",
    "Seed",
    "find",
    "load_seeds",
    "locate_requirement",
    "norm",
    "parse",
]

HEADING = re.compile(r"^\s*(\d+(?:\.\d+)*)\.?\s+(\S.*?)\s*$")
BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
COMMENT = re.compile(r"\s*Comment by ([^:]+):\s*(.*)$")
CAPTION = re.compile(r"^Table \d+:")
BULLET = "·"
LOST_ANCHOR = "\ufffd"  # the export's mark for a comment whose anchor it lost
CHAPTER_AFTER = "Add the following content"
MAX_HEADING = 60


def norm(text: str) -> str:
    """`text` with every run of whitespace collapsed to one space."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Block:
    """One block of a seed: `kind` is heading, text, bullet, row (a table row; one cell per
    tab-indented line), caption or comment (a Word comment left in the text)."""

    kind: str
    cells: tuple[str, ...]  # normalised text; a block that is not a row has one cell
    line: int  # 1-based line of the seed file where it starts
    section: str | None  # the number of the heading it stands under; None in the wrapper
    front: bool  # part of the change request's wrapper, not of the chapter
    number: str | None = None  # a heading's number ("6.2")
    author: str | None = None  # a comment's author

    @property
    def text(self) -> str:
        """The block's text, its cells joined by one space."""
        return " ".join(self.cells)


@dataclass(frozen=True)
class Seed:
    """One seed file: its name, the catalog's title for it, its text and its blocks."""

    name: str
    title: str
    text: str
    blocks: tuple[Block, ...]

    @property
    def chapter(self) -> str:
        """The number of the chapter the seed adds ("5", "6")."""
        return next(
            (b.number or "" for b in self.blocks if b.kind == "heading" and not b.front), ""
        )

    @property
    def chapter_title(self) -> str:
        heading = next((b for b in self.blocks if b.kind == "heading" and not b.front), None)
        return heading.text if heading else self.title


@dataclass(frozen=True)
class Place:
    """Where a quoted text stands: a block of a seed, a cell of it (None: the whole row) and the
    span of the quote within that cell's normalised text."""

    seed: str
    block: int
    cell: int | None
    start: int
    end: int


def _lines(raw: str) -> Iterator[tuple[int, str]]:
    """(line number, line) with a line that continues the one before it joined to it."""
    pending: tuple[int, str] | None = None
    for number, line in enumerate(raw.splitlines(), start=1):
        if pending is not None and re.match(r"^ [a-z]", line) and pending[1].strip():
            pending = (pending[0], pending[1].rstrip() + line)
            continue
        if pending is not None:
            yield pending
        pending = (number, line)
    if pending is not None:
        yield pending


def parse(name: str, title: str, raw: str) -> Seed:
    """The blocks of one seed's text, in document order."""
    blocks: list[Block] = []
    row: list[str] = []
    row_line = 0
    section: str | None = None
    seen_marker = False
    in_chapter = False

    def close_row() -> None:
        nonlocal row
        if row:
            blocks.append(Block("row", tuple(row), row_line, section, not in_chapter))
            row = []

    for number, line in _lines(raw):
        line = BOOKMARK.sub("", line)
        if not line.strip():
            close_row()
            continue
        if line.startswith("\t"):
            if not row:
                row_line = number
            row.append(norm(line))
            continue
        close_row()
        comment = None
        found = COMMENT.search(line)
        if found:
            text, author = norm(found.group(2)), norm(found.group(1))
            comment = Block("comment", (text,), number, section, not in_chapter, author=author)
            line = line[: found.start()]
        stripped = line.strip()
        if not stripped:
            pass
        elif stripped.startswith(LOST_ANCHOR):
            blocks.append(Block("comment", (norm(stripped[1:]),), number, section, not in_chapter))
        elif (heading := HEADING.match(line)) and _is_heading(heading.group(2)):
            if seen_marker and not in_chapter:
                in_chapter = True
            if in_chapter:
                section = heading.group(1)
            blocks.append(
                Block(
                    "heading",
                    (norm(stripped),),
                    number,
                    section if in_chapter else None,
                    not in_chapter,
                    number=heading.group(1),
                )
            )
        elif CAPTION.match(stripped):
            blocks.append(Block("caption", (norm(stripped),), number, section, not in_chapter))
        elif stripped.startswith(BULLET):
            text = norm(stripped[len(BULLET) :])
            blocks.append(Block("bullet", (text,), number, section, not in_chapter))
        else:
            blocks.append(Block("text", (norm(stripped),), number, section, not in_chapter))
        if comment is not None:
            blocks.append(comment)
        if CHAPTER_AFTER in line:
            seen_marker = True
    close_row()
    return Seed(name, title, raw, tuple(blocks))


def _is_heading(title: str) -> bool:
    return len(title) <= MAX_HEADING and not title.endswith((".", ":", ",")) and title[0].isupper()


@functools.cache
def load_seeds() -> tuple[Seed, ...]:
    """The packaged seeds, in document order (by the chapter each adds)."""
    catalog = load_catalog()
    folder = resources.files("conformance.catalog") / "seeds"
    seeds = [
        parse(name, title, (folder / name).read_text(encoding="utf-8"))
        for name, title in catalog.seeds.items()
    ]
    return tuple(sorted(seeds, key=lambda s: [int(p) for p in s.chapter.split(".") if p]))


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] does not begin or end inside a word."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    first, last = text[start], text[end - 1]
    return not ((first.isalnum() and before.isalnum()) or (last.isalnum() and after.isalnum()))


def find(
    seed: Seed,
    quote: str,
    *,
    after: Place | None = None,
    whole: bool = False,
    chapter_only: bool = False,
) -> Place | None:
    """The first place of `quote` (normalised) in `seed`, after `after` when given: a cell that
    is the quote (`whole`), else a cell that holds it, else a row whose cells joined hold it."""
    wanted = norm(quote)
    if not wanted:
        return None
    start_block = after.block if after is not None else 0
    candidates = [
        (index, block)
        for index, block in enumerate(seed.blocks)
        if index >= start_block and not (chapter_only and block.front)
    ]

    def past(index: int, cell: int | None, start: int) -> bool:
        if after is None or index > after.block:
            return True
        if after.cell is None or cell is None:
            return False
        return (cell, start) > (after.cell, after.start)

    if whole:
        for index, block in candidates:
            for cell, text in enumerate(block.cells):
                if text == wanted and past(index, cell, 0):
                    return Place(seed.name, index, cell, 0, len(text))
        for index, block in candidates:
            if block.kind == "row" and block.text == wanted and past(index, None, 0):
                return Place(seed.name, index, None, 0, len(wanted))
        return None
    for index, block in candidates:
        for cell, text in enumerate(block.cells):
            start = text.find(wanted)
            while start >= 0:
                if _bounded(text, start, start + len(wanted)) and past(index, cell, start):
                    return Place(seed.name, index, cell, start, start + len(wanted))
                start = text.find(wanted, start + 1)
        if block.kind == "row" and wanted in block.text and past(index, None, 0):
            return Place(seed.name, index, None, 0, len(block.text))
    return None


def seed_named(seeds: tuple[Seed, ...], name: str) -> Seed:
    for seed in seeds:
        if seed.name == name:
            return seed
    raise KeyError(f"no seed {name!r}")


def locate_requirement(seeds: tuple[Seed, ...], requirement: Requirement) -> Place | None:
    """Where a catalog sentence stands in its seed. A header-table requirement (with `detail`)
    stands at the row of its detail, after its lead-in sentence; a signature row at the cell
    that is its text; any other sentence at its first occurrence in the chapter."""
    seed = seed_named(seeds, requirement.seed)
    if requirement.detail:
        lead = find(seed, requirement.text, chapter_only=True)
        if lead is None:
            return None
        return find(seed, requirement.detail, after=lead, whole=True, chapter_only=True)
    return find(seed, requirement.text, whole=True, chapter_only=True) or find(
        seed, requirement.text, chapter_only=True
    )


def requirement_places(
    catalog: Catalog | None = None, seeds: tuple[Seed, ...] | None = None
) -> dict[str, Place | None]:
    """Every catalog requirement's place in the seeds (None: not found)."""
    catalog = catalog or load_catalog()
    seeds = seeds or load_seeds()
    return {r.id: locate_requirement(seeds, r) for r in catalog}
