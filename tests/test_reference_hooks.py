"""A catalog layer's own reading and mapping step (layers.reference_hooks) in the replacement
pipeline: its reader replaces geo.read, its mapper replaces the generic column mapping, its
options reach both, its row errors stop a commit, and append merges by id as for any layer.

The hook here is a toy "station log": one ``name|km|date`` line per visit, stations named,
not positioned — the shape of a monitoring sheet whose sections are named.
"""

from __future__ import annotations

import sys
import types

import geopandas as gpd
import numpy as np
import pytest

from geo.report import ReadResult, Report
from layers import reference_hooks as rh
from layers.catalog import CATALOG
from layers.issues import Issues
from layers.mapping import ROW_COLUMN, ColumnMapping, ColumnMatch, MappedLayer
from layers.replace import prepare_replacement
from tests import ingest_fixtures as fx

CURRENT = {s.id: fx.reference(s.id) for s in CATALOG if s.id in ("admin", "scenic_road",
                                                                 "stations")}


def _read_log(req: rh.ReadRequest) -> ReadResult:
    lines = bytes(req.source).decode("utf-8").strip().splitlines()
    rows = [ln.split("|") for ln in lines]
    gdf = gpd.GeoDataFrame({"name": [r[0] for r in rows], "services": [r[1] for r in rows],
                            ROW_COLUMN: np.arange(1, len(rows) + 1)},
                           geometry=gpd.GeoSeries([None] * len(rows)), crs=4326)
    report = Report()
    report.source.update({"format": "station-log", "row_kind": "line",
                          "features_in": len(rows), "prefix": req.options.get("prefix", "")})
    return ReadResult(gdf, report)


def _map_log(read: ReadResult, ctx: rh.HookContext) -> MappedLayer:
    stations = ctx.current["stations"].set_index("name_zh")
    gdf = read.gdf
    issues = Issues()
    prefix = ctx.options.get("prefix", "")
    out = {f.name: np.full(len(gdf), None, dtype=object) for f in ctx.spec.fields}
    geoms = []
    for i, (name, row) in enumerate(zip(gdf["name"], gdf[ROW_COLUMN], strict=True)):
        if name in stations.index:
            out["id"][i] = stations.loc[name, "id"]
            geoms.append(stations.loc[name].geometry)
        else:
            issues.error("unknown_station", f"no station called {name!r}", f"没有驿站“{name}”",
                         row=int(row), where=ctx.where, column="name", value=name)
            out["id"][i] = f"x{i}"
            geoms.append(None)
        out["name_zh"][i] = name
        out["services"][i] = prefix + gdf["services"].iloc[i]
    frame = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=4326))
    frame[ROW_COLUMN] = gdf[ROW_COLUMN].to_numpy()
    cmap = ColumnMapping({"name_zh": ColumnMatch("name_zh", "name", "hook", 1.0)}, [], [], [])
    return MappedLayer(frame, cmap, {}, issues)


HOOK = rh.ReferenceHook("stations", read=_read_log, map=_map_log, options=("prefix",),
                        description="station visit logs")


def _log(*names: str) -> bytes:
    return "\n".join(f"{n}|加油、餐饮" for n in names).encode()


def test_the_hook_reads_maps_and_appends_by_id():
    st = CURRENT["stations"]
    first, second = st["name_zh"].iloc[0], st["name_zh"].iloc[1]
    with rh.registered(HOOK):
        req = rh.ReadRequest(_log(first, second), "visits.log", options={"prefix": "新："})
        read = rh.read_reference("stations", req)
        assert read.report.source["format"] == "station-log"
        rep = prepare_replacement("stations", read, CURRENT, mode="append",
                                  options={"prefix": "新："})
    assert rep.ok, rep.issues.to_dict()["errors"]
    # Two existing ids updated in place, nothing added; their positions kept, services new.
    assert rep.appended == {"updated": 2, "added": 0}
    assert len(rep.gdf) == len(st)
    new = rep.gdf.set_index("id")
    assert new.loc[st["id"].iloc[0], "services"] == "新：加油、餐饮"
    assert new.loc[st["id"].iloc[2], "services"] == st["services"].iloc[2]
    assert new.geometry.loc[st["id"].iloc[0]].equals(st.geometry.iloc[0])
    # Derived fields were recomputed after the hook as for any file (road km from the road).
    assert np.isclose(new.loc[st["id"].iloc[0], "km"], st["km"].iloc[0], atol=0.01)
    assert rep.preview()["mapping"]["fields"]["name_zh"]["how"] == "hook"


def test_the_hooks_row_errors_stop_a_commit():
    with rh.registered(HOOK):
        read = rh.read_reference("stations", rh.ReadRequest(_log("没有这个驿站"), "v.log"))
        rep = prepare_replacement("stations", read, CURRENT, mode="append")
    assert not rep.ok
    err = rep.preview()["errors"][0]
    assert (err["code"], err["row"], err["where"]) == ("unknown_station", 1, "line")


def test_without_a_hook_the_generic_reader_is_used():
    assert rh.hook_for("stations") is None and rh.hook_options("stations") == ()
    read = rh.read_reference("stations", rh.ReadRequest(fx.stations_csv_dms(), "st.csv"))
    assert read.report.source["row_kind"] == "line" and ROW_COLUMN in read.gdf


def test_hook_modules_are_assembled_explicitly(monkeypatch):
    mod = types.ModuleType("tests._hook_station_log")
    mod.HOOK = HOOK
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    monkeypatch.setattr(rh, "HOOK_MODULES", (mod.__name__,))
    monkeypatch.setattr(rh, "_HOOKS", {})
    monkeypatch.setattr(rh, "_LOADED", False)
    assert rh.hook_for("stations") is HOOK and rh.hook_options("stations") == ("prefix",)
    monkeypatch.setattr(rh, "HOOK_MODULES", ("tests._no_such_hook_module",))
    monkeypatch.setattr(rh, "_LOADED", False)
    with pytest.raises(rh.HookError, match="failed to import"):
        rh.hook_for("stations")
    empty = types.ModuleType("tests._hookless")
    monkeypatch.setitem(sys.modules, empty.__name__, empty)
    monkeypatch.setattr(rh, "HOOK_MODULES", (empty.__name__,))
    monkeypatch.setattr(rh, "_LOADED", False)
    with pytest.raises(rh.HookError, match="defines no ReferenceHook"):
        rh.hook_for("stations")
