"""Row-level errors and warnings about a user's file, in Chinese and English.

When a file is to replace a catalog layer, every problem found while mapping its
columns (:mod:`layers.mapping`), placing its rows, re-deriving fields
(:mod:`layers.derive`) and validating it against the catalog
(:mod:`layers.validate_ref`) is one :class:`Issue`: the row in the user's file
(counted the way the file counts: sheet rows after any title rows, CSV lines,
feature numbers), the column, the value, what is wrong and how to fix it, in both
languages.  An :class:`Issues` collection keeps them (at most
:attr:`Issues.max_per_code` per code, the rest counted) and answers whether any
is an error — the endpoint's 422 — and serialises them for the preview.

Examples
--------
>>> iss = Issues()
>>> iss.error("not_a_number", "'十二' is not a number", "“十二”不是数字",
...           hint="write the amount in 亿元, e.g. 12.5", hint_zh="请填写数字（亿元），如12.5",
...           row=7, where="row", column="总投资(亿元)", field="total_investment_yi", value="十二")
>>> iss.ok, iss.errors[0].text("en")
(False, "row 7, column 总投资(亿元): '十二' is not a number — write the amount in 亿元, e.g. 12.5")
>>> iss.to_dict()["counts"]
{'errors': 1, 'warnings': 0}
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Severity = Literal["error", "warning"]

_WHERE_ZH = {"row": "第{}行", "line": "第{}行", "feature": "第{}个要素"}


def plain(value: Any, limit: int = 200) -> Any:
    """A cell value as JSON understands it (long text cut, NaN as None).

    Examples
    --------
    >>> plain(np.float64(1.5)), plain(float("nan")), plain("x" * 300)[-1]
    (1.5, None, '…')
    """
    if value is None:
        return None
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Issue:
    """One problem with a user's file.

    Attributes
    ----------
    code : str
        Stable machine-readable code (``required_missing``, ``unknown_code`` …).
    severity : {"error", "warning"}
        Errors stop a commit (422); warnings are shown and allowed.
    message, message_zh : str
        What is wrong, in English and Chinese (without the row and column: see
        :meth:`text`).
    hint, hint_zh : str
        How to fix it.
    row : int or None
        Row (sheet row, CSV line, feature number) in the user's file; None for the
        whole file.
    where : str or None
        What ``row`` counts: ``"row"``, ``"line"`` or ``"feature"``.
    column : str or None
        The source column.
    field : str or None
        The catalog field.
    value : any
        The offending value (JSON-safe).
    suggestion : any
        The nearest valid value, when there is one.
    detail : dict
        Extra facts.
    """

    code: str
    severity: Severity
    message: str
    message_zh: str = ""
    hint: str = ""
    hint_zh: str = ""
    row: int | None = None
    where: str | None = None
    column: str | None = None
    field: str | None = None
    value: Any = None
    suggestion: Any = None
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """The issue as one sentence: where, what, and how to fix it."""
        parts = []
        if lang == "zh":
            if self.row is not None:
                parts.append(_WHERE_ZH.get(self.where or "row", "第{}行").format(self.row))
            if self.column:
                parts.append(f"“{self.column}”列")
            head = "，".join(parts)
            body = self.message_zh or self.message
            hint = self.hint_zh or self.hint
            return (f"{head}：" if head else "") + body + (f"（{hint}）" if hint else "")
        if self.row is not None:
            parts.append(f"{self.where or 'row'} {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        head = ", ".join(parts)
        return (f"{head}: " if head else "") + self.message + (f" — {self.hint}" if self.hint
                                                                else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (empty members left out)."""
        d: dict[str, Any] = {"code": self.code, "severity": self.severity,
                             "message": self.message, "message_zh": self.message_zh}
        for k in ("hint", "hint_zh", "row", "where", "column", "field"):
            v = getattr(self, k)
            if v not in (None, ""):
                d[k] = v
        if self.value is not None:
            d["value"] = plain(self.value)
        if self.suggestion is not None:
            d["suggestion"] = plain(self.suggestion)
        if self.detail:
            d["detail"] = self.detail
        d["text"] = self.text("en")
        d["text_zh"] = self.text("zh")
        return d


@dataclass
class Issues:
    """Errors and warnings, capped per code (the rest counted).

    Attributes
    ----------
    errors, warnings : list of Issue
    max_per_code : int
        Issues kept per code and severity; a file with ten thousand bad rows gives a
        readable answer, with the totals in :meth:`counts`.
    """

    errors: list[Issue] = dataclasses.field(default_factory=list)
    warnings: list[Issue] = dataclasses.field(default_factory=list)
    max_per_code: int = 200
    _totals: Counter = dataclasses.field(default_factory=Counter, repr=False)

    def add(self, issue: Issue) -> None:
        """Keep ``issue`` (or only count it, past the cap)."""
        key = (issue.severity, issue.code)
        self._totals[key] += 1
        if self._totals[key] <= self.max_per_code:
            (self.errors if issue.severity == "error" else self.warnings).append(issue)

    def error(self, code: str, message: str, message_zh: str = "", **kw: Any) -> None:
        """Record an error (stops a commit)."""
        self.add(Issue(code, "error", message, message_zh, **kw))

    def warn(self, code: str, message: str, message_zh: str = "", **kw: Any) -> None:
        """Record a warning."""
        self.add(Issue(code, "warning", message, message_zh, **kw))

    def extend(self, other: Issues) -> None:
        """Add every issue and count of ``other``."""
        for issue in other.errors + other.warnings:
            self.add(issue)
        for (sev, code), n in other._totals.items():
            kept = sum(1 for i in (other.errors if sev == "error" else other.warnings)
                       if i.code == code)
            self._totals[(sev, code)] += n - kept

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not any(sev == "error" for sev, _ in self._totals)

    def count(self, severity: str | None = None, code: str | None = None) -> int:
        """How many issues were recorded (of ``severity`` and ``code``)."""
        return sum(n for (s, c), n in self._totals.items()
                   if (severity is None or s == severity) and (code is None or c == code))

    def codes(self, severity: str | None = None) -> set[str]:
        """Codes recorded."""
        return {c for (s, c) in self._totals if severity is None or s == severity}

    def counts(self) -> dict[str, int]:
        """``{"errors": n, "warnings": m}``."""
        return {"errors": self.count("error"), "warnings": self.count("warning")}

    def rows_in_error(self) -> list[int]:
        """Rows with at least one error kept (for highlighting them on the map)."""
        return sorted({i.row for i in self.errors if i.row is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``errors``, ``warnings``, ``counts`` and ``omitted`` per code."""
        omitted: dict[str, int] = {}
        for (sev, code), n in self._totals.items():
            if n > self.max_per_code:
                omitted[f"{sev}:{code}"] = n - self.max_per_code
        d: dict[str, Any] = {"errors": [i.to_dict() for i in self.errors],
                             "warnings": [i.to_dict() for i in self.warnings],
                             "counts": self.counts()}
        if omitted:
            d["omitted"] = omitted
        return d
