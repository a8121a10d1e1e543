"""What happened to a user's file on the way in: warnings, repairs, dropped rows.

Reading (:mod:`geo.read`) and validating (:mod:`geo.validate`) never fix data
silently.  Every change they make is written into a :class:`Report` as an
:class:`Entry` with a stable ``code`` (for programs), a message in English and in
Chinese (for people), the feature index or data row it concerns and details.
The web layer returns ``report.to_dict()`` beside the result.

A file with a million bad rows must not produce a million-entry report, so each
code keeps at most :attr:`Report.max_per_code` entries per list and counts the rest.

Examples
--------
>>> r = Report()
>>> r.warn("crs_assumed", "no CRS: coordinates taken as WGS 84", "未注明坐标系，按WGS 84处理")
>>> r.drop("nan_coordinate", "coordinate is not a number", index=3)
>>> d = r.to_dict()
>>> d["counts"], d["dropped"][0]["index"]
({'warnings': 1, 'repairs': 0, 'dropped': 1}, 3)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON understands."""
    return value.item() if hasattr(value, "item") else value


@dataclass
class Entry:
    """One thing the reader or validator noticed.

    Attributes
    ----------
    code : str
        Stable machine-readable code, e.g. ``"swapped_lat_lon"``.
    message : str
        What happened, in English.
    message_zh : str
        The same in Chinese.
    index : int or None
        Feature index (0-based, in file order) or data row it concerns; None for
        the whole file.
    detail : dict
        Extra facts (original reason, line number, value …).
    """

    code: str
    message: str
    message_zh: str = ""
    index: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (empty members left out)."""
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.message_zh:
            d["message_zh"] = self.message_zh
        if self.index is not None:
            d["index"] = self.index
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass
class Report:
    """Warnings, repairs and dropped rows of one read.

    Attributes
    ----------
    warnings, repairs, dropped : list of Entry
        Entries kept (at most :attr:`max_per_code` per code and list).
    source : dict
        What was read: format, layer, encoding, CRS, counts.
    max_per_code : int
        Entries kept per code and list; the rest are only counted.
    """

    warnings: list[Entry] = field(default_factory=list)
    repairs: list[Entry] = field(default_factory=list)
    dropped: list[Entry] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    max_per_code: int = 100
    _totals: Counter = field(default_factory=Counter, repr=False)

    def _add(self, kind: str, entry: Entry) -> None:
        key = (kind, entry.code)
        self._totals[key] += 1
        if self._totals[key] <= self.max_per_code:
            getattr(self, kind).append(entry)

    def warn(self, code: str, message: str, message_zh: str = "", index: int | None = None,
             **detail: Any) -> None:
        """Record a warning (nothing was changed, but the user should know)."""
        self._add("warnings", Entry(code, message, message_zh, index, detail))

    def repair(self, code: str, message: str, message_zh: str = "", index: int | None = None,
               **detail: Any) -> None:
        """Record a repair (a feature was changed to make it usable)."""
        self._add("repairs", Entry(code, message, message_zh, index, detail))

    def drop(self, code: str, message: str, message_zh: str = "", index: int | None = None,
             **detail: Any) -> None:
        """Record a dropped feature or row."""
        self._add("dropped", Entry(code, message, message_zh, index, detail))

    def drop_many(self, code: str, message: str, message_zh: str, indices: Iterable[Any],
                  details: Iterable[dict[str, Any]] | None = None) -> None:
        """Record one dropped entry per index (details aligned with indices)."""
        details = list(details) if details is not None else None
        for i, idx in enumerate(indices):
            self.drop(code, message, message_zh, _plain(idx), **(details[i] if details else {}))

    def repair_many(self, code: str, message: str, message_zh: str, indices: Iterable[Any],
                    details: Iterable[dict[str, Any]] | None = None) -> None:
        """Record one repair entry per index (details aligned with indices)."""
        details = list(details) if details is not None else None
        for i, idx in enumerate(indices):
            self.repair(code, message, message_zh, _plain(idx), **(details[i] if details else {}))

    def extend(self, other: Report) -> None:
        """Append every entry and count of ``other`` (source facts merged too)."""
        for kind in ("warnings", "repairs", "dropped"):
            for entry in getattr(other, kind):
                self._add(kind, entry)
        # Entries beyond other's cap were only counted there: carry the counts over.
        for (kind, code), n in other._totals.items():
            kept = sum(1 for e in getattr(other, kind) if e.code == code)
            self._totals[(kind, code)] += n - kept
        self.source.update(other.source)

    def count(self, kind: str, code: str | None = None) -> int:
        """How many entries of ``kind`` (optionally with ``code``) were recorded.

        Examples
        --------
        >>> r = Report(max_per_code=1)
        >>> r.drop("blank_row", "blank row", index=1); r.drop("blank_row", "blank row", index=2)
        >>> r.count("dropped"), len(r.dropped)
        (2, 1)
        """
        return sum(n for (k, c), n in self._totals.items()
                   if k == kind and (code is None or c == code))

    def codes(self, kind: str | None = None) -> set[str]:
        """Codes recorded (in ``kind`` or in any list)."""
        return {c for (k, c) in self._totals if kind is None or k == kind}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: entries, counts, omitted counts per code and source facts."""
        omitted = {}
        for (kind, code), n in self._totals.items():
            if n > self.max_per_code:
                omitted.setdefault(kind, {})[code] = n - self.max_per_code
        d: dict[str, Any] = {
            "warnings": [e.to_dict() for e in self.warnings],
            "repairs": [e.to_dict() for e in self.repairs],
            "dropped": [e.to_dict() for e in self.dropped],
            "counts": {k: self.count(k) for k in ("warnings", "repairs", "dropped")},
            "source": self.source,
        }
        if omitted:
            d["omitted"] = omitted
        return d


@dataclass
class ReadResult:
    """A user's file as a validated GeoDataFrame in EPSG:4326, with its report.

    Examples
    --------
    >>> import shapely
    >>> res = ReadResult(gpd.GeoDataFrame(geometry=[shapely.Point(116, 44)], crs=4326), Report())
    >>> gdf, report = res
    >>> len(gdf), report.count("dropped")
    (1, 0)
    """

    gdf: gpd.GeoDataFrame
    report: Report

    def __iter__(self):
        # Lets callers write ``gdf, report = read_file(...)``.
        return iter((self.gdf, self.report))
