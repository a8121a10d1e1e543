"""A layer version's features pre-encoded as GeoJSON in one buffer: compact, sliced by position.

Keeping every feature's GeoJSON as its own ``bytes`` object costs far more than
its text: each ``orjson.dumps`` result starts as a buffer of a few kilobytes
that is shrunk in place, and the heap keeps the gaps — about 8.5 KB per point
feature, 9.6 GB for a million.  :class:`EncodedFeatures` holds the same text in
one contiguous buffer plus an ``int64`` offsets array (~170 bytes and 8 bytes a
point feature), built chunk by chunk so that at most one chunk's per-feature
objects ever exist, and answers any set of positions with their bytes joined
by commas — a FeatureCollection's ``features`` — in time proportional to the
page, never to the layer.

A cold layer's first request needs no buffer: :func:`encode_page` encodes just
the page's features, so no request encodes more than it returns; the buffer is
built later (in the background, or on a later request) with
:meth:`EncodedFeatures.build`, whose ``progress`` callback lets a caller report or
yield between chunks.

Examples
--------
>>> import geopandas as gpd, shapely
>>> gdf = gpd.GeoDataFrame({"name": ["甲", "乙", "丙"]}, crs=4326,
...                        geometry=shapely.points([116, 117, 118], [44, 45, 46]))
>>> enc = EncodedFeatures.build(gdf, chunk=2)
>>> len(enc), enc.feature(1)
(3, b'{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[117.0,45.0]},"properties":{"name":"\\xe4\\xb9\\x99"}}')
>>> enc.collection(np.array([2, 0]), {"numberMatched": 3})[:60]
b'{"type":"FeatureCollection","features":[{"type":"Feature","i'
>>> encode_page(gdf, np.array([2]))[0] == enc.feature(2)
True
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np

from geo.geojson import dumps, encode_features

from .memory import MemoryLayer

log = logging.getLogger("layers.encoded")

#: Features encoded per chunk: bounds the per-feature objects alive at once (~8.5 KB each).
CHUNK = 8192
#: Key of a version's :class:`EncodedFeatures` in :attr:`layers.memory.MemoryLayer.cache`.
CACHE_KEY = "encoded.features"
#: Layers up to this many features are encoded at once when first asked; larger ones get
#: their page encoded alone and the buffer built in the background.
BUILD_NOW_MAX = 20_000


class EncodedFeatures:
    """GeoJSON Feature objects of one layer version, in one buffer with offsets.

    Parameters
    ----------
    buffer : bytes or bytearray
        The features' JSON, one after the other.
    offsets : numpy.ndarray of int64
        ``n + 1`` offsets: feature ``i`` is ``buffer[offsets[i]:offsets[i + 1]]``.
    """

    def __init__(self, buffer: bytes | bytearray, offsets: np.ndarray) -> None:
        self.buffer = buffer
        self.offsets = np.asarray(offsets, dtype="int64")
        self._view = memoryview(buffer)

    @classmethod
    def build(cls, gdf: gpd.GeoDataFrame, *, chunk: int = CHUNK,
              progress: Callable[[int, int], None] | None = None,
              **encode: Any) -> EncodedFeatures:
        """Encode every feature of ``gdf`` (in row order), ``chunk`` features at a time.

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            The version, indexed by fid (the feature ids).
        chunk : int
            Features per chunk.
        progress : callable, optional
            Called as ``progress(done, total)`` after each chunk.
        **encode
            Passed to :func:`geo.geojson.encode_features` (precision, columns, extra …).
        """
        n = len(gdf)
        buffer = bytearray()
        offsets = np.zeros(n + 1, dtype="int64")
        for start in range(0, n, chunk):
            part = encode_features(gdf.iloc[start:start + chunk], **encode)
            lengths = np.fromiter(map(len, part), dtype="int64", count=len(part))
            offsets[start + 1:start + 1 + len(part)] = len(buffer) + np.cumsum(lengths)
            buffer += b"".join(part)
            del part  # this chunk's objects go before the next chunk's are made
            if progress is not None:
                progress(min(start + chunk, n), n)
        return cls(buffer, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        """Memory held: the buffer and the offsets."""
        return len(self.buffer) + self.offsets.nbytes

    def feature(self, position: int) -> bytes:
        """One feature's JSON."""
        return bytes(self._view[self.offsets[position]:self.offsets[position + 1]])

    def join(self, positions: Sequence[int] | np.ndarray) -> bytes:
        """The features at ``positions`` (in that order) joined by commas."""
        pos = np.asarray(positions, dtype="int64")
        starts = self.offsets[pos].tolist()
        ends = self.offsets[pos + 1].tolist()
        view = self._view
        return b",".join([view[s:e] for s, e in zip(starts, ends, strict=True)])

    def collection(self, positions: Sequence[int] | np.ndarray,
                   members: Mapping[str, Any] | None = None) -> bytes:
        """A FeatureCollection of the features at ``positions``, with extra top-level members."""
        head = b'{"type":"FeatureCollection","features":[' + self.join(positions) + b"]"
        if members:
            return head + b"," + dumps(dict(members))[1:]
        return head + b"}"


def encode_page(gdf: gpd.GeoDataFrame, positions: Sequence[int] | np.ndarray,
                **encode: Any) -> list[bytes]:
    """The features at ``positions`` of ``gdf`` encoded now (a cold layer's page).

    The same bytes as :meth:`EncodedFeatures.build` gives for those positions; join
    them with :func:`geo.geojson.feature_collection`.
    """
    pos = np.asarray(positions, dtype="int64")
    if len(pos) == 0:
        return []
    return encode_features(gdf.iloc[pos], **encode)


# -- a layer version's encoded features, kept in its cache ---------------------------------------
_queue: queue.Queue[MemoryLayer] = queue.Queue()
_pending: set[int] = set()
_pending_lock = threading.Lock()
_worker: threading.Thread | None = None


def cached(layer: MemoryLayer) -> EncodedFeatures | None:
    """The layer version's encoded features if built (see :func:`page_bytes`)."""
    return layer.cache.get(CACHE_KEY)


def _build_into(layer: MemoryLayer) -> EncodedFeatures:
    enc = layer.cache.get(CACHE_KEY)
    if enc is None:
        enc = EncodedFeatures.build(layer.gdf)
        layer.cache[CACHE_KEY] = enc
    return enc


def _work() -> None:
    while True:
        layer = _queue.get()
        try:
            _build_into(layer)
        except Exception:  # a failed build only means pages keep being encoded alone
            log.exception("encoding a layer in the background failed")
        finally:
            with _pending_lock:
                _pending.discard(id(layer))
            del layer


def schedule(layer: MemoryLayer) -> None:
    """Build the layer version's :class:`EncodedFeatures` in the background (once)."""
    global _worker
    with _pending_lock:
        if id(layer) in _pending or CACHE_KEY in layer.cache:
            return
        _pending.add(id(layer))
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="atlas-encode", daemon=True)
            _worker.start()
    _queue.put(layer)


def encoded(layer: MemoryLayer) -> EncodedFeatures | None:
    """The encoded features of a layer version: built now for a small layer, from the
    cache, or None while a large one is built in the background."""
    enc = layer.cache.get(CACHE_KEY)
    if enc is not None:
        return enc
    if len(layer.gdf) <= BUILD_NOW_MAX:
        return _build_into(layer)
    schedule(layer)
    return None


def page_bytes(layer: MemoryLayer, positions: Sequence[int] | np.ndarray,
               columns: Sequence[str] | None = None) -> bytes:
    """The features at ``positions`` of a layer version, GeoJSON joined by commas.

    From the version's :class:`EncodedFeatures` when built; otherwise only these
    features are encoded (:func:`encode_page`) — no request encodes more than it
    returns.  ``columns`` (a subset of the properties) always encodes the page.

    Examples
    --------
    >>> import shapely
    >>> gdf = gpd.GeoDataFrame({"n": [1, 2]}, geometry=shapely.points([1, 2], [3, 4]),
    ...                        crs=4326)
    >>> page_bytes(MemoryLayer.build(None, gdf), [1])
    b'{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[2.0,4.0]},"properties":{"n":2}}'
    """
    if columns is not None:
        return b",".join(encode_page(layer.gdf, positions, columns=list(columns)))
    enc = encoded(layer)
    if enc is not None:
        return enc.join(positions)
    return b",".join(encode_page(layer.gdf, positions))


def feature_bytes(layer: MemoryLayer, position: int) -> bytes:
    """One feature of a layer version as GeoJSON (cached bytes or encoded now)."""
    enc = layer.cache.get(CACHE_KEY)
    if enc is not None:
        return enc.feature(position)
    return encode_page(layer.gdf, [position])[0]
