/* The tileset page: draw the collection's vector tiles with MapLibre GL from its TileJSON.
 * MapLibre's CSP build loads its worker from our own origin (no blob: worker). */
(function () {
  "use strict";
  var el = document.getElementById("tile-map");
  if (!el || !window.maplibregl) { return; }
  maplibregl.setWorkerUrl(el.dataset.worker);
  var layer = el.dataset.layer;
  var colour = "#d95f02";
  var map = new maplibregl.Map({
    container: el,
    attributionControl: { compact: true },
    style: {
      version: 8,
      sources: { atlas: { type: "vector", url: el.dataset.tilejson } },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#f4f1e8" } },
        { id: "fill", type: "fill", source: "atlas", "source-layer": layer,
          filter: ["==", ["geometry-type"], "Polygon"],
          paint: { "fill-color": colour, "fill-opacity": 0.25, "fill-outline-color": colour } },
        { id: "line", type: "line", source: "atlas", "source-layer": layer,
          filter: ["==", ["geometry-type"], "LineString"],
          paint: { "line-color": colour, "line-width": 2 } },
        { id: "point", type: "circle", source: "atlas", "source-layer": layer,
          filter: ["==", ["geometry-type"], "Point"],
          paint: { "circle-color": colour, "circle-radius": 4, "circle-stroke-color": "#fff",
                   "circle-stroke-width": 1 } }
      ]
    }
  });
  window.atlasTileMap = map;  // for tests and the console
  map.on("load", function () {
    var src = map.getSource("atlas");
    if (src && src.bounds) { map.fitBounds(src.bounds, { padding: 20, animate: false }); }
  });
  map.on("idle", function () { el.dataset.idle = "1"; });
  map.on("error", function (e) {
    var err = e && e.error;
    console.error("maplibre: " + (err && (err.message || err.status) || e));
  });
})();
