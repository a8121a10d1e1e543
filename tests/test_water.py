"""GB 3838-2002 classification (geo.water.gb3838) and means over time (geo.water.series).

Every expectation below is written by hand from the standard's Table 1
(``../shared/reference/GB3838-2002-table1.md``), copied here as ``LIMITS`` and read
class by class: "at" a limit, "just below" and "just above" it.  None is computed
with the module's own rule.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.errors import GeoInputError
from geo.water.gb3838 import (
    CLASSIFYING,
    ITEMS,
    PARAMETERS,
    TABLE_1,
    class_label,
    classify,
    item_classes,
    parse_class,
)
from geo.water.series import (
    annual_summary,
    period_classes,
    period_means,
    sample_classes,
    section_quality,
    share_meeting_target,
)
from layers.prepare import layer_path

# Table 1, classes Ⅰ–Ⅴ, mg/L (faecal coliforms per L), copied from the reference.
LIMITS = {
    "codmn": (2, 4, 6, 10, 15),
    "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10),
    "nh3_n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4),
    "tn": (0.2, 0.5, 1.0, 1.5, 2.0),
    "copper": (0.01, 1.0, 1.0, 1.0, 1.0),
    "zinc": (0.05, 1.0, 1.0, 2.0, 2.0),
    "fluoride": (1.0, 1.0, 1.0, 1.5, 1.5),
    "selenium": (0.01, 0.01, 0.01, 0.02, 0.02),
    "arsenic": (0.05, 0.05, 0.05, 0.1, 0.1),
    "mercury": (0.00005, 0.00005, 0.0001, 0.001, 0.001),
    "cadmium": (0.001, 0.005, 0.005, 0.005, 0.01),
    "chromium6": (0.01, 0.05, 0.05, 0.05, 0.1),
    "lead": (0.01, 0.01, 0.05, 0.05, 0.1),
    "cyanide": (0.005, 0.05, 0.2, 0.2, 0.2),
    "phenols": (0.002, 0.002, 0.005, 0.01, 0.1),
    "petroleum": (0.05, 0.05, 0.05, 0.5, 1.0),
    "surfactants": (0.2, 0.2, 0.2, 0.3, 0.3),
    "sulfide": (0.05, 0.1, 0.2, 0.5, 1.0),
    "fecal_coliform": (200, 2000, 10000, 20000, 40000),
    "do": (7.5, 6, 5, 3, 2),
}

# The class of a value at each limit (Ⅰ…Ⅴ), just below it and just above it, by hand:
# equal meets; a shared limit gives the better class; above Ⅴ is 劣Ⅴ (6).
EXPECTED = {            # at              just below        just above
    "codmn":          ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6)),
    "cod":            ((1, 1, 3, 4, 5), (1, 1, 3, 4, 5), (3, 3, 4, 5, 6)),
    "bod5":           ((1, 1, 3, 4, 5), (1, 1, 3, 4, 5), (3, 3, 4, 5, 6)),
    "nh3_n":          ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6)),
    "tp":             ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6)),
    "tn":             ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6)),
    "copper":         ((1, 2, 2, 2, 2), (1, 2, 2, 2, 2), (2, 6, 6, 6, 6)),
    "zinc":           ((1, 2, 2, 4, 4), (1, 2, 2, 4, 4), (2, 4, 4, 6, 6)),
    "fluoride":       ((1, 1, 1, 4, 4), (1, 1, 1, 4, 4), (4, 4, 4, 6, 6)),
    "selenium":       ((1, 1, 1, 4, 4), (1, 1, 1, 4, 4), (4, 4, 4, 6, 6)),
    "arsenic":        ((1, 1, 1, 4, 4), (1, 1, 1, 4, 4), (4, 4, 4, 6, 6)),
    "mercury":        ((1, 1, 3, 4, 4), (1, 1, 3, 4, 4), (3, 3, 4, 6, 6)),
    "cadmium":        ((1, 2, 2, 2, 5), (1, 2, 2, 2, 5), (2, 5, 5, 5, 6)),
    "chromium6":      ((1, 2, 2, 2, 5), (1, 2, 2, 2, 5), (2, 5, 5, 5, 6)),
    "lead":           ((1, 1, 3, 3, 5), (1, 1, 3, 3, 5), (3, 3, 5, 5, 6)),
    "cyanide":        ((1, 2, 3, 3, 3), (1, 2, 3, 3, 3), (2, 3, 6, 6, 6)),
    "phenols":        ((1, 1, 3, 4, 5), (1, 1, 3, 4, 5), (3, 3, 4, 5, 6)),
    "petroleum":      ((1, 1, 1, 4, 5), (1, 1, 1, 4, 5), (4, 4, 4, 5, 6)),
    "surfactants":    ((1, 1, 1, 4, 4), (1, 1, 1, 4, 4), (4, 4, 4, 6, 6)),
    "sulfide":        ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6)),
    "fecal_coliform": ((1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (2, 3, 4, 5, 6)),
    # dissolved oxygen is a lower bound: below is worse, above is better
    "do":             ((1, 2, 3, 4, 5), (2, 3, 4, 5, 6), (1, 2, 3, 4, 5)),
}
JUST = 1e-6  # relative step "just" below / above a limit


def test_table_1_as_encoded_is_the_reference():
    for name, limits in LIMITS.items():
        assert ITEMS[name].limits == tuple(float(v) for v in limits), name
    assert ITEMS["ph"].limits == (6.0, 9.0) and ITEMS["ph"].rule == "range"
    assert ITEMS["tp"].lake_limits == (0.01, 0.025, 0.05, 0.1, 0.2)
    assert [i.no for i in TABLE_1] == list(range(1, 25))
    assert set(PARAMETERS) == {i.name for i in TABLE_1}
    # 21 items set a river's class: all but water temperature, TN and faecal coliforms
    assert len(CLASSIFYING) == 21
    assert set(PARAMETERS) - set(CLASSIFYING) == {"water_temp", "tn", "fecal_coliform"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_limit_at_just_below_and_just_above(name):
    limits = np.array(LIMITS[name], dtype=float)
    at, below, above = EXPECTED[name]
    values = np.r_[limits, limits * (1 - JUST), limits * (1 + JUST)]
    got = item_classes(pd.DataFrame({name: values}))[name].astype(int).tolist()
    assert got == [*at, *below, *above]


def test_ph_range():
    got = item_classes(pd.DataFrame({"ph": [6.0, 9.0, 7.4, 5.99, 9.01, 2.0]}))["ph"]
    assert got.astype(int).tolist() == [1, 1, 1, 6, 6, 6]


def test_sample_class_is_the_worst_assessed_item():
    s = pd.DataFrame({
        "ph": [7.5, 7.5, 9.5, 7.5],
        "do": [8.0, 4.0, 8.0, 8.0],
        "nh3_n": [0.1, 0.9, 0.1, 2.01],
        "cod": [15.0, 25.0, 10.0, 10.0],
        "tn": [5.0, 5.0, 5.0, 5.0],              # 劣Ⅴ for TN, but TN does not class a river
        "fecal_coliform": [90_000, 0, 0, 0],     # neither do faecal coliforms
        "water_temp": [25.0, 3.0, 3.0, 3.0],
    })
    out = classify(s, target="Ⅲ类")
    assert out["class"].tolist() == [1, 4, 6, 6]
    assert out["class_zh"].tolist() == ["Ⅰ", "Ⅳ", "劣Ⅴ", "劣Ⅴ"]
    assert out["class_en"].tolist() == ["I", "IV", "worse than V", "worse than V"]
    assert out["controlling"].tolist() == [[], ["do", "cod"], ["ph"], ["nh3_n"]]
    assert out["meets_target"].tolist() == [True, False, False, False]
    # (C - limit) / limit against Ⅲ: COD (25 - 20) / 20; DO (5 - 4) / 5; NH3-N (2.01 - 1) / 1
    assert out["exceedance"].tolist() == [{}, {"do": 0.2, "cod": 0.25}, {"ph": None},
                                          {"nh3_n": 1.01}]
    assert out["exceeding"].tolist()[1] == ["do", "cod"]
    assert out["n_items"].tolist() == [4, 4, 4, 4]
    # TN is still reported, with its own class
    assert item_classes(s)["tn"].tolist() == [6.0] * 4


def test_targets_per_sample_and_exceedance_against_each():
    s = pd.DataFrame({"nh3_n": [1.2, 1.2, 1.2], "codmn": [3.0, 3.0, 3.0]})
    out = classify(s, target=["Ⅱ类", "IV", None])
    assert out["meets_target"].tolist() == [False, True, pd.NA]
    # against Ⅱ: (1.2 - 0.5) / 0.5 = 1.4
    assert out["exceedance"].tolist() == [{"nh3_n": 1.4}, {}, {}]
    assert out["target_class"].tolist() == [2, 4, pd.NA]


def test_below_detection_and_missing_values():
    s = pd.DataFrame({
        # phenols "<0.01": its detection limit is above the Ⅰ limit (0.002), but a
        # below-detection value in a single sample meets Ⅰ
        "phenols": [0.01, 0.01, np.nan, np.nan],
        "phenols_lt": [True, False, False, False],
        "mercury": [0.0001, np.nan, np.nan, np.nan],
        "mercury_lt": [True, False, False, False],
        "do": [np.nan, np.nan, 6.5, np.nan],
    })
    out = classify(s, "Ⅲ")
    assert out["class"].tolist() == [1, 4, 2, pd.NA]
    assert out["n_items"].tolist() == [2, 1, 1, 0]
    assert out["class_zh"].tolist() == ["Ⅰ", "Ⅳ", "Ⅱ", ""]
    assert out["meets_target"].tolist() == [True, False, True, pd.NA]
    assert out["exceedance"].tolist()[1] == {"phenols": 1.0}   # (0.01 - 0.005) / 0.005


def test_lake_phosphorus():
    s = pd.DataFrame({"tp": [0.03, 0.03]})
    assert item_classes(s)["tp"].tolist() == [2.0, 2.0]
    assert item_classes(s, "lake")["tp"].tolist() == [3.0, 3.0]


def test_impossible_values_are_refused():
    with pytest.raises(GeoInputError) as e:
        classify(pd.DataFrame({"nh3_n": [0.1, -0.3]}))
    assert "nh3_n in row 1" in e.value.message and e.value.status == 422
    with pytest.raises(GeoInputError):
        classify(pd.DataFrame({"do": [5.0], "do_lt": [True]}))
    with pytest.raises(GeoInputError):
        classify(pd.DataFrame({"ph": [15.0]}))


def test_class_names():
    assert [parse_class(v) for v in ("Ⅰ类", "Ⅱ", "iii", "Class IV", "5", 5, "劣Ⅴ类", "劣V",
                                     "worse than V", "Worse than class V")] == \
        [1, 2, 3, 4, 5, 5, 6, 6, 6, 6]
    for bad in ("Ⅵ", "劣Ⅳ", "", 0, 7, "good", True):
        with pytest.raises(GeoInputError):
            parse_class(bad)
    assert class_label([1, 2, 3, 4, 5, 6]).tolist() == ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ"]
    assert class_label([1, 6], "en").tolist() == ["I", "worse than V"]
    assert class_label([3, 6], "zh", suffix=True).tolist() == ["Ⅲ类", "劣Ⅴ类"]
    assert class_label([3], "en", suffix=True).tolist() == ["Class III"]


# -- means over time ---------------------------------------------------------------------------
def samples(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["section_id", "sampled_on", "nh3_n", "nh3_n_lt",
                                       "phenols", "phenols_lt"])


def test_monthly_means_with_half_detection_limits():
    s = samples([
        ("a", "2023-01-05", 0.4, False, 0.01, True),
        ("a", "2023-01-20", 0.1, True, 0.01, True),     # "<0.1"
        ("a", "2023-02-10", 1.2, False, 0.004, False),
        ("a", "2023-02-25", 0.2, False, 0.01, True),
        ("b", "2023-01-12", 0.15, False, np.nan, False),
    ])
    m = period_means(s, "month").set_index(["section_id", "period"])
    # (0.4 + 0.1 / 2) / 2 = 0.225
    assert m.loc[("a", "2023-01"), "nh3_n"] == pytest.approx(0.225)
    assert not m.loc[("a", "2023-01"), "nh3_n_lt"]
    # every phenols value of January below detection: the mean is below detection too
    assert m.loc[("a", "2023-01"), "phenols_lt"] and m.loc[("a", "2023-01"), "phenols"] == 0.01
    # February: (0.004 + 0.01 / 2) / 2 = 0.0045
    assert m.loc[("a", "2023-02"), "phenols"] == pytest.approx(0.0045)
    assert m.loc[("a", "2023-02"), "n_samples"] == 2
    assert m.loc[("b", "2023-01"), "first_sampled"] == "2023-01-12"
    c = period_classes(s, "month", targets={"a": "Ⅱ类", "b": "Ⅰ类"}).set_index(
        ["section_id", "period"])
    # Jan: NH3-N 0.225 → Ⅱ, phenols below detection → Ⅰ
    assert c.loc[("a", "2023-01"), "class_zh"] == "Ⅱ"
    # Feb: NH3-N (1.2 + 0.2) / 2 = 0.7 → Ⅲ; phenols 0.0045 → Ⅲ
    assert c.loc[("a", "2023-02"), "class_zh"] == "Ⅲ"
    assert c.loc[("a", "2023-02"), "controlling"] == ["nh3_n", "phenols"]
    assert c.loc[("b", "2023-01"), "class_zh"] == "Ⅰ"   # 0.15 meets Ⅰ exactly
    assert c["meets_target"].tolist() == [True, False, True]


def test_annual_class_from_means_not_from_the_worst_month():
    s = samples([
        ("a", "2023-03-01", 1.2, False, np.nan, False),   # Ⅳ
        ("a", "2023-06-01", 0.2, False, np.nan, False),   # Ⅱ
        ("a", "2023-09-01", 0.4, False, np.nan, False),   # Ⅱ
        ("a", "2024-01-01", 0.1, False, np.nan, False),
    ])
    y = period_classes(s, "year", "Ⅲ").set_index("period")
    assert y.loc["2023", "nh3_n"] == pytest.approx(0.6) and y.loc["2023", "class_zh"] == "Ⅲ"
    assert y.loc["2023", "meets_target"] and y.loc["2024", "class_zh"] == "Ⅰ"


def test_a_mean_equal_to_a_limit_meets_it():
    # 0.1 and 0.2 average to 0.15000000000000002 in binary: it is 0.15, the Ⅰ limit
    s = samples([("a", "2023-05-01", 0.1, False, np.nan, False),
                 ("a", "2023-05-20", 0.2, False, np.nan, False)])
    m = period_classes(s, "month")
    assert m["nh3_n"].tolist() == [0.15] and m["class_zh"].tolist() == ["Ⅰ"]


def test_share_meeting_target_and_section_quality():
    s = samples([
        ("a", "2023-01-10", 1.2, False, np.nan, False),
        ("a", "2023-02-10", 0.4, False, np.nan, False),
        ("a", "2023-03-10", 0.9, False, np.nan, False),
        ("b", "2023-01-10", 0.1, False, np.nan, False),
    ])
    c = sample_classes(s, {"a": "Ⅲ类", "b": "Ⅰ类"})
    share = share_meeting_target(c).set_index("section_id")
    assert share.loc["a", "n_meeting"] == 2 and share.loc["a", "share"] == pytest.approx(2 / 3)
    q = section_quality(s, "a", "Ⅲ类", date_from="2023-02-10", date_to="2023-03-10")
    assert [r["sampled_on"] for r in q["samples"]] == ["2023-02-10", "2023-03-10"]  # inclusive
    assert q["share_meeting_target"] == 1.0 and q["target_class"] == "Ⅲ"
    assert [m["period"] for m in q["monthly"]] == ["2023-02", "2023-03"]
    assert q["annual"][0]["class"] == "Ⅲ"          # (0.4 + 0.9) / 2 = 0.65
    q = section_quality(s, "a", "Ⅲ类")
    assert q["samples"][0]["class"] == "Ⅳ" and q["samples"][0]["exceedance"] == {"nh3_n": 0.2}
    assert q["samples"][0]["meets_target"] is False
    with pytest.raises(GeoInputError):
        section_quality(s, "a", "Ⅲ类", date_from="Feb")
    assert section_quality(s, "zzz", "Ⅲ类")["samples"] == []


def test_dates_must_be_dates():
    with pytest.raises(GeoInputError):
        period_means(samples([("a", "soon", 0.1, False, np.nan, False)]))


# -- the stand-in layer ------------------------------------------------------------------------
@cache
def layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(layer_path(name))


def test_the_stand_in_year_classifies():
    s = pd.DataFrame(layer("wq_samples").drop(columns="geometry"))
    sec = layer("sections")
    targets = dict(zip(sec["id"], sec["target_class"], strict=True))
    summary = annual_summary(s, targets).set_index("section_id")
    assert list(summary.index) == list(sec["id"]) and (summary["year"] == 2023).all()
    assert (summary["n_samples"] == 12).all()
    # the Xilin's annual NH3-N mean is worse than its Ⅳ target (limit 1.5)
    xilin = s[s["section_id"] == "sec_xilinhe_xilinhot"]
    assert xilin["nh3_n"].mean() > 1.5
    assert not summary.loc["sec_xilinhe_xilinhot", "meets_target"]
    assert "nh3_n" in summary.loc["sec_xilinhe_xilinhot", "controlling"]
    assert summary.loc["sec_xilinhe_xilinhot", "n_months_meeting"] < 12
    assert summary["target_class_zh"].tolist() == ["Ⅲ", "Ⅲ", "Ⅳ", "Ⅲ"]
    q = section_quality(s, "sec_xilinhe_xilinhot",
                        targets["sec_xilinhe_xilinhot"])
    assert len(q["samples"]) == 12 and len(q["monthly"]) == 12
    assert 0 < q["share_meeting_target"] < 1


def test_limits_of_a_target_class():
    from geo.water.gb3838 import limits_for_class

    third = limits_for_class("Ⅲ类")
    assert {k: third[k]["limit"] for k in ("nh3_n", "tp", "do", "cod", "codmn", "mercury")} == \
        {"nh3_n": 1.0, "tp": 0.2, "do": 5.0, "cod": 20.0, "codmn": 6.0, "mercury": 0.0001}
    assert third["ph"]["limit"] == [6.0, 9.0] and "water_temp" not in third
    assert limits_for_class(6)["nh3_n"]["limit"] == 2.0          # 劣Ⅴ: the Ⅴ limits
    assert limits_for_class("Ⅱ", "lake")["tp"]["limit"] == 0.025
    q = section_quality(samples([("a", "2023-01-10", 1.2, False, np.nan, False)]), "a", "Ⅳ类")
    assert q["limits"]["nh3_n"]["limit"] == 1.5 and q["limits"]["nh3_n"]["unit"] == "mg/L"
