"""The reference layers as one bundle, with the analyses built on them.

:func:`reference` gives a :class:`Reference`: the catalog's reference layers as
GeoDataFrames (EPSG:4326) plus, built on first use, the river network
(:class:`geo.network.RiverNetwork`, with the sections placed on it), the scenic
road (:class:`geo.route.ScenicRoute`) and the overlay's prepared index
(:class:`geo.overlay.OverlayIndex`).  The bundle is cached per store and rebuilt
only when one of the layers' versions (``store.info(name).version``) changes, so
a request pays for none of this after the first.

Examples
--------
>>> import tempfile, os
>>> from layers.open import open_store
>>> from layers.prepare import prepare_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "r.gpkg"))
>>> _ = prepare_store(store)
>>> ref = reference(store)
>>> ref is reference(store)          # cached while no layer changes
True
>>> 600 < ref.route.length_km < 1000
True
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import pandas as pd

from geo.network import RiverNetwork
from geo.overlay import OverlayIndex, overlay_sites
from geo.route import ScenicRoute

from .search import OVERNIGHT_KINDS, towns
from .store import LayerNotFound, Store

#: The layers the bundle holds (catalog ids).
REFERENCE_LAYERS: tuple[str, ...] = (
    "admin", "basins", "rivers", "sections", "scenic_road", "stations", "attractions",
    "projects",
)


@dataclass(frozen=True)
class Reference:
    """The reference layers (EPSG:4326) and the analyses built on them.

    Layers missing from the store are empty GeoDataFrames; an analysis that needs
    one raises :class:`~layers.store.LayerNotFound` when first used.
    """

    admin: gpd.GeoDataFrame
    basins: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    sections: gpd.GeoDataFrame
    scenic_road: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    attractions: gpd.GeoDataFrame
    projects: gpd.GeoDataFrame
    versions: tuple[str, ...] = ()

    def _need(self, name: str) -> gpd.GeoDataFrame:
        gdf = getattr(self, name)
        if gdf.empty:
            raise LayerNotFound(f"no layer called {name!r} (or it is empty)")
        return gdf

    # cached_property writes the instance __dict__ directly, so it works on a frozen
    # dataclass; two threads racing build the same value twice, harmlessly.
    @cached_property
    def network(self) -> RiverNetwork:
        """River network with the sections placed on it."""
        net = RiverNetwork.from_rivers(self._need("rivers"))
        return net.with_sections(self.sections) if len(self.sections) else net

    @cached_property
    def route(self) -> ScenicRoute:
        """The scenic road, measured."""
        return ScenicRoute.from_segments(self._need("scenic_road"))

    @property
    def scenic_route(self) -> ScenicRoute:
        """Alias of :attr:`route`."""
        return self.route

    @cached_property
    def overlay_index(self) -> OverlayIndex:
        """The overlay's prepared reference side (used by :func:`geo.overlay.overlay_sites`),
        with nearest-line candidate grids built once for this layer version (by the
        first large overlay)."""
        return OverlayIndex.from_layers(
            admin=self._need("admin"), basins=self.basins,
            network=self.network if len(self.rivers) else None, sections=self.sections,
            route=self.route if len(self.scenic_road) else None).prepare_grids()

    @cached_property
    def projects_overlay(self) -> gpd.GeoDataFrame:
        """The projects with their basin, county, rivers … (overlay computed once)."""
        return overlay_sites(self.projects, self.overlay_index)

    @cached_property
    def stops(self) -> gpd.GeoDataFrame:
        """Candidate stage ends on the road: the stations."""
        return self.stations

    @cached_property
    def overnight(self) -> gpd.GeoDataFrame:
        """Other places to spend a night, offered for stages over the daily limit: the
        gazetteer's cities and towns (``layer`` = ``towns``) and the attractions
        (``attractions``), with ``id``, ``name_zh``, ``name_en``, EPSG:4326."""
        cols = ["id", "name_zh", "name_en", "layer", "geometry"]
        frames = [towns(OVERNIGHT_KINDS).assign(layer="towns")[cols]]
        if len(self.attractions):
            frames.append(self.attractions.assign(layer="attractions")[cols])
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                                crs=4326)


_CACHE: weakref.WeakKeyDictionary[Store, Reference] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _versions(store: Store) -> tuple[str, ...]:
    out = []
    for name in REFERENCE_LAYERS:
        try:
            out.append(store.info(name).version)
        except LayerNotFound:
            out.append("")
    return tuple(out)


def reference(store: Store) -> Reference:
    """The reference bundle of ``store``, rebuilt only when a layer version changes.

    Raises
    ------
    LayerNotFound
        When the store holds none of the reference layers (run ``make store``).
    """
    versions = _versions(store)
    with _LOCK:
        cached = _CACHE.get(store)
    if cached is not None and cached.versions == versions:
        return cached
    if not any(versions):
        raise LayerNotFound("the store holds no reference layers: run `make store` "
                            "(python -m layers.prepare)")
    frames = {}
    for name, version in zip(REFERENCE_LAYERS, versions, strict=True):
        frames[name] = store.get(name) if version else gpd.GeoDataFrame(geometry=[], crs=4326)
    ref = Reference(**frames, versions=versions)
    with _LOCK:
        _CACHE[store] = ref
    return ref
