/* Xilingol Grassland Atlas — the page's first script, inlined at the top of <head>
 * by webmap/pages/map_pages.py (not loaded from here).
 *
 * It runs before any script or style sheet is fetched and starts downloading the
 * features of the layers the page shows first, so that they arrive while Leaflet
 * and the plugins load instead of after them.  The loader (atlas.js) takes a
 * prefetched response when it asks for exactly the same URL; any other URL (a
 * different zoom because the window is laid out differently, a later reload) is
 * fetched as usual, so a wrong guess only costs the download.
 *
 * BOOT (filled in by the server): catalog (the /api/layers body for the page's
 * language, or null), layers ([features_url, geometry_type] of the default layers),
 * datum (of the default basemap), bounds (the extent the map opens fitted to,
 * [minx, miny, maxx, maxy]), zoom ([min, max]), point_zoom, layout ({header, side,
 * narrow}: the CSS box of the map in atlas.css).
 */
(function (boot) {
  "use strict";
  window.atlasBoot = boot;
  boot.prefetched = {};
  if (!window.fetch || !boot.layers.length) return;
  // Leaflet's fitBounds zoom (snapped down to a whole zoom level) for the map's box.
  var w = window.innerWidth, h = window.innerHeight, L = boot.layout;
  var narrow = w <= L.narrow;
  var mw = narrow ? w : w - L.side;
  var mh = narrow ? h * 0.6 - L.header : h - L.header;
  function mercY(lat) {
    var s = Math.sin(lat * Math.PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  var b = boot.bounds;
  var dx = (b[2] - b[0]) / 360 * 256, dy = (mercY(b[1]) - mercY(b[3])) * 256;
  var zoom = Math.log(Math.min(mw / dx, mh / dy)) / Math.LN2;
  zoom = Math.floor(Math.round(zoom * 100) / 100);
  zoom = Math.max(boot.zoom[0], Math.min(boot.zoom[1], zoom));
  boot.layers.forEach(function (l) {
    var z = l[1] === "Point" ? boot.point_zoom : zoom;
    // The same URL the loader asks for (features URLs carry their version as ?v=).
    var url = l[0] + (l[0].indexOf("?") >= 0 ? "&" : "?") + "zoom=" + z + "&datum=" +
      encodeURIComponent(boot.datum);
    boot.prefetched[url] = fetch(url, {credentials: "same-origin"}).then(function (resp) {
      return resp.text().then(function (text) { return {ok: resp.ok, status: resp.status, text: text}; });
    });
    boot.prefetched[url].catch(function () {});  // the loader reports failures
  });
})(BOOT);
