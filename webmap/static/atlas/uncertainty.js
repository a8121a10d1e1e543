/* Xilingol Grassland Atlas — uncertainty.js: a point no better than ±20 km is not a dot.
 *
 * A point feature whose accuracy_m is coarser than its dot at the current zoom (the
 * dot's radius in metres at its latitude) is drawn as a dashed circle of that radius
 * around a faded dot; when the view is coarse enough for the dot to cover the
 * uncertainty, the circle goes.  Clustered points get circles only when they are not
 * inside a cluster.  Circles are not interactive: clicks reach the features.
 */
(function () {
  "use strict";
  var A = window.Atlas;
  var EARTH = 40075016.686;   // equator length (m) of Web Mercator's sphere
  var MAX_FEATURES = 3000;    // larger layers are drawn on canvas or as tiles: no circles
  /** A feature's identity from its properties (what styleFor sees). */
  function key(props) {
    var k = props.id !== undefined && props.id !== null ? props.id : (props.name_zh || props.name);
    return String(k);
  }

  function metresPerPixel(lat, zoom) {
    return EARTH * Math.cos(lat * Math.PI / 180) / Math.pow(2, zoom + 8);
  }

  function update(page, entry) {
    var desc = entry.desc, map = page.map;
    if (desc.geometry_type !== "Point" || !entry.leaflet || entry.leaflet.length > MAX_FEATURES) return;
    var z = map.getZoom();
    var group = entry.uncertainty = entry.uncertainty || L.layerGroup();
    var before = entry.coarse || {}, now = {}, changed = false, n = 0;
    group.clearLayers();
    entry.leaflet.forEach(function (l) {
      var p = (l.feature && l.feature.properties) || {}, acc = Number(p.accuracy_m);
      if (!l.getLatLng || !(acc > 0)) return;
      var ll = l.getLatLng();
      var r = (l.options && l.options.radius) || 5;
      if (acc <= metresPerPixel(ll.lat, z) * r) return;
      if (entry.cluster && entry.container.getVisibleParent && entry.container.getVisibleParent(l) !== l) return;
      var k = key(p);
      now[k] = true;
      n += 1;
      group.addLayer(L.circle(ll, {
        radius: acc, pane: "atlasUncertainty", interactive: false, className: "atlas-accuracy",
        color: (l.options && l.options.fillColor) || desc.style.color, weight: 1, opacity: 0.7,
        dashArray: "3 4", fillOpacity: 0.05,
      }));
    });
    Object.keys(now).concat(Object.keys(before)).forEach(function (k) { if (!now[k] !== !before[k]) changed = true; });
    entry.coarse = now;
    page.api.uncertain = page.api.uncertain || {};
    page.api.uncertain[desc.id] = n;
    if (map.hasLayer(entry.container)) { if (!map.hasLayer(group)) group.addTo(map); }
    else if (map.hasLayer(group)) map.removeLayer(group);
    if (changed) page.restyle(desc.id);
  }

  function updateAll(page) {
    page.order.forEach(function (id) { update(page, page.layers[id]); });
  }

  A.on("init", function (page) {
    // A coarse point's dot fades: the circle, not the dot, says where it is.
    page.hooks.styleFor.push(function (desc, props) {
      var entry = page.layers[desc.id];
      if (!entry || !entry.coarse || desc.geometry_type !== "Point") return null;
      return entry.coarse[key(props)] ? {fillOpacity: 0.35, opacity: 0.7} : null;
    });
  });

  A.on("draw", function (page, entry) { update(page, entry); });

  A.on("layers", function (page) {
    var map = page.map;
    map.on("zoomend", function () { updateAll(page); });
    map.on("overlayadd overlayremove", function (e) {
      page.order.forEach(function (id) {
        var entry = page.layers[id];
        if (entry.container === e.layer && entry.uncertainty) {
          if (e.type === "overlayadd") update(page, entry); else map.removeLayer(entry.uncertainty);
        }
      });
    });
    page.order.forEach(function (id) {
      var entry = page.layers[id];
      if (entry.cluster) entry.container.on("animationend", function () { update(page, entry); });
    });
  });
})();
