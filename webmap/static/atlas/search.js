/* Xilingol Grassland Atlas — search.js: search on every page, with the server's ranking.
 *
 * The page asks GET /api/search?q=&lang=&limit= (layers/search.py: places first —
 * towns, attractions, ports, stations, county units — then rivers, basins and
 * sections, then projects, then road segments; Chinese names and the short forms
 * people write such as 二连口岸, English, pinyin such as xilinhaote) and shows the
 * results in that order.  A hit the page draws opens through the page (zoom,
 * popup); any other hit (a town, a layer this page does not show) is shown by its
 * place with a small popup.  Text from the server goes in with textContent only.
 */
(function () {
  "use strict";
  var A = window.Atlas, U = A.util, el = U.el;
  var LIMIT = 20;
  var WAIT_MS = 150;  // typing pause before asking the server

  function Search(page) {
    this.page = page;
    this.url = (page.cfg.endpoints || {}).search || "/api/search";
    this.lastHits = [];
  }

  /** The drawn Leaflet layer of a result, when this page draws that feature. */
  Search.prototype.drawn = function (hit) {
    var entry = this.page.layers[hit.layer];
    if (!entry) return null;
    var key = hit.layer === "admin" ? "adcode" : "id";
    function props(l) { return (l.feature && l.feature.properties) || {}; }
    var byId = entry.leaflet.filter(function (l) {
      var p = props(l);
      return p[key] !== undefined && p[key] !== null && String(p[key]) === String(hit.id);
    })[0];
    if (byId) return byId;
    // Features without an id (user layers): by the name the index found.
    var field = entry.desc.name_field;
    return entry.leaflet.filter(function (l) {
      var p = props(l), v = field ? p[field] : null;
      return (v !== undefined && v !== null && (String(v) === hit.name_zh || String(v) === hit.name_en)) ||
        (hit.name_zh && p.name_zh === hit.name_zh);
    })[0] || null;
  };

  /** Results for ``query`` from the server, best first (a promise). */
  Search.prototype.query = function (query, limit) {
    var page = this.page, self = this, q = String(query || "").trim();
    if (!q) return Promise.resolve([]);
    var url = U.withParams(this.url, {q: q, lang: page.lang === "en" ? "en" : null, limit: limit || LIMIT});
    return U.fetchJSON(url).then(function (body) {
      return (body.results || []).map(function (h) {
        return Object.assign({}, h, {id: String(h.id), title: h.layer_title, leaflet: self.drawn(h)});
      });
    });
  };

  /** Shows a hit: a drawn feature through the page (zoom, popup), anything else by its place. */
  Search.prototype.show = function (hit) {
    var page = this.page, map = page.map;
    var drawn = this.drawn(hit) || hit.leaflet;
    if (drawn && page.layers[hit.layer]) return page.focus(hit.layer, drawn);
    if (!hit.bounds) return;
    var b = hit.bounds;
    if (b[0] === b[2] && b[1] === b[3]) map.setView([hit.lat, hit.lon], Math.max(map.getZoom(), 10));
    else page.fit([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 11});
    var box = el("div", "atlas-popup");
    box.appendChild(el("div", "atlas-popup-layer", hit.title));
    box.appendChild(el("h4", null, hit.name));
    var county = page.lang === "en" ? (hit.county_en || hit.county) : hit.county;
    if (county) box.appendChild(el("p", "atlas-note", county));
    if (hit.accuracy_m) box.appendChild(el("p", "atlas-note", page.S.accuracy_circle.replace("{m}", Math.round(hit.accuracy_m) + " m")));
    L.popup({maxWidth: 320}).setLatLng([hit.lat, hit.lon]).setContent(box).openOn(map);
  };

  Search.prototype.bind = function () {
    var input = document.getElementById("atlas-search-input");
    var list = document.getElementById("atlas-search-results");
    var status = document.getElementById("atlas-search-status");
    if (!input || !list) return;
    var self = this, page = this.page, S = page.S, seq = 0, timer = null;
    function render(hits, query, error) {
      list.textContent = "";
      self.lastHits = hits;
      if (error) list.appendChild(el("li", "atlas-note atlas-error", error));
      else if (query && !hits.length) list.appendChild(el("li", "atlas-note", S.no_results));
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
      if (status) status.textContent = query ? (error || S.n_results.replace("{n}", hits.length)) : "";
      page.api.searchHits = hits.map(function (h) { return {layer: h.layer, id: h.id, name: h.name, match: h.match}; });
      page.api.searchQuery = query;
    }
    function run() {
      var q = input.value, mine = ++seq;
      if (!q.trim()) return render([], "");
      self.query(q).then(function (hits) { if (mine === seq) render(hits, q); },
                         function (err) { if (mine === seq) render([], q, page.errorText(err, "search")); });
    }
    input.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, WAIT_MS);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && self.lastHits.length) { e.preventDefault(); self.show(self.lastHits[0]); }
    });
  };

  A.on("init", function (page) {
    var search = page.searcher = new Search(page);
    page.search = function (q, limit) { return search.query(q, limit); };
    page.api.search = page.search;
  });
  A.on("layers", function (page) { page.searcher.bind(); });

  A.Search = Search;
})();
