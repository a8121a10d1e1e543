"""Spreadsheets as governments keep them: title rows, two-row headers, totals and notes.

A registry kept in Excel or WPS rarely starts with its header on row 1.  Above it
sit a title (``锡林郭勒盟2023年自治区重大项目表``, often merged across the table) and
a line such as ``单位：万元``; the header may span two rows (``投资（万元）`` merged over
``总投资`` and ``2023年计划``); group rows (``一、能源项目``) split the list; a totals row
(``合计``/``总计``/``小计``) and notes (``注：…``) close it.  This module finds the header
in the first rows of a grid (:func:`locate_header`), names the columns, and sorts
the rows after it into data and the rest (:func:`classify_rows`).  Everything
skipped is said in the read report by :mod:`geo.read.tabular`.

A grid is a list of rows, each a sequence of cell values (``None`` or ``""`` for
empty), as csv or openpyxl give them; row ``k`` of the grid is row ``k + 1`` of
the user's file.

Examples
--------
>>> grid = [["2023年重大项目表", None, None], [None, None, "单位：万元"],
...         ["序号", "项目名称", "总投资"], [1, "甲项目", 100], [2, "乙项目", 50],
...         ["合计", None, 150]]
>>> h = locate_header(grid)
>>> h.row, h.names, h.title, h.unit
(2, ['序号', '项目名称', '总投资'], ['2023年重大项目表', '单位：万元'], '万元')
>>> classify_rows(grid[h.data_start:]).kind.tolist()
['data', 'data', 'total']
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Rows scanned for the header.
HEADER_SCAN_ROWS = 30

#: A cell that makes its row a totals row (after removing spaces).
TOTAL_WORDS = ("合计", "总计", "小计", "共计", "累计", "全盟合计", "全盟", "total", "subtotal",
               "sum", "grandtotal")
_TOTAL_RE = re.compile(r"^(?:" + "|".join(TOTAL_WORDS) + r")[:：]?$", re.IGNORECASE)
#: A cell that starts a note row below (or above) the table.
_NOTE_RE = re.compile(r"^(?:注|备注|说明|附注|数据来源|资料来源|填报单位|填报人|填表人|制表|审核|"
                      r"联系人|联系电话|note|source)\s*[:：\d]", re.IGNORECASE)
#: A group row: "一、能源项目", "（二）工业", "第三类 基础设施".
_GROUP_RE = re.compile(r"^(?:[一二三四五六七八九十百]+\s*[、.．]|[(（][一二三四五六七八九十百]+[)）]|"
                       r"第[一二三四五六七八九十百]+[类部分项批])")
#: "单位：万元" (or 亿元, 元, 千元, 万元/亿元 with brackets) in a title row.
_UNIT_RE = re.compile(r"(?:计量)?单位\s*[:：]\s*(亿元|万元|千元|百万元|元|公里|千米|米|km|m)",
                      re.IGNORECASE)
_NUMBER_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?%?$")


def cell_text(value: Any) -> str:
    """A cell as stripped text ("" for empty), full-width forms folded (NFKC).

    Examples
    --------
    >>> cell_text("  总投资（万元） "), cell_text(None), cell_text(12.0)
    ('总投资(万元)', '', '12.0')
    """
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return unicodedata.normalize("NFKC", str(value)).replace("\u3000", " ").strip()


def is_number_text(text: str) -> bool:
    """Whether ``text`` (already :func:`cell_text`) reads as a number.

    Examples
    --------
    >>> is_number_text("1,568.5"), is_number_text("12%"), is_number_text("能源")
    (True, True, False)
    """
    return bool(text) and any(ch.isdigit() for ch in text) and bool(_NUMBER_RE.match(text))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return not (isinstance(value, float) and np.isnan(value))
    return is_number_text(cell_text(value))


@dataclass
class Header:
    """Where a table's header is and what it says.

    Attributes
    ----------
    row : int
        Grid index (0-based) of the header row (the first of two when ``depth`` is 2).
    depth : int
        1, or 2 for a header whose second row names the columns under a merged group.
    names : list of str
        Column names (a two-row header combined, e.g. ``总投资(万元)``).
    title : list of str
        Text of the rows above the header (titles, ``单位：万元`` lines).
    unit : str or None
        A unit declared above the header (``单位：万元``), for columns without their own.
    width : int
        Number of columns.
    """

    row: int
    depth: int
    names: list[str]
    title: list[str] = field(default_factory=list)
    unit: str | None = None
    width: int = 0

    @property
    def data_start(self) -> int:
        """Grid index of the first row after the header."""
        return self.row + self.depth


def _filled(row: Sequence[Any]) -> list[int]:
    return [j for j, v in enumerate(row) if cell_text(v) != ""]


def _looks_like_header(row: Sequence[Any], width: int) -> bool:
    filled = _filled(row)
    if not filled:
        return False
    text = [j for j in filled if not _is_number(row[j])]
    need = 1 if width <= 1 else max(2, -(-width // 2))
    # Mostly words, and spread over at least half the table.
    return len(filled) >= need and len(text) * 2 >= len(filled) and len(text) >= min(2, width)


def _is_subheader(parent: Sequence[Any], row: Sequence[Any], width: int) -> bool:
    """Whether ``row`` names the columns under a group label merged across ``parent``.

    The signature of a two-row header: a parent label followed by blank parent cells
    (the merge), with the row below naming both columns, and no numbers in that row.
    """
    filled = _filled(row)
    if not filled or any(_is_number(row[j]) for j in filled):
        return False
    p = [cell_text(parent[j]) if j < len(parent) else "" for j in range(width)]
    s = [cell_text(row[j]) if j < len(row) else "" for j in range(width)]
    return any(p[j] and not p[j + 1] and s[j] and s[j + 1] for j in range(width - 1))


def _split_unit(name: str) -> tuple[str, str]:
    m = re.search(r"\(([^()]*)\)\s*$", name)
    if m:
        return name[:m.start()].strip(), m.group(1).strip()
    return name, ""


def _combine(parent: list[str], sub: list[str]) -> list[str]:
    """Names of a two-row header: the sub-label, with its group's bracketed unit.

    ``投资(万元)`` over ``总投资`` gives ``总投资(万元)``; ``2023年`` over ``计划投资`` gives
    ``2023年计划投资``; a parent merged down over a blank sub-cell stays as it is.
    """
    out = []
    group = ""
    for p, s in zip(parent, sub, strict=True):
        if p:
            group = p if s else ""
        if not s:
            out.append(p)
            if not p:
                group = ""
            continue
        base, unit = _split_unit(p or group)
        if not (p or group):
            out.append(s)
        elif unit:
            out.append(s if _split_unit(s)[1] else f"{s}({unit})")
        elif not s.startswith(base):
            out.append(base + s)
        else:
            out.append(s)
    return out


def locate_header(grid: Sequence[Sequence[Any]], header_row: int | None = None) -> Header:
    """Find the header row in the first :data:`HEADER_SCAN_ROWS` rows of ``grid``.

    The header is the first row whose filled cells are mostly words and cover at
    least half of the table's width; the rows above it are its title.  When the
    next row only names columns the header row leaves blank (a merged group label
    above them), the two rows form the header.

    Parameters
    ----------
    grid : sequence of rows
        Cell values; ``None``/``""`` for empty.
    header_row : int, optional
        The header's grid index, when the caller knows it.

    Returns
    -------
    Header

    Examples
    --------
    >>> g = [["项目名称", "投资（万元）", None], [None, "总投资", "2023年计划"], ["甲", 10, 2]]
    >>> locate_header(g).names
    ['项目名称', '总投资(万元)', '2023年计划(万元)']
    >>> locate_header([["lon", "lat"], ["116", "44"]]).row
    0
    """
    head = [list(r) for r in grid[:HEADER_SCAN_ROWS]]
    width = max((max(_filled(r), default=-1) + 1 for r in head), default=0)
    if header_row is None:
        header_row = next((k for k, r in enumerate(head) if _looks_like_header(r, width)), None)
        if header_row is None:
            header_row = next((k for k, r in enumerate(head) if _filled(r)), 0)
    row = list(grid[header_row]) if header_row < len(grid) else []
    row += [None] * (width - len(row))
    # Names as the user wrote them (only stripped): the mapping folds full-width forms itself.
    names = [_as_written(v) for v in row[:width]]
    depth = 1
    if header_row + 1 < len(grid):
        nxt = list(grid[header_row + 1]) + [None] * width
        if _is_subheader(row, nxt[:width], width):
            depth = 2
            names = _combine([cell_text(v) for v in row[:width]],
                             [cell_text(v) for v in nxt[:width]])
    # Title text as written; the unit is looked for in its folded form (full-width colon).
    title = [" ".join(str(v).strip() for v in r if cell_text(v)) for r in grid[:header_row]]
    title = [t for t in title if t]
    unit = None
    for t in title:
        m = _UNIT_RE.search(cell_text(t))
        if m:
            unit = m.group(1)
    return Header(header_row, depth, names, title, unit, width)


def _as_written(value: Any) -> str:
    return "" if cell_text(value) == "" else str(value).replace("\u3000", " ").strip()


def unique_names(names: Sequence[str]) -> list[str]:
    """Column names made unique and non-empty (``Unnamed: k`` as pandas names them).

    Examples
    --------
    >>> unique_names(["a", "", "a"])
    ['a', 'Unnamed: 1', 'a.1']
    """
    out: list[str] = []
    seen: dict[str, int] = {}
    for k, n in enumerate(names):
        n = n or f"Unnamed: {k}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


@dataclass
class Rows:
    """What each row after the header is.

    Attributes
    ----------
    kind : numpy.ndarray of str
        ``"data"``, ``"blank"``, ``"trailing_blank"``, ``"total"``, ``"group"`` or
        ``"note"`` per row.
    group : numpy.ndarray of str
        For data rows, the label of the group row above them ("" when none).
    """

    kind: np.ndarray
    group: np.ndarray


def _total_words() -> frozenset[str]:
    """Totals labels as people type them: 合计, 合 计, 合　计, 合计：, Total …"""
    out = set()
    for w in TOTAL_WORDS:
        forms = {w, w.capitalize(), w.upper()}
        if len(w) == 2 and not w.isascii():
            forms |= {w[0] + sep + w[1] for sep in (" ", "  ", "\u3000", "\u3000\u3000")}
        for f in forms:
            out |= {f, f + ":", f + "：", " " + f, f + " "}
    return frozenset(out)


_TOTALS = _total_words()


def classify_rows(rows: Sequence[Sequence[Any]] | pd.DataFrame, blank: np.ndarray | None = None,
                  label_columns: int = 3) -> Rows:
    """Sort the rows after a header into data, blank, totals, group and note rows.

    A totals row has a cell reading 合计/总计/小计/共计 (or Total) in one of its first
    ``label_columns`` columns; a group row has one or two filled cells, the first
    numbered like ``一、`` or ``（二）``; a note row one or two filled cells, the first
    starting ``注：``, ``备注``, ``数据来源``, ``填报单位`` ….  Blank rows after the last
    non-blank row are ``trailing_blank``.  Vectorised: hashed look-ups on the label
    columns, regular expressions only on the rows with one or two filled cells.

    Parameters
    ----------
    rows : DataFrame or sequence of rows
        The rows after the header.
    blank : ndarray of bool, optional
        Cell-wise blank mask of ``rows`` when the caller has it already.

    Examples
    --------
    >>> r = classify_rows([["一、能源", None, None], [1, "风电", 3.5], [None, None, None],
    ...                    ["小 计", None, 3.5], ["注：示意", None, None], [None, None, None]])
    >>> r.kind.tolist()
    ['group', 'data', 'blank', 'total', 'note', 'trailing_blank']
    >>> r.group.tolist()[1]
    '一、能源'
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), dtype=object)
    n = len(frame)
    kind = np.full(n, "data", dtype=object)
    group = np.full(n, "", dtype=object)
    if n == 0:
        return Rows(kind, group)
    arr = frame.to_numpy(dtype=object)
    if blank is None:
        blank = blank_cells(arr)
    n_filled = (~blank).sum(axis=1)
    total = np.zeros(n, dtype=bool)
    for j in range(min(label_columns, arr.shape[1])):
        total |= pd.Series(arr[:, j], dtype=object).isin(_TOTALS).to_numpy()
    few = np.flatnonzero((n_filled >= 1) & (n_filled <= 2) & ~total)
    labels = np.full(n, None, dtype=object)
    if len(few):
        first = arr[few, np.argmax(~blank[few], axis=1)]
        text = [re.sub(r"\s+", "", cell_text(v)) for v in first]
        is_note = np.array([bool(_NOTE_RE.match(t)) for t in text], dtype=bool)
        is_group = np.array([bool(_GROUP_RE.match(t)) for t in text], dtype=bool) & ~is_note
        kind[few[is_note]] = "note"
        kind[few[is_group]] = "group"
        labels[few[is_group]] = [str(v).strip() for v in first[is_group]]
    kind[total] = "total"
    empty = n_filled == 0
    kind[empty] = "blank"
    filled_rows = np.flatnonzero(~empty)
    kind[(filled_rows[-1] + 1) if len(filled_rows) else 0:] = "trailing_blank"
    if (kind == "group").any():
        carried = pd.Series(labels, dtype=object).ffill().fillna("").to_numpy(dtype=object)
        group = np.where(kind == "data", carried, "").astype(object)
    return Rows(kind, group)


_IS_SPACE = np.frompyfunc(lambda v: v.__class__ is str and v.isspace(), 1, 1)


def blank_cells(arr: np.ndarray) -> np.ndarray:
    """Cell-wise: empty, whitespace-only or missing (a 2-D object array in, bool out).

    Examples
    --------
    >>> blank_cells(np.array([["", " ", None, "a"]], dtype=object)).tolist()
    [[True, True, True, False]]
    """
    blank = pd.isna(arr) | (arr == "")
    if arr.size:
        # frompyfunc: one C-level loop; pandas' string methods cost far more per cell here.
        blank |= _IS_SPACE(arr).astype(bool)
    return blank


# -- XLSX merged cells ------------------------------------------------------------------------

_SHEET_RE = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"[^>]*?\br:id=\"([^\"]*)\"")
_SHEET_RE2 = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]*)\"[^>]*?\bname=\"([^\"]*)\"")
_REL_RE = re.compile(rb"<Relationship\b[^>]*>")
_ATTR_RE = re.compile(rb"\b(Id|Target)=\"([^\"]*)\"")
_MERGE_RE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*\bref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def merged_ranges(data: bytes, sheet: str, max_bytes: int = 200 * 1024 * 1024
                  ) -> list[tuple[int, int, int, int]]:
    """Merged cell ranges of a sheet of an XLSX workbook, as 0-based (r0, c0, r1, c1).

    openpyxl's streaming (read-only) mode does not expose merges, so they are read
    from the sheet's XML directly; any problem gives an empty list (merges only
    refine the reading).

    Examples
    --------
    >>> import openpyxl
    >>> wb = openpyxl.Workbook(); ws = wb.active; ws.title = "表"
    >>> ws.merge_cells("A1:D1"); ws.merge_cells("B3:B5")
    >>> buf = io.BytesIO(); wb.save(buf)
    >>> merged_ranges(buf.getvalue(), "表")
    [(0, 0, 0, 3), (2, 1, 4, 1)]
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            book = zf.read("xl/workbook.xml")
            rels = zf.read("xl/_rels/workbook.xml.rels")
            rid = None
            for m in _SHEET_RE.finditer(book):
                if html.unescape(m.group(1).decode("utf-8")) == sheet:
                    rid = m.group(2)
            if rid is None:
                for m in _SHEET_RE2.finditer(book):
                    if html.unescape(m.group(2).decode("utf-8")) == sheet:
                        rid = m.group(1)
            if rid is None:
                return []
            target = None
            for rel in _REL_RE.finditer(rels):
                attrs = dict(_ATTR_RE.findall(rel.group(0)))
                if attrs.get(b"Id") == rid:
                    target = attrs.get(b"Target", b"").decode("utf-8")
            if not target:
                return []
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            info = zf.getinfo(path)
            if info.file_size > max_bytes:
                return []
            xml = zf.read(path)
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError, OSError):
        return []
    out = []
    for c0, r0, c1, r1 in _MERGE_RE.findall(xml):
        out.append((int(r0) - 1, _col_index(c0), int(r1) - 1, _col_index(c1)))
    return out
