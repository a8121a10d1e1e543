"""``flask --app webmap atlas …`` through click's runner (issue 3 item 8)."""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pyogrio
import pytest

from geo.crs import wgs84_to_gcj02

_spec = importlib.util.spec_from_file_location(
    "atlas_make_fixtures", pathlib.Path(__file__).parent / "fixtures" / "make_fixtures.py")
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


@pytest.fixture()
def cli_app(make_app):
    return make_app()


@pytest.fixture()
def run(cli_app):
    runner = cli_app.test_cli_runner()

    def _run(*args: str):
        return runner.invoke(args=["atlas", *args])

    return _run


def _store(app):
    with app.app_context():
        from webmap.core.store import get_store

        return get_store()


def test_layers_lists_the_catalog(run):
    result = run("layers")
    assert result.exit_code == 0
    for layer in ("admin", "rivers", "scenic_road", "projects"):
        assert layer in result.output


def test_import_then_export_round_trip(run, cli_app, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_bytes(fx.make_csv_chinese_dms())
    result = run("import", str(src), "--layer", "my_sites", "--title", "我的站点")
    assert result.exit_code == 0, result.output
    assert "created layer 'my_sites': 3 features (csv)" in result.output
    assert "blank row" in result.output  # the report is printed
    info = _store(cli_app).info("my_sites")
    assert info.count == 3 and info.meta["title"] == "我的站点"
    assert "my_sites" in run("layers").output

    out = tmp_path / "my_sites.gpx"
    result = run("export", "my_sites", "--format", "gpx", "-o", str(out))
    assert result.exit_code == 0, result.output
    names = pyogrio.read_dataframe(out, layer="waypoints")["name"].tolist()
    assert names == ["锡林浩特", "多伦", "二连浩特"]
    # again: replaced, not duplicated
    result = run("import", str(src), "--layer", "my_sites")
    assert "replaced layer" in result.output and _store(cli_app).info("my_sites").count == 3


def test_import_with_datum(run, cli_app, tmp_path):
    lon, lat = wgs84_to_gcj02(116.0861, 43.9334)
    src = tmp_path / "amap.csv"
    src.write_text(f"name,lng,lat\nxl,{float(lon):.9f},{float(lat):.9f}\n", encoding="utf-8")
    result = run("import", str(src), "--layer", "amap_sites", "--datum", "gcj02")
    assert result.exit_code == 0, result.output
    x = _store(cli_app).get("amap_sites").geometry.x.iloc[0]
    assert x == pytest.approx(116.0861, abs=1e-7)


def test_import_a_real_gbk_shapefile(run, cli_app, tmp_path):
    src = tmp_path / "hyd2.zip"
    src.write_bytes(fx.make_gbk_shapefile_zip())
    result = run("import", str(src), "--layer", "rivers_4m")
    assert result.exit_code == 0, result.output
    assert "GB18030" in result.output
    assert "滦河" in set(_store(cli_app).get("rivers_4m")["NAME"])


def test_export_format_from_extension_and_default_name(run, tmp_path, monkeypatch):
    out = tmp_path / "road.kml"
    assert run("export", "scenic_road", "-o", str(out)).exit_code == 0
    assert len(pyogrio.read_dataframe(out)) > 0
    monkeypatch.chdir(tmp_path)
    result = run("export", "stations", "--format", "csv", "--datum", "gcj02")
    assert result.exit_code == 0 and (tmp_path / "stations.csv").exists()


@pytest.mark.parametrize("args,needle", [
    (("import", "MISSING.csv", "--layer", "x"), "no such file"),
    (("import", "{empty}", "--layer", "x"), "empty"),
    (("import", "{notgeo}", "--layer", "x"), "longitude/latitude"),
    (("import", "{bomb}", "--layer", "x"), "MB"),
    (("import", "{ok}", "--layer", "../etc"), "not allowed"),
    (("import", "{ok}", "--layer", "rivers"), "catalog layer"),
    (("import", "{ok}", "--layer", "x", "--crs", "EPSG:99999"), "unknown CRS"),
    (("import", "{ok}", "--layer", "x", "--datum", "tokyo"), "unknown datum"),
    (("export", "nope"), "no layer called 'nope'"),
    (("export", "stations", "--bbox", "1,2"), "bbox"),
    (("export", "stations", "-o", "/nonexistent/dir/x.csv"), "No such file"),
])
def test_failures_are_one_line_without_traceback(run, tmp_path, args, needle):
    files = {"empty": b"", "notgeo": "名称\n锡林浩特\n".encode(),
             "bomb": fx.make_zip_declaring(4_000_000_000), "ok": b"lon,lat\n116,44\n"}
    paths = {}
    for key, data in files.items():
        p = tmp_path / f"{key}.{'zip' if key == 'bomb' else 'csv'}"
        p.write_bytes(data)
        paths[key] = str(p)
    result = run(*[a.format(**paths) for a in args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and needle in error_lines[0], result.output


def test_overlay_command(run, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_bytes(fx.make_csv_chinese_dms())
    out = tmp_path / "overlay.csv"
    result = run("overlay", str(src), "-o", str(out))
    try:
        import geo.overlay  # noqa: F401
        import layers.reference  # noqa: F401
    except ImportError:
        # GEO-ANALYSIS's overlay is not in this tree yet: the command says so plainly.
        assert result.exit_code != 0 and "overlay is not available" in result.output
        return
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert "basin" in text.splitlines()[0] and len(text.splitlines()) == 4
    # distances as the API gives them (rounded to their accuracy), not 13 decimals
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    for col, most in (("river_distance_m", 1), ("road_distance_m", 1), ("road_km", 3)):
        assert all(len(r[col].partition(".")[2]) <= most for r in rows), (col, rows[0][col])
    assert json.dumps(result.output)  # printable summary


# -- flask atlas reference import|versions|restore -----------------------------------------

def test_reference_import_dry_run_commit_versions_restore(run, cli_app, tmp_path):
    from tests import ingest_fixtures as ifx
    from tests import reference_flows as rf

    sheet = tmp_path / "2024年重大项目.xlsx"
    sheet.write_bytes(ifx.registry_xlsx("万元", projects=rf.edited_registry()))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"name_zh": "项目名称"}), encoding="utf-8")
    result = run("reference", "import", "projects", str(sheet), "--mapping", str(mapping),
                 "--dry-run")
    assert result.exit_code == 0, result.output
    assert "projects: 140" in result.output and "dry run: nothing stored" in result.output
    assert "name_zh ← 项目名称" in result.output and "150 removed" not in result.output
    assert "10 removed" in result.output and "count 140 / 150" in result.output
    assert _store(cli_app).info("projects").version_number == 1

    result = run("reference", "import", "projects", str(sheet), "--source", "盟发改委",
                 "--note", "年度更新", "--author", "王工")
    assert result.exit_code == 0, result.output
    assert "stored projects version 2 (140 features)" in result.output
    result = run("reference", "versions", "projects")
    lines = result.output.splitlines()
    assert lines[0].startswith("* v2") and "王工" in lines[0] and "年度更新" in lines[0]
    assert lines[1].startswith("  v1")

    result = run("reference", "restore", "projects", "1")
    assert result.exit_code == 0, result.output
    assert "restored projects version 1 as version 3 (150 features)" in result.output
    assert _store(cli_app).info("projects").count == 150


def test_reference_import_errors_are_one_line(run, cli_app, tmp_path):
    from tests import ingest_fixtures as ifx

    bad = tmp_path / "registry.xlsx"
    bad.write_bytes(ifx.registry_xlsx("亿元", values_in="万元"))
    result = run("reference", "import", "projects", str(bad))
    assert result.exit_code == 1
    assert "error(s) in registry.xlsx: nothing stored" in result.output.splitlines()[-1]
    assert "Traceback" not in result.output
    result = run("reference", "import", "basins", str(tmp_path / "none.zip"))
    assert result.exit_code == 1 and "no such file" in result.output
    result = run("reference", "import", "project", str(bad))
    assert result.exit_code == 1 and "not a reference layer" in result.output
    result = run("reference", "restore", "projects", "9")
    assert result.exit_code == 1 and "has no version 9" in result.output
    zipped = tmp_path / "basins.zip"
    zipped.write_bytes(ifx.basins_shapefile_zip(prj=False))
    result = run("reference", "import", "basins", str(zipped))
    assert result.exit_code == 1 and "4548" in result.output
    assert _store(cli_app).info("projects").version_number == 1
    assert _store(cli_app).info("basins").version_number == 1
