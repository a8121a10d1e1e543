/* Xilingol Grassland Atlas — the page object shared by the three map pages.
 *
 * It fetches the layer catalog from /api/layers and each layer's features from
 * /api/layers/<id>/features (trimmed and simplified for the zoom, in the datum of
 * the basemap), draws them with the catalog's styles, popups and tooltips, and
 * builds the grouped layer control, legend and provenance panel.
 *
 * Features are hook files (static/atlas/<name>.js, loaded after this one), never
 * code in here: a hook file registers with
 *
 *   Atlas.on("init", function (page) {…})      every page, before the layers load
 *   Atlas.on("layers", function (page, body) {…})   the catalog is in, controls built
 *   Atlas.on("ready", function (page) {…})     every layer shown at start is drawn
 *   Atlas.on("draw", function (page, entry) {…})    a layer's features were (re)drawn
 *   Atlas.on("state", function (page, change) {…})  view, layers, basemap or page state
 *   Atlas.page("route", function (page) {…})   one page only (at "init")
 *
 * and a page object has the same page.on(name, fn) and page.emit(name, arg).  Page
 * state (max_km, basin, filters …) lives in page.query; page.setQuery({…}) changes it
 * and emits "state" (state.js keeps it in the URL).
 *
 * Feature properties are data, never markup: everything a feature says reaches
 * the page through textContent (or a DOM node handed to Leaflet), never innerHTML.
 *
 * For tests and benchmarks: window.atlas.counts[layer] (features drawn),
 * window.atlas.loaded (every visible layer drawn) and window.atlas.ready (a Promise).
 * A point layer whose description carries tiles_url is drawn from vector tiles
 * (Leaflet.VectorGrid) instead of GeoJSON.
 */
(function () {
  "use strict";

  var POINT_ZOOM = 14;   // points are fetched once at 1 m precision, whatever the zoom

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // For the few Leaflet APIs that insert strings as HTML (layer control labels,
  // attribution): the text is escaped so that it shows as text.
  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function fmtValue(value, field, S) {
    if (value === null || value === undefined || value === "") return "";
    if (typeof value === "boolean") return value ? S.yes : S.no;
    // Units in the page's language (the catalog writes 亿元).
    var unit = field && field.unit ? (S["unit_" + field.unit] || field.unit) : "";
    if (typeof value === "number") {
      var s = Number.isInteger(value) ? String(value) : value.toLocaleString(undefined, {maximumFractionDigits: 2});
      return unit ? s + " " + unit : s;
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value) + (unit ? " " + unit : "");
  }

  /** A small line icon (inline SVG, hidden from screen readers: its button has the label). */
  function icon(d, cls) {
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (cls) svg.setAttribute("class", cls);
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "1.6");
    path.setAttribute("stroke-linejoin", "round");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }

  function apiError(resp, body) {
    var msg = (body && body.error) ? body.error : ("HTTP " + resp.status);
    if (body && body.hint) msg += " — " + body.hint;
    var err = new Error(msg);
    err.status = resp.status;
    err.code = body && body.code ? String(body.code) : null;
    return err;
  }

  // A download the page's first script (boot.js, inlined) started for exactly this URL.
  function takePrefetched(url) {
    var boot = window.atlasBoot, got = boot && boot.prefetched && boot.prefetched[url];
    if (got) delete boot.prefetched[url];  // once: later loads must see fresh data
    return got || null;
  }

  function fetchJSON(url, opts) {
    var got = (!opts && takePrefetched(url)) || fetch(url, opts).then(function (resp) {
      return resp.text().then(function (text) { return {ok: resp.ok, status: resp.status, text: text}; });
    }, function (e) {
      var err = new Error(String(e && e.message || e));
      err.status = 0;  // no answer at all
      throw err;
    });
    return got.then(function (resp) {
      var body = null;
      try { body = resp.text ? JSON.parse(resp.text) : null; } catch (e) { body = null; }
      if (!resp.ok) throw apiError(resp, body);
      return body;
    });
  }

  function withParams(url, params) {
    var q = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined && params[k] !== "")
        q.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    });
    return q.length ? url + (url.indexOf("?") >= 0 ? "&" : "?") + q.join("&") : url;
  }

  function Page(map, cfg) {
    this.map = map;
    this.cfg = cfg;
    this.S = cfg.strings;
    this.lang = cfg.lang;
    this.layers = {};        // id -> {desc, container, features, leaflet: [], version}
    this.order = [];
    this.counts = {};
    this.dynamic = {};       // page-made overlays kept in WGS 84 for datum switches
    this.hooks = {styleFor: [], popupExtra: []};
    var def = cfg.basemaps.filter(function (b) { return b.default; })[0] || cfg.basemaps[0];
    this.datum = def ? def.datum : "wgs84";
    this.query = Object.assign({}, cfg.query || {});   // page state: max_km, basin, filters …
    this.visibleOverride = null;   // {id: true} of the overlays a link asks for (state.js)
    this.viewFromUrl = false;      // a link gave the view: pages do not zoom to their subject
    this._on = {};
    this.settling = [];            // promises of what a page draws after "ready" (print waits)
    // Panes keep polygons under lines under points whatever order the layers arrive in;
    // places people click (stations, attractions, ports) lie above minor points (kilometre
    // posts) and accuracy circles under every point.
    map.createPane("atlasPolygons").style.zIndex = 390;
    map.createPane("atlasUncertainty").style.zIndex = 395;
    map.createPane("atlasMinorPoints").style.zIndex = 410;
    map.createPane("atlasPoints").style.zIndex = 420;
    map.createPane("atlasPlaces").style.zIndex = 430;
    // SVG for the reference layers (interactive, few features); large point layers on canvas.
    this.canvas = L.canvas({pane: "atlasPoints", padding: 0.3});
  }

  /** Layers whose points are places people look for and click: drawn above the others. */
  var PLACE_LAYERS = {stations: 1, attractions: 1, ports: 1};
  /** Layers of small reference marks drawn under every other point. */
  var MINOR_LAYERS = {km_posts: 1};

  // -- hooks -----------------------------------------------------------------------------
  var GLOBAL = {};

  Page.prototype.on = function (name, fn) {
    (this._on[name] = this._on[name] || []).push(fn);
    return this;
  };

  /** Calls every handler of ``name`` (global ones first) with (page, arg); a failing
   *  handler is reported on the console and does not stop the others. */
  Page.prototype.emit = function (name, arg) {
    var self = this;
    (GLOBAL[name] || []).concat(this._on[name] || []).forEach(function (fn) {
      try { fn(self, arg); } catch (e) { if (window.console) console.warn("atlas hook " + name + ":", e); }
    });
  };

  /** Changes page state (keys with null/"" are removed) and tells the hooks. */
  Page.prototype.setQuery = function (changes) {
    var q = this.query, changed = false;
    Object.keys(changes).forEach(function (k) {
      var v = changes[k];
      if (v === null || v === undefined || v === "") { if (k in q) { delete q[k]; changed = true; } }
      else if (q[k] !== String(v)) { q[k] = String(v); changed = true; }
    });
    if (changed) this.emit("state", {kind: "query", changes: changes});
    return changed;
  };

  /** Whether an overlay is shown when the page opens: as the link says, else as the catalog says. */
  Page.prototype.startVisible = function (id, fallback) {
    if (this.visibleOverride) return !!this.visibleOverride[id];
    return !!fallback;
  };

  /** A message for a person, in the page's language, for an API error: by the error body's
   *  ``code`` when the page has words for it, else by what the page was doing (``context``).
   *  The API's own English text, precise for programs, is not shown on Chinese pages. */
  Page.prototype.errorText = function (err, context, params) {
    var S = this.S, text = null, generic = {bad_parameter: 1, bad_request: 1, internal_error: 1};
    var code = err && err.code, own = context && S["err_" + context];
    if (err && err.status === 0) text = S.err_network;
    else if (code && S["err_" + code] && !(own && generic[code])) text = S["err_" + code];
    else if (own) text = own;
    text = text || S.load_error;
    Object.keys(params || {}).forEach(function (k) { text = text.split("{" + k + "}").join(params[k]); });
    return text;
  };

  var CANVAS_ABOVE = 3000;

  Page.prototype.init = function () {
    var self = this;
    this.api = {
      map: this.map, counts: this.counts, loaded: false, page: this.cfg.page,
      lang: this.lang, datum: function () { return self.datum; },
      layers: this.layers, self: this,
      setBasemap: function (id) { return self.setBasemap(id); },
      search: function (q) { return self.search(q); },
    };
    var ready = new Promise(function (resolve, reject) { self._resolve = resolve; self._reject = reject; });
    this.api.ready = ready;
    this.buildBasemaps();
    this.measure = new L.Control.AtlasMeasure(this).addTo(this.map);
    if (window.isSecureContext && navigator.geolocation) {
      // Browsers give the position only to secure pages (HTTPS, localhost): elsewhere the
      // button would only fail, so it is not there.
      this.locate = new L.Control.AtlasLocate(this).addTo(this.map);
    }
    this.scale = L.control.scale({imperial: false, position: "bottomleft"}).addTo(this.map);
    this.localiseControls();
    this.keepShapesOutOfTabOrder();
    this.bindSheet();
    this.emit("init");
    if (!this.viewFromUrl) this.fitLeague();
    // The page carries the layer list (window.atlasBoot.catalog): no round trip before
    // the features; without it (or for another language) it comes from /api/layers.
    var boot = window.atlasBoot;
    var catalog = boot && boot.catalog && boot.lang === this.lang ? Promise.resolve(boot.catalog)
      : fetchJSON(withParams(this.cfg.api + "/layers", {lang: this.lang === "en" ? "en" : null}));
    if (boot) boot.catalog = null;  // a later reload asks the API
    catalog
      .then(function (body) { return self.setupLayers(body); })
      .then(function () {
        self.api.loaded = true;
        self.emit("ready");
        document.body.setAttribute("data-atlas-ready", "1");
        self._resolve(self.counts);
      })
      .catch(function (err) {
        self.api.error = String(err.message || err);
        self.notice(self.S.load_error + ": " + self.api.error);
        self._reject(err);
      });
    ready.catch(function () {});  // reported on the page; no unhandled rejection
    return this.api;
  };

  /** Phones: the side panel is a bottom sheet; its handle opens it over the map and back. */
  Page.prototype.bindSheet = function () {
    var side = document.getElementById("atlas-side"), btn = document.getElementById("atlas-sheet-toggle");
    if (!side || !btn) return;
    var map = this.map;
    btn.addEventListener("click", function () {
      var open = !side.classList.contains("atlas-sheet-open");
      side.classList.toggle("atlas-sheet-open", open);
      btn.setAttribute("aria-expanded", open ? "true" : "false");
    });
    // The skip link lands on the panel: on a phone it opens the sheet too.
    var skip = document.querySelector(".atlas-skip");
    if (skip) skip.addEventListener("click", function () { setTimeout(function () { side.focus(); }, 0); });
    window.addEventListener("resize", function () { map.invalidateSize({pan: false}); });
  };

  /** Padding that keeps a fitted area clear of the open layer list (wide screens). */
  Page.prototype.fitPadding = function () {
    var c = this.control && this.control.getContainer();
    if (!c || window.innerWidth <= 800 || !L.DomUtil.hasClass(c, "leaflet-control-layers-expanded")) return {};
    // (Leaflet pads top-left and bottom-right: the list is on the right over the full height.)
    return {paddingTopLeft: [10, 10], paddingBottomRight: [c.offsetWidth + 20, 10]};
  };

  /** Fits the map to ``bounds`` beside the open layer list, not under it. */
  Page.prototype.fit = function (bounds, opts) {
    this.map.fitBounds(bounds, Object.assign({}, this.fitPadding(), opts || {}));
  };

  /** Narrow screens: fit the League in quarter zoom steps (whole steps leave it small). */
  Page.prototype.fitLeague = function () {
    var b = this.cfg.bounds;
    if (!b || window.innerWidth > 800) return;
    this.map.options.zoomSnap = 0.25;
    this.map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {animate: false, padding: [4, 4]});
  };

  /** Leaflet's and the plugins' controls speak the page's language. */
  Page.prototype.localiseControls = function () {
    var S = this.S, box = this.map.getContainer();
    function name(sel, text) {
      var e = box.querySelector(sel);
      if (e && text) { e.title = text; e.setAttribute("aria-label", text); }
    }
    name(".leaflet-control-zoom-in", S.zoom_in);
    name(".leaflet-control-zoom-out", S.zoom_out);
    // The map itself: the page's main landmark, labelled; keyboard users pan it with the
    // arrows and zoom with + and -.
    box.setAttribute("role", "main");
    box.setAttribute("aria-label", S.map_label);
    // Tab order: header, the map and its controls (the layer control first), then the side
    // panel, which the skip link reaches directly.
    var corners = this.map._controlCorners;
    if (corners && corners.topright && corners.topleft) corners.topleft.parentNode.insertBefore(corners.topright, corners.topleft);
    var side = document.getElementById("atlas-side");
    if (side && side.parentNode) box.parentNode.insertBefore(side, box.nextSibling);
    this.map.on("popupopen", function (e) {
      var close = e.popup.getElement() && e.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.title = S.close_popup; close.setAttribute("aria-label", S.close_popup); }
    });
  };

  /** Drawn shapes are not tab stops (keyboard users reach features through search and the
   *  lists): Leaflet makes markers focusable, and a hundred of them stood between the
   *  skip link and the layer control. */
  Page.prototype.keepShapesOutOfTabOrder = function () {
    function quiet(layer) {
      [layer._icon, layer._path, layer._shadow].forEach(function (e) {
        if (e && e.setAttribute) e.setAttribute("tabindex", "-1");
      });
    }
    this.map.on("layeradd", function (e) { quiet(e.layer); });
  };

  Page.prototype.notice = function (text) {
    var n = document.getElementById("atlas-notice");
    if (!n) {
      n = el("div", "atlas-notice");
      n.id = "atlas-notice";
      n.setAttribute("role", "alert");
      document.body.appendChild(n);
    }
    n.textContent = text;
  };

  // -- basemaps --------------------------------------------------------------------------
  Page.prototype.buildBasemaps = function () {
    var self = this;
    this.baseLayers = {};
    this.basemapById = {};
    this.cfg.basemaps.forEach(function (b) {
      var opts = {attribution: esc(b.attribution), maxZoom: 18, maxNativeZoom: b.max_zoom,
                  subdomains: b.subdomains};
      var layer = L.tileLayer(b.url, opts);
      if (b.labels_url) layer = L.layerGroup([layer, L.tileLayer(b.labels_url, opts)]);
      layer._atlasDatum = b.datum;
      layer._atlasId = b.id;
      self.baseLayers[esc(b.title)] = layer;
      self.basemapById[b.id] = layer;
      if (b.default) layer.addTo(self.map);
    });
    this.map.on("baselayerchange", function (e) {
      var datum = e.layer._atlasDatum || "wgs84";
      if (datum !== self.datum) {
        self.datum = datum;
        self.reloadAll();
      }
    });
  };

  Page.prototype.setBasemap = function (id) {
    var target = this.basemapById[id];
    if (!target) return false;
    var self = this;
    Object.keys(this.basemapById).forEach(function (k) {
      if (k !== id && self.map.hasLayer(self.basemapById[k])) self.map.removeLayer(self.basemapById[k]);
    });
    if (!this.map.hasLayer(target)) {
      target.addTo(this.map);
      this.map.fire("baselayerchange", {layer: target, name: id});
    }
    return true;
  };

  // -- layers ----------------------------------------------------------------------------
  Page.prototype.wanted = function (desc) {
    var want = this.cfg.layers;
    return want === "all" || want.indexOf(desc.id) >= 0;
  };

  Page.prototype.setupLayers = function (body) {
    var self = this;
    var descs = body.layers.filter(function (d) { return self.wanted(d); });
    if (Array.isArray(this.cfg.layers)) {
      descs.sort(function (a, b) { return self.cfg.layers.indexOf(a.id) - self.cfg.layers.indexOf(b.id); });
    }
    this.groups = body.groups;
    this.catalog = body;
    var grouped = {};
    body.groups.forEach(function (g) { grouped[esc(g.title)] = {}; });
    var pending = [];
    descs.forEach(function (desc) {
      var entry = self.addLayer(desc);
      var gt = esc(desc.group_title);
      grouped[gt] = grouped[gt] || {};
      grouped[gt][esc(desc.title)] = entry.container;
      if (self.startVisible(desc.id, desc.default_visible)) {
        entry.container.addTo(self.map);
        pending.push(entry.loading);
      }
    });
    Object.keys(grouped).forEach(function (k) { if (!Object.keys(grouped[k]).length) delete grouped[k]; });
    this.grouped = grouped;
    this.control = L.control.groupedLayers(this.baseLayers, grouped,
      {collapsed: window.innerWidth < 900, groupCheckboxes: false}).addTo(this.map);
    this.control._atlasGroups = grouped;
    var toggle = this.control.getContainer().querySelector(".leaflet-control-layers-toggle");
    if (toggle) {
      toggle.title = this.S.layers_toggle;
      toggle.setAttribute("aria-label", this.S.layers_toggle);
      toggle.setAttribute("role", "button");
    }
    this.control.getContainer().querySelector("form").setAttribute("aria-label", this.S.layers_toggle);
    // The open layer list covered the League's north-east (the road's northern end): fit
    // the League beside it, in quarter zoom steps (the loads key on the rounded zoom, so
    // nothing is fetched twice).
    var b = this.cfg.bounds;
    if (b && !this.viewFromUrl && window.innerWidth > 800 && this.fitPadding().paddingBottomRight) {
      this.map.options.zoomSnap = 0.25;
      this.fit([[b[1], b[0]], [b[3], b[2]]], {animate: false});
    }
    this.buildLegend();
    this.buildProvenance();
    this.map.on("zoomend", function () { self.onZoom(); });
    this.emit("layers", body);
    return Promise.all(pending);
  };

  Page.prototype.addLayer = function (desc, urlFn) {
    var self = this;
    var cluster = (this.cfg.cluster || []).indexOf(desc.id) >= 0 && L.markerClusterGroup;
    var container;
    if (cluster) {
      container = L.markerClusterGroup({
        chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
        iconCreateFunction: function (c) { return self.clusterIcon(desc, c); },
      });
    } else {
      container = L.featureGroup();
    }
    var entry = {desc: desc, container: container, features: [], leaflet: [], urlFn: urlFn,
                 loadedKey: null, cluster: !!cluster};
    this.layers[desc.id] = entry;
    this.order.push(desc.id);
    var resolveLoad;
    entry.loading = new Promise(function (r) { resolveLoad = r; });
    entry._resolveLoad = resolveLoad;
    container.on("add", function () { self.load(desc.id); });
    return entry;
  };

  /** Adds a layer served by the page's own API URL (e.g. kilometre posts). */
  Page.prototype.addApiLayer = function (desc, urlFn, visible) {
    var entry = this.addLayer(desc, urlFn);
    if (this.control) this.control.addOverlay(entry.container, esc(desc.title), esc(desc.group_title));
    if (this.startVisible(desc.id, visible !== false)) entry.container.addTo(this.map);
    return entry;
  };

  Page.prototype.zoomKey = function (desc) {
    if (desc.geometry_type === "Point") return POINT_ZOOM;
    return Math.max(0, Math.min(18, Math.round(this.map.getZoom())));
  };

  Page.prototype.load = function (id) {
    var self = this, entry = this.layers[id], desc = entry.desc;
    if (desc.tiles_url && L.vectorGrid) return this.loadTiles(entry);
    var zoom = this.zoomKey(desc);
    var key = zoom + "|" + this.datum;
    if (entry.loadedKey === key || entry.inflight === key) return entry.loading;
    entry.inflight = key;
    var url = entry.urlFn ? entry.urlFn(this.datum, zoom)
      : withParams(desc.features_url, {zoom: zoom, datum: this.datum});
    return fetchJSON(url).then(function (fc) {
      if (entry.inflight !== key) return;  // a newer request superseded this one
      entry.inflight = null;
      entry.loadedKey = key;
      self.draw(entry, fc.features || []);
      entry._resolveLoad(entry.features.length);
    }).catch(function (err) {
      entry.inflight = null;
      self.notice(self.S.load_error + " " + desc.title + ": " + err.message);
      entry._resolveLoad(0);
    });
  };

  Page.prototype.loadTiles = function (entry) {
    // Large point layers: vector tiles from /tiles/<layer>/{z}/{x}/{y}.mvt.
    var self = this, desc = entry.desc;
    if (entry.tiles) return entry.loading;
    entry.tiles = L.vectorGrid.protobuf(withParams(desc.tiles_url, {datum: this.datum}), {
      rendererFactory: L.canvas.tile, interactive: true,
      vectorTileLayerStyles: {}, getFeatureId: function (f) { return f.id; },
    });
    entry.tiles.options.vectorTileLayerStyles[desc.id] = function (props) {
      var st = self.pointStyle(desc, props);
      return {radius: st.radius, fill: true, fillColor: st.fillColor, fillOpacity: st.fillOpacity,
              color: st.color, weight: st.weight};
    };
    entry.tiles.on("click", function (e) {
      L.popup().setLatLng(e.latlng).setContent(self.popupNode(desc, e.layer.properties || {})).openOn(self.map);
    });
    // Loaded once VectorGrid has drawn the tiles in view (its 'load'), not when added.
    var tiles = entry.tiles, resolve = entry._resolveLoad;
    tiles.once("load", function () { resolve(desc.count); });
    entry.container.addLayer(tiles);
    this.counts[desc.id] = desc.count;
    if (!tiles._loading) resolve(desc.count);  // no tile in view: nothing to wait for
    return entry.loading;
  };

  Page.prototype.reloadAll = function () {
    var self = this;
    this.order.forEach(function (id) {
      var entry = self.layers[id];
      if (entry.tiles) {  // vector tiles: a new tile layer in the new datum
        entry.container.removeLayer(entry.tiles);
        entry.tiles = null;
        self.loadTiles(entry);
      } else if (entry.loadedKey !== null) {
        entry.loading = new Promise(function (r) { entry._resolveLoad = r; });
        self.load(id);
      }
    });
    Object.keys(this.dynamic).forEach(function (id) { self.redrawDynamic(id); });
  };

  Page.prototype.onZoom = function () {
    var self = this;
    this.order.forEach(function (id) {
      var entry = self.layers[id];
      if (entry.desc.geometry_type !== "Point" && self.map.hasLayer(entry.container)) self.load(id);
    });
  };

  // -- drawing ---------------------------------------------------------------------------
  Page.prototype.categoryColor = function (desc, props) {
    var f = desc.style.category_field;
    if (!f) return null;
    for (var i = 0; i < desc.legend.length; i++) {
      if (desc.legend[i].value === props[f]) return desc.legend[i].color;
    }
    return null;
  };

  Page.prototype.pointStyle = function (desc, props) {
    var st = desc.style;
    var cat = this.categoryColor(desc, props);
    var out = {
      radius: st.radius, weight: cat ? 1 : Math.min(st.weight, 3), color: cat ? "#ffffff" : st.color,
      fillColor: cat || st.fill_color || st.color, fillOpacity: st.fill_opacity > 0.3 ? st.fill_opacity : 0.85,
      opacity: 1,
      pane: PLACE_LAYERS[desc.id] ? "atlasPlaces" : MINOR_LAYERS[desc.id] ? "atlasMinorPoints" : "atlasPoints",
    };
    if ((desc.count || 0) > CANVAS_ABOVE) out.renderer = this.canvas;
    this.hooks.styleFor.forEach(function (h) { var o = h(desc, props); if (o) Object.assign(out, o); });
    return out;
  };

  Page.prototype.pathStyle = function (desc, props) {
    var st = desc.style;
    var cat = this.categoryColor(desc, props);
    var poly = desc.geometry_type === "Polygon";
    // Polygons with a fill colour of their own take category colours on the outline
    // (admin levels); otherwise the category fills the polygon (basins).
    var out = {
      color: poly ? (st.fill_color ? (cat || st.color) : st.color) : (cat || st.color),
      weight: st.weight, opacity: st.opacity, dashArray: st.dash_array || null,
      fillColor: poly ? (st.fill_color || cat || st.color) : null,
      fillOpacity: poly ? st.fill_opacity : 0, pane: poly ? "atlasPolygons" : "overlayPane",
    };
    this.hooks.styleFor.forEach(function (h) { var o = h(desc, props); if (o) Object.assign(out, o); });
    return out;
  };

  /** Fields holding another layer's feature id. */
  var REF_FIELDS = {basin_id: "basins", flows_into: "rivers", river_id: "rivers", section_id: "sections"};

  Page.prototype.nameOf = function (desc, props) {
    var v = props[desc.name_field];
    if (v === null || v === undefined || v === "") v = props.name_zh || props.name || props.id || "";
    if (this.lang === "en") {
      // name_en, or the name field's own companion (section_zh → section_en)
      var en = props.name_en || props[String(desc.name_field || "").replace(/_zh$/, "") + "_en"];
      if (en) return en + " (" + v + ")";
    }
    return String(v);
  };

  /** A field's value as words: category codes by the legend, status/investor codes by the
   *  page's strings, basin ids by the basin's name; anything else by fmtValue. */
  Page.prototype.valueText = function (desc, field, value) {
    var S = this.S, style = desc.style || {};
    if (typeof value === "string" && value) {
      if (style.category_field === field.name) {
        for (var i = 0; i < desc.legend.length; i++) {
          if (desc.legend[i].value === value) return desc.legend[i].label;
        }
      }
      var word = S["value_" + field.name + "_" + value];
      if (word) return word;
      // Ids of other features are shown as those features' names.
      var ref = REF_FIELDS[field.name] && this.layers[REF_FIELDS[field.name]];
      if (ref) {
        for (var j = 0; j < ref.leaflet.length; j++) {
          var p = (ref.leaflet[j].feature && ref.leaflet[j].feature.properties) || {};
          if (p.id === value) return (this.lang === "en" ? p.name_en : p.name_zh) || p.name_zh || value;
        }
      }
    }
    return fmtValue(value, field, S);
  };

  /** A property in the page's language: on English pages a field ``x`` or ``x_zh`` shows its
   *  ``x_en`` companion when the data has one (county_en, kind_en, river_en, theme_en …). */
  Page.prototype.localValue = function (props, name) {
    if (this.lang === "en") {
      var en = props[name.replace(/_zh$/, "") + "_en"];
      if (en !== undefined && en !== null && en !== "") return en;
    }
    return halfOf(props[name], this.lang);
  };

  var HAN = /[\u3400-\u9fff]/;
  /** A value written "中文 / English" (feature sources, drainage notes): the page's half.
   *  Anything else as it is. */
  function halfOf(value, lang) {
    if (typeof value !== "string") return value;
    var i = value.lastIndexOf(" / ");
    if (i < 0) return value;
    var zh = value.slice(0, i), en = value.slice(i + 3).trim();
    if (!HAN.test(zh) || !/^[A-Za-z0-9(]/.test(en) || en.length < 8) return value;
    return lang === "en" ? en : zh;
  }

  Page.prototype.popupNode = function (desc, props) {
    var S = this.S, self = this;
    var box = el("div", "atlas-popup");
    var name = this.nameOf(desc, props);
    // Said once: the layer line only when the name does not already say it, and no row
    // that repeats the heading.
    if (desc.title && name.indexOf(desc.title) !== 0) box.appendChild(el("div", "atlas-popup-layer", desc.title));
    box.appendChild(el("h4", null, name));
    var table = el("table");
    desc.fields.forEach(function (f) {
      if (!f.popup || f.name === desc.name_field) return;
      if (self.lang === "en" && f.name === "name_en") return;  // the heading shows it
      var v = self.localValue(props, f.name);
      if (v === null || v === undefined || v === "") return;
      var text = self.valueText(desc, f, v);
      if (text === name) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, f.label));
      tr.appendChild(el("td", null, text));
      table.appendChild(tr);
    });
    box.appendChild(table);
    if (props.illustrative === true) box.appendChild(el("p", "atlas-badge", S.illustrative));
    this.hooks.popupExtra.forEach(function (h) {
      var extra = h(desc, props);
      if (extra) box.appendChild(el("p", "atlas-flag", extra));
    });
    return box;
  };

  Page.prototype.tooltipNode = function (desc, props) {
    var self = this, parts = [];
    desc.fields.forEach(function (f) {
      if (!f.tooltip) return;
      var v = f.name === desc.name_field ? self.nameOf(desc, props)
        : self.valueText(desc, f, self.localValue(props, f.name));
      if (v) parts.push(v);
    });
    if (!parts.length) parts.push(this.nameOf(desc, props));
    return el("span", null, parts.join(" · "));
  };

  Page.prototype.makeLayer = function (desc, feature) {
    var self = this, props = feature.properties || {};
    var layer = L.geoJSON(feature, {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, self.pointStyle(desc, props)); },
      // L.geoJSON would apply `style` to circle markers too: points keep their own.
      style: desc.geometry_type === "Point" ? undefined : function () { return self.pathStyle(desc, props); },
    });
    var inner = layer.getLayers();
    var lyr = inner.length === 1 ? inner[0] : layer;
    lyr.feature = feature;
    lyr._atlasLayer = desc.id;
    // Leaflet writes a string with innerHTML, so popups and tooltips get DOM nodes.
    lyr.bindPopup(function () { return self.popupNode(desc, lyr.feature.properties || {}); }, {maxWidth: 340});
    lyr.bindTooltip(function () { return self.tooltipNode(desc, lyr.feature.properties || {}); }, {sticky: desc.geometry_type !== "Point"});
    return lyr;
  };

  /** A feature's identity across reloads (feature id, else its id/name property). */
  function featureKey(feature) {
    var p = (feature && feature.properties) || {};
    var k = feature && feature.id !== undefined && feature.id !== null ? feature.id
      : (p.id !== undefined && p.id !== null ? p.id : p.name_zh || p.name);
    return k === undefined || k === null ? null : String(k);
  }

  /** The layer now drawn for ``layer``'s feature (lines and polygons are redrawn per zoom). */
  Page.prototype.current = function (id, layer) {
    var entry = this.layers[id], key = featureKey(layer.feature);
    if (!entry || key === null || entry.leaflet.indexOf(layer) >= 0) return layer;
    for (var i = 0; i < entry.leaflet.length; i++) {
      if (featureKey(entry.leaflet[i].feature) === key) return entry.leaflet[i];
    }
    return layer;
  };

  Page.prototype.draw = function (entry, features) {
    var self = this, desc = entry.desc;
    // A popup open on this layer would close with its old shape: reopen it on the new one.
    var popup = this.map._popup, reopen = null;
    if (popup && this.map.hasLayer(popup) && popup._source && popup._source._atlasLayer === desc.id) {
      reopen = {key: featureKey(popup._source.feature), latlng: popup.getLatLng()};
    }
    var made = features.map(function (f) { return self.makeLayer(desc, f); });
    entry.container.clearLayers();
    if (entry.cluster) entry.container.addLayers(made);
    else made.forEach(function (l) { entry.container.addLayer(l); });
    entry.features = features;
    entry.leaflet = made;
    this.counts[desc.id] = made.length;
    if (reopen && reopen.key !== null) {
      made.some(function (l) {
        if (featureKey(l.feature) !== reopen.key) return false;
        l.openPopup(reopen.latlng);
        return true;
      });
    }
    if (entry.onDraw) entry.onDraw(entry);
    this.emit("draw", entry);
  };

  /** Resolves when the layer's first features are drawn (after the page's first load). */
  Page.prototype.whenLayer = function (id) {
    var self = this;
    return this.api.ready.then(function () {
      var entry = self.layers[id];
      if (!entry) return null;
      if (!self.map.hasLayer(entry.container)) entry.container.addTo(self.map);
      return entry.loading.then(function () { return entry; });
    });
  };

  /** Re-applies styles (after a page hook changed what styleFor says). */
  Page.prototype.restyle = function (id) {
    var self = this, entry = this.layers[id];
    if (!entry) return;
    entry.leaflet.forEach(function (l) {
      var props = (l.feature && l.feature.properties) || {};
      if (l.setStyle) l.setStyle(entry.desc.geometry_type === "Point" ? self.pointStyle(entry.desc, props) : self.pathStyle(entry.desc, props));
    });
    if (entry.cluster && entry.container.refreshClusters) entry.container.refreshClusters();
  };

  Page.prototype.clusterIcon = function (desc, cluster) {
    var tally = {};
    var self = this;
    cluster.getAllChildMarkers().forEach(function (m) {
      var c = self.categoryColor(desc, (m.feature && m.feature.properties) || {}) || desc.style.color;
      tally[c] = (tally[c] || 0) + 1;
    });
    var best = Object.keys(tally).sort(function (a, b) { return tally[b] - tally[a]; })[0] || desc.style.color;
    var n = cluster.getChildCount();
    var node = el("div", "atlas-cluster", n);
    node.style.background = best;
    var size = n < 10 ? 30 : n < 50 ? 36 : 44;
    return L.divIcon({html: node, className: "atlas-cluster-icon", iconSize: L.point(size, size)});
  };

  // -- page-made overlays (stages, uploads): kept in WGS 84, converted on datum switch ----
  Page.prototype.addDynamic = function (id, desc, geojson, options) {
    options = options || {};
    var old = this.dynamic[id];
    // A second upload reuses the first one's container and layer-control entry: the
    // grouped layer control's removeLayer leaves a hole in its list and then throws.
    var container = old ? old.container : L.featureGroup();
    var dyn = {id: id, desc: desc, source: geojson, container: container, options: options};
    this.dynamic[id] = dyn;
    // A link's layer list decides for the overlays a page makes on opening (the stages
    // of its max_km), not for those a person asks for later (an upload, a new plan).
    var show = old || !options.restorable || this.startVisible(id, true);
    if (show && !this.map.hasLayer(container)) container.addTo(this.map);
    if (!old && this.control && options.control !== false) this.control.addOverlay(container, esc(desc.title), esc(desc.group_title));
    var self = this;
    return this.redrawDynamic(id).then(function () {
      self.emit("state", {kind: "layers"});
      return dyn;
    });
  };

  Page.prototype.redrawDynamic = function (id) {
    var self = this, dyn = this.dynamic[id];
    var shown = this.datum === "wgs84" ? Promise.resolve(dyn.source)
      : fetchJSON(withParams(this.cfg.api + "/convert", {from: "wgs84", to: this.datum}), {
          method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(dyn.source)});
    return shown.then(function (fc) {
      if (self.dynamic[id] !== dyn) return;
      dyn.container.clearLayers();
      dyn.leaflet = (fc.features || []).map(function (f) {
        var l = self.makeLayer(dyn.desc, f);
        if (dyn.options.style && l.setStyle) l.setStyle(dyn.options.style(f.properties || {}));
        dyn.container.addLayer(l);
        return l;
      });
      self.counts[id] = dyn.leaflet.length;
    });
  };

  // -- legend, provenance, search --------------------------------------------------------
  Page.prototype.buildLegend = function () {
    var body = document.getElementById("atlas-legend-body");
    if (!body) return;
    var self = this;
    body.textContent = "";
    this.order.forEach(function (id) {
      var desc = self.layers[id].desc;
      var sec = el("div", "atlas-legend-layer");
      sec.setAttribute("data-layer", id);
      // A layer of one symbol named like the layer: its title once, beside the symbol.
      if (!(desc.legend.length === 1 && desc.legend[0].label === desc.title)) sec.appendChild(el("div", "atlas-legend-title", desc.title));
      var ul = el("ul");
      desc.legend.forEach(function (item) {
        var li = el("li");
        var sw = el("i", "atlas-swatch atlas-swatch-" + desc.geometry_type.toLowerCase());
        sw.style.background = item.color;
        li.appendChild(sw);
        li.appendChild(el("span", null, item.label));
        ul.appendChild(li);
      });
      sec.appendChild(ul);
      body.appendChild(sec);
    });
  };

  Page.prototype.buildProvenance = function () {
    var body = document.getElementById("atlas-provenance-body");
    if (!body) return;
    var self = this, S = this.S;
    body.textContent = "";
    this.order.forEach(function (id) {
      var desc = self.layers[id].desc, p = desc.provenance;
      var det = el("details", "atlas-prov-layer");
      det.setAttribute("data-layer", id);
      var sum = el("summary", null, desc.title);
      if (p.illustrative) sum.appendChild(el("span", "atlas-badge", S.illustrative));
      det.appendChild(sum);
      var dl = el("dl");
      // Which version the map shows: each version of a reference layer keeps its provenance.
      var version = p.version ? "v" + p.version + (p.builtin ? " (" + S.data_builtin + ")" : "") : null;
      [["source", p.source], ["licence", p.licence], ["datum", p.datum],
       ["accuracy", p.accuracy], ["date", p.date], ["features", desc.count],
       ["data_version", version], ["data_note", p.builtin ? null : p.note]].forEach(function (kv) {
        if (kv[1] === null || kv[1] === undefined || kv[1] === "") return;
        dl.appendChild(el("dt", null, S[kv[0]]));
        dl.appendChild(el("dd", null, kv[1]));
      });
      det.appendChild(dl);
      if (p.illustrative) det.appendChild(el("p", "atlas-note", S.illustrative_note));
      body.appendChild(det);
    });
  };

  Page.prototype.focus = function (id, layer) {
    var entry = this.layers[id], map = this.map;
    if (!map.hasLayer(entry.container)) entry.container.addTo(map);
    layer = this.current(id, layer);  // a search hit may predate the last zoom's redraw
    if (entry.cluster) {
      entry.container.zoomToShowLayer(layer, function () { layer.openPopup(); });
    } else if (layer.getLatLng) {
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), 10));
      layer.openPopup();
    } else {
      this.fit(layer.getBounds(), {maxZoom: 11});
      layer.openPopup(layer.getBounds().getCenter());
    }
  };

  window.Atlas = {
    Page: Page,
    /** Registers ``fn(page, arg)`` for event ``name`` on every page. */
    on: function (name, fn) { (GLOBAL[name] = GLOBAL[name] || []).push(fn); },
    /** Registers ``fn(page)`` to run on the page called ``name`` when it starts. */
    page: function (name, fn) {
      window.Atlas.on("init", function (page) { if (page.cfg.page === name) fn(page); });
    },
    start: function (map, cfg) { return new Page(map, cfg).init(); },
    util: {el: el, esc: esc, fmtValue: fmtValue, fetchJSON: fetchJSON, withParams: withParams,
           featureKey: featureKey, icon: icon},
  };

})();

/* Measure tool: click points on the map; the server measures them in a metric CRS
 * (POST /api/measure), so the page never computes lengths in degrees.  The result (and
 * its line) stays when the tool is switched off, until the clear button removes it. */
(function () {
  "use strict";
  var U = null;
  function icon(d, cls) { return window.Atlas.util.icon(d, cls); }
  // A ruler and a crosshair, drawn inline (no icon font to download for two icons).
  var RULER = "M2 16.5 16.5 2 22 7.5 7.5 22Z M6 12.5l2 2 M8.5 10l3 3 M11 7.5l2 2 M13.5 5l3 3";
  var TARGET = "M12 4a8 8 0 1 0 0.01 0Z M12 1v5 M12 18v5 M1 12h5 M18 12h5";

  function button(box, cls, title, svg) {
    var btn = L.DomUtil.create("a", cls, box);
    btn.href = "#";
    btn.title = title;
    btn.setAttribute("role", "button");
    btn.setAttribute("aria-label", title);
    btn.appendChild(svg);
    return btn;
  }

  L.Control.AtlasMeasure = L.Control.extend({
    options: {position: "topleft"},
    initialize: function (page, options) { L.setOptions(this, options); this.page = page; },
    onAdd: function (map) {
      U = window.Atlas.util;
      var S = this.page.S, self = this;
      var box = L.DomUtil.create("div", "leaflet-bar atlas-measure");
      var btn = this.btn = button(box, "atlas-measure-btn", S.measure, icon(RULER, "atlas-ruler"));
      btn.setAttribute("aria-pressed", "false");
      this.out = L.DomUtil.create("div", "atlas-measure-out", box);
      this.out.setAttribute("role", "status");
      this.out.hidden = true;
      this.text = L.DomUtil.create("span", "atlas-measure-text", this.out);
      var clear = this.clearBtn = L.DomUtil.create("button", "atlas-measure-clear", this.out);
      clear.type = "button";
      clear.textContent = "×";
      clear.title = S.measure_clear;
      clear.setAttribute("aria-label", S.measure_clear);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(btn, "click", function (e) { L.DomEvent.preventDefault(e); self.toggle(); });
      L.DomEvent.on(clear, "click", function (e) { L.DomEvent.preventDefault(e); self.clear(); });
      this.map = map;
      return box;
    },
    toggle: function () {
      if (this.active) return this.stop();
      this.clear();
      this.active = true;
      this.points = [];
      this.line = L.polyline([], {color: "#111", weight: 2, dashArray: "4 4", interactive: false}).addTo(this.map);
      this.map.on("click", this.addPoint, this);
      this.map.closePopup();
      // Features would take the clicks (their popups stop the map's click): off while measuring.
      L.DomUtil.addClass(this.map.getContainer(), "atlas-measuring");
      this.map.getContainer().style.cursor = "crosshair";
      this.btn.setAttribute("aria-pressed", "true");
      this.out.hidden = false;
      this.text.textContent = this.page.S.measure_hint;
    },
    stop: function () {
      this.active = false;
      this.map.off("click", this.addPoint, this);
      L.DomUtil.removeClass(this.map.getContainer(), "atlas-measuring");
      this.map.getContainer().style.cursor = "";
      this.btn.setAttribute("aria-pressed", "false");
      // Kept until cleared: the line and the figures (a hint alone goes).
      if (!this.points || this.points.length < 2) this.clear();
    },
    clear: function () {
      if (this.line) this.map.removeLayer(this.line);
      this.line = null;
      this.points = [];
      this.seq = (this.seq || 0) + 1;
      this.out.hidden = true;
      this.text.textContent = "";
      this.result = null;
      if (this.active) this.stop();
    },
    addPoint: function (e) {
      var S = this.page.S, text = this.text;
      this.points.push([e.latlng.lng, e.latlng.lat]);
      this.line.addLatLng(e.latlng);
      if (this.points.length < 2) return;
      var seq = this.seq = (this.seq || 0) + 1, self = this;
      U.fetchJSON(U.withParams("/api/measure", {datum: this.page.datum}), {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({coordinates: this.points}),
      }).then(function (m) {
        if (seq !== self.seq) return;
        var t = S.length + " " + m.length_km.toFixed(2) + " km";
        if (m.area_km2 !== undefined) t += " · " + S.area + " " + m.area_km2.toFixed(1) + " km²";
        text.textContent = t;
        self.result = m;
      }).catch(function (err) { text.textContent = self.page.errorText(err, "measure"); });
    },
  });

  /* "Locate me": the browser's position with its accuracy, only where the browser
   * gives it (a secure page); the control is not added elsewhere. */
  L.Control.AtlasLocate = L.Control.extend({
    options: {position: "topleft"},
    initialize: function (page, options) { L.setOptions(this, options); this.page = page; },
    onAdd: function (map) {
      var S = this.page.S, self = this;
      var box = L.DomUtil.create("div", "leaflet-bar atlas-locate");
      var btn = button(box, "atlas-locate-btn", S.locate, icon(TARGET, "atlas-target"));
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(btn, "click", function (e) {
        L.DomEvent.preventDefault(e);
        map.locate({setView: true, maxZoom: 12, enableHighAccuracy: true});
      });
      map.on("locationfound", function (e) {
        if (self.mark) map.removeLayer(self.mark);
        var m = Math.round(e.accuracy);
        self.mark = L.layerGroup([
          L.circle(e.latlng, {radius: e.accuracy, color: "#1565c0", weight: 1, fillOpacity: 0.12, interactive: false}),
          L.circleMarker(e.latlng, {radius: 6, color: "#fff", weight: 2, fillColor: "#1565c0", fillOpacity: 1})
            .bindTooltip(S.you_are_here.replace("{m}", m)),
        ]).addTo(map);
      });
      map.on("locationerror", function () { self.page.notice(S.locate_error); });
      return box;
    },
  });
})();
