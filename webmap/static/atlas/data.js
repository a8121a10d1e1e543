/* Xilingol Grassland Atlas — data.js: the /data page (数据管理 / Data).
 *
 * Replaces a catalog layer with one's own data through /api/reference:
 *
 *   1. the layers table: each catalog layer's current version, source and accuracy, its
 *      blank template, and buttons that open its replace form and its history;
 *   2. the write token, typed once and kept in sessionStorage (this tab only), sent as
 *      "Authorization: Bearer …" with every preview and write;
 *   3. the replace form: a preview (PUT … dry_run=1&features=1) shows the automatic column
 *      mapping as drop-downs one can change (then preview again: mapping={…}), the file's
 *      rows on a Leaflet map with the rows in error in red, the diff against the current
 *      version, the totals beside the seed article and every error and warning in the
 *      page's language; "save" commits the same form (PUT without dry_run → 201);
 *   4. the history: every version newest first, download, restore (POST …/restore) and
 *      delete (DELETE …/versions/n) of a version that is not current.
 *
 * The page has no inline script or handler (its configuration is the JSON block
 * #atlas-data-config) and loads only the app's files; every value from a file or the
 * API is written with textContent, never as HTML.
 */
(function () {
  "use strict";
  var TOKEN_KEY = "atlasWriteToken";
  var cfg, S, lang;
  var state = {layers: {}, order: [], layer: null, view: null, preview: null, mapping: null,
               edited: false, map: null, drawn: null, history: null};

  // -- small helpers ------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fill(template, vars) {
    return String(template).replace(/\{(\w+)\}/g, function (_, k) { return vars[k]; });
  }
  function num(v, digits) {
    if (v === null || v === undefined || v === "") return "";
    return Number(v).toLocaleString(lang === "en" ? "en" : "zh-CN",
                                    {maximumFractionDigits: digits === undefined ? 2 : digits});
  }
  function say(node, text, kind) {
    node.textContent = text || "";
    node.className = kind === "error" ? "atlas-error" : (kind === "ok" ? "atlas-ok-text" : "");
  }
  function token() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  /** The API's error body in the page's language: message, then the hint. */
  function explain(body, status) {
    if (!body || typeof body !== "object") return S.error + " (" + status + ")";
    var msg = lang === "en" ? body.error : (body.error_zh || body.error);
    var hint = lang === "en" ? body.hint : (body.hint_zh || body.hint);
    return (msg || S.error + " (" + status + ")") + (hint ? "\n" + hint : "");
  }
  function issueText(issue) { return lang === "en" ? issue.text : (issue.text_zh || issue.text); }
  /** fetch → {status, body}; the write token goes with every request that writes. */
  function api(method, url, body, json) {
    var headers = {};
    var t = token();
    if (t && method !== "GET") headers.Authorization = "Bearer " + t;
    var opts = {method: method, headers: headers, credentials: "same-origin"};
    if (json) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    } else if (body) {
      opts.body = body;
    }
    return fetch(url, opts).then(function (resp) {
      return resp.text().then(function (text) {
        var parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
        return {status: resp.status, body: parsed};
      });
    });
  }
  /** Each cell carries its column's heading (data-label): a phone shows the rows as cards. */
  function labelCells(table) {
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells,
                                         function (c) { return c.textContent; });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (tr) {
      Array.prototype.forEach.call(tr.cells, function (c, i) {
        // The buttons speak for themselves (their own labels): no heading above them.
        if (i > 0 && heads[i] && !c.querySelector(".atlas-data-actions")) {
          c.setAttribute("data-label", heads[i]);
        }
      });
    });
  }
  function withLang(url) { return url + (url.indexOf("?") >= 0 ? "&" : "?") + "lang=" + lang; }

  // -- the page's state in the URL ---------------------------------------------------------
  // ?layer=<id>&view=replace|history: a reload, a copied link and the language switch open
  // the same layer's form or history (the file itself cannot travel, so neither can a preview).
  var VIEWS = ["replace", "history"];
  /** The formats a version downloads in (GET …/versions/{n}.{ext}). */
  var DOWNLOADS = [["geojson", "GeoJSON"], ["gpkg", "GeoPackage"], ["shp.zip", "Shapefile"],
                   ["csv", "CSV"], ["kml", "KML"]];
  function stateQuery(q) {
    q.delete("layer");
    q.delete("view");
    if (state.layer && state.view) {
      q.set("layer", state.layer);
      q.set("view", state.view);
    }
    return q;
  }
  function writeUrl() {
    var q = stateQuery(new URLSearchParams(window.location.search)).toString();
    window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : "") +
                                window.location.hash);
    var sw = document.getElementById("atlas-lang");  // the header's language switch
    if (sw) {
      var u = new URL(sw.getAttribute("href"), window.location.href);
      var sq = stateQuery(u.searchParams).toString();
      sw.setAttribute("href", u.pathname + (sq ? "?" + sq : ""));
    }
  }
  function readUrl() {
    var q = new URLSearchParams(window.location.search);
    var id = q.get("layer"), view = q.get("view");
    if (!id || !state.layers[id] || VIEWS.indexOf(view) < 0) return;
    if (view === "replace") openReplace(id, false);
    else openHistory(id, false, true);
  }

  // -- the write token ----------------------------------------------------------------------
  function showToken() {
    say($("data-token-state"), token() ? S.data_token_set : S.data_token_unset);
    $("data-token").value = "";
  }
  function initToken() {
    $("data-token-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = $("data-token").value.trim();
      try {
        if (v) window.sessionStorage.setItem(TOKEN_KEY, v);
      } catch (e) { /* storage refused: the token cannot be kept */ }
      showToken();
    });
    $("data-token-clear").addEventListener("click", function () {
      try { window.sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
      showToken();
    });
    showToken();
  }

  // -- the layers table ---------------------------------------------------------------------
  function versionText(d) {
    return "v" + d.version + (d.builtin ? " (" + S.data_builtin + ")" : "");
  }
  function loadLayers() {
    return api("GET", withLang(cfg.api)).then(function (r) {
      if (r.status !== 200) { say($("data-layers-state"), explain(r.body, r.status), "error"); return; }
      var tbody = $("data-layers").tBodies[0];
      tbody.textContent = "";
      state.order = [];
      r.body.layers.forEach(function (d) {
        state.layers[d.id] = d;
        state.order.push(d.id);
        var tr = el("tr");
        tr.setAttribute("data-layer", d.id);
        var th = el("th", null, d.title);
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(el("td", "atlas-version", versionText(d)));
        tr.appendChild(el("td", "num", num(d.count, 0)));
        var src = el("td", null, d.provenance.source);
        if (d.provenance.illustrative) src.appendChild(el("span", "atlas-badge", S.illustrative));
        tr.appendChild(src);
        tr.appendChild(el("td", null, d.provenance.accuracy));
        var actions = el("td");
        var box = el("div", "atlas-data-actions");
        var tpl = el("a", null, S.data_template);
        tpl.href = d.links.template;
        tpl.setAttribute("download", "");
        tpl.setAttribute("aria-label", S.data_template + " · " + d.title);
        box.appendChild(tpl);
        var rep = el("button", null, S.data_replace);
        rep.type = "button";
        rep.setAttribute("aria-label", S.data_replace + " · " + d.title);
        rep.addEventListener("click", function () { openReplace(d.id, true); });
        box.appendChild(rep);
        var his = el("button", "atlas-secondary", S.data_history);
        his.type = "button";
        his.setAttribute("aria-label", S.data_history + " · " + d.title);
        his.addEventListener("click", function () { openHistory(d.id, true, true); });
        box.appendChild(his);
        actions.appendChild(box);
        tr.appendChild(actions);
        tbody.appendChild(tr);
      });
      labelCells($("data-layers"));
      say($("data-layers-state"), "");
    });
  }

  // -- replace: the form, the preview, the commit ---------------------------------------
  function openReplace(id, focus) {
    var d = state.layers[id];
    state.layer = id;
    state.view = "replace";
    state.preview = null;
    state.mapping = null;
    state.edited = false;
    $("data-replace").hidden = false;
    $("data-replace-layer").textContent = "· " + d.title;
    $("data-replace-hint").textContent = d.hook ? S.data_layer_hook + d.hook.description : "";
    var opts = $("data-hook-options");
    opts.textContent = "";
    (d.hook ? d.hook.options : []).forEach(function (name) {
      var wrap = el("div");
      var label = el("label", null, name);
      label.htmlFor = "data-opt-" + name;
      var input = el("input");
      input.type = "text";
      input.id = "data-opt-" + name;
      input.name = name;
      wrap.appendChild(label);
      wrap.appendChild(input);
      opts.appendChild(wrap);
    });
    $("data-result").hidden = true;
    $("data-commit").disabled = true;
    say($("data-status"), token() ? "" : S.data_need_token, token() ? null : "error");
    if (focus) $("data-file").focus();
    writeUrl();
    openHistory(id, false, false);
  }

  function formData(dry) {
    var fd = new FormData($("data-form"));
    // Empty fields say nothing (the server's defaults apply); the datum default is WGS 84.
    ["source", "licence", "date", "author", "note", "crs", "sheet"].forEach(function (k) {
      if (!String(fd.get(k) || "").trim()) fd.delete(k);
    });
    if (fd.get("datum") === "wgs84") fd.delete("datum");
    fd.set("illustrative", $("data-illustrative").checked ? "1" : "0");
    if (state.edited && state.mapping) fd.set("mapping", JSON.stringify(state.mapping));
    if (dry) {
      fd.set("dry_run", "1");
      fd.set("features", "1");
    }
    return fd;
  }

  function runPreview() {
    if (!state.layer) return;
    if (!$("data-file").files.length) { say($("data-status"), S.data_file, "error"); return; }
    if (!token()) { say($("data-status"), S.data_need_token, "error"); $("data-token").focus(); return; }
    say($("data-status"), S.data_previewing);
    $("data-commit").disabled = true;
    api("PUT", cfg.api + "/" + state.layer, formData(true)).then(function (r) {
      if (r.status !== 200) {
        say($("data-status"), explain(r.body, r.status), "error");
        $("data-result").hidden = true;
        return;
      }
      state.preview = r.body;
      renderPreview(r.body);
    }).catch(function (e) { say($("data-status"), S.error + ": " + e, "error"); });
  }

  function renderPreview(p) {
    var c = p.counts;
    var head = num(c.features, 0) + " " + S.features + " · " + c.errors + " " + S.data_errors +
      " · " + c.warnings + " " + S.warnings;
    say($("data-status"), p.ok ? head + " — " + S.data_no_errors : head, p.ok ? "ok" : "error");
    $("data-commit").disabled = !p.ok;
    $("data-result").hidden = false;
    renderMapping(p);
    renderMap(p);
    renderDiff(p);
    renderTotals(p);
    renderIssues(p);
  }

  function renderMapping(p) {
    var d = state.layers[p.layer];
    var fields = p.mapping.fields;
    var columns = [];
    Object.keys(fields).forEach(function (f) {
      if (columns.indexOf(fields[f].column) < 0) columns.push(fields[f].column);
    });
    (p.mapping.unmapped_columns || []).forEach(function (col) {
      if (columns.indexOf(col) < 0) columns.push(col);
    });
    if (!state.edited) {
      state.mapping = {};
      Object.keys(fields).forEach(function (f) { state.mapping[f] = fields[f].column; });
    }
    var tbody = $("data-mapping").tBodies[0];
    tbody.textContent = "";
    d.fields.filter(function (f) { return !f.derived; }).forEach(function (f) {
      var tr = el("tr");
      var unit = S["data_unit_" + f.unit] || f.unit;  // 亿元 reads "100M yuan" in English
      var label = (lang === "en" ? f.label_en : f.label_zh) + (unit ? " (" + unit + ")" : "");
      var th = el("th", null, label);
      th.scope = "row";
      if (f.required) th.appendChild(el("span", "atlas-badge", S.data_required));
      tr.appendChild(th);
      var td = el("td");
      var sel = el("select");
      sel.id = "data-map-" + f.name;
      sel.setAttribute("aria-label", S.data_column + " · " + label);
      sel.appendChild(new Option(S.data_unused, ""));
      columns.forEach(function (col) { sel.appendChild(new Option(col, col)); });
      sel.value = state.mapping[f.name] || "";
      sel.addEventListener("change", function () {
        state.edited = true;
        state.mapping[f.name] = sel.value;  // "" = not used: not matched automatically either
        $("data-commit").disabled = true;  // the preview no longer says what a save would do
        say($("data-status"), S.data_mapping_hint);
      });
      td.appendChild(sel);
      tr.appendChild(td);
      var m = fields[f.name];
      var how = m ? (S["data_how_" + m.how] || m.how) : "";
      if (m && m.unit && m.factor && m.factor !== 1) how += " · " + m.unit + " × " + m.factor;
      tr.appendChild(el("td", null, how));
      tbody.appendChild(tr);
    });
    labelCells($("data-mapping"));
  }

  function renderMap(p) {
    if (!window.L) return;
    if (!state.map) {
      state.map = L.map("data-map", {keyboard: true}).setView([44, 115.8], 6);
      var b = cfg.basemap;
      L.tileLayer(b.url, {attribution: b.attribution, subdomains: b.subdomains || "abc",
                          maxZoom: b.max_zoom || 18}).addTo(state.map);
    }
    if (state.drawn) state.map.removeLayer(state.drawn);
    var bad = {};
    (p.errors || []).forEach(function (i) {
      if (i.row !== undefined) (bad[i.row] = bad[i.row] || []).push(issueText(i));
    });
    function colour(props) { return props.error ? "#c0392b" : "#2f6f4f"; }
    state.drawn = L.geoJSON(p.features || {type: "FeatureCollection", features: []}, {
      style: function (f) { return {color: colour(f.properties), weight: 2, fillOpacity: 0.2}; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: f.properties.error ? 7 : 5, color: colour(f.properties),
                                       fillColor: colour(f.properties), fillOpacity: 0.7, weight: 1});
      },
      onEachFeature: function (f, layer) {
        var pr = f.properties;
        var box = el("div");
        box.appendChild(el("strong", null, (pr.name || pr.id || "") + " "));
        box.appendChild(el("span", "atlas-note", S.data_rows + " " + pr.row));
        (bad[pr.row] || []).forEach(function (t) { box.appendChild(el("p", "atlas-error-text", t)); });
        layer.bindPopup(box);
      }
    }).addTo(state.map);
    var bounds = state.drawn.getBounds();
    if (bounds.isValid()) state.map.fitBounds(bounds, {padding: [20, 20], maxZoom: 12, animate: false});
    setTimeout(function () { state.map.invalidateSize(); }, 0);
  }

  function renderDiff(p) {
    var box = $("data-diff");
    box.textContent = "";
    if (!p.diff) return;
    var c = p.diff.counts;
    box.appendChild(el("p", null, S.data_added + " " + num(c.added || 0, 0) + " · " + S.data_removed +
                       " " + num(c.removed || 0, 0) + " · " + S.data_changed + " " +
                       num(c.changed || 0, 0)));
    var fc = p.diff.fields_changed || {};
    var names = Object.keys(fc);
    if (names.length) {
      box.appendChild(el("p", "atlas-note", S.data_fields_changed + ": " + names.map(function (n) {
        return n + " (" + fc[n] + ")";
      }).join(S.list_sep)));
    }
  }

  function renderTotals(p) {
    var box = $("data-totals");
    box.textContent = "";
    var t = p.totals;
    if (!t) return;
    var table = el("table", "atlas-table");
    table.appendChild(el("caption", null, S.data_totals));
    var head = el("tr");
    ["", S.data_new, S.data_current, S.data_seed, S.data_difference].forEach(function (h) {
      var th = el("th", "num", h);
      th.scope = "col";
      head.appendChild(th);
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    function row(tbody, label, key, figures, code) {
      var tr = el("tr");
      tr.setAttribute("data-key", key);
      if (code !== undefined) tr.setAttribute("data-code", code);
      var th = el("th", null, label);
      th.scope = "row";
      tr.appendChild(th);
      [figures.new, figures.current, figures.seed, figures.difference].forEach(function (f) {
        tr.appendChild(el("td", "num", f && f[key] !== undefined ? num(f[key]) : ""));
      });
      tbody.appendChild(tr);
    }
    // The whole registry, then each split the article publishes (count and 2023 plan).
    var tbody = el("tbody");
    tbody.setAttribute("data-split", "total");
    row(tbody, S.total + " · " + S.data_count, "count", t.total);
    row(tbody, S.total + " · " + S.data_investment, "total_investment_yi", t.total);
    row(tbody, S.total + " · " + S.data_plan, "plan_2023_yi", t.total);
    row(tbody, S.total + " · " + S.data_permits, "permits_complete", t.total);
    table.appendChild(tbody);
    [["by_category", S.data_by_category], ["by_status", S.data_by_status],
     ["by_investor", S.data_by_investor]].forEach(function (split) {
      var rows = t[split[0]] || [];
      if (!rows.length) return;
      var body = el("tbody");
      body.setAttribute("data-split", split[0]);
      var head = el("tr");
      var th = el("th", "atlas-split", split[1]);
      th.scope = "rowgroup";
      th.colSpan = 5;
      head.appendChild(th);
      body.appendChild(head);
      rows.forEach(function (r) {
        var label = lang === "en" ? r.label_en : r.label_zh;
        row(body, label + " · " + S.data_count, "count", r, r.key);
        row(body, label + " · " + S.data_plan, "plan_2023_yi", r, r.key);
      });
      table.appendChild(body);
    });
    var scroll = el("div", "atlas-table-scroll");  // five columns: its own sideways scroll on a phone
    scroll.appendChild(table);
    box.appendChild(scroll);
  }

  function renderIssues(p) {
    var list = $("data-errors");
    list.textContent = "";
    (p.errors || []).forEach(function (i) { list.appendChild(el("li", "atlas-error-text", issueText(i))); });
    if (!(p.errors || []).length) list.appendChild(el("li", "atlas-ok-text", S.data_no_errors));
    var warn = $("data-warnings");
    warn.textContent = "";
    (p.warnings || []).forEach(function (i) { warn.appendChild(el("li", null, issueText(i))); });
    $("data-warning-count").textContent = "(" + (p.counts.warnings || 0) + ")";
  }

  function commit() {
    if (!state.preview || !state.preview.ok) return;
    if (!token()) { say($("data-status"), S.data_need_token, "error"); return; }
    say($("data-status"), S.data_saving);
    $("data-commit").disabled = true;
    var id = state.layer;
    api("PUT", cfg.api + "/" + id, formData(false)).then(function (r) {
      if (r.status !== 201) { say($("data-status"), explain(r.body, r.status), "error"); return; }
      var text = fill(S.data_saved, {n: r.body.version});
      if (r.body.rederived && r.body.rederived.length) {
        text += " · " + S.data_rederived + r.body.rederived.map(function (n) {
          return state.layers[n] ? state.layers[n].title : n;
        }).join(S.list_sep);
      }
      say($("data-status"), text, "ok");
      var links = el("p");
      links.appendChild(document.createTextNode(S.data_see_maps + ": "));
      ["atlas", "route", "watershed"].forEach(function (page) {
        var a = el("a", null, S["page_" + page] || page);
        a.href = cfg.pages[page] + (lang === "en" ? "?lang=en" : "");
        links.appendChild(a);
        links.appendChild(document.createTextNode(" "));
      });
      $("data-status").appendChild(links);
      loadLayers();
      openHistory(id, false, false);
    });
  }

  // -- the history ----------------------------------------------------------------------------
  /** The layer's history; `own` = opened for itself (not beside the replace form). */
  function openHistory(id, focus, own) {
    var d = state.layers[id];
    if (own && !(state.view === "replace" && state.layer === id)) {
      $("data-replace").hidden = true;  // another layer's form closes: one layer at a time
      state.layer = id;
      state.view = "history";
      writeUrl();
    }
    $("data-history").hidden = false;
    $("data-history-layer").textContent = "· " + d.title;
    return api("GET", d.links.versions).then(function (r) {
      if (r.status !== 200) { say($("data-history-status"), explain(r.body, r.status), "error"); return; }
      var tbody = $("data-versions").tBodies[0];
      tbody.textContent = "";
      r.body.versions.forEach(function (v) {
        var tr = el("tr", v.current ? "atlas-current" : null);
        tr.setAttribute("data-version", v.version);
        var th = el("th", null, "v" + v.version + (v.current ? " · " + S.data_current_mark : ""));
        th.scope = "row";
        tr.appendChild(th);
        tr.appendChild(el("td", null, String(v.created).slice(0, 19).replace("T", " ")));
        tr.appendChild(el("td", null, v.author || ""));
        tr.appendChild(el("td", "num", num(v.count, 0)));
        tr.appendChild(provenanceCell(v));
        var notes = [v.note || ""];
        if (v.restored_from) notes.push(fill(S.data_restored_from, {n: v.restored_from}));
        if (v.derived_from) {
          var dl = state.layers[v.derived_from.split(" ")[0]];
          notes.push(fill(S.data_derived_from, {layer: dl ? dl.title : v.derived_from}));
        }
        tr.appendChild(el("td", null, notes.filter(Boolean).join(" · ")));
        var td = el("td");
        var box = el("div", "atlas-data-actions");
        // Any version in the export formats people open: GIS desks, Excel, GPS units.
        box.appendChild(el("span", "atlas-note", S.data_download));
        DOWNLOADS.forEach(function (f) {
          var dlink = el("a", null, f[1]);
          dlink.href = v.download.replace(/\.geojson$/, "." + f[0]);
          dlink.setAttribute("download", "");
          dlink.setAttribute("aria-label", S.data_download + " v" + v.version + " · " + f[1]);
          box.appendChild(dlink);
        });
        if (!v.current) {
          var rb = el("button", null, S.data_restore);
          rb.type = "button";
          rb.setAttribute("aria-label", S.data_restore + " v" + v.version);
          rb.addEventListener("click", function () { restore(id, v.version); });
          box.appendChild(rb);
          var del = el("button", "atlas-secondary", S.data_delete);
          del.type = "button";
          del.setAttribute("aria-label", S.data_delete + " v" + v.version);
          del.addEventListener("click", function () { remove(id, v.version); });
          box.appendChild(del);
        }
        td.appendChild(box);
        tr.appendChild(td);
        tbody.appendChild(tr);
      });
      labelCells($("data-versions"));
      if (focus) $("data-history-h").scrollIntoView();
      if (focus) {
        var first = tbody.querySelector("button, a");
        if (first) first.focus();
      }
    });
  }

  /** A version's provenance: its source, then licence, date, accuracy and file, and the
   *  illustrative badge — what the map's provenance panel shows for it once it is current. */
  function provenanceCell(v) {
    var td = el("td", "atlas-provenance", lang === "en" ? v.source_en : v.source);
    var pv = v.provenance || {};
    var sep = lang === "en" ? ": " : "：";
    var bits = [];
    [["licence", pv.licence], ["date", pv.date], ["accuracy", pv.accuracy],
     ["data_file", pv.file]].forEach(function (kv) {
      if (kv[1]) bits.push(S[kv[0]] + sep + kv[1]);
    });
    if (bits.length) td.appendChild(el("small", "atlas-note atlas-block", bits.join(" · ")));
    if (pv.illustrative) td.appendChild(el("span", "atlas-badge", S.illustrative));
    return td;
  }

  function restore(id, n) {
    if (!token()) { say($("data-history-status"), S.data_need_token, "error"); return; }
    if (!window.confirm(fill(S.data_restore_confirm, {n: n}))) return;
    api("POST", cfg.api + "/" + id + "/restore", {version: n}, true).then(function (r) {
      if (r.status !== 201) { say($("data-history-status"), explain(r.body, r.status), "error"); return; }
      var text = fill(S.data_restored, {n: r.body.version});
      if (r.body.rederived && r.body.rederived.length) text += " · " + S.data_rederived + r.body.rederived.join(S.list_sep);
      say($("data-history-status"), text, "ok");
      loadLayers();
      openHistory(id, false, false);
    });
  }

  function remove(id, n) {
    if (!token()) { say($("data-history-status"), S.data_need_token, "error"); return; }
    if (!window.confirm(fill(S.data_delete_confirm, {n: n}))) return;
    api("DELETE", cfg.api + "/" + id + "/versions/" + n).then(function (r) {
      if (r.status !== 200) { say($("data-history-status"), explain(r.body, r.status), "error"); return; }
      say($("data-history-status"), fill(S.data_deleted, {n: n}), "ok");
      openHistory(id, false, false);
    });
  }

  // -- start ----------------------------------------------------------------------------------
  function start() {
    cfg = JSON.parse($("atlas-data-config").textContent);
    S = cfg.strings;
    lang = cfg.lang;
    initToken();
    $("data-form").addEventListener("submit", function (ev) { ev.preventDefault(); runPreview(); });
    $("data-commit").addEventListener("click", commit);
    $("data-cancel").addEventListener("click", function () {
      $("data-replace").hidden = true;
      state.view = "history";  // the layer's history stays open below
      writeUrl();
    });
    $("data-file").addEventListener("change", function () {
      state.edited = false;  // a new file: its own columns, matched afresh
      state.mapping = null;
      $("data-commit").disabled = true;
    });
    window.atlasData = {state: state, ready: loadLayers().then(readUrl)};
    window.atlasData.ready.then(function () { document.body.setAttribute("data-atlas-ready", "1"); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
