"""Link the first use of each glossary term in each chapter to the glossary.

    python -m nbtests.glossary_links            # list what would change (exit 1 if anything)
    python -m nbtests.glossary_links --write    # link them, in place
    python -m nbtests.glossary_links --write chapters/06_transfer_learning.ipynb

The terms are those of the ``{glossary}`` directive in chapters/glossary.md.
For every file of _toc.yml (or the files given), the first use of a term in
the prose becomes ``{term}`text <term>```, unless a ``{term}`` link to it
comes first. "Prose" leaves out headings, label lines, directive and option
lines (so admonition titles too), code blocks and inline code, math, roles,
links and HTML, and hidden cells (tags remove-cell, hide-cell); the bodies
of prose directives (exercise, solution, admonitions) count. Plurals find
their term ("gradients" -> gradient), in any case.

Only markdown changes: a notebook's code cells and outputs are written back
as they were. Running it twice changes nothing the second time, and
nbtests/test_book_sources.py checks that it would change nothing now.
"""

from __future__ import annotations

import pathlib
import re
import sys
from dataclasses import dataclass

import nbformat

BOOK = pathlib.Path(__file__).resolve().parents[1]
GLOSSARY = BOOK / "chapters" / "glossary.md"
# Files of the toc that are not chapters: the glossary itself and the bibliography.
NOT_CHAPTERS = {"chapters/glossary", "references"}
HIDDEN_TAGS = {"remove-cell", "hide-cell"}
# Directives whose body is prose; the body of any other directive (code, math,
# figures, tables, ...) is left alone.
PROSE_DIRECTIVES = {"exercise", "solution", "admonition", "note", "tip", "hint", "important", "warning",
                    "caution", "attention", "danger", "error", "seealso", "epigraph", "margin", "sidebar",
                    "dropdown", "topic"}

TERM_ROLE = re.compile(r"\{term\}`(?:[^`<]*<([^`>]+)>|([^`]+))`")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})[ \t]*(.*)$")
# Spans inside a line that are never prose: roles, inline code, display and
# inline math, links (their text too), URLs, HTML tags and comments.
NOT_PROSE_SPANS = [  # applied to the text with non-prose blanked out as NUL, so no span crosses a fence
    re.compile(r"<!--[^\0]*?-->"),
    re.compile(r"\$\$[^\0]*?\$\$"),
    re.compile(r"\\begin\{(\w+\*?)\}[^\0]*?\\end\{\1\}"),
    re.compile(r"(?<!\\)\$(?:[^$\\\0]|\\.)+?\$"),
    re.compile(r"\{[\w:.+-]+\}`[^`\0]*`"),
    re.compile(r"(`+)[^\0]*?\1"),
    re.compile(r"!?\[[^\]\0]*\]\([^)\0]*\)"),
    re.compile(r"\[[^\]\0]*\]\[[^\]\0]*\]"),
    re.compile(r"<[a-zA-Z/][^>\0]*>"),
    re.compile(r"https?://[^\s\0]+"),
]
NOT_PROSE_LINES = re.compile(r"^(?:[ \t]*#{1,6}[ \t]|[ \t]*\(.*\)=[ \t]*$|[ \t]*:[\w-]+:(?:[ \t]|$))")
# Terms whose plural is more often another word: "the voltage heads for ..." is a verb.
SINGULAR_ONLY = {"head"}
WORD_GAP = r"(?:[ \t]*\n[ \t]*|[ \t]+|-)"  # a term may be wrapped over a line or hyphenated


def glossary_terms(path: pathlib.Path = GLOSSARY) -> list[str]:
    """The terms of the ``{glossary}`` directive: its unindented, non-empty lines."""
    text = path.read_text()
    body = re.search(r"^```\{glossary\}[^\n]*\n(.*?)^```", text, re.S | re.M)
    if not body:
        raise ValueError(f"{path}: no ```{{glossary}} directive")
    return [line.strip() for line in body.group(1).splitlines() if line.strip() and not line[0].isspace()]


def plural_forms(word: str) -> str:
    """A regex for a word and its plural: gradient(s), batch(es), ReLU(s), probabilit(y|ies)."""
    if re.search(r"[^aeiou]y$", word, re.I):
        return re.escape(word[:-1]) + "(?:y|ies)"
    if re.search(r"(?:s|x|z|ch|sh)$", word, re.I):
        return re.escape(word) + "(?:es)?"
    return re.escape(word) + "s?"


def term_pattern(terms: list[str]) -> re.Pattern:
    """One regex for every term, longest first ("gradient descent" before "gradient"), as whole words."""
    alternatives = []
    for term in sorted(terms, key=len, reverse=True):
        words = term.split()
        last = re.escape(words[-1]) if term in SINGULAR_ONLY else plural_forms(words[-1])
        body = WORD_GAP.join([re.escape(w) for w in words[:-1]] + [last])
        alternatives.append(f"(?P<t{terms.index(term)}>{body})")
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.I)


def prose_mask(text: str) -> list[bool]:
    """For each character of a markdown text: may a glossary link go here?"""
    mask = [True] * len(text)
    stack: list[tuple[str, bool]] = []  # open fences: (marker, body is prose)
    pos = 0
    for line in text.splitlines(keepends=True):
        start, end = pos, pos + len(line)
        pos = end
        inside_prose = all(prose for _, prose in stack)
        fence = FENCE.match(line)
        if fence and stack and fence.group(1)[0] == stack[-1][0][0] and len(fence.group(1)) >= len(stack[-1][0]) \
                and not fence.group(2).strip():
            stack.pop()  # a closing fence
            mask[start:end] = [False] * (end - start)
            continue
        if fence and inside_prose:  # an opening fence: ```python, ````{exercise} Title, :::{note}
            directive = re.match(r"\{([\w:-]+)\}", fence.group(2).strip())
            stack.append((fence.group(1), bool(directive) and directive.group(1) in PROSE_DIRECTIVES))
            mask[start:end] = [False] * (end - start)
            continue
        if not inside_prose or NOT_PROSE_LINES.match(line):
            mask[start:end] = [False] * (end - start)
    for pattern in NOT_PROSE_SPANS:
        blanked = "".join(ch if ok else "\0" for ch, ok in zip(text, mask))
        for match in pattern.finditer(blanked):
            mask[match.start():match.end()] = [False] * (match.end() - match.start())
    return mask


@dataclass
class Linker:
    """Links first uses across the markdown cells of one chapter, in order."""

    terms: list[str]

    def __post_init__(self):
        self.pattern = term_pattern(self.terms)
        self.by_lower = {t.lower(): t for t in self.terms}
        self.seen: set[str] = set()

    def term_of(self, match: re.Match) -> str:
        return self.terms[int(next(name for name, value in match.groupdict().items() if value)[1:])]

    def link(self, text: str) -> str:
        mask = prose_mask(text)
        events = [(m.start(), "role", m) for m in TERM_ROLE.finditer(text)]
        events += [(m.start(), "use", m) for m in self.pattern.finditer(text) if all(mask[m.start():m.end()])]
        edits = []
        for _, kind, match in sorted(events, key=lambda e: e[0]):
            if kind == "role":
                self.seen.add((match.group(1) or match.group(2)).strip().lower())
                continue
            term = self.term_of(match)
            if term.lower() in self.seen:
                continue
            self.seen.add(term.lower())
            words = re.sub(r"[ \t]*\n[ \t]*", " ", match.group(0))
            role = f"{{term}}`{words}`" if words == term else f"{{term}}`{words} <{term}>`"
            edits.append((match.start(), match.end(), role))
        for start, end, role in reversed(edits):
            text = text[:start] + role + text[end:]
        return text


def chapter_files() -> list[pathlib.Path]:
    sys.path.insert(0, str(BOOK / "nbtests"))  # for `python -m nbtests.glossary_links`
    from chapter_code import toc_files

    files = [BOOK / f for f in toc_files() if f not in NOT_CHAPTERS]
    return [f.with_suffix(".ipynb") if f.with_suffix(".ipynb").exists() else f.with_suffix(".md") for f in files]


def markdown_cells(path: pathlib.Path):
    """(notebook or None, the markdown cells or the file's text as one cell)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "markdown" and not HIDDEN_TAGS & set(c.metadata.get("tags", []))]
        return nb, cells
    return None, [nbformat.v4.new_markdown_cell(path.read_text())]


def linked_file(path: pathlib.Path, terms: list[str]) -> tuple[object, list[tuple[str, str]]]:
    """The file's markdown cells linked: (notebook or None, [(old source, new source), ...])."""
    nb, cells = markdown_cells(path)
    linker = Linker(terms)
    changes = []
    for cell in cells:
        new = linker.link(cell.source)
        changes.append((cell.source, new))
        cell.source = new
    return (nb if nb is not None else cells[0].source), changes


def shown(path: pathlib.Path) -> str:
    return str(path.relative_to(BOOK)) if path.is_relative_to(BOOK) else str(path)


def main(argv: list[str]) -> int:
    write = "--write" in argv
    paths = [pathlib.Path(a).resolve() for a in argv if a != "--write"] or chapter_files()
    terms = glossary_terms()
    changed = 0
    for path in paths:
        result, changes = linked_file(path, terms)
        added = sum(new.count("{term}") - old.count("{term}") for old, new in changes)
        if not added:
            continue
        changed += 1
        print(f"{shown(path)}: {added} first use(s) {'linked' if write else 'to link'}")
        if write:
            if path.suffix == ".ipynb":
                nbformat.write(result, path)
            else:
                path.write_text(result)
    return 0 if write or not changed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
