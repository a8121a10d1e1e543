/* Xilingol Grassland Atlas — state.js: every view can be shared.
 *
 * The view lives in the URL fragment, the page state in the query string:
 *
 *   /watershed?lang=en&basin=xilin#map=8/43.95/116.10&layers=admin,basins,projects&base=esri_imagery
 *
 * fragment: map=zoom/lat/lon (the centre, in the datum of the basemap's tiles: GCJ-02
 *           with base=gaode_vec, so that the same base reopens the same picture),
 *           layers= the overlays shown, base= the basemap;
 * query:    lang and page.query (max_km, start, end, direction, basin, section, year, category,
 *           status),
 *           which the server renders the page from (its page cache keys on the query).
 *
 * Both are rewritten in place (history.replaceState) as the map moves and the state
 * changes, and read when a page opens: a reload, the language link (rewritten here to
 * carry both) and a copied link all reopen the same view.  The share control copies
 * the link and shows it as a QR code (vendor/qrcode-generator, loaded when first
 * needed, drawn as SVG in the page).
 */
(function () {
  "use strict";
  var A = window.Atlas, U = A.util, el = U.el;
  /** Order of the page-state keys in the query string. */
  var KEYS = ["max_km", "start", "end", "direction", "basin", "section", "year", "category", "status",
    "print"];

  /** The fragment as {view: [zoom, lat, lon] | null, layers: [ids] | null, base: id | null}. */
  function parseHash(hash) {
    var out = {view: null, layers: null, base: null};
    String(hash || "").replace(/^#/, "").split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i < 0) return;
      var k = part.slice(0, i), v = decodeURIComponent(part.slice(i + 1));
      if (k === "map") {
        var n = v.split("/").map(Number);
        if (n.length === 3 && n.every(isFinite) && Math.abs(n[1]) <= 90 && Math.abs(n[2]) <= 180) {
          out.view = n;
        }
      } else if (k === "layers") {
        out.layers = v ? v.split(",").filter(Boolean) : [];
      } else if (k === "base") {
        out.base = v;
      }
    });
    return out;
  }

  /** Ids of the overlays on the map, catalog layers first (in their order), then the page's own. */
  function visibleLayers(page) {
    var out = [], map = page.map;
    page.order.forEach(function (id) {
      if (map.hasLayer(page.layers[id].container)) out.push(id);
    });
    Object.keys(page.dynamic).forEach(function (id) {
      if (map.hasLayer(page.dynamic[id].container) && out.indexOf(id) < 0) out.push(id);
    });
    return out;
  }

  function currentBase(page) {
    var ids = Object.keys(page.basemapById || {});
    for (var i = 0; i < ids.length; i++) if (page.map.hasLayer(page.basemapById[ids[i]])) return ids[i];
    return null;
  }

  /** The fragment of the current view. */
  function viewHash(page) {
    var map = page.map, c = map.getCenter(), z = map.getZoom();
    var ll = c;
    var zs = Math.round(z * 100) / 100;
    var parts = ["map=" + zs + "/" + ll.lat.toFixed(5) + "/" + ll.lng.toFixed(5)];
    if (page.api.loaded) parts.push("layers=" + visibleLayers(page).join(","));
    var base = currentBase(page);
    if (base) parts.push("base=" + encodeURIComponent(base));
    return "#" + parts.join("&");
  }

  /** The query string for ``lang`` and the page state (``omit``: keys left out). */
  function queryString(page, lang, omit) {
    var q = [];
    if (lang === "en") q.push("lang=en");
    var keys = KEYS.concat(Object.keys(page.query).filter(function (k) { return KEYS.indexOf(k) < 0; }));
    keys.forEach(function (k) {
      if (omit && omit.indexOf(k) >= 0) return;
      var v = page.query[k];
      if (v !== undefined && v !== null && v !== "") q.push(encodeURIComponent(k) + "=" + encodeURIComponent(v).replace(/%2C/g, ","));
    });
    return q.length ? "?" + q.join("&") : "";
  }

  /** The page's URL as it stands, in ``lang`` (default: the page's). */
  function viewUrl(page, lang, omit) {
    return location.origin + location.pathname + queryString(page, lang || page.lang, omit) + viewHash(page);
  }

  function write(page) {
    page._stateTimer = null;
    var url = location.pathname + queryString(page, page.lang) + viewHash(page);
    if (url !== location.pathname + location.search + location.hash) {
      history.replaceState(history.state, "", url);
    }
    var other = page.lang === "en" ? "zh" : "en";
    var link = document.getElementById("atlas-lang");
    if (link) link.setAttribute("href", location.pathname + queryString(page, other, ["print"]) + viewHash(page));
    var share = page.share;
    if (share && !share.box.hidden) share.refresh();
  }

  function schedule(page) {
    if (!page._stateLive) return;
    if (page._stateTimer) clearTimeout(page._stateTimer);
    page._stateTimer = setTimeout(function () { write(page); }, 80);
  }

  // -- share: copy the link, show it as a QR code ------------------------------------------
  var qrLoading = null;

  function loadQr(src) {
    if (window.qrcode) return Promise.resolve(window.qrcode);
    if (!qrLoading) {
      qrLoading = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = function () { resolve(window.qrcode); };
        s.onerror = function () { qrLoading = null; reject(new Error("qrcode")); };
        document.head.appendChild(s);
      });
    }
    return qrLoading;
  }

  /** The QR code of ``text`` as an SVG element (one path of dark modules, a quiet zone of 4). */
  function qrSvg(qrcode, text, label) {
    if (qrcode.stringToBytesFuncs && qrcode.stringToBytesFuncs["UTF-8"]) {
      qrcode.stringToBytes = qrcode.stringToBytesFuncs["UTF-8"];
    }
    var qr = qrcode(0, "M");
    qr.addData(text);
    qr.make();
    var n = qr.getModuleCount(), d = [];
    for (var r = 0; r < n; r++) {
      for (var c = 0; c < n; c++) if (qr.isDark(r, c)) d.push("M" + (c + 4) + " " + (r + 4) + "h1v1h-1z");
    }
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + (n + 8) + " " + (n + 8));
    svg.setAttribute("class", "atlas-qr");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    svg.setAttribute("data-modules", String(n));
    svg.setAttribute("shape-rendering", "crispEdges");
    var bg = document.createElementNS(NS, "rect");
    bg.setAttribute("width", String(n + 8));
    bg.setAttribute("height", String(n + 8));
    bg.setAttribute("fill", "#fff");
    svg.appendChild(bg);
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", d.join(""));
    path.setAttribute("fill", "#000");
    svg.appendChild(path);
    return svg;
  }

  function copyText(input, text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(input); });
    }
    return legacyCopy(input);
  }

  function legacyCopy(input) {
    input.focus();
    input.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    return ok ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  L.Control.AtlasShare = L.Control.extend({
    options: {position: "topleft"},
    initialize: function (page, options) { L.setOptions(this, options); this.page = page; },
    onAdd: function (map) {
      var page = this.page, S = page.S, self = this;
      var wrap = L.DomUtil.create("div", "leaflet-bar atlas-share");
      var btn = this.btn = L.DomUtil.create("a", "atlas-share-btn", wrap);
      btn.href = "#";
      btn.title = S.share;
      btn.setAttribute("role", "button");
      btn.setAttribute("aria-label", S.share);
      btn.setAttribute("aria-expanded", "false");
      btn.setAttribute("aria-controls", "atlas-share-box");
      // Three linked dots: the usual "share" sign.
      btn.appendChild(U.icon("M17 5.5a2.5 2.5 0 1 0 .01 0Z M7 12a2.5 2.5 0 1 0 .01 0Z M17 18.5a2.5 2.5 0 1 0 .01 0Z M9.2 10.8l5.6-3.3 M9.2 13.2l5.6 3.3"));
      var box = this.box = L.DomUtil.create("div", "atlas-share-box", wrap);
      box.id = "atlas-share-box";
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-label", S.share);
      box.hidden = true;
      var label = el("label", "atlas-sr", S.view_url);
      label.setAttribute("for", "atlas-share-url");
      box.appendChild(label);
      var input = this.input = el("input", "atlas-share-url");
      input.id = "atlas-share-url";
      input.type = "url";
      input.readOnly = true;
      box.appendChild(input);
      var row = el("div", "atlas-share-row");
      var copy = this.copy = el("button", "atlas-share-copy", S.copy_link);
      copy.type = "button";
      var close = el("button", "atlas-share-close", "×");
      close.type = "button";
      close.title = S.close;
      close.setAttribute("aria-label", S.close);
      row.appendChild(copy);
      row.appendChild(close);
      box.appendChild(row);
      this.status = el("p", "atlas-note atlas-share-status");
      this.status.setAttribute("role", "status");
      box.appendChild(this.status);
      this.qr = el("div", "atlas-qr-wrap");
      box.appendChild(this.qr);
      L.DomEvent.disableClickPropagation(wrap);
      L.DomEvent.disableScrollPropagation(wrap);
      L.DomEvent.on(btn, "click", function (e) { L.DomEvent.preventDefault(e); self.toggle(); });
      L.DomEvent.on(close, "click", function () { self.toggle(false); btn.focus(); });
      L.DomEvent.on(copy, "click", function () {
        copyText(input, input.value).then(function () {
          self.status.textContent = S.copied;
          page.api.copiedUrl = input.value;
        }, function () { self.status.textContent = S.copy_failed; });
      });
      L.DomEvent.on(box, "keydown", function (e) { if (e.key === "Escape") { self.toggle(false); btn.focus(); } });
      return wrap;
    },
    toggle: function (open) {
      open = open === undefined ? this.box.hidden : open;
      this.box.hidden = !open;
      this.btn.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { write(this.page); this.refresh(); this.input.focus(); this.input.select(); }
    },
    /** The link and its QR code, for the URL as written last (write() calls this). */
    refresh: function () {
      var self = this, page = this.page;
      var url = viewUrl(page, page.lang, ["print"]);
      this.input.value = url;
      this.status.textContent = "";
      page.api.shareUrl = url;
      loadQr(page.cfg.assets.qrcode).then(function (qrcode) {
        if (self.input.value !== url) return;
        self.qr.textContent = "";
        self.qr.appendChild(qrSvg(qrcode, url, page.S.qr_label));
        page.api.qrText = url;
      }).catch(function () { self.qr.textContent = ""; });
    },
  });

  // -- hooks ------------------------------------------------------------------------------
  A.on("init", function (page) {
    var st = parseHash(location.hash);
    page.urlState = st;
    if (st.base && page.basemapById[st.base]) page.setBasemap(st.base);
    if (st.view) {
      page.map.setView(L.latLng(st.view[1], st.view[2]), st.view[0], {animate: false});
      page.viewFromUrl = true;
    }
    if (st.layers) {
      page.visibleOverride = {};
      st.layers.forEach(function (id) { page.visibleOverride[id] = true; });
    }
    page.share = new L.Control.AtlasShare(page).addTo(page.map);
    page.viewUrl = function (lang, omit) { return viewUrl(page, lang, omit); };
    page.api.viewUrl = page.viewUrl;
    page.api.parseHash = parseHash;
  });

  A.on("ready", function (page) {
    page._stateLive = true;
    write(page);
    page.map.on("moveend overlayadd overlayremove baselayerchange", function () { schedule(page); });
  });

  // Page state is written at once (a form's new max_km is in the URL when its click
  // returns); moves of the map are gathered for a moment.
  A.on("state", function (page, change) {
    if (change && change.kind === "query" && page._stateLive) write(page);
    else schedule(page);
  });

  A.state = {parseHash: parseHash, viewUrl: viewUrl};
})();
