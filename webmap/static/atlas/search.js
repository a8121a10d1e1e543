/* Xilingol Grassland Atlas — search.js: search on every page, ranked as layers/search.py.
 *
 * Places first (towns, attractions, ports, stations, county units), then rivers,
 * basins and sections, then projects, then road segments; within a tier the better
 * match first (exact, alias, prefix, substring, then a Chinese query's characters in
 * order) and the shorter name.  The tiers, the aliases (二连口岸 → 二连浩特口岸) and
 * the county seats come from the server (cfg.search, from layers.search), the names
 * from the features the page has; layers the page does not show are fetched once,
 * when the search box is first used.
 *
 * Pinyin (xilinhaote) needs the server's index: when the app serves GET /api/search
 * (cfg.endpoints.search), the page asks it and shows its ranking instead.
 */
(function () {
  "use strict";
  var A = window.Atlas, U = A.util, el = U.el;
  var CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
  var WEAK = 20;

  function englishKey(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .split(/\s+/).filter(Boolean).join(" ");
  }

  function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  /** A point on the feature (lines: the middle vertex; polygons: the bounds' centre) and its bounds. */
  function placeOf(layer) {
    if (layer.getLatLng) {
      var p = layer.getLatLng();
      return {lat: p.lat, lon: p.lng, bounds: [p.lng, p.lat, p.lng, p.lat]};
    }
    var b = layer.getBounds(), c = b.getCenter();
    var lls = layer.getLatLngs ? layer.getLatLngs() : null;
    while (lls && lls.length && Array.isArray(lls[0])) lls = lls[0];
    if (lls && lls.length && layer instanceof L.Polyline && !(layer instanceof L.Polygon)) c = lls[Math.floor(lls.length / 2)];
    return {lat: c.lat, lon: c.lng, bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
  }

  function geomPlace(g) {
    // For fetched features of layers the page does not draw: [minx, miny, maxx, maxy] and a point.
    var xs = [], ys = [];
    (function walk(c) {
      if (typeof c[0] === "number") { xs.push(c[0]); ys.push(c[1]); return; }
      c.forEach(walk);
    })(g.coordinates);
    var b = [Math.min.apply(null, xs), Math.min.apply(null, ys), Math.max.apply(null, xs), Math.max.apply(null, ys)];
    var mid = g.type === "Point" ? [xs[0], ys[0]] :
      (g.type.indexOf("LineString") >= 0 ? [xs[xs.length >> 1], ys[ys.length >> 1]] : [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]);
    return {lon: mid[0], lat: mid[1], bounds: b};
  }

  function Search(page) {
    this.page = page;
    this.cfg = page.cfg.search || {tiers: {}, order: [], aliases: {}, towns: []};
    this.extra = {};      // layer id -> [{props, place}] fetched for search only
    this.fetching = null;
  }

  Search.prototype.tier = function (layer) {
    var t = this.cfg.tiers[layer];
    return t === undefined ? 2 : t;
  };

  Search.prototype.orderOf = function (layer) {
    var i = this.cfg.order.indexOf(layer);
    return i < 0 ? this.cfg.order.length : i;
  };

  /** Every searchable record: {layer, id, zh, en, names, aliases, leaflet?, place}. */
  Search.prototype.records = function () {
    var self = this, page = this.page, out = [];
    function add(layer, title, props, leaflet, place) {
      var id = layer === "admin" ? props.adcode : (props.id !== undefined ? props.id : null);
      var desc = page.layers[layer] && page.layers[layer].desc;
      var zh = props.name_zh || "", en = props.name_en || "";
      var other = desc && desc.name_field && props[desc.name_field] ? String(props[desc.name_field]) : "";
      if (!zh && CJK.test(other)) zh = other;
      var plain = props.name || other;
      if (!zh && !en && !plain) return;
      var aliases = (id !== null && self.cfg.aliases[String(id)]) || [];
      out.push({layer: layer, title: title, id: id === null ? null : String(id), zh: String(zh), en: String(en),
                plain: String(plain || ""), aliases: aliases, leaflet: leaflet, place: place, props: props});
    }
    page.order.forEach(function (id) {
      var entry = page.layers[id];
      entry.leaflet.forEach(function (l) { add(id, entry.desc.title, (l.feature && l.feature.properties) || {}, l, null); });
    });
    Object.keys(this.extra).forEach(function (id) {
      if (page.layers[id] && page.layers[id].leaflet.length) return;  // drawn meanwhile
      var x = self.extra[id];
      x.features.forEach(function (f) { add(id, x.title, f.properties || {}, null, geomPlace(f.geometry)); });
    });
    var townTitle = page.S.kind_towns;
    (this.cfg.towns || []).forEach(function (t) {
      add("towns", townTitle, t, null, {lon: t.lon, lat: t.lat, bounds: [t.lon, t.lat, t.lon, t.lat]});
    });
    return out;
  };

  /** Fetches, once, the searchable layers of the catalog that this page does not draw. */
  Search.prototype.prefetch = function () {
    var self = this, page = this.page;
    if (this.fetching || !page.catalog) return this.fetching || Promise.resolve();
    var wanted = page.catalog.layers.filter(function (d) {
      return self.cfg.tiers[d.id] !== undefined && !page.layers[d.id] && d.features_url && !d.tiles_url;
    });
    this.fetching = Promise.all(wanted.map(function (d) {
      var url = U.withParams(d.features_url, {zoom: d.geometry_type === "Point" ? 14 : 8, datum: page.datum});
      return U.fetchJSON(url).then(function (fc) {
        self.extra[d.id] = {title: d.title, features: fc.features || []};
      }).catch(function () {});
    }));
    return this.fetching;
  };

  /** Ranked records for ``query`` (the page's own data; see the file header). */
  Search.prototype.local = function (query, limit) {
    var q = String(query || "").trim();
    if (!q) return [];
    var self = this, cjk = CJK.test(q), hits = [];
    var zq = q.replace(/\s+/g, ""), eq = englishKey(q);
    var chars = cjk ? new RegExp(zq.split("").map(escapeRe).join(".*")) : null;
    this.records().forEach(function (r) {
      var best = 99, how = "";
      function better(ok, score, label) { if (ok && score < best) { best = score; how = label; } }
      if (cjk) {
        var zhAliases = r.aliases.filter(function (a) { return CJK.test(a); });
        var name = r.zh || (CJK.test(r.plain) ? r.plain : "");
        better(name === zq, 0, "name");
        better(zhAliases.indexOf(zq) >= 0, 1, "alias");
        better(name.indexOf(zq) === 0, 2, "name");
        better(zhAliases.some(function (a) { return a.indexOf(zq) === 0; }), 3, "alias");
        better(name.indexOf(zq) >= 0, 4, "name");
        better(zhAliases.some(function (a) { return a.indexOf(zq) >= 0; }), 5, "alias");
        better([name].concat(zhAliases).some(function (a) { return chars.test(a); }), WEAK, "characters");
      } else if (eq) {
        var en = englishKey(r.en || r.plain);
        var keys = [en, englishKey(r.plain)].concat(r.aliases.filter(function (a) { return !CJK.test(a); }).map(englishKey));
        better(en === eq, 0, "english");
        better(en.indexOf(eq) === 0, 2, "english");
        better(keys.some(function (k) { return (" " + k).indexOf(" " + eq) >= 0; }), 3, "english");
        better(keys.some(function (k) { return k.indexOf(eq) >= 0; }), 4, "english");
      }
      if (best < 99) {
        r.quality = best;
        r.match = how;
        hits.push(r);
      }
    });
    hits.sort(function (a, b) {
      return ((a.quality >= WEAK) - (b.quality >= WEAK)) || (self.tier(a.layer) - self.tier(b.layer)) ||
        (a.quality - b.quality) || (self.orderOf(a.layer) - self.orderOf(b.layer)) ||
        ((a.zh || a.en).length - (b.zh || b.en).length) || ((a.zh || a.en) < (b.zh || b.en) ? -1 : 1);
    });
    return hits.slice(0, limit || 30).map(function (r) { return self.result(r); });
  };

  Search.prototype.result = function (r) {
    var page = this.page;
    var name = page.lang === "en" && r.en ? r.en + (r.zh ? " (" + r.zh + ")" : "") : (r.zh || r.en || r.plain);
    if (r.leaflet && page.layers[r.layer]) name = page.nameOf(page.layers[r.layer].desc, r.props);
    var place = r.place || (r.leaflet ? placeOf(r.leaflet) : null);
    return {layer: r.layer, id: r.id, name: name, title: r.title, name_zh: r.zh, name_en: r.en,
            match: r.match, leaflet: r.leaflet, lon: place && place.lon, lat: place && place.lat,
            bounds: place && place.bounds, props: r.props};
  };

  /** Results of the server's index (GET /api/search), joined to the features the page draws. */
  Search.prototype.remote = function (query) {
    var page = this.page, self = this;
    var url = U.withParams(page.cfg.endpoints.search, {q: query, lang: page.lang, limit: 20});
    return U.fetchJSON(url).then(function (body) {
      var recs = self.records();
      return (body.results || []).map(function (h) {
        var mine = recs.filter(function (r) { return r.layer === h.layer && r.id === String(h.id); })[0];
        var title = mine ? mine.title : (page.layers[h.layer] ? page.layers[h.layer].desc.title : h.layer);
        return {layer: h.layer, id: String(h.id), title: title, name_zh: h.name_zh, name_en: h.name_en,
                name: page.lang === "en" && h.name_en ? h.name_en + " (" + h.name_zh + ")" : (h.name_zh || h.name_en),
                match: h.match, leaflet: mine ? mine.leaflet : null, lon: h.lon, lat: h.lat,
                bounds: h.bounds, props: mine ? mine.props : {name_zh: h.name_zh, name_en: h.name_en}};
      });
    });
  };

  /** Shows a hit: a drawn feature through the page (zoom, popup), anything else by its place. */
  Search.prototype.show = function (hit) {
    var page = this.page, map = page.map;
    if (hit.leaflet && page.layers[hit.layer]) return page.focus(hit.layer, hit.leaflet);
    if (!hit.bounds) return;
    var b = hit.bounds;
    if (b[0] === b[2] && b[1] === b[3]) map.setView([hit.lat, hit.lon], Math.max(map.getZoom(), 10));
    else page.fit([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 11});
    var box = el("div", "atlas-popup");
    box.appendChild(el("div", "atlas-popup-layer", hit.title));
    box.appendChild(el("h4", null, hit.name));
    var p = hit.props || {};
    var county = page.lang === "en" ? (p.county_en || p.county) : p.county;
    if (county) box.appendChild(el("p", "atlas-note", county));
    if (p.accuracy_m) box.appendChild(el("p", "atlas-note", page.S.accuracy_circle.replace("{m}", Math.round(p.accuracy_m) + " m")));
    L.popup({maxWidth: 320}).setLatLng([hit.lat, hit.lon]).setContent(box).openOn(map);
  };

  Search.prototype.bind = function () {
    var input = document.getElementById("atlas-search-input");
    var list = document.getElementById("atlas-search-results");
    var status = document.getElementById("atlas-search-status");
    if (!input || !list) return;
    var self = this, page = this.page, S = page.S, seq = 0, timer = null;
    function render(hits, query) {
      list.textContent = "";
      self.lastHits = hits;
      if (query && !hits.length) list.appendChild(el("li", "atlas-note", S.no_results));
      hits.forEach(function (h) {
        var li = el("li", "atlas-hit");
        li.setAttribute("data-layer", h.layer);
        var btn = el("button", "atlas-hit-btn");
        btn.type = "button";
        btn.appendChild(el("span", "atlas-hit-name", h.name));
        btn.appendChild(el("small", null, " · " + h.title));
        btn.addEventListener("click", function () { self.show(h); });
        li.appendChild(btn);
        list.appendChild(li);
      });
      if (status) status.textContent = query ? S.n_results.replace("{n}", hits.length) : "";
      page.api.searchHits = hits.map(function (h) { return {layer: h.layer, id: h.id, name: h.name, match: h.match}; });
    }
    function run() {
      var q = input.value, mine = ++seq;
      if (!q.trim()) return render([], "");
      if (page.cfg.endpoints && page.cfg.endpoints.search) {
        self.remote(q).then(function (hits) { if (mine === seq) render(hits, q); },
                            function () { if (mine === seq) render(self.local(q), q); });
      } else {
        render(self.local(q), q);
        // Layers this page does not draw arrive once; then the list is ranked again.
        if (!self.fetched) self.prefetch().then(function () { self.fetched = true; if (mine === seq) render(self.local(q), q); });
      }
    }
    input.addEventListener("focus", function () { self.prefetch(); });
    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      if (page.cfg.endpoints && page.cfg.endpoints.search) timer = setTimeout(run, 150);
      else run();
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && self.lastHits && self.lastHits.length) { e.preventDefault(); self.show(self.lastHits[0]); }
    });
  };

  A.on("init", function (page) {
    var search = page.searcher = new Search(page);
    page.search = function (q, limit) { return search.local(q, limit); };
    page.api.search = page.search;
    page.api.searchReady = function () { return search.prefetch(); };
  });
  A.on("layers", function (page) { page.searcher.bind(); });

  A.Search = Search;
})();
