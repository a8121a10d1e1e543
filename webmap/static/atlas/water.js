/* /watershed — water quality at the national sections (国考断面), GB 3838-2002.
 *
 * GET /api/sections/quality colours the sections on the map by their latest sample's
 * class (the conventional colours: Ⅰ–Ⅱ blue, Ⅲ green, Ⅳ yellow, Ⅴ orange, 劣Ⅴ red) and
 * fills the panel's table: each section's annual class against its target.  Picking a
 * section (its button in the table, a click on the map, or ?section=<id> in a link; the
 * pick is kept in the URL, like the year chosen, ?year=) shows
 * GET /api/sections/{id}/quality for that year: the class
 * of each sample over the year on bands Ⅰ–劣Ⅴ with the target as a line, each item of a
 * sample against its target limit, and — when the section misses its target in the year
 * or in a month — GET /api/sections/{id}/upstream: the projects upstream of it, each a
 * button that shows the project on the map, and the drainage rule.
 *
 * Data reaches the page only through textContent.  For tests: window.atlas.water
 * ({summary, section, quality, upstream, chart, pick(id)}).
 */
(function () {
  "use strict";

  var CLASS_ZH = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ"];
  var CLASS_EN = ["I", "II", "III", "IV", "V", "worse than V"];

  /** Runs ``fn(page)`` on the watershed page, after the page's own hook. */
  function onWatershed(fn) {
    var A = window.Atlas;
    if (A.page) { A.page("watershed", fn); return; }  // hook files (Atlas.page)
    var before = A.pageHooks.watershed;
    A.pageHooks.watershed = function (page) { if (before) before(page); fn(page); };
  }

  function fill(template, params) {
    var out = String(template);
    Object.keys(params).forEach(function (k) { out = out.split("{" + k + "}").join(params[k]); });
    return out;
  }

  function number(v, digits) {
    if (v === null || v === undefined || v === "") return "";
    var n = Number(v);
    if (!isFinite(n)) return String(v);
    // Concentrations span 0.00001 (mercury) to 10,000 (faecal coliforms): significant
    // digits, not fixed decimals.
    if (digits === undefined) return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US")
      : String(Number(n.toPrecision(3)));
    return n.toFixed(digits);
  }

  function rgba(hex, alpha) {
    var h = String(hex || "#999999").replace("#", "");
    var r = parseInt(h.slice(0, 2), 16), g = parseInt(h.slice(2, 4), 16), b = parseInt(h.slice(4, 6), 16);
    return "rgba(" + r + "," + g + "," + b + "," + alpha + ")";
  }

  onWatershed(function (page) {
    var U = window.Atlas.util, S = page.S, cfg = page.cfg, el = U.el;
    var W = {summary: null, section: null, quality: null, upstream: null, chart: null, error: null};
    var colours = {};          // class number -> colour (from the API's legend)
    var byId = {};             // section id -> row of /api/sections/quality
    var upstreamIds = {};      // project id -> true, for the picked section when it misses
    var seq = 0;               // the latest pick wins over slower answers
    page.api.water = W;

    function $(id) { return document.getElementById(id); }

    function classText(n) {
      n = Number(n);
      if (!(n >= 1 && n <= 6)) return "";
      if (n === 6) return S.wq_worse_than_v;
      return fill(S.wq_class_zh, {c: (page.lang === "en" ? CLASS_EN : CLASS_ZH)[n - 1]});
    }

    function sectionName(row) {
      return (page.lang === "en" ? row.name_en : row.name_zh) || row.name_zh || row.section_id;
    }

    function verdict(meets) {
      return meets === true ? S.wq_meets : meets === false ? S.wq_misses : "";
    }

    /** A cell with the class's swatch and its words. */
    function classCell(n, extra) {
      var td = el("td", "atlas-wq-class");
      if (n) {
        var sw = el("i", "atlas-swatch atlas-swatch-point");
        sw.style.background = colours[n] || "#999";
        sw.setAttribute("aria-hidden", "true");
        td.appendChild(sw);
        td.appendChild(document.createTextNode(classText(n) + (extra || "")));
      } else {
        td.textContent = "—";
      }
      return td;
    }

    function status(text, isError) {
      var p = $("atlas-wq-status");
      if (!p) return;
      p.textContent = text || "";
      p.classList.toggle("atlas-error", !!isError);
    }

    // -- the page's URL carries the picked section and the year ---------------------------
    function keepInUrl(changes) {
      if (page.setQuery) { page.setQuery(changes); return; }
      var set = function (href) {
        var u = new URL(href, location.href);
        Object.keys(changes).forEach(function (k) {
          if (changes[k]) u.searchParams.set(k, changes[k]); else u.searchParams.delete(k);
        });
        return u.pathname + u.search + u.hash;
      };
      var now = location.pathname + location.search + location.hash, next = set(location.href);
      if (next !== now) history.replaceState(history.state, "", next);
      var lang = $("atlas-lang");  // the other language opens the same section
      if (lang) lang.setAttribute("href", set(lang.getAttribute("href")));
    }

    // -- the sections on the map ---------------------------------------------------------
    // The four sections above the projects around them (a pane is fixed when drawn).
    if (!page.map.getPane("atlasSections")) page.map.createPane("atlasSections").style.zIndex = 425;
    page.hooks.styleFor.push(function (desc, props) {
      if (desc.id === "sections") {
        var row = byId[props.id], latest = row && row.latest;
        if (!latest || !latest.class_number) return {pane: "atlasSections"};
        var picked = W.section === props.id;
        return {pane: "atlasSections", fillColor: colours[latest.class_number], fillOpacity: 1,
                color: row.meets_target === false ? "#7a0c0c" : "#08306b",
                weight: picked ? 5 : 3, radius: picked ? 10 : 8};
      }
      if (desc.id === "projects" && upstreamIds[props.id]) {
        return {color: "#7a0c0c", weight: 3};
      }
      return null;
    });

    page.hooks.popupExtra.push(function (desc, props) {
      if (desc.id !== "sections") return null;
      var row = byId[props.id], latest = row && row.latest;
      if (!latest) return null;
      return fill(S.wq_popup, {cls: classText(latest.class_number), date: latest.sampled_on,
                               target: classText(row.target_class_number),
                               verdict: verdict(latest.meets_target)});
    });

    function bindSectionClicks(entry) {
      entry.leaflet.forEach(function (l) {
        var p = (l.feature && l.feature.properties) || {};
        l.on("click", function () { pick(p.id); });
      });
      page.restyle("sections");
    }

    // -- the table of sections -----------------------------------------------------------
    function sectionsTable(summary) {
      var table = $("atlas-wq-sections");
      if (!table) return;
      table.textContent = "";
      table.appendChild(el("caption", null, fill(S.wq_sections, {year: summary.year || ""})));
      var thead = el("thead"), tr = el("tr");
      [S.section, S.wq_annual, S.wq_months, S.wq_latest].forEach(function (h) {
        var th = el("th", null, h);
        th.setAttribute("scope", "col");
        tr.appendChild(th);
      });
      thead.appendChild(tr);
      table.appendChild(thead);
      var tbody = el("tbody");
      summary.sections.forEach(function (row) {
        var r = el("tr");
        r.setAttribute("data-section", row.section_id);
        if (row.meets_target === false) r.className = "atlas-wq-missed";
        var th = el("th");
        th.setAttribute("scope", "row");
        var btn = el("button", "atlas-linkbtn", sectionName(row));
        btn.type = "button";
        btn.setAttribute("aria-pressed", "false");
        btn.addEventListener("click", function () { pick(row.section_id, {focus: true}); });
        th.appendChild(btn);
        // The target under the name: four columns fit the side panel and a phone.
        th.appendChild(el("span", "atlas-wq-target", S.wq_target + " " + classText(row.target_class_number)));
        r.appendChild(th);
        r.appendChild(classCell(row.class_number,
                                row.meets_target === false ? " · " + S.wq_misses : ""));
        r.appendChild(el("td", "num", row.n_months ? row.n_months_meeting + "/" + row.n_months : "—"));
        r.appendChild(classCell(row.latest && row.latest.class_number));
        tbody.appendChild(r);
      });
      table.appendChild(tbody);
    }

    function markPicked(id) {
      document.querySelectorAll("#atlas-wq-sections tbody tr").forEach(function (r) {
        var on = r.getAttribute("data-section") === id;
        r.classList.toggle("atlas-wq-picked", on);
        var b = r.querySelector("button");
        if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    // -- a section: summary, chart, items, upstream --------------------------------------
    /** One line per month missing the target: its class and the items over the limit. */
    function missedMonths(q) {
      var items = q.parameters || {};
      return (q.months_missing_target || []).map(function (m) {
        var why = (m.exceeding || []).map(function (p) {
          var name = items[p] ? (page.lang === "en" ? items[p].en : items[p].zh) : p;
          var x = m.exceedance && m.exceedance[p];
          return x !== undefined && x !== null ? name + " " + fill(S.wq_exceeds, {x: number(x)}) : name;
        }).join(S.list_sep);
        return m.period + " " + classText(classNumber(m)) + (why ? " (" + why + ")" : "");
      });
    }

    function classNumber(rec) {
      if (rec.class_number) return rec.class_number;
      var i = CLASS_ZH.indexOf(rec["class"]);
      return i >= 0 ? i + 1 : null;
    }

    function showSummary(row, q) {
      $("atlas-wq-title").textContent = sectionName(row) + " · " + S.wq_target + " " +
        classText(row.target_class_number);
      var box = $("atlas-wq-summary");
      box.textContent = "";
      $("atlas-wq-missed").hidden = $("atlas-wq-missed-title").hidden = true;
      if (!q.samples.length) { box.appendChild(el("span", null, S.wq_no_samples)); return; }
      box.appendChild(el("span", null, fill(S.wq_summary, {
        year: row.year, annual: classText(row.class_number), target: classText(row.target_class_number),
        verdict: verdict(row.meets_target), ok: row.n_months_meeting, n: row.n_months})));
      if (row.latest) {
        box.appendChild(el("br"));
        box.appendChild(el("span", null, fill(S.wq_latest_text, {
          date: row.latest.sampled_on, cls: classText(row.latest.class_number)})));
      }
      var missed = missedMonths(q), list = $("atlas-wq-missed");
      list.textContent = "";
      missed.forEach(function (line) { list.appendChild(el("li", null, line)); });
      list.hidden = !missed.length;
      $("atlas-wq-missed-title").hidden = !missed.length;
    }

    // Bands Ⅰ–劣Ⅴ behind the samples, in the classes' colours.
    var BANDS = {
      id: "atlasWqBands",
      beforeDatasetsDraw: function (chart) {
        var y = chart.scales.y, area = chart.chartArea, ctx = chart.ctx;
        ctx.save();
        for (var n = 1; n <= 6; n++) {
          var a = y.getPixelForValue(n - 0.5), b = y.getPixelForValue(n + 0.5);
          ctx.fillStyle = rgba(colours[n], 0.16);
          ctx.fillRect(area.left, Math.min(a, b), area.right - area.left, Math.abs(b - a));
        }
        ctx.restore();
      },
    };

    function drawChart(row, q) {
      var canvas = $("atlas-wq-chart");
      if (!canvas || !window.Chart) return;
      var target = row.target_class_number;
      canvas.setAttribute("aria-label", fill(S.wq_chart_alt, {name: sectionName(row), target: classText(target)}));
      var samples = q.samples;
      var data = {
        labels: samples.map(function (s) { return s.sampled_on; }),
        datasets: [
          {label: S.wq_sample_class, data: samples.map(function (s) { return s.class_number; }),
           borderColor: "#444444", borderWidth: 1, pointRadius: 5, pointHoverRadius: 7,
           pointBackgroundColor: samples.map(function (s) { return colours[s.class_number]; }),
           pointBorderColor: samples.map(function (s) { return s.meets_target === false ? "#000000" : "#ffffff"; }),
           pointBorderWidth: samples.map(function (s) { return s.meets_target === false ? 2 : 1; })},
          {label: fill(S.wq_target_line, {target: classText(target)}),
           data: samples.map(function () { return target ? target + 0.5 : null; }),
           borderColor: "#7a0c0c", borderDash: [6, 4], borderWidth: 2, pointRadius: 0, pointHoverRadius: 0},
        ],
      };
      if (W.chart) W.chart.destroy();
      // The page's fonts: Chart.js's own list lacks the Roman numerals Ⅰ–Ⅴ on some systems.
      window.Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
      W.chart = new window.Chart(canvas, {
        type: "line", data: data, plugins: [BANDS],
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          plugins: {
            legend: {labels: {boxWidth: 10, font: {size: 10}}},
            tooltip: {callbacks: {label: function (c) {
              return c.datasetIndex === 0 ? classText(c.raw) : c.dataset.label;
            }}},
          },
          scales: {
            x: {ticks: {font: {size: 10}, maxRotation: 0, autoSkip: true,
                        callback: function (v) { return String(this.getLabelForValue(v)).slice(5); }}},
            // Ⅰ at the top: worse water lies lower, under the target line.
            y: {min: 0.5, max: 6.5, reverse: true, grid: {display: false},
                afterBuildTicks: function (axis) {
                  axis.ticks = [1, 2, 3, 4, 5, 6].map(function (v) { return {value: v}; });
                },
                ticks: {font: {size: 10}, callback: function (v) { return classText(v); }}},
          },
        },
      });
    }

    function limitText(lim) {
      if (!lim) return "—";
      var unit = lim.unit ? " " + lim.unit : "";
      if (lim.rule === "range") return number(lim.limit[0]) + "–" + number(lim.limit[1]);
      if (lim.rule === "min") return "≥ " + number(lim.limit) + unit;
      if (lim.rule === "max") return "≤ " + number(lim.limit) + unit;
      return "—";
    }

    /** How far a value is from its limit: > 1 is worse than the limit (DO: limit / C). */
    function ratioOf(value, lim) {
      if (!lim || value === null || value === undefined) return null;
      if (lim.rule === "max" && lim.limit > 0) return value / lim.limit;
      if (lim.rule === "min" && value > 0) return lim.limit / value;
      return null;
    }

    function itemsTable(row, q, sample) {
      var table = $("atlas-wq-items");
      table.textContent = "";
      if (!sample) return;
      var target = classText(row.target_class_number);
      table.appendChild(el("caption", null, fill(S.wq_params_caption, {date: sample.sampled_on, target: target})));
      var thead = el("thead"), tr = el("tr");
      [S.wq_item, S.wq_value, S.wq_limit, S.wq_ratio].forEach(function (h) {
        var th = el("th", null, h);
        th.setAttribute("scope", "col");
        tr.appendChild(th);
      });
      thead.appendChild(tr);
      table.appendChild(thead);
      var tbody = el("tbody"), items = q.parameters || {}, exceeding = sample.exceeding || [];
      Object.keys(items).forEach(function (p) {
        var v = sample[p];
        if (v === null || v === undefined) return;
        var item = items[p], lim = (q.limits || {})[p], over = exceeding.indexOf(p) >= 0;
        var r = el("tr");
        r.setAttribute("data-item", p);
        if (over) r.className = "atlas-wq-over";
        var th = el("th", null, page.lang === "en" ? item.en : item.zh);
        th.setAttribute("scope", "row");
        r.appendChild(th);
        var lt = sample[p + "_lt"] === true;
        var unit = item.unit ? " " + item.unit : "";
        var vcell = el("td", "num", (lt ? "<" : "") + number(v) + unit);
        if (lt) vcell.title = S.wq_below;
        r.appendChild(vcell);
        r.appendChild(el("td", "num", limitText(lim)));
        var cell = el("td", "atlas-wq-ratio");
        var ratio = ratioOf(v, lim);
        if (ratio !== null && item.classifying) {
          var bar = el("span", "atlas-wq-bar" + (over ? " atlas-wq-bar-over" : ""));
          bar.setAttribute("aria-hidden", "true");
          var fillEl = el("span");
          // The limit sits at the bar's middle; twice the limit or more fills it.
          fillEl.style.width = Math.min(100, ratio * 50).toFixed(1) + "%";
          bar.appendChild(fillEl);
          cell.appendChild(bar);
        }
        var words;
        if (!item.classifying) words = S.wq_reported;
        else if (over && p === "ph") words = S.wq_outside_ph;
        else if (over) words = fill(S.wq_exceeds, {x: number((sample.exceedance || {})[p])});
        else if (lt) words = S.wq_below;
        else words = ratio !== null ? number(ratio, 2) + "×" : "";
        cell.appendChild(el("span", null, words));
        r.appendChild(cell);
        tbody.appendChild(r);
      });
      table.appendChild(tbody);
    }

    function sampleSelect(row, q) {
      var select = $("atlas-wq-sample");
      select.textContent = "";
      q.samples.forEach(function (s, i) {
        var opt = el("option", null, s.sampled_on + " · " + classText(s.class_number) +
                     (s.meets_target === false ? " · " + S.wq_misses : ""));
        opt.value = String(i);
        select.appendChild(opt);
      });
      select.value = String(q.samples.length - 1);
      select.onchange = function () { itemsTable(row, q, q.samples[Number(select.value)]); };
      itemsTable(row, q, q.samples[q.samples.length - 1]);
    }

    function showUpstream(row, q, up) {
      var box = $("atlas-wq-upstream");
      var misses = row.meets_target === false || (q.months_missing_target || []).length > 0;
      upstreamIds = {};
      if (!misses || !up) { box.hidden = true; page.restyle("projects"); return; }
      (up.projects || []).forEach(function (p) { upstreamIds[p.id] = true; });
      page.restyle("projects");
      var target = classText(row.target_class_number);
      $("atlas-wq-upstream-why").textContent = fill(S.wq_upstream_why, {name: sectionName(row), target: target});
      var t = up.totals || {};
      $("atlas-wq-upstream-totals").textContent = fill(S.wq_upstream_totals, {
        n: t.count !== undefined ? t.count : (up.projects || []).length,
        inv: number(t.total_investment_yi, 2), area: Math.round(up.area_km2 || 0).toLocaleString("en-US")});
      $("atlas-wq-upstream-rule").textContent = up.rule ? (page.lang === "en" ? up.rule.en : up.rule.zh) : "";
      var table = $("atlas-wq-projects");
      table.textContent = "";
      var thead = el("thead"), tr = el("tr");
      [S.name, S.county, S.total_investment].forEach(function (h, i) {
        var th = el("th", i === 2 ? "num" : null, h);
        th.setAttribute("scope", "col");
        tr.appendChild(th);
      });
      thead.appendChild(tr);
      table.appendChild(thead);
      var tbody = el("tbody");
      (up.projects || []).slice().sort(function (a, b) {
        return (b.total_investment_yi || 0) - (a.total_investment_yi || 0);
      }).forEach(function (p) {
        var r = el("tr");
        r.setAttribute("data-project", p.id);
        var name = (page.lang === "en" ? p.name_en : p.name_zh) || p.name_zh || p.id;
        var th = el("th");
        th.setAttribute("scope", "row");
        var btn = el("button", "atlas-linkbtn", name);
        btn.type = "button";
        btn.title = fill(S.wq_show_project, {name: name});
        btn.addEventListener("click", function () { showProject(p.id); });
        th.appendChild(btn);
        r.appendChild(th);
        r.appendChild(el("td", null, countyName(p.county)));
        r.appendChild(el("td", "num", number(p.total_investment_yi, 2)));
        tbody.appendChild(r);
      });
      table.appendChild(tbody);
      box.hidden = false;
    }

    /** A county's name in the page's language (the answer names counties in Chinese). */
    function countyName(zh) {
      var entry = page.layers.admin;
      if (!zh || page.lang !== "en" || !entry) return zh || "";
      for (var i = 0; i < entry.leaflet.length; i++) {
        var p = (entry.leaflet[i].feature && entry.leaflet[i].feature.properties) || {};
        if (p.name_zh === zh) return p.name_en || zh;
      }
      return zh;
    }

    function showProject(id) {
      var entry = page.layers.projects;
      if (!entry) return;
      for (var i = 0; i < entry.leaflet.length; i++) {
        var p = (entry.leaflet[i].feature && entry.leaflet[i].feature.properties) || {};
        if (p.id === id) { page.focus("projects", entry.leaflet[i]); W.shownProject = id; return; }
      }
    }

    /** Shows section ``id`` (or nothing for ""/null); ``opts.focus`` moves the keyboard
     *  focus to its heading (a pick from the table). */
    function pick(id, opts) {
      var mine = ++seq;
      id = id || null;
      W.section = id;
      keepInUrl({section: id});
      markPicked(id);
      page.restyle("sections");
      var detail = $("atlas-wq-detail");
      if (!id) { detail.hidden = true; upstreamIds = {}; page.restyle("projects"); return Promise.resolve(null); }
      var row = byId[id];
      if (!row) {
        detail.hidden = true;
        status(S.error + ": " + id, true);
        W.error = "unknown section " + id;
        return Promise.resolve(null);
      }
      status("");
      W.quality = W.upstream = null;
      var year = row.year || (W.summary && W.summary.year);
      var qurl = U.withParams(cfg.api + "/sections/" + encodeURIComponent(id) + "/quality",
                              year ? {from: year + "-01-01", to: year + "-12-31"} : {});
      var uurl = cfg.api + "/sections/" + encodeURIComponent(id) + "/upstream";
      return Promise.all([U.fetchJSON(qurl), U.fetchJSON(uurl)]).then(function (got) {
        if (mine !== seq) return null;
        var q = got[0], up = got[1];
        detail.hidden = false;  // before the chart: Chart.js sizes itself from its box
        showSummary(row, q);
        drawChart(row, q);
        sampleSelect(row, q);
        showUpstream(row, q, up);
        W.quality = q;
        W.upstream = up;
        if (opts && opts.focus) $("atlas-wq-title").focus();
        return q;
      }).catch(function (err) {
        if (mine !== seq) return null;
        status(S.error + ": " + err.message, true);
        W.error = err.message;
        return null;
      });
    }
    W.pick = pick;

    function yearSelect(summary) {
      var select = $("atlas-wq-year");
      if (!select) return;
      select.textContent = "";
      (summary.years || []).slice().sort().reverse().forEach(function (y) {
        var opt = el("option", null, String(y));
        opt.value = String(y);
        select.appendChild(opt);
      });
      select.value = String(summary.year || "");
      select.disabled = (summary.years || []).length < 2;
    }

    /** The sections' table for ``year`` (default: the latest year with samples). */
    function loadYear(year) {
      var url = U.withParams(cfg.api + "/sections/quality", {year: year || null});
      return U.fetchJSON(url).then(function (summary) {
        (summary.classes || []).forEach(function (c) { colours[c.number] = c.color; });
        byId = {};
        summary.sections.forEach(function (row) { byId[row.section_id] = row; });
        W.summary = summary;
        sectionsTable(summary);
        yearSelect(summary);
        page.restyle("sections");
        return summary;
      });
    }

    function start() {
      var query = page.query || {};
      var year = query.year || cfg.year;
      var select = $("atlas-wq-year");
      if (select) select.addEventListener("change", function () {
        // Only a year other than the latest is page state worth a link.
        var latest = (W.summary.years || []).slice(-1)[0];
        keepInUrl({year: String(latest) === select.value ? null : select.value});
        loadYear(select.value).then(function () { if (W.section) pick(W.section); })
          .catch(function (err) { status(S.error + ": " + err.message, true); });
      });
      return loadYear(/^\d{4}$/.test(String(year || "")) ? year : null).then(function () {
        if (page.layers.sections) {
          page.whenLayer("sections").then(function (entry) {
            if (!entry) return;
            entry.onDraw = bindSectionClicks;  // drawn again on a datum switch
            bindSectionClicks(entry);
          });
        }
        var first = query.section || cfg.section;
        return first ? pick(first) : null;
      }).catch(function (err) {
        status(S.error + ": " + err.message, true);
        W.error = err.message;
      });
    }

    page.api.ready.then(start, function () {});
  });
})();
