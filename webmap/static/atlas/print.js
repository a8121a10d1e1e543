/* Xilingol Grassland Atlas — print.js: the current map as a sheet of paper.
 *
 * The print control (or the query print=a4-landscape, which webmap/printing.py uses
 * for headless PDFs) lays the page out as one A4 or A3 sheet, portrait or landscape:
 * title, the map of the current view with its scale bar and a north arrow, the legend
 * of the visible layers, their sources with datum and accuracy, the date and the view's
 * URL.  The map keeps the area it showed; the browser's print dialog then gives a clean
 * PDF, and the page returns to normal afterwards.  The browser's own print command
 * (Ctrl+P) gets the same sheet in A4 landscape.
 *
 * When the sheet is laid out and every visible layer drawn, body[data-atlas-print-ready]
 * is set (what a headless renderer waits for).
 */
(function () {
  "use strict";
  var A = window.Atlas, U = A.util, el = U.el;
  /** Paper sizes in mm (portrait) and the margin kept blank on every side. */
  var PAPER = {a4: [210, 297], a3: [297, 420]};
  var MARGIN = 8;
  var NS = "http://www.w3.org/2000/svg";

  function parseMode(text) {
    var m = /^(a3|a4)(?:[-_ ](portrait|landscape))?$/i.exec(String(text || "").trim());
    return m ? {paper: m[1].toLowerCase(), orientation: (m[2] || "landscape").toLowerCase()} : null;
  }

  function northArrow(S) {
    var box = el("div", "atlas-north");
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", S.north);
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 30 44");
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(NS, "path");
    p.setAttribute("d", "M15 2 26 36 15 29 4 36Z");
    p.setAttribute("fill", "#1f2a36");
    svg.appendChild(p);
    var half = document.createElementNS(NS, "path");
    half.setAttribute("d", "M15 2 26 36 15 29Z");
    half.setAttribute("fill", "#fff");
    half.setAttribute("stroke", "#1f2a36");
    svg.appendChild(half);
    box.appendChild(svg);
    box.appendChild(el("span", "atlas-north-n", S.north));
    return box;
  }

  /** The layers on the map now: catalog layers (in the page's order), then the page's own. */
  function visible(page) {
    var out = [];
    page.order.forEach(function (id) {
      var e = page.layers[id];
      if (page.map.hasLayer(e.container)) out.push(e.desc);
    });
    Object.keys(page.dynamic).forEach(function (id) {
      var d = page.dynamic[id];
      if (page.map.hasLayer(d.container)) out.push(d.desc);
    });
    return out;
  }

  function legendNode(page, descs) {
    var S = page.S, box = el("section", "atlas-print-legend");
    box.appendChild(el("h2", null, S.legend));
    descs.forEach(function (desc) {
      var sec = el("div", "atlas-legend-layer");
      sec.setAttribute("data-layer", desc.id);
      var items = desc.legend || [];
      // A layer of one symbol named like the layer: its title once, beside the symbol.
      if (!(items.length === 1 && items[0].label === desc.title)) sec.appendChild(el("div", "atlas-legend-title", desc.title));
      var ul = el("ul");
      items.forEach(function (item) {
        var li = el("li");
        var sw = el("i", "atlas-swatch atlas-swatch-" + String(desc.geometry_type || "").toLowerCase());
        sw.style.background = item.color;
        li.appendChild(sw);
        li.appendChild(el("span", null, item.label));
        ul.appendChild(li);
      });
      sec.appendChild(ul);
      box.appendChild(sec);
    });
    return box;
  }

  function sourcesNode(page, descs) {
    var S = page.S, box = el("section", "atlas-print-sources");
    box.appendChild(el("h2", null, S.provenance));
    var ol = el("ul");
    descs.forEach(function (desc) {
      var p = desc.provenance || {};
      if (!p.source) return;
      var parts = [p.source];
      if (p.datum) parts.push(S.datum + " " + p.datum);
      if (p.accuracy) parts.push(S.accuracy + " " + p.accuracy);
      if (p.licence) parts.push(S.licence + " " + p.licence);
      if (p.date) parts.push(S.date + " " + p.date);
      var li = el("li");
      li.appendChild(el("strong", null, desc.title + (p.illustrative ? " (" + S.illustrative + ")" : "") + ": "));
      li.appendChild(el("span", null, parts.join(" · ")));
      ol.appendChild(li);
    });
    box.appendChild(ol);
    return box;
  }

  function Printer(page) {
    this.page = page;
    this.mode = null;
  }

  /** Lays the page out as the sheet ``mode`` ({paper, orientation}); resolves when drawn. */
  Printer.prototype.enter = function (mode) {
    var page = this.page, map = page.map, S = page.S, self = this;
    if (this.mode) this.exit();
    this.mode = mode;
    var size = PAPER[mode.paper] || PAPER.a4;
    var w = mode.orientation === "portrait" ? size[0] : size[1];
    var h = mode.orientation === "portrait" ? size[1] : size[0];
    var bounds = map.getBounds();
    this.saved = {parent: map.getContainer().parentNode, next: map.getContainer().nextSibling,
                  view: [map.getCenter(), map.getZoom()]};
    var style = this.style = document.createElement("style");
    style.id = "atlas-page-size";
    style.textContent = "@page { size: " + mode.paper.toUpperCase() + " " + mode.orientation + "; margin: " + MARGIN + "mm; }" +
      ":root { --atlas-sheet-w: " + (w - 2 * MARGIN) + "mm; --atlas-sheet-h: " + (h - 2 * MARGIN) + "mm; }";
    document.head.appendChild(style);
    var descs = visible(page);
    var sheet = this.sheet = el("div", "atlas-print-sheet atlas-print-" + mode.orientation);
    sheet.id = "atlas-print-sheet";
    sheet.setAttribute("lang", page.lang === "en" ? "en" : "zh-CN");
    var head = el("header", "atlas-print-head");
    head.appendChild(el("h1", null, document.title));
    sheet.appendChild(head);
    var slot = this.slot = el("div", "atlas-print-map");
    sheet.appendChild(slot);
    var side = el("div", "atlas-print-side");
    side.appendChild(legendNode(page, descs));
    sheet.appendChild(side);
    var foot = el("footer", "atlas-print-foot");
    foot.appendChild(sourcesNode(page, descs));
    var meta = el("p", "atlas-print-meta");
    meta.appendChild(el("span", null, S.printed_on + " " + new Date().toISOString().slice(0, 10)));
    meta.appendChild(el("span", null, " · " + S.view_url + " "));
    meta.appendChild(el("span", "atlas-print-url", page.viewUrl ? page.viewUrl(page.lang, ["print"]) : location.href));
    foot.appendChild(meta);
    sheet.appendChild(foot);
    document.body.appendChild(sheet);
    document.body.classList.add("atlas-printing");
    slot.appendChild(map.getContainer());
    this.north = northArrow(S);
    map.getContainer().appendChild(this.north);
    map.invalidateSize({animate: false, pan: false});
    // The sheet shows the area the screen showed, as large as it fits (quarter zoom steps).
    this.saved.snap = map.options.zoomSnap;
    map.options.zoomSnap = 0.25;
    map.fitBounds(bounds, {animate: false});
    page.api.printMode = mode.paper + "-" + mode.orientation;
    // Lines and polygons reload for the new zoom; wait for them, then for the paint.
    return Promise.all(page.order.map(function (id) {
      var e = page.layers[id];
      return page.map.hasLayer(e.container) ? e.loading : null;
    })).then(function () {
      return new Promise(function (r) { requestAnimationFrame(function () { setTimeout(r, 150); }); });
    }).then(function () {
      if (self.mode === mode) document.body.setAttribute("data-atlas-print-ready", page.api.printMode);
    });
  };

  /** Back to the normal page, where the map was. */
  Printer.prototype.exit = function () {
    if (!this.mode) return;
    var page = this.page, map = page.map, saved = this.saved;
    this.mode = null;
    document.body.removeAttribute("data-atlas-print-ready");
    document.body.classList.remove("atlas-printing");
    if (this.north && this.north.parentNode) this.north.parentNode.removeChild(this.north);
    saved.parent.insertBefore(map.getContainer(), saved.next);
    if (this.sheet && this.sheet.parentNode) this.sheet.parentNode.removeChild(this.sheet);
    if (this.style && this.style.parentNode) this.style.parentNode.removeChild(this.style);
    map.invalidateSize({animate: false, pan: false});
    map.options.zoomSnap = saved.snap;
    map.setView(saved.view[0], saved.view[1], {animate: false});
    page.api.printMode = null;
  };

  /** The sheet, the browser's print dialog, and back. */
  Printer.prototype.print = function (mode) {
    var self = this;
    return this.enter(mode).then(function () {
      window.print();  // blocks until the dialog closes in most browsers
      if (!self.keep) self.exit();
    });
  };

  L.Control.AtlasPrint = L.Control.extend({
    options: {position: "topleft"},
    initialize: function (page, printer, options) { L.setOptions(this, options); this.page = page; this.printer = printer; },
    onAdd: function () {
      var S = this.page.S, self = this;
      var wrap = L.DomUtil.create("div", "leaflet-bar atlas-print-ctl");
      var btn = this.btn = L.DomUtil.create("a", "atlas-print-btn", wrap);
      btn.href = "#";
      btn.title = S.print;
      btn.setAttribute("role", "button");
      btn.setAttribute("aria-label", S.print);
      btn.setAttribute("aria-expanded", "false");
      btn.setAttribute("aria-controls", "atlas-print-box");
      // A printer.
      btn.appendChild(U.icon("M7 9V3h10v6 M7 17H4v-7h16v7h-3 M7 14h10v7H7Z"));
      var box = this.box = L.DomUtil.create("form", "atlas-print-box", wrap);
      box.id = "atlas-print-box";
      box.setAttribute("role", "dialog");
      box.setAttribute("aria-label", S.print);
      box.hidden = true;
      function choice(name, label, options) {
        var id = "atlas-print-" + name;
        var lab = el("label", "atlas-field", label);
        lab.setAttribute("for", id);
        var sel = el("select");
        sel.id = id;
        sel.name = name;
        options.forEach(function (o) { var opt = el("option", null, o[1]); opt.value = o[0]; sel.appendChild(opt); });
        box.appendChild(lab);
        box.appendChild(sel);
        return sel;
      }
      this.paper = choice("paper", S.paper, [["a4", "A4"], ["a3", "A3"]]);
      this.orientation = choice("orientation", S.orientation, [["landscape", S.landscape], ["portrait", S.portrait]]);
      var row = el("div", "atlas-share-row");
      var go = el("button", "atlas-print-go", S.print_now);
      go.type = "submit";
      var cancel = el("button", "atlas-secondary", S.cancel);
      cancel.type = "button";
      row.appendChild(go);
      row.appendChild(cancel);
      box.appendChild(row);
      L.DomEvent.disableClickPropagation(wrap);
      L.DomEvent.on(btn, "click", function (e) { L.DomEvent.preventDefault(e); self.toggle(); });
      L.DomEvent.on(cancel, "click", function () { self.toggle(false); btn.focus(); });
      L.DomEvent.on(box, "submit", function (e) {
        L.DomEvent.preventDefault(e);
        self.toggle(false);
        self.printer.print({paper: self.paper.value, orientation: self.orientation.value});
      });
      L.DomEvent.on(box, "keydown", function (e) { if (e.key === "Escape") { self.toggle(false); btn.focus(); } });
      return wrap;
    },
    toggle: function (open) {
      open = open === undefined ? this.box.hidden : open;
      this.box.hidden = !open;
      this.btn.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) this.paper.focus();
    },
  });

  A.on("init", function (page) {
    var printer = page.printer = new Printer(page);
    page.printControl = new L.Control.AtlasPrint(page, printer).addTo(page.map);
    page.api.print = {
      enter: function (text) { return printer.enter(parseMode(text) || {paper: "a4", orientation: "landscape"}); },
      exit: function () { printer.exit(); },
    };
    // Ctrl+P without the control: the same sheet, A4 landscape.
    window.addEventListener("beforeprint", function () {
      if (!printer.mode) { printer.enter({paper: "a4", orientation: "landscape"}); printer.fromBrowser = true; }
    });
    window.addEventListener("afterprint", function () {
      if (printer.fromBrowser) { printer.fromBrowser = false; printer.exit(); }
    });
  });

  A.on("ready", function (page) {
    var mode = parseMode(page.query.print);
    if (!mode) return;
    // Opened to be printed (webmap/printing.py): the sheet stays.
    page.printer.keep = true;
    // The page's own follow-up drawings (a trip's stages) come first: page.settling.
    page.api.ready.then(function () { return Promise.all(page.settling); })
      .then(function () { page.printer.enter(mode); }, function () { page.printer.enter(mode); });
  });

  A.print = {parseMode: parseMode, PAPER: PAPER};
})();
