"""How the house is built: explicit assembly, one-way imports, no side doors, settings.

These tests read the source as well as run it: the rooms of ``../shared/ARCHITECTURE.md``
(``webmap → layers → geo``, nothing back), no import circle anywhere (function-level
imports included), no probing of the store for undeclared methods, no backend
internals outside ``layers/``, every environment variable documented.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

import pytest

import webmap
from webmap import BLUEPRINTS, AssemblyError, create_app
from webmap.core.config import VARIABLES, Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "layers", "webmap", "data", "tools")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "vendor" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the project that ``name`` imports anywhere in its file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_create_app_fails_loudly_when_a_blueprint_module_cannot_be_imported(
        monkeypatch, tmp_path):
    store = str(tmp_path / "a.gpkg")
    monkeypatch.setattr(webmap, "BLUEPRINTS", (*BLUEPRINTS, "webmap.api.not_built"))
    with pytest.raises(AssemblyError, match="webmap.api.not_built"):
        create_app({"ATLAS_STORE": store})
    # A module that exists but breaks on import stops the app too, with its error.
    pkg = tmp_path / "broken_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import module_that_is_not_there\n")
    (pkg / "nobp.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(webmap, "BLUEPRINTS", (*BLUEPRINTS, "broken_pkg.bad"))
    with pytest.raises(AssemblyError, match="module_that_is_not_there"):
        create_app({"ATLAS_STORE": store})
    monkeypatch.setattr(webmap, "BLUEPRINTS", (*BLUEPRINTS, "broken_pkg.nobp"))
    with pytest.raises(AssemblyError, match="defines no blueprint"):
        create_app({"ATLAS_STORE": store})
    for mod in ("broken_pkg", "broken_pkg.bad", "broken_pkg.nobp"):
        sys.modules.pop(mod, None)


def test_every_blueprint_module_is_registered(app):
    """No blueprint is left out of the assembly: every module defining ``bp`` is listed."""
    defining = set()
    for name, path in MODULES.items():
        if name.startswith("webmap.") and re.search(r"^bp = Blueprint\(", path.read_text(
                encoding="utf-8"), re.M):
            defining.add(name)
    assert defining == set(BLUEPRINTS)
    assert len(app.blueprints) == len(BLUEPRINTS)


def test_imports_run_one_way():
    allowed = {"geo": {"geo"}, "layers": {"layers", "geo"}, "data": {"data", "geo", "layers"},
               "webmap": {"webmap", "layers", "geo"}, "tools": {"tools", "webmap", "layers",
                                                                  "geo"}}
    wrong = [(a, b) for a, targets in GRAPH.items() for b in targets
             if b.split(".")[0] not in allowed[a.split(".")[0]]]
    assert wrong == []
    # The service never imports the dev tooling.
    assert not [a for a, t in GRAPH.items() if not a.startswith("tools")
                and any(b.startswith("tools") for b in t)]


def test_no_import_circle_anywhere():
    """Tarjan's strongly connected components over every import, function-level included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []


def test_no_side_doors_into_the_store():
    """Outside ``layers/``: no ``getattr``/``hasattr`` on a store, no backend internals."""
    offenders = []
    for name, path in MODULES.items():
        if name.startswith("layers"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\b(getattr|hasattr)\((self\.)?store\b", text):
            offenders.append((name, "probes the store"))
        for internal in ("layers.gpkg", "layers.postgis"):
            if internal in GRAPH[name]:
                offenders.append((name, f"imports {internal}"))
    assert offenders == []


def test_no_fallback_for_missing_modules():
    """No ``except ImportError`` / ``ModuleNotFoundError`` papering over a missing part."""
    offenders = [name for name, path in MODULES.items()
                 if name.startswith(("webmap", "layers"))
                 and re.search(r"except\s*\(?\s*(ImportError|ModuleNotFoundError)",
                               path.read_text(encoding="utf-8"))
                 and name != "layers.postgis"]  # psycopg is optional for the embedded store
    assert offenders == []


# -- settings ------------------------------------------------------------------------------
def _readme_variables() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`", section, re.M))


def _variables_read_in_code() -> set[str]:
    found = set(VARIABLES)
    pattern = re.compile(r"""(?:environ(?:\.get)?\s*[\[(]|getenv\()\s*["']([A-Z][A-Z0-9_]+)""")
    for name, path in MODULES.items():
        if name.split(".")[0] in ("geo", "layers", "webmap", "data", "tools"):
            found |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_environment_variable_is_in_the_readme_table():
    in_code = _variables_read_in_code()
    assert {"ATLAS_STORE", "ATLAS_MAX_UNZIPPED_MB", "ATLAS_TILE_CACHE_MB",
            "ATLAS_TILE_ATTRIBUTION"} <= in_code  # the scan finds what it should
    assert in_code - _readme_variables() == set()


def test_only_the_entry_points_read_the_environment():
    """Deep modules take settings as arguments; only entry points read ``os.environ``."""
    entry_points = {"webmap.core.config", "layers.prepare", "data.load", "tools.browser",
                    "tools.screenshots"}
    readers = {name for name, path in MODULES.items()
               if re.search(r"os\.environ|getenv\(", path.read_text(encoding="utf-8"))}
    assert readers <= entry_points


@pytest.mark.parametrize("var,value", [("ATLAS_MAX_UPLOAD_MB", "fifty"),
                                       ("ATLAS_MAX_UNZIPPED_MB", "-1"),
                                       ("ATLAS_TILE_CACHE_MB", "nan")])
def test_a_bad_setting_stops_the_app_with_a_clear_message(monkeypatch, tmp_path, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError, match=var):
        create_app({"ATLAS_STORE": str(tmp_path / "a.gpkg")})


def test_settings_reach_the_reader(make_app, token):
    """``ATLAS_MAX_UNZIPPED_MB`` given to create_app limits what an upload may unpack to."""
    import io
    import zipfile

    app = make_app(ATLAS_WRITE_TOKEN=token, ATLAS_MAX_UNZIPPED_MB=1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        rows = "".join(f"{116 + i / 1e6},{44},site {i}\n" for i in range(60_000))
        z.writestr("sites.csv", "lon,lat,name\n" + rows)
    assert len(buf.getvalue()) < 1024 * 1024 < 60_000 * 20
    r = app.test_client().put("/api/layers/zipped", data={"file": (io.BytesIO(
        buf.getvalue()), "sites.zip")}, headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data")
    assert r.status_code == 413 and r.json["code"] == "upload_too_large"
    assert app.extensions["atlas_settings"].max_unzipped_mb == 1


def test_settings_from_env_and_overrides():
    s = Settings.from_env({"ATLAS_STORE": "a.gpkg", "ATLAS_DATABASE_URL": "postgresql://h/db",
                           "TIANDITU_KEY": " k "},
                          overrides={"TESTING": True, "MAX_CONTENT_LENGTH": 2 * 1024 * 1024})
    assert (s.store, s.tianditu_key, s.testing, s.max_upload_mb) == (
        "postgresql://h/db", "k", True, 2.0)
    assert Settings.from_env({"ATLAS_STORE": "a.gpkg", "ATLAS_DATABASE_URL": ""}).store \
        == "a.gpkg"


def test_architecture_doc_names_the_rooms_the_code_has():
    """The README's "What is where" names every top-level room and every webmap room."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## What is where", 1)[1].split("\n## ", 1)[0]
    for room in ("geo/", "layers/", "webmap/core/", "webmap/api/", "webmap/ogcapi/",
                 "webmap/pages/", "data/", "tests/", "benchmarks/", "tools/"):
        assert f"`{room}`" in section, room
    assert os.path.isdir(ROOT / "webmap" / "core")
