"""The catalog layers' versions in layers/ (both backends): the built-in data is version 1
and never wins over a user's version; a changed committed file updates a built-in layer
only; a restore re-derives dependents in the same transaction; a failed commit leaves every
layer as it was."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import shapely

from layers import prepare
from layers.open import open_store
from layers.reference_versions import (
    ReplacementForm,
    current_layers,
    replace_reference,
    restore_reference,
)
from tests import ingest_fixtures as fx


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    """A copy of data/xilingol the loader reads (so a test can change a committed file)."""
    d = tmp_path / "xilingol"
    shutil.copytree(prepare.DATA_DIR, d)
    monkeypatch.setattr(prepare, "DATA_DIR", str(d))
    return d


def _edit_ports(data_dir, name: str) -> None:
    """The committed ports file with 珠恩嘎达布其口岸 renamed ``name`` (the original's text)."""
    path = data_dir / "ports.geojson"
    text = (data_dir.parent / "ports.orig").read_text(encoding="utf-8") \
        if (data_dir.parent / "ports.orig").exists() else path.read_text(encoding="utf-8")
    (data_dir.parent / "ports.orig").write_text(text, encoding="utf-8")
    assert '"name_zh":"珠恩嘎达布其口岸"' in text
    path.write_text(text.replace('"name_zh":"珠恩嘎达布其口岸"', f'"name_zh":"{name}"'),
                    encoding="utf-8")


def test_builtin_data_is_version_1_and_a_changed_file_updates_only_builtin_layers(
        backend_store_url, data_dir):
    store = open_store(backend_store_url)
    first = prepare.load_builtin(store)
    assert "ports" in first.loaded and first.kept == []
    assert store.info("ports").version_number == 1
    assert prepare.load_builtin(store).loaded == []  # nothing changed: nothing written

    # The project's data changed while the built-in version is current: loaded as version 2.
    _edit_ports(data_dir, "珠恩嘎达布其口岸(新)")
    again = prepare.load_builtin(store)
    assert again.loaded == ["ports"] and again.kept == []
    assert store.info("ports").version_number == 2
    assert "珠恩嘎达布其口岸(新)" in set(store.get("ports")["name_zh"])
    assert [v.number for v in store.versions("ports")] == [2, 1]

    # A user's version is current: a changed file is kept out, and said so (once).
    out = replace_reference(store, "ports", fx.reference("ports").to_json().encode(),
                            "ports.geojson", form=ReplacementForm(source="口岸办"))
    assert out.status == 201
    assert prepare.load_builtin(store).kept == []  # the file did not change since v2
    _edit_ports(data_dir, "珠恩嘎达布其口岸(再)")
    r = prepare.load_builtin(store)
    assert r.loaded == [] and r.kept == ["ports"]
    assert store.info("ports").version_number == 3 and store.info("ports").meta["source"] == "口岸办"
    # --force writes the built-in data over it; the user's version stays restorable.
    assert "ports" in prepare.load_builtin(store, force=True).loaded
    assert store.info("ports").version_number == 4
    restore_reference(store, "ports", 3)
    assert store.info("ports").meta["source"] == "口岸办" and store.check() == []
    store.close()


def test_restore_of_admin_rederives_every_dependent_in_one_transaction(backend_store_url):
    store = open_store(backend_store_url)
    prepare.prepare_store(store)
    builtin = current_layers(store)
    # Admin units whose names changed: every layer's county follows in the same commit.
    admin = fx.reference("admin").copy()
    admin["name_zh"] = admin["name_zh"].where(admin["name_zh"] != "多伦县", "多伦县(新)")
    out = replace_reference(store, "admin", admin.to_json().encode(), "admin.geojson",
                            form=ReplacementForm(source="盟民政局"))
    assert out.status == 201, out.replacement.issues.to_dict()["errors"][:3]
    assert set(out.rederived) >= {"projects", "stations", "sections"}
    assert "多伦县(新)" in set(store.get("projects")["county"])
    dep = store.versions("projects")[0]
    assert dep.meta["derived_from"] == "admin" and "sha256" not in dep.meta
    r = restore_reference(store, "admin", 1)
    assert set(r.rederived) == set(out.rederived)
    for name, frame in builtin.items():
        pd.testing.assert_frame_equal(store.get(name).reset_index(drop=True),
                                      frame.reset_index(drop=True), check_dtype=False,
                                      obj=name)
    assert store.check() == []
    store.close()


def test_a_commit_that_fails_in_the_store_leaves_every_layer_as_it_was(backend_store_url,
                                                                      monkeypatch):
    store = open_store(backend_store_url)
    prepare.prepare_store(store)
    before = {i.name: i.version for i in store.list_layers()}
    real = store.put_many

    def half(layers):  # the second layer cannot be written: the first must not land either
        import numpy as np

        bad = dict(layers)
        name = sorted(bad)[-1]
        gdf = bad[name][0].copy()
        gdf["big"] = np.array([2**64 - 1] * len(gdf), dtype="uint64")
        bad[name] = (gdf, bad[name][1])
        return real(bad)

    monkeypatch.setattr(store, "put_many", half)
    with pytest.raises(Exception):  # noqa: B017 - the database's own error
        replace_reference(store, "scenic_road", fx.road_gpx(shift_deg=(0, 0.01)), "road.gpx")
    assert {i.name: i.version for i in store.list_layers()} == before
    assert store.check() == []
    store.close()


def test_restart_keeps_the_current_version(backend_store_url):
    store = open_store(backend_store_url)
    prepare.prepare_store(store)
    out = replace_reference(store, "projects", fx.registry_xlsx("万元"), "r.xlsx",
                            form=ReplacementForm(source="发改委"))
    assert out.status == 201
    store.close()
    again = open_store(backend_store_url)
    assert prepare.prepare_store(again) == []
    assert again.info("projects").version_number == 2
    assert again.info("projects").meta["source"] == "发改委"
    again.close()





def test_water_samples_follow_their_section_in_the_same_commit(backend_store_url):
    store = open_store(backend_store_url)
    prepare.prepare_store(store)
    builtin = store.get("wq_samples").reset_index(drop=True)
    sec = fx.reference("sections").copy()
    sid = sec["id"].iloc[0]
    sec.loc[0, "geometry"] = shapely.Point(sec.geometry.iloc[0].x + 0.03,
                                           sec.geometry.iloc[0].y + 0.03)
    sec.loc[0, "name_zh"] = "新址断面"
    out = replace_reference(store, "sections", sec.to_json().encode(), "sections.geojson",
                            form=ReplacementForm(source="盟生态环境局"))
    assert out.status == 201 and "wq_samples" in out.rederived
    placed = store.get("sections").set_index("id").geometry[sid]
    samples = store.get("wq_samples")
    at = samples[samples["section_id"] == sid]
    assert len(at) and all(g.equals(placed) for g in at.geometry)
    assert set(at["section_zh"]) == {"新址断面"}
    assert not placed.equals(fx.reference("sections").geometry.iloc[0])
    others = samples[samples["section_id"] != sid].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, builtin[builtin["section_id"] != sid]
                                  .reset_index(drop=True), check_dtype=False)
    restore_reference(store, "sections", 1)
    pd.testing.assert_frame_equal(store.get("wq_samples").reset_index(drop=True), builtin,
                                  check_dtype=False)
    assert store.check() == []
    store.close()
