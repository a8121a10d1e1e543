/* /watershed — basins, rivers, sections and projects for ecology staff.
 * Projects are coloured by basin (POST /api/overlay tells each project's basin);
 * picking a basin zooms to it and shows GET /api/stats/projects?basin= as a chart and
 * a table; an uploaded file of sites goes to POST /api/overlay and comes back as a
 * report, a table, markers and CSV/GeoJSON downloads.  Data reaches the page only
 * through textContent. */
(function () {
  "use strict";

  window.Atlas.page("watershed", function (page) {
    var U = window.Atlas.util, S = page.S, cfg = page.cfg, el = U.el;
    var api = page.api;
    var basinOf = {};          // project id -> basin id
    var basinColor = {};       // basin id -> colour (catalog legend)
    var chart = null;
    api.summary = null;
    api.upload = null;

    function cell(tr, text, tag, cls) { tr.appendChild(el(tag || "td", cls || null, text)); }

    function fillTable(table, caption, head, rows, numeric) {
      table.textContent = "";
      if (caption) table.appendChild(el("caption", null, caption));
      var thead = el("thead"), tr = el("tr");
      head.forEach(function (h, i) { cell(tr, h, "th", numeric && numeric[i] ? "num" : null); });
      thead.appendChild(tr);
      table.appendChild(thead);
      var tbody = el("tbody");
      rows.forEach(function (r) {
        var row = el("tr");
        r.forEach(function (v, i) { cell(row, v, "td", numeric && numeric[i] ? "num" : null); });
        tbody.appendChild(row);
      });
      table.appendChild(tbody);
    }

    // -- basin picking --------------------------------------------------------------------
    function basinEntries() {
      var entry = page.layers.basins;
      return entry ? entry.leaflet : [];
    }

    /** Picks a basin (its id, or "" for all): highlight, zoom to it unless ``opts.fit`` is
     *  false (a link's own view), the summary, and the basin in the page state (URL). */
    function pickBasin(id, opts) {
      var fit = !opts || opts.fit !== false;
      page.setQuery({basin: id || null});
      var select = document.getElementById("atlas-basin-select");
      if (select && select.value !== (id || "")) select.value = id || "";
      var target = null;
      basinEntries().forEach(function (l) {
        var p = l.feature.properties || {};
        var on = id && p.id === id;
        if (on) target = l;
        l.setStyle({weight: on ? 3 : page.layers.basins.desc.style.weight,
                    fillOpacity: on ? 0.45 : page.layers.basins.desc.style.fill_opacity});
      });
      if (fit && target) page.fit(target.getBounds(), {padding: [10, 10]});
      else if (fit && !id && basinEntries().length) page.fit(page.layers.basins.container.getBounds());
      return showSummary(id);
    }

    function showSummary(id) {
      var url = U.withParams(cfg.api + "/stats/projects", {basin: id || null, lang: page.lang});
      return U.fetchJSON(url).then(function (stats) {
        var cats = stats.by_category || [];
        var label = function (c) { return page.lang === "en" ? (c.label_en || c.category) : (c.label_zh || c.category); };
        var rows = cats.map(function (c) {
          return [label(c), c.count, Number(c.plan_2023_yi || 0).toFixed(1), Number(c.total_investment_yi || 0).toFixed(1)];
        });
        var tot = stats.total || {};
        rows.push([S.total, tot.count !== undefined ? tot.count : cats.reduce(function (a, c) { return a + c.count; }, 0),
                   Number(tot.plan_2023_yi || 0).toFixed(1), Number(tot.total_investment_yi || 0).toFixed(1)]);
        var table = document.getElementById("atlas-basin-table");
        if (table) fillTable(table, null, [S.category, S.count, S.plan_2023, S.total_investment], rows, [false, true, true, true]);
        drawChart(cats, label);
        api.summary = {basin: id || null, stats: stats};
      }).catch(function (err) {
        var table = document.getElementById("atlas-basin-table");
        if (table) { table.textContent = ""; table.appendChild(el("caption", null, page.errorText(err, "summary"))); }
        api.summary = {basin: id || null, error: err.message};
      });
    }

    function drawChart(cats, label) {
      var canvas = document.getElementById("atlas-basin-chart");
      if (!canvas || !window.Chart) return;
      var data = {
        labels: cats.map(label),
        datasets: [
          {label: S.count, data: cats.map(function (c) { return c.count; }),
           backgroundColor: cats.map(function (c) { return c.color || "#3182bd"; }), yAxisID: "y"},
          {label: S.plan_2023, data: cats.map(function (c) { return c.plan_2023_yi; }),
           backgroundColor: "rgba(80,80,80,0.35)", yAxisID: "y1"},
        ],
      };
      if (chart) { chart.data = data; chart.update(); return; }
      chart = new window.Chart(canvas, {
        type: "bar", data: data,
        options: {animation: false, responsive: true, maintainAspectRatio: false,
                  plugins: {legend: {labels: {boxWidth: 10, font: {size: 10}}}},
                  scales: {x: {ticks: {font: {size: 10}}},
                           y: {beginAtZero: true, position: "left", ticks: {precision: 0}},
                           y1: {beginAtZero: true, position: "right", grid: {drawOnChartArea: false}}}},
      });
      api.chart = chart;
    }

    function setupBasins(entry) {
      var select = document.getElementById("atlas-basin-select");
      entry.desc.legend.forEach(function (item) { basinColor[item.value] = item.color; });
      entry.leaflet.forEach(function (l) {
        var p = l.feature.properties || {};
        if (select) {
          var opt = el("option", null, page.nameOf(entry.desc, p));
          opt.value = p.id;
          select.appendChild(opt);
        }
        l.on("click", function () { pickBasin(p.id); });
      });
      if (select) select.addEventListener("change", function () { pickBasin(select.value); });
      // A link that carries its own view keeps it; otherwise the page zooms to the basin.
      return pickBasin(page.query.basin || cfg.basin || "", {fit: !page.viewFromUrl});
    }

    // -- projects by basin, filters -------------------------------------------------------
    function colourByBasin(entry) {
      return U.fetchJSON(U.withParams(entry.desc.features_url, {zoom: 14, datum: "wgs84"}))
        .then(function (fc) {
          return U.fetchJSON(cfg.api + "/overlay", {
            method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(fc),
          }).then(function (res) {
            (res.rows || []).forEach(function (row, i) {
              var id = row.id !== undefined && row.id !== null ? row.id : (fc.features[i].properties || {}).id;
              basinOf[id] = row.basin_id;
            });
            page.hooks.styleFor.push(function (desc, props) {
              if (desc.id !== "projects") return null;
              var c = basinColor[basinOf[props.id]];
              return c ? {fillColor: c, color: "#333333", weight: 1} : null;
            });
            page.restyle("projects");
            api.projectBasins = basinOf;
          });
        }).catch(function (err) { api.projectBasins = {error: err.message}; });
    }

    function applyFilters() {
      var entry = page.layers.projects;
      if (!entry) return;
      var cats = {};
      document.querySelectorAll('#atlas-filter-form input[name="category"]').forEach(function (b) { cats[b.value] = b.checked; });
      var status = (document.getElementById("atlas-status-filter") || {}).value || "";
      var on = Object.keys(cats).filter(function (k) { return cats[k]; });
      // The filters are page state: every category shown is the default and stays out of the URL.
      page.setQuery({category: on.length === Object.keys(cats).length ? null : (on.join(",") || "none"),
                     status: status || null});
      var shown = 0;
      entry.leaflet.forEach(function (l) {
        var p = l.feature.properties || {};
        var ok = cats[p.category] !== false && (!status || p.status === status);
        var has = entry.container.hasLayer(l);
        if (ok && !has) entry.container.addLayer(l);
        if (!ok && has) entry.container.removeLayer(l);
        if (ok) shown += 1;
      });
      api.counts.projects_shown = shown;
    }

    // -- upload → overlay report ----------------------------------------------------------
    // Distances with the accuracy of what they were measured against; the buffer, corridor
    // and upstream answers as the overlay states them (yes / no / uncertain / unknown).
    var COLUMNS = [["name", "name"], ["basin_zh", "basin"], ["county", "county"], ["river_zh", "river"],
                   ["river_distance_m", "river_distance"], ["in_river_buffer_status", "in_river_buffer"],
                   ["section_zh", "section"], ["upstream_sections", "upstream_of"],
                   ["road_distance_m", "road_distance"], ["in_corridor_status", "in_road_corridor"]];
    var NUMERIC = COLUMNS.map(function (c) { return /_m$/.test(c[0]); });
    var ACCURACY = {river_distance_m: "river_accuracy_m", road_distance_m: "road_accuracy_m"};

    function siteName(row, i) {
      // KML/KMZ name their placemarks "Name"; shapefiles often "NAME".
      var v = row.name_zh || row.name || row.Name || row.NAME || row["名称"] || row["点位名称"] ||
        row["站点名称"] || row["地点"] || row.title || row.id;
      return v === undefined || v === null || v === "" ? String(i + 1) : String(v);
    }

    function fmt(v) {
      if (v === null || v === undefined) return "";
      // Distances in metres: whole metres with thousands separators (164,640).
      if (typeof v === "number") return Math.round(v).toLocaleString("en-US");
      if (typeof v === "boolean") return v ? S.yes : S.no;
      return String(v);
    }

    // Names of reference features by id, in the page's language (the overlay rows carry ids
    // and Chinese names only).
    function refName(layerId, key, fallback) {
      var entry = page.layers[layerId];
      if (!entry || key === null || key === undefined || key === "") return fallback || "";
      var idField = layerId === "admin" ? "adcode" : "id";
      for (var i = 0; i < entry.leaflet.length; i++) {
        var p = (entry.leaflet[i].feature && entry.leaflet[i].feature.properties) || {};
        if (String(p[idField]) === String(key)) {
          return (page.lang === "en" ? p.name_en : p.name_zh) || p.name_zh || fallback || String(key);
        }
      }
      return fallback || String(key);
    }

    function statusText(value) {
      return S["answer_" + value] || (value === undefined || value === null ? "" : String(value));
    }

    function upstreamText(row) {
      var ids = String(row.upstream_sections || "").split(";").filter(Boolean);
      // "unknown" (outside every basin) is not "no": the overlay cannot tell.
      if (!ids.length) return row.upstream_status ? statusText(row.upstream_status)
        : (row.upstream_of_section === true ? S.yes : S.no);
      return ids.map(function (id) { return refName("sections", id, id); }).join(S.list_sep);
    }

    function upstreamReason(row) {
      return (page.lang === "en" ? row.upstream_reason_en : row.upstream_reason_zh) || "";
    }

    function distanceText(row, key) {
      var acc = row[ACCURACY[key]];
      return fmt(row[key]) + (row[key] !== null && row[key] !== undefined && acc ? " ±" + fmt(acc) : "");
    }

    function cellText(row, key, i) {
      if (key === "name") return siteName(row, i);
      if (key === "basin_zh") return refName("basins", row.basin_id, row.basin_zh);
      if (key === "county") return refName("admin", row.adcode, row.county);
      if (key === "river_zh") return refName("rivers", row.river_id, row.river_zh);
      if (key === "section_zh") return refName("sections", row.section_id, row.section_zh);
      if (key === "upstream_sections") return upstreamText(row);
      if (ACCURACY[key]) return distanceText(row, key);
      if (/_status$/.test(key)) return statusText(row[key]);
      return fmt(row[key]);
    }

    // Downloads come from the server, streamed: a synchronous result's links post the same
    // form again with format=csv|geojson (answered as an attachment); a job's links are its
    // result files.  Nothing is built in the browser from the rows.
    var downloadMode = null;   // {form: true} or {csv: url, geojson: url}

    function setDownloads(mode) {
      downloadMode = mode;
      ["csv", "geojson"].forEach(function (fmt) {
        var a = document.getElementById("atlas-download-" + fmt);
        if (!a) return;
        a.href = mode.form ? U.withParams(cfg.api + "/overlay", {format: fmt}) : mode[fmt];
      });
      document.getElementById("atlas-upload-downloads").hidden = false;
    }

    function postForm(fmt) {
      var form = document.getElementById("atlas-upload-form");
      var extra = el("input");
      extra.type = "hidden"; extra.name = "format"; extra.value = fmt;
      form.appendChild(extra);
      form.method = "post";
      form.action = cfg.api + "/overlay";
      form.submit();  // an attachment: the browser saves it, the page stays
      form.removeChild(extra);
    }

    function setupDownloads() {
      ["csv", "geojson"].forEach(function (fmt) {
        var a = document.getElementById("atlas-download-" + fmt);
        if (!a) return;
        a.addEventListener("click", function (ev) {
          if (!downloadMode || !downloadMode.form) return;  // a job's file: the link itself
          ev.preventDefault();
          postForm(fmt);
        });
      });
    }

    var KINDS = {warnings: "warnings", repairs: "repairs", dropped: "dropped"};
    /** Report codes that tell what was done as asked, listed under their own heading. */
    var INFO_CODES = {datum_converted: "converted"};

    function reportRows(report) {
      var rows = [];
      Object.keys(report || {}).forEach(function (kind) {
        var v = report[kind];
        if (!Array.isArray(v)) return;  // counts and source are summaries, not findings
        v.forEach(function (item) {
          var code = item && typeof item === "object" ? item.code : null;
          // The page's own words where it has them (they name the form's fields, not the
          // API's parameters); else the report's text in the page's language.
          var msg = typeof item === "string" ? item
            : (item && ((page.lang !== "en" && item.message_zh) || item.message || item.reason)) || JSON.stringify(item);
          // "declare datum=gcj02" names the API's parameter: say the form's field instead.
          msg = String(msg).replace(/(请)?声明\s*datum=gcj02\s*或\s*bd09|declare datum=gcj02 or bd09/g, S.report_declare_datum);
          var where = item && typeof item === "object" && (item.row !== undefined ? item.row : item.feature);
          // A conversion the person asked for is done work, not a warning.
          var label = code && INFO_CODES[code] ? S[INFO_CODES[code]] : (S[KINDS[kind]] || kind);
          rows.push([label, where === undefined || where === null ? "" : String(where), msg]);
        });
      });
      if (!rows.length) rows.push([S.no_warnings, "", ""]);
      return rows;
    }

    function clearResult() {
      ["atlas-report-table", "atlas-sites-table", "atlas-overlay-rules"].forEach(function (id) {
        var t = document.getElementById(id);
        if (t) t.textContent = "";
      });
      var dl = document.getElementById("atlas-upload-downloads");
      if (dl) dl.hidden = true;
      var dyn = page.dynamic.upload;
      if (dyn) { dyn.source = {type: "FeatureCollection", features: []}; dyn.container.clearLayers(); }
      api.counts.upload = 0;
      downloadMode = null;
    }

    // -- large files: a job on the server, its progress polled ----------------------------
    function errorText(body, status) {
      var e = body && typeof body.error === "object" && body.error ? body.error : body;
      var msg = e && e.error ? e.error : (e && e.message) || (typeof e === "string" ? e : "HTTP " + status);
      var hint = e && e.hint;
      return {msg: msg, hint: hint};
    }

    function showError(status, body, code) {
      var t = errorText(body, code);
      status.classList.add("atlas-error");
      status.textContent = S.error + ": " + t.msg + (t.hint ? "\n" + S.hint + ": " + t.hint : "");
      api.upload = {error: t.msg + (t.hint ? " — " + t.hint : ""), status: code};
    }

    function showJobResult(doc, status) {
      setDownloads({csv: doc.results.csv, geojson: doc.results.geojson});
      return U.fetchJSON(doc.results.summary).then(function (sum) {
        fillTable(document.getElementById("atlas-report-table"), S.report,
                  [S.kind, S.row, S.message], reportRows(sum.report), null);
        showRules(sum.rules);
        var table = document.getElementById("atlas-sites-table");
        table.textContent = "";
        table.appendChild(el("caption", null, S.sites + " (" + sum.count + ")"));
        status.textContent = S.job_done;
        api.upload = {count: sum.count, job: doc.id, results: doc.results, report: sum.report};
      });
    }

    function pollJob(url, progress, status) {
      return U.fetchJSON(url).then(function (doc) {
        api.job = {id: doc.id, status: doc.status, progress: doc.progress};
        if (doc.status === "done") { progress.hidden = true; return showJobResult(doc, status); }
        if (doc.status === "failed" || doc.status === "cancelled") {
          progress.hidden = true;
          showError(status, {error: doc.error || S.job_failed}, 500);
          return null;
        }
        progress.max = 1;
        progress.value = doc.progress || 0;
        status.textContent = (doc.status === "queued" ? S.job_queued : S.job_running) +
          " " + Math.round((doc.progress || 0) * 100) + "%";
        return new Promise(function (resolve) { setTimeout(resolve, 1000); })
          .then(function () { return pollJob(url, progress, status); });
      });
    }

    function runJob(data, progress, status) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", cfg.api + "/jobs/overlay");
      progress.hidden = false;
      progress.removeAttribute("value");
      status.textContent = S.job_queued;
      api.upload = {running: true, job: true};
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; }
      };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status !== 202 || !body) {
          progress.hidden = true;
          showError(status, body, xhr.status);
          return;
        }
        pollJob(body.url, progress, status).catch(function (err) {
          progress.hidden = true;
          showError(status, {error: err.message}, 0);
        });
      };
      xhr.onerror = function () { progress.hidden = true; status.textContent = S.error; api.upload = {error: "network"}; };
      xhr.send(data);
    }

    function showResult(res) {
      var rows = res.rows || [];
      fillTable(document.getElementById("atlas-report-table"), S.report,
                [S.kind, S.row, S.message], reportRows(res.report), null);
      fillTable(document.getElementById("atlas-sites-table"), S.sites + " (" + (res.count !== undefined ? res.count : rows.length) + ")",
                COLUMNS.map(function (c) { return S[c[1]]; }),
                rows.map(function (r, i) {
                  return COLUMNS.map(function (c) { return cellText(r, c[0], i); });
                }), NUMERIC);
      // Why each site is (not) upstream, on its upstream cell.
      document.querySelectorAll("#atlas-sites-table tbody tr").forEach(function (tr, i) {
        var cell = tr.children[COLUMNS.map(function (c) { return c[0]; }).indexOf("upstream_sections")];
        if (cell && rows[i]) cell.title = upstreamReason(rows[i]);
      });
      showRules(res.rules);
      setDownloads({form: true});
      // Popups show the same words as the table (names in the page's language, not ids).
      var shown = COLUMNS.slice(1).map(function (c) { return c[0]; });
      var fields = shown.map(function (key, k) {
        return {name: "_" + key, label: S[COLUMNS[k + 1][1]], popup: true, unit: ""};
      });
      fields.push({name: "_upstream_reason", label: S.upstream_reason, popup: true, unit: ""});
      var desc = {id: "upload", title: S.sites, geometry_type: "Point", group_title: S.upload,
                  name_field: "name", legend: [], fields: fields, provenance: {},
                  style: {color: "#000000", weight: 2, opacity: 1, fill_color: "#ffd400", fill_opacity: 0.95,
                          radius: 7, category_field: null}};
      var src = (res.geojson || {type: "FeatureCollection", features: []}).features;
      var fc = {type: "FeatureCollection", features: src.map(function (f, i) {
        var props = {name: siteName(f.properties || {}, i)}, row = rows[i] || f.properties || {};
        shown.forEach(function (key) { props["_" + key] = cellText(row, key, i); });
        props._upstream_reason = upstreamReason(row);
        return {type: "Feature", id: f.id, geometry: f.geometry, properties: props};
      })};
      return page.addDynamic("upload", desc, fc).then(function (dyn) {
        if (dyn.container.getLayers().length) page.map.fitBounds(dyn.container.getBounds(), {maxZoom: 9, padding: [20, 20]});
        api.upload = {count: rows.length, rows: rows, report: res.report};
      });
    }

    /** The overlay's rules (placement, drainage, accuracy) under the table, in the page's language. */
    function showRules(rules) {
      var list = document.getElementById("atlas-overlay-rules");
      if (!list) return;
      list.textContent = "";
      Object.keys(rules || {}).forEach(function (k) {
        var r = rules[k];
        if (r) list.appendChild(el("li", null, page.lang === "en" ? r.en : r.zh));
      });
      list.hidden = !list.childNodes.length;
    }

    function setupUpload() {
      var form = document.getElementById("atlas-upload-form");
      if (!form) return;
      var progress = document.getElementById("atlas-upload-progress");
      var status = document.getElementById("atlas-upload-status");
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var file = document.getElementById("atlas-upload-file").files[0];
        if (!file) { status.textContent = S.upload_hint; return; }
        clearResult();  // a failed upload must not leave the previous file's results on show
        status.classList.remove("atlas-error");
        var data = new FormData();
        data.append("file", file, file.name);
        data.append("datum", document.getElementById("atlas-upload-datum").value);
        // A file that surely holds more sites than one JSON answer (a site takes at least
        // ~20 bytes of CSV) goes straight to a job; a smaller one that still holds too many
        // is answered 413 overlay_too_large and sent as a job then.
        if (cfg.overlay_max_sites && file.size > cfg.overlay_max_sites * 20) {
          runJob(data, progress, status);
          return;
        }
        var xhr = new XMLHttpRequest();
        xhr.open("POST", cfg.api + "/overlay");
        progress.hidden = false;
        progress.removeAttribute("value");
        status.textContent = S.running;
        api.upload = {running: true};
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; }
          if (e.lengthComputable && e.loaded >= e.total) progress.removeAttribute("value");
        };
        xhr.onload = function () {
          progress.hidden = true;
          var body = null;
          try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
          if (xhr.status === 413 && body && body.code === "overlay_too_large") {
            runJob(data, progress, status);
            return;
          }
          if (xhr.status >= 400 || !body) {
            var msg = body && body.error ? body.error + (body.hint ? " — " + body.hint : "") : "HTTP " + xhr.status;
            // What went wrong, then what to do about it, on its own line.
            status.classList.add("atlas-error");
            status.textContent = S.error + ": " + (body && body.error ? body.error : "HTTP " + xhr.status) +
              (body && body.hint ? "\n" + S.hint + ": " + body.hint : "");
            api.upload = {error: msg, status: xhr.status};
            return;
          }
          status.textContent = "";
          showResult(body);
          // The report used to land below the panel's fold: bring it into view.
          var report = document.getElementById("atlas-report-table");
          if (report && report.scrollIntoView) report.scrollIntoView({block: "start"});
        };
        xhr.onerror = function () {
          progress.hidden = true;
          status.textContent = S.error;
          api.upload = {error: "network"};
        };
        xhr.send(data);
      });
    }

    setupUpload();
    setupDownloads();
    var filterForm = document.getElementById("atlas-filter-form");
    if (filterForm) filterForm.addEventListener("change", applyFilters);
    api.pickBasin = pickBasin;
    api.ready.then(function () {
      if (page.layers.basins) page.settling.push(page.whenLayer("basins").then(setupBasins));
      if (page.layers.projects) page.whenLayer("projects").then(function (entry) {
        entry.onDraw = applyFilters;
        applyFilters();
        return colourByBasin(entry);
      });
    }).catch(function () {});
  });
})();
