"""Water quality over time: monthly and annual means, their classes, targets met.

The national assessment classes a month or a year by the **mean** of each item
over the period (地表水环境质量评价办法), not by the worst sample.  In the means a
value below the detection limit counts as **half** that limit; when every value
of an item in the period is below detection the mean is itself below detection
(the mean of the limits, flagged ``<name>_lt``), which meets class Ⅰ as a single
below-detection sample does.  Means are rounded to six significant digits before
they are classified, so that a mean equal to a limit up to floating-point noise
(0.15000000000000002) meets it.  Classes come from
:func:`geo.water.gb3838.classify`.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"section_id": ["a", "a", "a"],
...                   "sampled_on": ["2023-01-10", "2023-01-25", "2023-02-10"],
...                   "nh3_n": [0.4, 0.7, 0.1], "tp": [0.05, 0.05, 0.02],
...                   "tp_lt": [False, False, True]})
>>> m = period_classes(s, "month", targets={"a": "Ⅱ"})
>>> m[["period", "n_samples", "nh3_n", "class_zh", "meets_target"]].values.tolist()
[['2023-01', 2, 0.55, 'Ⅲ', False], ['2023-02', 1, 0.1, 'Ⅰ', True]]
>>> y = period_classes(s, "year", targets={"a": "Ⅱ"})
>>> y[["period", "nh3_n", "tp", "class_zh"]].values.tolist()   # tp: (0.05 + 0.05 + 0.01) / 3
[['2023', 0.4, 0.0366667, 'Ⅱ']]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import GeoInputError
from .gb3838 import ITEMS, PARAMETERS, Waterbody, class_label, classify, item_arrays

Period = Literal["month", "year"]
_FORMAT = {"month": "%Y-%m", "year": "%Y"}

#: Significant digits kept in means before they are classified.
MEAN_DIGITS = 6


def sample_dates(samples: pd.DataFrame, column: str = "sampled_on") -> pd.Series:
    """The sampling dates as datetimes (dates, strings or datetimes accepted).

    Raises
    ------
    GeoInputError
        When the column is missing or a value is not a date.

    Examples
    --------
    >>> sample_dates(pd.DataFrame({"sampled_on": ["2023-01-05", "2023/2/7"]})).dt.month.tolist()
    [1, 2]
    """
    if column not in samples:
        raise GeoInputError(f"the samples have no {column!r} column",
                            hint="every sample needs its sampling date (YYYY-MM-DD)",
                            message_zh="样品缺少采样日期", hint_zh="每个样品都需要采样日期(年-月-日)",
                            status=422, code="unprocessable")
    raw = samples[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    text = raw.astype(str).str.strip().str.replace("/", "-", regex=False)
    dates = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        shown = ", ".join(f"row {i}: {raw.iloc[i]!r}" for i in bad[:5])
        raise GeoInputError(f"not a date: {shown}", hint="write dates as YYYY-MM-DD",
                            message_zh=f"无法识别的日期: {shown}", hint_zh="日期请写作 年-月-日",
                            status=422, code="unprocessable")
    return dates


def _round_sig(x: NDArray[np.float64], digits: int = MEAN_DIGITS) -> NDArray[np.float64]:
    """Round to ``digits`` significant digits (0 and NaN unchanged)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
    dec = np.where(np.isfinite(mag), digits - 1 - mag, 0).astype(int)
    out = x.copy()
    for d in np.unique(dec):  # a few distinct magnitudes
        sel = dec == d
        out[sel] = np.round(x[sel], int(d))
    return out


def period_means(samples: pd.DataFrame, period: Period = "month", by: str = "section_id"
                 ) -> pd.DataFrame:
    """Mean of every item per ``by`` (section) and period, as the assessment takes them.

    Parameters
    ----------
    samples : DataFrame
        ``by``, ``sampled_on`` and the items (:data:`geo.water.gb3838.PARAMETERS`)
        with their ``<name>_lt`` flags.
    period : {"month", "year"}
        Calendar months (``2023-01``) or years (``2023``).
    by : str
        The column that names the section.

    Returns
    -------
    DataFrame
        ``by``, ``period``, ``n_samples``, ``first_sampled``, ``last_sampled`` and one
        column per item present (with ``<name>_lt`` where every value was below
        detection), sorted by ``by`` and period.
    """
    if period not in _FORMAT:
        raise GeoInputError(f"period must be 'month' or 'year', not {period!r}",
                            hint="period=month or period=year", code="bad_parameter")
    if by not in samples:
        raise GeoInputError(f"the samples have no {by!r} column",
                            hint="every sample needs the id of its section",
                            message_zh="样品缺少断面编号", status=422, code="unprocessable")
    dates = sample_dates(samples)
    sections = samples[by].astype(str).to_numpy(dtype=object)
    periods = dates.dt.strftime(_FORMAT[period]).to_numpy(dtype=object)
    codes, groups = pd.factorize(pd.MultiIndex.from_arrays([sections, periods]), sort=True)
    g = len(groups)
    present = [p for p in PARAMETERS if p in samples]
    n, k = len(samples), len(present)
    values = np.full((n, k), np.nan)
    flags = np.zeros((n, k), dtype=bool)
    for j, (v, lt) in enumerate(item_arrays(samples, tuple(present)).values()):
        values[:, j], flags[:, j] = v, lt
    below = flags & np.array([ITEMS[p].below_detection for p in present], dtype=bool)
    valid = ~np.isnan(values)

    # One pass of group sums over the (samples × items) matrix: means with below-detection
    # values at half their limit, and the mean of the limits where every value was below.
    def sums(matrix: NDArray) -> NDArray[np.float64]:
        out = np.zeros((g, k))
        np.add.at(out, codes, matrix)
        return out

    count = sums(valid.astype(float))
    total = sums(np.where(valid, np.where(below, values / 2.0, values), 0.0))
    n_below = sums(below.astype(float))
    lim_ok = below & valid
    lim_total, lim_count = sums(np.where(lim_ok, values, 0.0)), sums(lim_ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        lim_mean = np.where(lim_count > 0, lim_total / lim_count, np.nan)
    all_below = (count > 0) & (n_below == count)
    value = _round_sig(np.where(all_below, lim_mean, mean)) if k else mean
    when = pd.Series(dates.to_numpy()).groupby(codes).agg(["min", "max"])
    out = pd.DataFrame({by: groups.get_level_values(0).astype(str),
                        "period": groups.get_level_values(1).astype(str),
                        "n_samples": np.bincount(codes, minlength=g),
                        "first_sampled": when["min"].dt.strftime("%Y-%m-%d").to_numpy(),
                        "last_sampled": when["max"].dt.strftime("%Y-%m-%d").to_numpy()})
    for j, p in enumerate(present):
        out[p] = value[:, j]
        if ITEMS[p].below_detection:
            out[f"{p}_lt"] = all_below[:, j]
    return out


def _target_column(frame: pd.DataFrame, targets: Mapping[str, Any] | str | int | None,
                   by: str) -> list[Any] | Any:
    if targets is None or isinstance(targets, (str, int)):
        return targets
    return [targets.get(s) for s in frame[by].astype(str)]


def period_classes(samples: pd.DataFrame, period: Period = "month",
                   targets: Mapping[str, Any] | str | int | None = None,
                   by: str = "section_id", waterbody: Waterbody = "river") -> pd.DataFrame:
    """:func:`period_means` with the class of each mean and its target.

    ``targets`` maps each section to its target class (``{"sec_x": "Ⅲ类"}``), or is
    one class for all.  Columns as :func:`period_means` plus those of
    :func:`geo.water.gb3838.classify`.
    """
    means = period_means(samples, period, by)
    cls = classify(means, _target_column(means, targets, by), waterbody)
    return pd.concat([means, cls], axis=1)


def sample_classes(samples: pd.DataFrame, targets: Mapping[str, Any] | str | int | None = None,
                   by: str = "section_id", waterbody: Waterbody = "river") -> pd.DataFrame:
    """The samples with the columns of :func:`geo.water.gb3838.classify` added."""
    target = _target_column(samples, targets, by) if by in samples else targets
    cls = classify(samples, target, waterbody)
    return pd.concat([samples.drop(columns=[c for c in cls.columns if c in samples]), cls],
                     axis=1)


def share_meeting_target(classified: pd.DataFrame, by: str = "section_id") -> pd.DataFrame:
    """Per section: samples classified, samples meeting the target, and the share.

    Examples
    --------
    >>> c = pd.DataFrame({"section_id": ["a", "a", "b"],
    ...                   "meets_target": pd.array([True, False, None], dtype="boolean")})
    >>> share_meeting_target(c).values.tolist()
    [['a', 2, 1, 0.5], ['b', 0, 0, nan]]
    """
    meets = classified["meets_target"].astype("boolean")
    frame = pd.DataFrame({by: classified[by].astype(str).to_numpy(),
                          "n": meets.notna().to_numpy(dtype=int),
                          "ok": meets.fillna(False).to_numpy(dtype=int)})
    g = frame.groupby(by, sort=True)[["n", "ok"]].sum()
    g = g.rename(columns={"n": "n_samples", "ok": "n_meeting"})
    g["share"] = np.where(g["n_samples"] > 0, g["n_meeting"] / g["n_samples"].where(
        g["n_samples"] > 0, 1), np.nan)
    return g.reset_index()


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows of any frame here: NaN/NA → None, NumPy scalars → Python.

    Examples
    --------
    >>> to_records(pd.DataFrame({"a": [1.5, np.nan], "b": pd.array([True, None],
    ...                                                             dtype="boolean")}))
    [{'a': 1.5, 'b': True}, {'a': None, 'b': None}]
    """
    out = []
    for rec in frame.to_dict("records"):
        row = {}
        for k, v in rec.items():
            if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                v = None
            elif hasattr(v, "item") and not isinstance(v, (list, dict)):
                v = v.item()
            row[k] = v
        out.append(row)
    return out


def section_quality(samples: pd.DataFrame, section_id: str, target: Any = None,
                    date_from: Any = None, date_to: Any = None, by: str = "section_id",
                    waterbody: Waterbody = "river") -> dict[str, Any]:
    """Everything the watershed page shows for one section, JSON-ready.

    Parameters
    ----------
    samples : DataFrame
        The ``wq_samples`` layer (or any samples with ``by`` and ``sampled_on``).
    section_id : str
        The section.
    target : class, optional
        Its target class (``target_class`` of the sections layer).
    date_from, date_to : date or str, optional
        Both inclusive.

    Returns
    -------
    dict
        ``section_id``, ``target_class`` (label) …, ``samples`` (date, values,
        class_number (1–6), class, class_en, controlling, exceedance, meets_target), ``monthly`` and
        ``annual`` (means and classes), ``share_meeting_target``, ``limits`` (each
        item's limit for the target class, :func:`geo.water.gb3838.limits_for_class`)
        and ``rule``.

    Examples
    --------
    >>> s = pd.DataFrame({"section_id": ["a", "a"], "sampled_on": ["2023-01-10", "2023-02-10"],
    ...                   "nh3_n": [1.2, 0.4]})
    >>> q = section_quality(s, "a", "Ⅲ类")
    >>> [(r["sampled_on"], r["class"], r["meets_target"]) for r in q["samples"]]
    [('2023-01-10', 'Ⅳ', False), ('2023-02-10', 'Ⅱ', True)]
    >>> q["share_meeting_target"], q["annual"][0]["class"]
    (0.5, 'Ⅲ')
    """
    from .gb3838 import ASSESSMENT_RULE, limits_for_class, parse_class

    mine = samples[samples[by].astype(str) == section_id] if by in samples else samples
    if len(mine):
        dates = sample_dates(mine).dt.normalize()  # whole days: both ends inclusive
        keep = np.ones(len(mine), dtype=bool)
        if date_from not in (None, ""):
            keep &= (dates >= _one_date(date_from, "from")).to_numpy()
        if date_to not in (None, ""):
            keep &= (dates <= _one_date(date_to, "to")).to_numpy()
        mine = mine[keep]
    t = parse_class(target) if target not in (None, "") else None
    items = [p for p in PARAMETERS if p in mine]
    lts = [f"{p}_lt" for p in items if f"{p}_lt" in mine]
    if len(mine):
        cls = sample_classes(mine, t, by, waterbody)
        cls = cls.assign(sampled_on=sample_dates(cls).dt.strftime("%Y-%m-%d"))
        cls = cls.sort_values("sampled_on", kind="stable")
        monthly = period_classes(mine, "month", t, by, waterbody)
        annual = period_classes(mine, "year", t, by, waterbody)
        share = share_meeting_target(cls, by)
        share_value = float(share["share"].iloc[0]) if len(share) else None
    else:
        cls = monthly = annual = pd.DataFrame()
        share_value = None

    def shaped(frame: pd.DataFrame, head: list[str]) -> list[dict[str, Any]]:
        if frame.empty:
            return []
        cols = [c for c in head if c in frame] + items + [c for c in lts if c in frame] + [
            "class_zh", "class_en", "controlling", "meets_target", "exceeding", "exceedance"]
        out = frame[cols].rename(columns={"class_zh": "class"})
        # the class as a number too (1–6, 6 = 劣Ⅴ), for charts of class over time
        out.insert(out.columns.get_loc("class"), "class_number", frame["class"])
        return to_records(out)

    return {
        "section_id": section_id,
        "target_class": class_label([t])[0] if t else None,
        "target_class_en": class_label([t], "en")[0] if t else None,
        "from": None if date_from in (None, "") else str(_one_date(date_from, "from").date()),
        "to": None if date_to in (None, "") else str(_one_date(date_to, "to").date()),
        "samples": shaped(cls, ["id", "sampled_on"]),
        "monthly": shaped(monthly, ["period", "n_samples"]),
        "annual": shaped(annual, ["period", "n_samples"]),
        "share_meeting_target": None if share_value is None or np.isnan(share_value)
        else round(share_value, 4),
        "limits": limits_for_class(t, waterbody) if t else None,
        "rule": ASSESSMENT_RULE,
    }


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _one_date(value: Any, name: str) -> pd.Timestamp:
    """A request's date: a date object or ``YYYY-MM-DD`` text (nothing looser)."""
    out = pd.NaT
    if hasattr(value, "year") and hasattr(value, "month"):
        out = pd.Timestamp(value)
    else:
        m = _ISO_DATE.match(str(value).strip().replace("/", "-"))
        if m:
            try:
                out = pd.Timestamp(year=int(m[1]), month=int(m[2]), day=int(m[3]))
            except ValueError:
                out = pd.NaT
    if pd.isna(out):
        zh = {"from": "起始日期", "to": "截止日期"}.get(name, "日期")
        raise GeoInputError(f"{name}={value!r} is not a date", hint="write YYYY-MM-DD",
                            message_zh=f"{zh} {value!r} 不是有效日期",
                            hint_zh="请写作 年-月-日，如 2023-05-01", code="bad_date")
    return out


def annual_summary(samples: pd.DataFrame, targets: Mapping[str, Any], year: int | None = None,
                   by: str = "section_id", waterbody: Waterbody = "river") -> pd.DataFrame:
    """Every section's annual class against its target (the latest year by default).

    Parameters
    ----------
    samples : DataFrame
        All samples.
    targets : mapping
        Section id → target class; every section listed gets a row (without samples:
        no class).
    year : int, optional
        The calendar year (default: the latest year with samples).

    Returns
    -------
    DataFrame
        ``section_id``, ``year``, ``n_samples``, ``class`` … (as :func:`period_classes`),
        ``target_class_zh``, ``n_months_meeting``, ``n_months``.

    Examples
    --------
    >>> s = pd.DataFrame({"section_id": ["a", "a"], "sampled_on": ["2023-01-10", "2023-02-10"],
    ...                   "nh3_n": [1.2, 0.4]})
    >>> annual_summary(s, {"a": "Ⅲ类", "b": "Ⅱ类"})[["section_id", "class_zh",
    ...     "target_class_zh", "meets_target"]].values.tolist()
    [['a', 'Ⅲ', 'Ⅲ', True], ['b', '', 'Ⅱ', <NA>]]
    """
    dates = sample_dates(samples) if len(samples) else pd.Series([], dtype="datetime64[ns]")
    if year is None:
        year = int(dates.dt.year.max()) if len(dates) else None
    ids = [str(s) for s in targets]
    rows = samples[(dates.dt.year == year).to_numpy()] if year is not None else samples[:0]
    annual = period_classes(rows, "year", dict(targets), by, waterbody) if len(rows) else \
        pd.DataFrame(columns=[by, "period", "n_samples"])
    monthly = period_classes(rows, "month", dict(targets), by, waterbody) if len(rows) else \
        pd.DataFrame(columns=[by, "meets_target"])
    base = pd.DataFrame({by: ids})
    out = base.merge(annual, on=by, how="left")
    out["year"] = year
    out["n_samples"] = out["n_samples"].fillna(0).astype(int)
    t = [targets[s] for s in ids]
    from .gb3838 import parse_class
    tc = [parse_class(v) if v not in (None, "") else None for v in t]
    out["target_class"] = pd.array(tc, dtype="Int8")
    out["target_class_zh"] = class_label(tc)
    out["target_class_en"] = class_label(tc, "en")
    out["class_zh"] = out["class_zh"].fillna("") if "class_zh" in out else ""
    out["class_en"] = out["class_en"].fillna("") if "class_en" in out else ""
    if "meets_target" in monthly and len(monthly):
        m = monthly.assign(ok=monthly["meets_target"].astype("boolean").fillna(False)
                           .astype(int), n=monthly["meets_target"].notna().astype(int))
        g = m.groupby(by)[["ok", "n"]].sum()
        out["n_months_meeting"] = out[by].map(g["ok"]).fillna(0).astype(int)
        out["n_months"] = out[by].map(g["n"]).fillna(0).astype(int)
    else:
        out["n_months_meeting"] = 0
        out["n_months"] = 0
    if "meets_target" not in out:
        out["meets_target"] = pd.array([pd.NA] * len(out), dtype="boolean")
    return out
