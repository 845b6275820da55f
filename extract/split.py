"""Cut runs of glued digits into a table's cells, using the template's own relations.

Scrapers that take a page's text with no separator run a row's cells together
(``本年新收…申请数量43625323``), and where a page had no line breaks between rows a
whole table is one line.  The digits are all there; only the cuts between cells are
lost.  This module finds every way to put the cuts back that the template's grammar
allows, and keeps only the ways every relation of the table agrees with:

1. per row, :func:`row_readings` enumerates the cuts of the row's text into its n
   cells: numbers without leading zeros (``0`` itself excepted), a blank mark (``/``,
   ``—``) as one empty cell, a space as a cut that is certain, and, where the table
   shows that it leaves cells empty, cells with no text at all.  A row's own relation
   (总计 = the sum of the others, per group in table 四) is applied while cutting, so
   a row's candidates are few;
2. per table, :func:`supported` keeps of each row's candidates those that take part
   in at least one assignment of all rows satisfying the column relations (table 三's
   balance and its result rows summing to 总计): a search over rows' candidates that,
   after each choice, drops the candidates of other rows the relations' bounds rule out;
3. :func:`decide` gives, per cell, the one value every surviving candidate agrees on,
   or the candidates when they disagree.

Nothing is ever made up: a value comes out only when every reading the relations
leave gives it.  The work is bounded; a row or table past the bound is reported so
that its cells are flagged rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..schemas import State
from .numbers import parse_cell

Scalar = int | float

# One empty cell each: exports write '/', '—' or '-' for an empty cell, and glued text
# gives one mark per cell ('———' is three cells).
MARKS = frozenset("/／—–-－")
_SIGNS = frozenset("+-－")
# The longest number one cell of a count column holds; bounds the cuts of a run.
MAX_DIGITS = 9
# Readings of one row past which it is not enumerated further (its cells are flagged).
ROW_LIMIT = 5000
# Search steps per row: the work bound for one row.
STEP_LIMIT = 200_000
# Search nodes of the table's search: the work bound for one table.
NODE_LIMIT = 400

# Confidence of a value cut out of a run (it is always flagged for review): highest
# where the row alone allows one cut, lower where the table's column relations were
# needed, lowest where the readings disagree elsewhere but agree on this cell.
PINNED_BY_ROW = 0.6  # the row's own 总计 relation leaves one cut
PINNED_BY_LENGTH = 0.55  # no relation: only one cut gives the row's number of cells
PINNED_BY_TABLE = 0.5  # several cuts fit the row; the column relations leave one
AGREED = 0.4  # several cuts fit everything; they agree on this cell


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a row's value text with no space in it; ``whole``: a real cell (one value)."""

    text: str
    start: int | None = None  # source offset of ``text[0]``, where known
    whole: bool = False


@dataclass(frozen=True, slots=True)
class Part:
    """One cell of a reading: its value and state, and where in which segment it was read."""

    value: Scalar | None
    state: State
    seg: int | None = None  # None: a cell with no text (left empty and dropped by the export)
    lo: int = 0
    hi: int = 0

    @property
    def key(self) -> tuple[State, Scalar | None]:
        return (self.state, self.value)

    @property
    def number(self) -> Scalar:
        """The value in sums: an empty cell counts as none."""
        return self.value if self.value is not None else 0

    def show(self) -> str:
        if self.state is State.NUMBER:
            return str(self.value)
        return "blank" if self.state is State.BLANK else "dash"


Reading = tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """The row grammar: n cells; ``groups`` groups side by side each ending in its total
    (1 for table 三, 3 for table 四, 0 for rows no relation constrains)."""

    n: int
    groups: int = 0
    signed: frozenset[int] = frozenset()  # columns that may carry a sign (2019 本年增/减)
    decimal: frozenset[int] = frozenset()  # columns of amounts with decimals


@dataclass(slots=True)
class RowResult:
    readings: list[Reading]
    complete: bool  # False: the bound was hit, ``readings`` is a part of them


def row_readings(segments: Sequence[Segment], shape: Shape, *, vanish: bool, limit: int = ROW_LIMIT) -> RowResult:
    """Every cut of ``segments`` into ``shape.n`` cells that the row's grammar allows.

    ``vanish``: cells may have no text at all (the table leaves cells empty and the
    export dropped them).  Without it every cell has text, which is what lets the
    length alone pin a row no relation constrains ('021' in three columns).

    Where the row ends in a group total, that total is the row's last text: each way
    of reading it is tried first, so that the cells before it are searched knowing the
    sum they must reach (which bounds every one of them).
    """
    segs = [s for s in segments if s.text]
    search = _Search(shape, vanish, limit)
    if not shape.groups:
        search.run(segs, None, None)
        return RowResult(list(search.out.values()), search.complete)
    for tail_segs, total in _last_totals(segs, vanish):
        search.run(tail_segs, total.number, total)
        if not search.complete:
            break
    return RowResult(list(search.out.values()), search.complete)


def _last_totals(segs: list[Segment], vanish: bool) -> list[tuple[list[Segment], Part]]:
    """The ways the row's last cell (a total) can be read, each with the text before it."""
    out: list[tuple[list[Segment], Part]] = []
    if vanish:
        out.append((segs, Part(None, State.BLANK)))
    if not segs:
        return out
    si = len(segs) - 1
    last = segs[si]
    if last.whole:
        part = _whole(last, si, False)
        if part is not None:
            out.append((segs[:si], part))
        return out
    text = last.text
    if text[-1] in MARKS:
        out.append((_cut(segs, len(text) - 1), Part(None, State.DASH, si, len(text) - 1, len(text))))
    digits = len(text) - len(text.rstrip("0123456789"))
    for length in range(1, min(digits, MAX_DIGITS) + 1):
        num = text[len(text) - length :]
        if length > 1 and num[0] == "0":
            continue
        out.append((_cut(segs, len(text) - length), Part(int(num), State.NUMBER, si, len(text) - length, len(text))))
    return out


def _cut(segs: list[Segment], keep: int) -> list[Segment]:
    """``segs`` with the last one cut to its first ``keep`` characters (dropped when none)."""
    last = segs[-1]
    return [*segs[:-1], Segment(last.text[:keep], last.start, last.whole)] if keep else segs[:-1]


class _Search:
    """Depth-first cutting of a row's text into cells, left to right."""

    def __init__(self, shape: Shape, vanish: bool, limit: int) -> None:
        self.shape = shape
        self.vanish = vanish
        self.limit = limit
        self.size = shape.n // shape.groups if shape.groups else 0
        self.out: dict[tuple[tuple[State, Scalar | None], ...], Reading] = {}
        self.steps = 0
        self.complete = True
        # Cells of the last group must not pass its total (counts are not negative).
        self.bounded_from = shape.n - self.size if self.size and not shape.signed else shape.n
        self.segs: list[Segment] = []
        self.remaining: list[int] = []
        self.parts: list[Part] = []
        self.target: Scalar | None = None
        self.total: Part | None = None
        # (column, segment, position, sum so far) from which no cut completes: what is
        # left of the row does not depend on how its start was cut.
        self.dead: set[tuple[int, int, int, Scalar]] = set()
        self.found = 0
        self.width = MAX_DIGITS + 8

    def run(self, segs: list[Segment], target: Scalar | None, total: Part | None) -> None:
        self.segs, self.target, self.total = segs, target, total
        self.width = len(str(int(abs(target)))) + (8 if self.shape.decimal else 0) if target is not None else MAX_DIGITS + 8
        self.remaining = [0] * (len(segs) + 1)
        for i in range(len(segs) - 1, -1, -1):
            self.remaining[i] = self.remaining[i + 1] + len(segs[i].text)
        self.parts = []
        self.dead = set()
        self._go(0, 0, 0, 0)

    def _go(self, col: int, si: int, pos: int, acc: Scalar) -> None:
        key = (col, si, pos, acc)
        if key in self.dead:
            return
        before = self.found
        self._step(col, si, pos, acc)
        if self.found == before and self.complete:
            self.dead.add(key)

    def _step(self, col: int, si: int, pos: int, acc: Scalar) -> None:
        self.steps += 1
        if self.steps > STEP_LIMIT or len(self.out) >= self.limit:
            self.complete = False
            return
        segs, shape, parts = self.segs, self.shape, self.parts
        if si < len(segs) and pos == len(segs[si].text):
            si, pos = si + 1, 0
        left = self.remaining[si] - pos
        end = shape.n - 1 if self.total is not None else shape.n  # the last total is read already
        if col >= self.bounded_from and self.target is not None and acc > self.target:
            return
        if col == end:
            if left == 0 and (self.total is None or acc == self.target):
                reading = (*parts, self.total) if self.total is not None else tuple(parts)
                self.out.setdefault(tuple(p.key for p in reading), reading)
                self.found += 1
            return
        cols_left = end - col
        # Each cell has at most as many characters as the widest number it may hold.
        width = self.width if col >= self.bounded_from else MAX_DIGITS + 8
        if (not self.vanish and left < cols_left) or left > cols_left * width:
            return
        if self.size and col % self.size == self.size - 1:
            self._total(col, si, pos, acc)
            return
        if self.vanish:
            parts.append(Part(None, State.BLANK))
            self._go(col + 1, si, pos, acc)
            parts.pop()
        if si == len(segs):
            return
        seg = segs[si]
        if seg.whole:
            if pos == 0:
                part = _whole(seg, si, col in shape.decimal)
                if part is not None:
                    parts.append(part)
                    self._go(col + 1, si + 1, 0, acc + part.number)
                    parts.pop()
            return
        if seg.text[pos] in MARKS:
            parts.append(Part(None, State.DASH, si, pos, pos + 1))
            self._go(col + 1, si, pos + 1, acc)
            parts.pop()
        for stop, value in _numbers(seg.text, pos, signed=col in shape.signed, decimal=col in shape.decimal):
            parts.append(Part(value, State.NUMBER, si, pos, stop))
            self._go(col + 1, si, stop, acc + value)
            parts.pop()

    def _total(self, col: int, si: int, pos: int, acc: Scalar) -> None:
        """A group's 总计 inside the row must be the sum of its cells: one text can follow."""
        segs, parts = self.segs, self.parts
        if acc == 0:
            if self.vanish:
                parts.append(Part(None, State.BLANK))
                self._go(col + 1, si, pos, 0)
                parts.pop()
            if si < len(segs) and not segs[si].whole and segs[si].text[pos] in MARKS:
                parts.append(Part(None, State.DASH, si, pos, pos + 1))
                self._go(col + 1, si, pos + 1, 0)
                parts.pop()
        if si == len(segs) or acc < 0 or not isinstance(acc, int):
            return
        seg = segs[si]
        if seg.whole:
            part = _whole(seg, si, False) if pos == 0 else None
            if part is not None and part.state is State.NUMBER and part.value == acc:
                parts.append(part)
                self._go(col + 1, si + 1, 0, 0)
                parts.pop()
            return
        want = str(acc)
        if seg.text.startswith(want, pos):
            parts.append(Part(acc, State.NUMBER, si, pos, pos + len(want)))
            self._go(col + 1, si, pos + len(want), 0)
            parts.pop()


def _whole(seg: Segment, si: int, decimal: bool) -> Part | None:
    p = parse_cell(seg.text, decimal=decimal)
    if p is None or p.state is State.NOT_FOUND:
        return None
    return Part(p.value, p.state, si, 0, len(seg.text))


def _numbers(text: str, pos: int, *, signed: bool, decimal: bool) -> list[tuple[int, Scalar]]:
    """The numbers a cell starting at ``text[pos]`` can be: (end, value), shortest first."""
    sign = 1
    i = pos
    if signed and text[i] in _SIGNS and i + 1 < len(text) and text[i + 1].isdigit():
        sign = -1 if text[i] != "+" else 1
        i += 1
    if i >= len(text) or not text[i].isdigit():
        return []
    run_end = i
    while run_end < len(text) and text[run_end].isdigit():
        run_end += 1
    # No leading zeros: a cell starting with 0 is the 0 itself (or 0.xx).
    ends = [i + 1] if text[i] == "0" else list(range(i + 1, min(run_end, i + MAX_DIGITS) + 1))
    out: list[tuple[int, Scalar]] = []
    for end in ends:
        whole = int(text[i:end])
        if end < len(text) and text[end] == ".":
            # A point after the digits belongs to this cell (no cell starts with one).
            if not decimal:
                continue
            frac_end = end + 1
            while frac_end < len(text) and text[frac_end].isdigit():
                frac_end += 1
            for f in range(end + 2, frac_end + 1):
                out.append((f, sign * float(text[i:f])))
            continue
        out.append((end, sign * whole))
    return out


# ---- The table: column relations across rows -----------------------------------


@dataclass(frozen=True, slots=True)
class Equation:
    """Σ coefficient × cell = 0 over (row, column, coefficient) terms."""

    name: str
    terms: tuple[tuple[int, int, int], ...]


@dataclass(slots=True)
class TableResult:
    supported: list[list[Reading]]  # per row: the candidates some full solution uses
    used: list[Equation]  # the relations that could be applied (every row they name was read)
    solved: bool  # at least one assignment of all rows satisfies every used relation
    complete: bool  # False: the state bound was hit; nothing was pruned by the table


def supported(rows: Sequence[list[Reading] | None], equations: Sequence[Equation], *, limit: int = NODE_LIMIT) -> TableResult:
    """Per row, the readings that some assignment of all rows satisfying ``equations`` uses.

    A row given as None was not read; relations naming it are left out (they cannot
    be checked, so they constrain nothing).  Readings of a row that add the same to
    every relation (a 0 read as one cell or another) are one choice for the search; the
    search assigns the row with the fewest choices left, and after each assignment drops
    every choice of the other rows that the relations' bounds rule out.
    """
    used = [eq for eq in equations if all(rows[r] is not None for r, _, _ in eq.terms)]
    cands = [list(r) if r is not None else [] for r in rows]
    if not used:
        return TableResult(cands, used, True, True)
    involved = sorted({r for eq in used for r, _, _ in eq.terms})
    # Per row: its distinct contributions to the relations, and which readings give each.
    choices: dict[int, list[tuple[Scalar, ...]]] = {}
    members: dict[int, list[list[int]]] = {}
    for r in involved:
        by_vec: dict[tuple[Scalar, ...], list[int]] = {}
        for i, reading in enumerate(cands[r]):
            vec = tuple(sum(c * reading[col].number for rr, col, c in eq.terms if rr == r) for eq in used)
            by_vec.setdefault(vec, []).append(i)
        choices[r] = list(by_vec)
        members[r] = list(by_vec.values())
    if any(not choices[r] for r in involved):
        return TableResult([[] if r in involved else c for r, c in enumerate(cands)], used, False, True)
    search = _TableSearch(choices, len(used), limit)
    kept = search.solve()
    if kept is None:
        return TableResult([[] if r in involved else c for r, c in enumerate(cands)], used, False, True)
    out = []
    for r, c in enumerate(cands):
        if r not in choices:
            out.append(c)
            continue
        keep = sorted(i for k in kept[r] for i in members[r][k])
        out.append([c[i] for i in keep])
    return TableResult(out, used, True, search.complete)


class _Budget(Exception):
    """The search for one witness ran out of nodes."""


class _TableSearch:
    """Which choices of each row some solution uses.

    Enumerating every solution can explode (rows that swap equal values between
    columns multiply them), so each choice is asked for one witness solution instead;
    a witness found marks every choice it uses.  A choice whose search runs out of
    budget is kept: it is not ruled out, so no cell is decided on its absence.
    """

    def __init__(self, choices: dict[int, list[tuple[Scalar, ...]]], n_eq: int, limit: int) -> None:
        self.rows = list(choices)
        self.vecs = [np.array(choices[r], dtype=float).reshape(len(choices[r]), n_eq) for r in self.rows]
        self.n_eq = n_eq
        self.budget = limit
        self.complete = True

    def solve(self) -> dict[int, set[int]] | None:
        """The choices kept per row; None when no assignment satisfies the relations."""
        root = self._propagate([np.arange(len(v)) for v in self.vecs])
        if root is None:
            return None
        kept: list[set[int]] = [set() for _ in self.rows]
        any_solution = False
        for i, dom in enumerate(root):
            for k in dom.tolist():
                if k in kept[i]:
                    continue
                trial = list(root)
                trial[i] = np.array([k])
                try:
                    found = self._witness(trial)
                except _Budget:
                    self.complete = False
                    kept[i].add(k)
                    continue
                if found is not None:
                    any_solution = True
                    for x, choice in enumerate(found):
                        kept[x].add(choice)
        if not any_solution and self.complete:
            return None
        return {r: kept[i] for i, r in enumerate(self.rows)}

    def _propagate(self, domains: list[np.ndarray]) -> list[np.ndarray] | None:
        """Drop choices no completion can balance; None when some row has none left."""
        domains = list(domains)
        while True:
            subs = [v[d] for v, d in zip(self.vecs, domains)]
            rl = np.array([m.min(axis=0) for m in subs])
            rh = np.array([m.max(axis=0) for m in subs])
            lo, hi = rl.sum(axis=0), rh.sum(axis=0)
            if (lo > _EPS).any() or (hi < -_EPS).any():
                return None
            changed = False
            for i, m in enumerate(subs):
                if len(m) == 1:
                    continue
                ok = ((lo - rl[i] + m) <= _EPS).all(axis=1) & ((hi - rh[i] + m) >= -_EPS).all(axis=1)
                if not ok.any():
                    return None
                if not ok.all():
                    domains[i] = domains[i][ok]
                    changed = True
            if not changed:
                return domains

    def _witness(self, domains: list[np.ndarray]) -> list[int] | None:
        """One solution within ``domains`` (a choice per row), or None when there is none."""
        self.budget -= 1
        if self.budget < 0:
            raise _Budget
        got = self._propagate(domains)
        if got is None:
            return None
        open_rows = [i for i, d in enumerate(got) if len(d) > 1]
        if not open_rows:
            total = sum(v[d[0]] for v, d in zip(self.vecs, got))
            return [int(d[0]) for d in got] if (np.abs(total) <= _EPS).all() else None
        i = min(open_rows, key=lambda x: len(got[x]))
        for k in got[i].tolist():
            child = list(got)
            child[i] = np.array([k])
            found = self._witness(child)
            if found is not None:
                return found
        return None


_EPS = 1e-9


# ---- Per cell: one value, or the candidates ------------------------------------------

# How many candidate values a review note lists before it stops.
MAX_LISTED = 12


@dataclass(frozen=True, slots=True)
class Decision:
    part: Part | None  # the value every reading agrees on; None when they disagree
    candidates: tuple[str, ...]  # what the readings give for the cell, as text


def decide(readings: Sequence[Reading], n: int) -> list[Decision]:
    out = []
    for col in range(n):
        seen: dict[tuple[State, Scalar | None], Part] = {}
        for r in readings:
            seen.setdefault(r[col].key, r[col])
        shown = tuple(p.show() for p in seen.values())
        out.append(Decision(next(iter(seen.values())) if len(seen) == 1 else None, shown))
    return out


def listing(candidates: Sequence[str]) -> str:
    """The candidates as a review note lists them: 'candidates: 3 | 31 | 3190'."""
    shown = list(candidates[:MAX_LISTED])
    more = " | …" if len(candidates) > MAX_LISTED else ""
    return "candidates: " + " | ".join(shown) + more
