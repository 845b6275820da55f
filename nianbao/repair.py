"""Repair suggestions: the smallest sets of edits that make every 勾稽 relation of a table hold.

Where a table's relations fail, :func:`suggest` searches for sets of at most
``max_edits`` *fixes* (plausible misreadings of cells, undone) after which every
relation of the table holds, and returns them ranked, cheapest first, with a
diagnosis of the table.  Nothing is applied: a suggestion is a one-key choice for
the reviewer (:meth:`Suggestion.apply` gives the corrected values when chosen).

Arithmetic
----------
A relation says sum(left) = sum(right).  Blank and dash cells count as 0 in a sum
(an empty cell of a report contributes nothing); a cell that is not found (or text)
leaves its relations *open*: an open relation holds unless the known parts of the
side with the open cells already exceed a complete other side (counts are never
negative).  Edited counts must stay non-negative whole numbers.

Fixes and the cost model
------------------------
A suggestion is a set of fixes on distinct cells; its cost is the sum of its fixes'
costs, and suggestions are ranked by cost (then by number of fixes).  A fix costs
``1`` (every edit costs, so fewer edits rank first) plus a penalty for how
implausible the misreading is, given the cell's raw text and method:

================================  =====  ==================================================
fix (``FixKind``)                 extra  misreading undone
================================  =====  ==================================================
``lookalike``                     0.3    an OCR glyph confusion per digit: 1↔7, 0↔8/6/9, 3↔8, 5↔6
``mark-read-as-digit``            0.3    a ``-``/``—``/``/`` read as ``1`` or ``7``: the cell becomes a dash
``digit-read-as-mark``            0.5    a ``1`` read as a dash
``digit-extra``                   0.6    the reading has one digit too many
``digit-lost``                    0.7    the reading lost one digit
``recut``                         0.2    a run of glued digits cut one digit off (``split`` cells)
``split-number``                  0.4    one number spread over two cells (``1 0`` → ``10``); the
                                         row's later values move back one column
``joined-numbers``                0.4    two numbers read as one (``10`` → ``1``, ``0``)
``dropped-cell``                  0.5    a cell the reading lost: the row's values from there on
                                         moved one column; the lost value is what the row's 总计
                                         relation requires
``extra-cell``                    0.5    a token read as a cell that is not one
``free``                          1.2    a cell set to the value its relations require (1.4 on a
                                         faithful cell, 0.8 on an ``inferred`` one): a last resort
================================  =====  ==================================================

Misreading penalties are multiplied by 0.7 on *doubtful* cells (confidence under
0.5, or flagged for a reason of their own rather than for a failed relation), so
fixes prefer low-confidence and flagged cells.  Row fixes (``split-number``,
``joined-numbers``, ``dropped-cell``, ``extra-cell``) change several cells of one
row in one fix; the values a shift pushes off the row end are lost, and the one
it needs at the other end is solved from the row's own 总计 relation.  Both
alignments are tried: values filled from the left (the lost value at the row's
end) and from the right (at its start).

Which fixes a cell admits follows from how it was read.  A *faithful* reading
(text-layer methods ``text-table``, ``html``, ``docx``, ``pdf``, ``regex``,
``human`` whose raw text is exactly the value) admits no glyph misreading; cells of
a real cell grid (``html``, ``docx``, ``human``) admit no row shift either.  OCR,
LLM, ``split`` and ``inferred`` cells, and cells with no method, admit all fixes.

Search
------
Propagation keeps the search to where the failure is: every set of fixes that
repairs the table must touch each failing relation, so the search branches only
on the fixes touching one failing relation (the one with fewest candidates), and
after each fix only on those touching a relation still failing (a relation a fix
broke brings its neighbours in).  The last fix of a set is not enumerated: the
residuals left fix its value, so it is looked up (row fixes by their effect on the
relations, cell values by the residual of the cell's relations, then classified as
a misreading of the cell's raw text or as a free value).  Sets grow one fix at a
time up to ``max_edits`` (iterative deepening), and deepening stops once ``limit``
suggestions are found that no larger set could undercut.  The work (search nodes
and look-ups) is bounded by ``max_work``; a search the bound cut is reported as
``truncated``.

Diagnosis
---------
``consistent``: every relation holds (no suggestions).  ``reading_doubtful``: some
cell of a failing relation was read in a doubtful way, or misreadings explain the
failure (``explained`` says whether any suggestion uses only misreadings).
``source_inconsistent``: every cell of the failing relations is a faithful reading
and no misreading explains the failure, so the report's own arithmetic is wrong;
the only suggestions then are free edits, marked ``corrects_source`` (they would
correct the report, not the reading).
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from .schemas import Method, Report, State, Value
from .schemas.relations import Relation, t3_relations, t4_relations
from .schemas.template import T3_COLUMNS, T3_ROWS, T4_COLUMNS, TemplateId

__all__ = [
    "CellEdit",
    "Diagnosis",
    "Fix",
    "FixKind",
    "RepairReport",
    "Suggestion",
    "relations_for",
    "suggest",
    "suggest_report",
]


class FixKind(str, Enum):
    LOOKALIKE = "lookalike"
    MARK_AS_DIGIT = "mark-read-as-digit"
    DIGIT_AS_MARK = "digit-read-as-mark"
    DIGIT_EXTRA = "digit-extra"
    DIGIT_LOST = "digit-lost"
    RECUT = "recut"
    SPLIT_NUMBER = "split-number"
    JOINED_NUMBERS = "joined-numbers"
    DROPPED_CELL = "dropped-cell"
    EXTRA_CELL = "extra-cell"
    FREE = "free"


class Diagnosis(str, Enum):
    CONSISTENT = "consistent"
    READING_DOUBTFUL = "reading_doubtful"
    SOURCE_INCONSISTENT = "source_inconsistent"


# ---- the cost model ----------------------------------------------------------------

BASE_COST = 1.0
EXTRA: dict[FixKind, float] = {
    FixKind.LOOKALIKE: 0.3,
    FixKind.MARK_AS_DIGIT: 0.3,
    FixKind.DIGIT_AS_MARK: 0.5,
    FixKind.DIGIT_EXTRA: 0.6,
    FixKind.DIGIT_LOST: 0.7,
    FixKind.RECUT: 0.2,
    FixKind.SPLIT_NUMBER: 0.4,
    FixKind.JOINED_NUMBERS: 0.4,
    FixKind.DROPPED_CELL: 0.5,
    FixKind.EXTRA_CELL: 0.5,
    FixKind.FREE: 1.2,
}
FREE_FAITHFUL = 1.4
FREE_INFERRED = 0.8
DOUBT_FACTOR = 0.7
# The cheapest any fix can be: bounds what a larger set of fixes could cost.
MIN_FIX_COST = BASE_COST + min(EXTRA.values()) * DOUBT_FACTOR

# OCR glyph confusions, both ways.
_PAIRS = (("1", "7"), ("0", "8"), ("0", "6"), ("0", "9"), ("3", "8"), ("5", "6"))
LOOKALIKES: dict[str, frozenset[str]] = {d: frozenset({b for a, b in _PAIRS if a == d} | {a for a, b in _PAIRS if b == d}) for d in "0123456789"}
# What a dash-like mark is read as by OCR, and the marks themselves.
MARK_DIGITS = frozenset({1, 7})
MARKS = frozenset("-/—–－／一|丨lI")

FAITHFUL_METHODS = frozenset({Method.TEXT_TABLE, Method.HTML, Method.DOCX, Method.PDF, Method.REGEX, Method.HUMAN})
GRID_METHODS = frozenset({Method.HTML, Method.DOCX, Method.HUMAN})
DOUBTFUL_CONFIDENCE = 0.5

DEFAULT_MAX_WORK = 20_000


# ---- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class CellEdit:
    """One cell's change: from what was read to what the fix proposes."""

    key: str
    old_value: int | float | str | None
    old_state: State
    new_value: int | float | None
    new_state: State


@dataclass(frozen=True)
class Fix:
    """One misreading undone (or one free value): the cells it changes, why, and its cost."""

    kind: FixKind
    reason: str
    cost: float
    edits: tuple[CellEdit, ...]


@dataclass(frozen=True)
class Suggestion:
    """A set of fixes after which every relation of the table holds."""

    fixes: tuple[Fix, ...]
    cost: float
    repairs: tuple[str, ...]  # names of the relations that failed and hold after it
    corrects_source: bool = False  # only free edits on faithful readings: it corrects the report itself

    @property
    def edits(self) -> list[CellEdit]:
        return [e for f in self.fixes for e in f.edits]

    @property
    def kinds(self) -> list[FixKind]:
        return [f.kind for f in self.fixes]

    def changes(self) -> dict[str, tuple[int | float | None, State]]:
        """Flat key -> (new value, new state)."""
        return {e.key: (e.new_value, e.new_state) for e in self.edits}

    def apply(self, values: Mapping[str, Value]) -> dict[str, Value]:
        """A copy of ``values`` with the suggestion applied (as a reviewer's correction)."""
        out = dict(values)
        for e in self.edits:
            old = values.get(e.key) or Value()
            out[e.key] = old.model_copy(update={"value": e.new_value, "state": e.new_state, "method": Method.HUMAN, "confidence": 1.0, "review": []})
        return out


@dataclass
class RepairReport:
    diagnosis: Diagnosis
    explanation: str
    failing: list[str]  # names of the relations that fail as read
    suggestions: list[Suggestion] = field(default_factory=list)
    explained: bool = False  # some suggestion uses misreadings only (no free value)
    work: int = 0  # search nodes and look-ups spent
    truncated: bool = False  # the work bound cut the search: better suggestions may exist
    max_edits: int = 3
    elapsed_ms: float = 0.0


# ---- relations for a report ----------------------------------------------------------


def relations_for(template: TemplateId, rows: Iterable[str] | None = None, *, tables: Sequence[str] = ("t3", "t4")) -> list[Relation]:
    """The template's relations for tables 三 and 四; ``rows``: table 三's rows (default: all of the template's)."""
    out: list[Relation] = []
    if "t3" in tables:
        out += t3_relations(template, list(rows) if rows is not None else [r.key for r in T3_ROWS[template]])
    if "t4" in tables:
        out += t4_relations()
    return out


def suggest_report(report: Report, *, limit: int = 5, max_edits: int = 3, max_work: int = DEFAULT_MAX_WORK) -> dict[str, RepairReport]:
    """Per table (``t3``, ``t4``) of a report: the repair report of its relations."""
    template = report.template
    values = dict(report.values())
    out: dict[str, RepairReport] = {}
    tables = ["t4"] if report.t3 is None or template is None else ["t3", "t4"]
    for table in tables:
        rels = t4_relations() if table == "t4" else relations_for(template, tables=("t3",))  # type: ignore[arg-type]
        out[table] = suggest(values, rels, limit=limit, max_edits=max_edits, max_work=max_work)
    return out


# ---- the table as the solver sees it -------------------------------------------------

_COLUMN_ORDER = {"t3": {c: i for i, (c, _) in enumerate(T3_COLUMNS)}, "t4": {c: i for i, (c, _) in enumerate(T4_COLUMNS)}}


@dataclass
class _Cell:
    idx: int
    key: str
    value: Value
    num: int | None  # scaled integer in sums; None: open (not found / text)
    text: str | None  # the digits of an integer count, for glyph fixes
    glyph_faithful: bool
    grid: bool
    doubtful: bool
    rels: list[tuple[int, int]] = field(default_factory=list)  # (closed relation index, sign)


def _norm(s: str | None) -> str:
    return unicodedata.normalize("NFKC", s or "").strip()


def _cell(idx: int, key: str, v: Value, scale: int) -> _Cell:
    num: int | None = None
    text: str | None = None
    if v.state is State.NUMBER and isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
        num = round(v.value * scale)
        if scale == 1 and float(v.value).is_integer() and v.value >= 0:
            text = str(int(v.value))
    elif v.state in (State.BLANK, State.DASH):
        num = 0
    raw = _norm(v.raw).replace(",", "").replace("，", "")
    method = v.method
    if v.state is State.NUMBER:
        exact = (text is not None and raw == text) or (text is None and raw != "")
    elif v.state is State.DASH:
        exact = raw != "" and all(ch in MARKS or ch == "无" for ch in raw)
    elif v.state is State.BLANK:
        exact = raw == ""
    else:
        exact = False
    faithful = method in FAITHFUL_METHODS and exact
    own_flags = [r for r in v.review if not r.startswith("check failed")]
    doubtful = v.confidence < DOUBTFUL_CONFIDENCE or bool(own_flags)
    return _Cell(idx, key, v, num, text, faithful, method in GRID_METHODS, doubtful)


@dataclass
class _Move:
    kind: FixKind
    cost: float
    reason: str
    changes: tuple[tuple[int, int, State], ...]  # (cell, new scaled number, new state)
    delta: dict[int, int]  # closed relation -> change of its residual

    @property
    def cells(self) -> frozenset[int]:
        return frozenset(c for c, _, _ in self.changes)


def _fmt(n: int | None, state: State, scale: int) -> str:
    if state is State.DASH:
        return "-"
    if state is State.BLANK:
        return "blank"
    if n is None:
        return "?"
    return str(n // scale if scale == 1 else n / scale)


class _Table:
    def __init__(self, values: Mapping[str, Value], relations: Sequence[Relation]) -> None:
        keys: list[str] = []
        seen: set[str] = set()
        for r in relations:
            for k in r.keys:
                if k not in seen:
                    seen.add(k)
                    keys.append(k)
        nums = [values[k].value for k in keys if k in values and values[k].state is State.NUMBER and isinstance(values[k].value, (int, float))]
        self.scale = 1 if all(float(n).is_integer() for n in nums) else 100  # type: ignore[arg-type]
        self.cells = [_cell(i, k, values.get(k) or Value(), self.scale) for i, k in enumerate(keys)]
        self.by_key = {c.key: c for c in self.cells}
        self.relations = list(relations)
        # Relations are closed when every operand is a number, blank or dash.
        self.closed: list[int] = []
        self.open: list[int] = []
        self.terms: list[list[tuple[int, int]]] = []
        for ri, r in enumerate(relations):
            terms = [(self.by_key[k].idx, 1) for k in r.left] + [(self.by_key[k].idx, -1) for k in r.right]
            self.terms.append(terms)
            if all(self.cells[ci].num is not None for ci, _ in terms):
                self.closed.append(ri)
                for ci, sign in terms:
                    self.cells[ci].rels.append((ri, sign))
            else:
                self.open.append(ri)
        # Rows: cells sharing a key prefix, in column order; each row's own relation.
        rows: dict[str, list[_Cell]] = {}
        for cell in self.cells:
            rows.setdefault(cell.key.rsplit(".", 1)[0], []).append(cell)
        self.rows: list[tuple[list[_Cell], int | None]] = []
        for prefix, cells in rows.items():
            order = _COLUMN_ORDER.get(prefix.split(".", 1)[0], {})
            cells.sort(key=lambda c: (order.get(c.key.rsplit(".", 1)[1], 99), c.idx))
            own = next((ri for ri, r in enumerate(relations) if all(k.rsplit(".", 1)[0] == prefix for k in r.keys) and len(r.keys) == len(cells)), None)
            self.rows.append((cells, own))
        # Each relation's rows as a bit mask: every fix stays within one row, so failing
        # relations on disjoint rows need a fix each (a lower bound on the fixes left).
        row_of = {c.idx: i for i, (cells, _) in enumerate(self.rows) for c in cells}
        self.row_mask = [sum({1 << row_of[c] for c, _ in terms}) for terms in self.terms]
        self.by_support: dict[frozenset[int], list[_Cell]] = {}
        for cell in self.cells:
            if cell.rels:
                self.by_support.setdefault(frozenset(r for r, _ in cell.rels), []).append(cell)

    def lower_bound(self, failing: Iterable[int]) -> int:
        """Fixes still needed at least: failing relations on pairwise disjoint rows, greedily."""
        taken = 0
        n = 0
        for m in sorted((self.row_mask[r] for r in failing), key=int.bit_count):
            if not m & taken:
                taken |= m
                n += 1
        return n

    def residuals(self, nums: Sequence[int | None]) -> dict[int, int]:
        out = {}
        for ri in self.closed:
            res = sum(s * (nums[c] or 0) for c, s in self.terms[ri])
            if res:
                out[ri] = res
        return out

    def holds(self, ri: int, nums: Sequence[int | None]) -> bool:
        terms = self.terms[ri]
        if all(nums[c] is not None for c, _ in terms):
            return sum(s * (nums[c] or 0) for c, s in terms) == 0
        # Open: the known parts of a side with open cells must not exceed a complete other side.
        for side in (1, -1):
            part = [nums[c] for c, s in terms if s == side]
            other = [nums[c] for c, s in terms if s == -side]
            if any(n is None for n in part) and all(n is not None for n in other) and sum(n or 0 for n in part) > sum(n or 0 for n in other):
                return False
        return True

    # -- fixes of one cell --

    def extra(self, cell: _Cell, kind: FixKind) -> float:
        if kind is FixKind.FREE:
            if cell.value.method is Method.INFERRED:
                return FREE_INFERRED
            return FREE_FAITHFUL if cell.glyph_faithful else EXTRA[kind]
        return EXTRA[kind] * (DOUBT_FACTOR if cell.doubtful else 1.0)

    def classify(self, cell: _Cell, new: int) -> tuple[State, FixKind, str] | None:
        """How ``cell`` could really hold ``new``: the cheapest misreading, else a free value."""
        if new < 0 or cell.num is None or (new == cell.num and cell.value.state is State.NUMBER):
            return None
        old_s = _fmt(cell.num, cell.value.state, self.scale)
        raw = _norm(cell.value.raw) or old_s
        options: list[tuple[float, State, FixKind, str]] = []
        if not cell.glyph_faithful and self.scale == 1:
            st = cell.value.state
            if new == 0 and st is State.NUMBER and cell.num in MARK_DIGITS and len(raw) == 1:
                options.append((self.extra(cell, FixKind.MARK_AS_DIGIT), State.DASH, FixKind.MARK_AS_DIGIT, f"'{raw}' may be a dash ('-', '—', '/') read as {cell.num}"))
            if new == 1 and st is State.DASH:
                options.append((self.extra(cell, FixKind.DIGIT_AS_MARK), State.NUMBER, FixKind.DIGIT_AS_MARK, f"the mark '{raw or ''}' may be a 1 read as a dash"))
            if cell.text is not None:
                kind = _digit_change(cell.text, str(new))
                if kind is not None:
                    k, why = kind
                    options.append((self.extra(cell, k), State.NUMBER, k, f"'{cell.text}' read for {new}: {why}"))
        if not options:
            if new == 0 and cell.value.state in (State.BLANK, State.DASH):
                return None
            why = f"the report prints {old_s} here; {new} is what its relations require" if cell.glyph_faithful else f"{new} is what the cell's relations require (read as {old_s})"
            return State.NUMBER, FixKind.FREE, why
        _, state, k, why = min(options, key=lambda o: o[0])
        return state, k, why

    def cell_move(self, cell: _Cell, new: int, state: State, kind: FixKind, reason: str) -> _Move:
        d = new - (cell.num or 0)
        delta = {r: s * d for r, s in cell.rels} if d else {}
        return _Move(kind, BASE_COST + self.extra(cell, kind), reason, ((cell.idx, new, state),), delta)

    def glyph_moves(self, cell: _Cell) -> list[_Move]:
        """The enumerable misreadings of a cell (lost digits are found by look-up instead)."""
        if cell.glyph_faithful or cell.num is None or self.scale != 1:
            return []
        cands: set[int] = set()
        if cell.value.state is State.NUMBER:
            if cell.num in MARK_DIGITS:
                cands.add(0)
            if cell.text is not None:
                t = cell.text
                for i, ch in enumerate(t):
                    for alt in LOOKALIKES[ch]:
                        s = t[:i] + alt + t[i + 1 :]
                        if len(s) == 1 or s[0] != "0":
                            cands.add(int(s))
                    if len(t) > 1:
                        s = t[:i] + t[i + 1 :]
                        if len(s) == 1 or s[0] != "0":
                            cands.add(int(s))
        else:
            cands.add(1)
        out = []
        for n in sorted(cands):
            c = self.classify(cell, n)
            if c is not None and c[1] is not FixKind.FREE:
                out.append(self.cell_move(cell, n, *c))
        return out

    # -- fixes of a row --

    def row_moves(self, row: int) -> list[_Move]:
        """The shift and recut fixes of one row (several cells in one fix)."""
        cells, own = self.rows[row]
        if own is None or len(cells) < 3 or all(c.grid for c in cells if c.value.state is State.NUMBER):
            return []
        out: list[_Move] = []
        seen: set[frozenset[tuple[int, int, State]]] = set()
        for kind, new, why in self._shifts(cells):
            m = self._row_move(cells, own, kind, new, why)
            if m is not None:
                sig = frozenset(m.changes)
                if sig not in seen:
                    seen.add(sig)
                    out.append(m)
        return out

    def _shifts(self, cells: list[_Cell]) -> Iterable[tuple[FixKind, list[tuple[int, State] | None], str]]:
        """Readings of the row's true cells: (kind, per column (number, state) or None for the value to solve, why)."""
        n = len(cells)
        tok: list[tuple[int, State]] = [(c.num or 0, c.value.state) for c in cells]
        filler = [c.value.state in (State.BLANK, State.NOT_FOUND) for c in cells]
        name = [c.key.rsplit(".", 1)[1] for c in cells]
        ints = [c.text for c in cells]
        for p in range(n - 1):
            a, b = ints[p], ints[p + 1]
            if a is not None and b is not None and a != "0":
                j = (int(a + b), State.NUMBER)
                yield (
                    FixKind.SPLIT_NUMBER,
                    [*tok[:p], j, *tok[p + 2 :], None],
                    f"'{a}' '{b}' in {name[p]}/{name[p + 1]} are one number {a}{b} split over two cells; the row's later values move back one column",
                )
                yield (
                    FixKind.SPLIT_NUMBER,
                    [None, *tok[:p], j, *tok[p + 2 :]],
                    f"'{a}' '{b}' in {name[p]}/{name[p + 1]} are one number {a}{b} split over two cells; the row's earlier values move up one column",
                )
        for p in range(n):
            t = ints[p]
            if t is None or len(t) < 2:
                continue
            for k in range(1, len(t)):
                x, y = t[:k], t[k:]
                if len(y) > 1 and y[0] == "0":
                    continue
                pair = [(int(x), State.NUMBER), (int(y), State.NUMBER)]
                why = f"'{t}' in {name[p]} is two numbers {x} and {y} read as one"
                if filler[n - 1] and p < n - 1:
                    yield FixKind.JOINED_NUMBERS, [*tok[:p], *pair, *tok[p + 1 : n - 1]], why + "; the row's later values move on one column"
                if filler[0] and p > 0:
                    yield FixKind.JOINED_NUMBERS, [*tok[1:p], *pair, *tok[p + 1 :]], why + "; the row's earlier values move back one column"
        for p in range(n - 1):
            if filler[n - 1]:
                yield FixKind.DROPPED_CELL, [*tok[:p], None, *tok[p : n - 1]], f"a cell before {name[p]} was lost: the row's values from {name[p]} on belong one column further on"
        for p in range(1, n):
            if filler[0]:
                yield FixKind.DROPPED_CELL, [*tok[1 : p + 1], None, *tok[p + 1 :]], f"a cell after {name[p]} was lost: the row's values up to {name[p]} belong one column earlier"
        for p in range(n):
            if cells[p].value.state is State.NUMBER:
                yield FixKind.EXTRA_CELL, [*tok[:p], *tok[p + 1 :], None], f"'{ints[p] or cells[p].value.raw}' in {name[p]} is not a cell of the row: the later values belong one column earlier"
                yield FixKind.EXTRA_CELL, [None, *tok[:p], *tok[p + 1 :]], f"'{ints[p] or cells[p].value.raw}' in {name[p]} is not a cell of the row: the earlier values belong one column further on"
        # Recuts of values cut out of a run of glued digits.
        for p in range(n - 1):
            a, b = ints[p], ints[p + 1]
            if a is None or b is None or cells[p].value.method is not Method.SPLIT or cells[p + 1].value.method is not Method.SPLIT:
                continue
            run = a + b
            for k in (len(a) - 1, len(a) + 1):
                x, y = run[:k], run[k:]
                if not x or not y or (len(x) > 1 and x[0] == "0") or (len(y) > 1 and y[0] == "0"):
                    continue
                new: list[tuple[int, State] | None] = list(tok)
                new[p], new[p + 1] = (int(x), State.NUMBER), (int(y), State.NUMBER)
                yield FixKind.RECUT, new, f"the glued digits '{run}' cut as {x}|{y}, not {a}|{b}"

    def _row_move(self, cells: list[_Cell], own: int, kind: FixKind, new: list[tuple[int, State] | None], why: str) -> _Move | None:
        if len(new) != len(cells):
            return None
        holes = [i for i, t in enumerate(new) if t is None]
        if len(holes) > 1:
            return None
        if holes:
            # Solve the missing value from the row's own relation.
            h = holes[0]
            if any(t is not None and t[1] in (State.NOT_FOUND, State.TEXT) for t in new):
                return None
            sign = next(s for c, s in self.terms[own] if c == cells[h].idx)
            pos = {cells[i].idx: i for i in range(len(cells))}
            rest = 0
            for ci, sg in self.terms[own]:
                t = new[pos[ci]]
                if ci != cells[h].idx and t is not None:
                    rest += sg * t[0]
            val = -rest * sign
            if val < 0:
                return None
            new[h] = (val, State.NUMBER)
            why += f"; {cells[h].key.rsplit('.', 1)[1]} = {val} from the row's 总计 relation"
        changes = []
        for c, t in zip(cells, new):
            assert t is not None
            if (t[0], t[1]) != (c.num, c.value.state) and not (t[0] == c.num and {t[1], c.value.state} <= {State.BLANK, State.NOT_FOUND}):
                changes.append((c.idx, t[0], t[1]))
        if len(changes) < 2:
            return None  # a one-cell change is a cell fix, found as such
        delta: dict[int, int] = {}
        for ci, v, _ in changes:
            d = v - (self.cells[ci].num or 0)
            for r, s in self.cells[ci].rels:
                delta[r] = delta.get(r, 0) + s * d
        delta = {r: d for r, d in delta.items() if d}
        doubt = DOUBT_FACTOR if any(c.doubtful for c in cells) else 1.0
        return _Move(kind, BASE_COST + EXTRA[kind] * doubt, why, tuple(changes), delta)


def _digit_change(old: str, new: str) -> tuple[FixKind, str] | None:
    if len(old) == len(new):
        diff = [i for i in range(len(old)) if old[i] != new[i]]
        if len(diff) == 1 and new[diff[0]] in LOOKALIKES[old[diff[0]]]:
            i = diff[0]
            return FixKind.LOOKALIKE, f"OCR confuses {new[i]} and {old[i]}"
        return None
    if len(new) == len(old) + 1 and any(new[:i] + new[i + 1 :] == old for i in range(len(new))):
        return FixKind.DIGIT_LOST, "a digit was lost"
    if len(new) + 1 == len(old) and any(old[:i] + old[i + 1 :] == new for i in range(len(old))):
        return FixKind.DIGIT_EXTRA, "a digit too many was read"
    return None


# ---- the search -------------------------------------------------------------------------


def _bits(mask: int) -> Iterable[int]:
    i = 0
    while mask > 0:
        if mask & 1:
            yield i
        mask >>= 1
        i += 1


class _Budget(Exception):
    pass


class _Search:
    def __init__(self, table: _Table, limit: int, max_work: int) -> None:
        self.t = table
        self.limit = limit
        self.max_work = max_work
        self.work = 0
        self.found: dict[frozenset[tuple[int, int, State]], tuple[float, tuple[_Move, ...]]] = {}
        self._bound = math.inf
        # Candidates are built on first use: only cells and rows of failing relations
        # (and of relations a fix broke) are ever looked at.
        self._rows: dict[int, tuple[dict[int, list[_Move]], dict[frozenset[tuple[int, int]], list[_Move]]]] = {}
        self._glyph: dict[int, list[_Move]] = {}
        self.nums: list[int | None] = [c.num for c in table.cells]

    def row_index(self, row: int) -> tuple[dict[int, list[_Move]], dict[frozenset[tuple[int, int]], list[_Move]]]:
        """A row's fixes by the relation they touch and by their whole effect."""
        got = self._rows.get(row)
        if got is None:
            by_rel: dict[int, list[_Move]] = {}
            by_delta: dict[frozenset[tuple[int, int]], list[_Move]] = {}
            for m in self.t.row_moves(row):
                for r in m.delta:
                    by_rel.setdefault(r, []).append(m)
                by_delta.setdefault(frozenset(m.delta.items()), []).append(m)
            got = self._rows[row] = (by_rel, by_delta)
        return got

    def glyph(self, ci: int) -> list[_Move]:
        got = self._glyph.get(ci)
        if got is None:
            got = self._glyph[ci] = self.t.glyph_moves(self.t.cells[ci])
        return got

    def tick(self) -> None:
        self.work += 1
        if self.work > self.max_work:
            raise _Budget

    def bound(self) -> float:
        """Cost a new suggestion must beat once ``limit`` are kept."""
        return self._bound

    def record(self, moves: tuple[_Move, ...]) -> None:
        sig = frozenset(ch for m in moves for ch in m.changes)
        cost = sum(m.cost for m in moves)
        old = self.found.get(sig)
        if old is not None and old[0] <= cost:
            return
        # Keep minimal sets only: a set containing a found one is not smallest.
        for other in list(self.found):
            if other < sig:
                return
            if sig < other:
                del self.found[other]
        self.found[sig] = (cost, moves)
        if len(self.found) >= self.limit:
            self._bound = sorted(c for c, _ in self.found.values())[self.limit - 1]

    def run(self, residual: dict[int, int], max_edits: int) -> bool:
        """Iterative deepening; True when the work bound cut it."""
        try:
            for depth in range(1, max_edits + 1):
                self.dfs(residual, depth, (), frozenset(), 0.0)
                floor = (depth + 1) * MIN_FIX_COST  # the least a larger set can cost
                if len(self.found) >= self.limit and self.bound() <= floor:
                    break
                # A set of misreadings only, cheaper than any larger set: larger sets are not wanted.
                if any(cost < floor and all(m.kind is not FixKind.FREE for m in moves) for cost, moves in self.found.values()):
                    break
        except _Budget:
            return True
        return False

    def apply(self, residual: dict[int, int], m: _Move) -> dict[int, int]:
        out = dict(residual)
        for r, d in m.delta.items():
            v = out.get(r, 0) + d
            if v:
                out[r] = v
            else:
                out.pop(r, None)
        return out

    def dfs(self, residual: dict[int, int], left: int, chosen: tuple[_Move, ...], used: frozenset[int], cost: float) -> None:
        self.tick()
        if not residual:
            if chosen:
                self.record(chosen)
            return
        if left == 0 or cost + MIN_FIX_COST > self.bound():
            return
        need = self.t.lower_bound(residual)
        if need > left or cost + need * MIN_FIX_COST > self.bound():
            return
        if left == 1:
            self.last(residual, chosen, used, cost)
            return
        r0 = min(residual, key=lambda r: sum(1 + len(self.glyph(c)) for c, _ in self.t.terms[r]) + 10 * self.t.row_mask[r].bit_count())
        for m in self.branch(r0, residual, used):
            self.dfs(self.apply(residual, m), left - 1, (*chosen, m), used | m.cells, cost + m.cost)

    def branch(self, r0: int, residual: dict[int, int], used: frozenset[int]) -> list[_Move]:
        out = [m for row in _bits(self.t.row_mask[r0]) for m in self.row_index(row)[0].get(r0, ()) if not (m.cells & used)]
        for ci, _ in self.t.terms[r0]:
            if ci in used:
                continue
            cell = self.t.cells[ci]
            out += self.glyph(ci)
            # Values that make one of the cell's failing relations hold.
            for r, s in cell.rels:
                if r in residual:
                    new = (cell.num or 0) - residual[r] * s
                    c = self.t.classify(cell, new)
                    if c is not None:
                        out.append(self.t.cell_move(cell, new, *c))
        return out

    def last(self, residual: dict[int, int], chosen: tuple[_Move, ...], used: frozenset[int], cost: float) -> None:
        """The one fix left must cancel the residuals exactly: look it up."""
        self.tick()
        target = frozenset((r, -v) for r, v in residual.items())
        rows = -1
        for r in residual:
            rows &= self.t.row_mask[r]
        for row in _bits(rows):
            for m in self.row_index(row)[1].get(target, ()):
                if not (m.cells & used):
                    self.record((*chosen, m))
        for cell in self.t.by_support.get(frozenset(residual), ()):
            if cell.idx in used:
                continue
            ds = {-residual[r] * s for r, s in cell.rels}
            if len(ds) != 1:
                continue
            new = (cell.num or 0) + ds.pop()
            c = self.t.classify(cell, new)
            if c is not None:
                self.record((*chosen, self.t.cell_move(cell, new, *c)))


def suggest(values: Mapping[str, Value], relations: Sequence[Relation], *, limit: int = 5, max_edits: int = 3, max_work: int = DEFAULT_MAX_WORK) -> RepairReport:
    """Ranked repair suggestions for the table that ``relations`` span, and its diagnosis.

    ``values``: flat key -> Value (extra keys are ignored); ``relations``: one table's
    relations (e.g. :func:`relations_for` with ``tables=("t3",)``).  Never changes ``values``.
    """
    t0 = time.perf_counter()
    table = _Table(values, relations)
    nums = [c.num for c in table.cells]
    residual = table.residuals(nums)
    open_broken = [ri for ri in table.open if not table.holds(ri, nums)]
    failing = sorted([*residual, *open_broken])
    names = [relations[ri].name for ri in failing]
    if not failing:
        return RepairReport(Diagnosis.CONSISTENT, "every relation holds", [], max_edits=max_edits, elapsed_ms=(time.perf_counter() - t0) * 1000)

    search = _Search(table, limit, max_work)
    truncated = search.run(residual, max_edits) if residual else False
    suggestions: list[Suggestion] = []
    for _, moves in sorted(search.found.values(), key=lambda cm: (cm[0], len(cm[1]))):
        s = _suggestion(table, moves, failing)
        if s is not None:
            suggestions.append(s)

    involved = {c for ri in failing for c, _ in table.terms[ri]}
    faithful = all(table.cells[c].glyph_faithful for c in involved)
    explained = any(all(f.kind is not FixKind.FREE for f in s.fixes) for s in suggestions)
    bound = f" (the work bound of {max_work} cut the search: larger or other repairs may exist)" if truncated else ""
    if faithful and not explained:
        diag = Diagnosis.SOURCE_INCONSISTENT
        suggestions = [Suggestion(s.fixes, s.cost, s.repairs, corrects_source=True) for s in suggestions if all(f.kind is FixKind.FREE for f in s.fixes)]
        text = f"the reading is faithful (text-layer cells whose raw text is the value) and {len(failing)} relation(s) fail: the report's own arithmetic is wrong; any edit would correct the report, not the reading{bound}"
    else:
        diag = Diagnosis.READING_DOUBTFUL
        if explained:
            best = next(s for s in suggestions if all(f.kind is not FixKind.FREE for f in s.fixes))
            text = f"{len(failing)} relation(s) fail; misreadings explain it: {', '.join(f.kind.value for f in best.fixes)}{bound}"
        elif suggestions:
            text = f"{len(failing)} relation(s) fail on doubtful cells; no misreading of at most {max_edits} cells explains it, only free values{bound}"
        else:
            text = f"{len(failing)} relation(s) fail on doubtful cells; no repair of at most {max_edits} fixes found{bound}"
    return RepairReport(diag, text, names, suggestions[:limit], explained, search.work, truncated, max_edits, (time.perf_counter() - t0) * 1000)


def _suggestion(table: _Table, moves: tuple[_Move, ...], failing: list[int]) -> Suggestion | None:
    """Verify a set of fixes on the whole table (open relations included) and describe it."""
    nums = list(table.cells[i].num for i in range(len(table.cells)))
    states = [c.value.state for c in table.cells]
    for m in moves:
        for ci, v, st in m.changes:
            nums[ci], states[ci] = (None if st in (State.NOT_FOUND, State.TEXT) else v), st
    if not all(table.holds(ri, nums) for ri in range(len(table.relations))):
        return None
    scale = table.scale
    fixes = []
    for m in moves:
        edits = []
        for ci, v, st in m.changes:
            c = table.cells[ci]
            new_val: int | float | None = None if st in (State.DASH, State.BLANK) else (v if scale == 1 else v / scale)
            edits.append(CellEdit(c.key, c.value.value, c.value.state, new_val, st))
        fixes.append(Fix(m.kind, m.reason, round(m.cost, 3), tuple(edits)))
    return Suggestion(tuple(fixes), round(sum(m.cost for m in moves), 3), tuple(table.relations[ri].name for ri in failing))
