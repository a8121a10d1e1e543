/* /route — the scenic road for tourism planners: kilometre posts, the stage planner
 * (GET /api/route/stages?max_km=) and the projects inside the road's view corridor
 * (POST /api/overlay with the projects as GeoJSON).  Text from the data goes in with
 * textContent only.
 *
 * The planner never claims a limit it breaks: stages over max_km (over_max) are marked
 * in the list and on the map (a dashed red line, a mark where the day's limit is
 * reached) with the reason and what to do instead (alternatives, station_after).  A
 * stage in the list fits the map to it.  The form re-plans without reloading the page
 * and keeps max_km (and start, end, direction) in the URL.  Start and end stations are
 * chosen in the form; GPX and KML of the trip and of each stage download from the list
 * (GET /api/route/trip.<gpx|kml>).  Errors are shown by their code, in the page's
 * language (page.errorText). */
(function () {
  "use strict";
  var STAGE_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];

  window.Atlas.page("route", function (page) {
    var U = window.Atlas.util, S = page.S, cfg = page.cfg, el = U.el;
    var api = page.api;
    api.stages = null;
    api.corridor = null;

    function kmPosts() {
      var desc = {
        id: "km_posts", title: S.km_posts, title_zh: S.km_posts, title_en: S.km_posts,
        geometry_type: "Point", group: "tourism", group_title: null, name_field: "label",
        default_visible: true, count: 0, features_url: null,
        style: {color: "#4d4d4d", weight: 1, opacity: 1, fill_color: "#ffffff", fill_opacity: 1,
                radius: 3, dash_array: null, category_field: null},
        legend: [{value: null, label: S.km_posts, color: "#ffffff"}],
        // The name says "里程桩 50 km": no row, no layer line repeating it (atlas.js).
        fields: [{name: "km", label: S.km_post, kind: "float", popup: false, tooltip: false, unit: "km"}],
        provenance: {source: "geo.route.ScenicRoute.km_posts", licence: "", datum: "", accuracy: "",
                     date: "", illustrative: true},
      };
      var group = page.layers.scenic_road ? page.layers.scenic_road.desc.group_title : S.page_route;
      desc.group_title = group;
      var entry = page.addApiLayer(desc, function (datum) {
        return U.withParams(cfg.api + "/route/km-posts", {every_km: cfg.km_every || 50, datum: datum});
      });
      entry.onDraw = function (e) {
        e.leaflet.forEach(function (l) {
          var p = l.feature.properties || {};
          if (p.km !== undefined) p.label = S.km_post + " " + Math.round(p.km) + " km";
        });
      };
    }

    var OVER_COLOR = "#c62828";
    var planSeq = 0;
    var limitMarks = null;

    function fmtKm(v) { return Number(v).toFixed(1); }
    function fill(t, params) {
      Object.keys(params).forEach(function (k) { t = t.split("{" + k + "}").join(params[k]); });
      return t;
    }
    function nameOf(rec) {
      if (!rec) return "";
      return page.lang === "en" ? (rec.name_en || rec.name_zh || "") : (rec.name_zh || rec.name_en || "");
    }

    function showStagesError(err) {
      var total = document.getElementById("atlas-stage-total");
      var range = cfg.max_km_range || [20, 1000];
      var msg = err.status === 400 ? page.errorText(err, "max_km", {min: range[0], max: range[1]})
        : page.errorText(err, "plan");
      if (total) { total.textContent = msg; total.classList.add("atlas-error"); }
      var list = document.getElementById("atlas-stage-list");
      if (list) list.textContent = "";
      api.stages = {error: err.message, shown: msg};
    }

    function fitStage(n) {
      var dyn = page.dynamic.stages;
      if (!dyn) return;
      if (!page.map.hasLayer(dyn.container)) dyn.container.addTo(page.map);
      var hit = (dyn.leaflet || []).filter(function (l) { return (l.feature.properties || {}).n === n; })[0];
      if (!hit) return;
      page.fit(hit.getBounds(), {padding: [20, 20], maxZoom: 12});
      (dyn.leaflet || []).forEach(function (l) {
        var p = l.feature.properties || {};
        l.setStyle({weight: p.n === n ? 16 : 12, opacity: p.n === n ? 0.6 : 0.35});
      });
      document.querySelectorAll("#atlas-stage-list li").forEach(function (li) {
        li.classList.toggle("atlas-stage-current", Number(li.getAttribute("data-stage")) === n);
      });
      api.fittedStage = n;
    }

    function alternativesNode(st) {
      var box = el("div", "atlas-stage-alts");
      box.appendChild(el("div", "atlas-stage-reason", page.lang === "en" ? st.reason_en : st.reason_zh));
      // Paragraphs, not a nested list: "#atlas-stage-list li" stays one item per stage.
      var ul = el("div", "atlas-alt-list");
      box.appendChild(el("div", "atlas-stage-alts-title", S.alternatives));
      (st.alternatives || []).forEach(function (a) {
        var detour = a.detour_km >= 0.5 ? fill(S.alt_detour, {km: fmtKm(a.detour_km)}) : "";
        ul.appendChild(el("p", "atlas-alt atlas-alt-stay", fill(S.alt_stay, {
          name: nameOf(a), kind: S["kind_" + a.layer] || a.layer, day: fmtKm(a.day_km), detour: detour})));
      });
      if (st.alternatives && !st.alternatives.length) ul.appendChild(el("p", "atlas-alt atlas-note", S.alt_none));
      if (st.station_after) {
        // "Or …" only after other options.
        var ride = st.alternatives && st.alternatives.length ? S.alt_ride_on : S.alt_ride_only;
        ul.appendChild(el("p", "atlas-alt atlas-alt-ride", fill(ride, {
          name: nameOf(st.station_after), day: fmtKm(st.station_after.day_km)})));
      }
      box.appendChild(ul);
      return box;
    }

    function drawList(body) {
      var list = document.getElementById("atlas-stage-list");
      var total = document.getElementById("atlas-stage-total");
      var over = body.stages.filter(function (s) { return s.over_max; });
      var maxKm = Number(body.max_km);
      if (total) {
        total.classList.remove("atlas-error");
        total.textContent = fill(S.stages_total, {total: fmtKm(body.total_km), n: body.stages.length}) + " · " +
          (over.length ? fill(S.stages_some_over, {k: over.length, max: maxKm})
                       : fill(S.stages_all_ok, {max: maxKm}));
        total.classList.toggle("atlas-warn", over.length > 0);
      }
      if (!list) return;
      list.textContent = "";
      var nameKey = page.lang === "en" ? "_en" : "_zh";
      body.stages.forEach(function (st) {
        var li = el("li", "atlas-stage" + (st.over_max ? " atlas-stage-over" : ""));
        li.setAttribute("data-stage", st.n);
        // The whole line is one button: click or Enter fits the map to the stage.
        var btn = el("button", "atlas-stage-btn");
        btn.type = "button";
        btn.title = fill(S.fit_stage, {n: st.n});
        btn.appendChild(el("strong", null, S.stage.replace("{n}", st.n) + " "));
        btn.appendChild(el("span", null, (st["from" + nameKey] || st.from_zh || "") + " → " +
          (st["to" + nameKey] || st.to_zh || "")));
        btn.appendChild(el("small", null, " · " + fmtKm(st.length_km) + " km (" +
          Number(st.km_start).toFixed(0) + "–" + Number(st.km_end).toFixed(0) + ")"));
        btn.addEventListener("click", function () { fitStage(st.n); });
        li.appendChild(btn);
        if (st.over_max) {
          li.appendChild(el("span", "atlas-badge atlas-badge-over",
            S.over_limit + " · " + fill(S.over_by, {km: fmtKm(st.length_km - maxKm)})));
          if (st.reason_zh || st.reason_en) li.appendChild(alternativesNode(st));
        }
        if (st.stops && st.stops.length) {
          var names = st.stops.map(function (s) {
            return typeof s === "string" ? s : (s["name" + nameKey] || s.name_zh || s.name || "");
          }).filter(Boolean);
          if (names.length) li.appendChild(el("div", "atlas-note", S.stops + ": " + names.join(S.list_sep)));
        }
        list.appendChild(li);
      });
    }

    function drawLimitMarks(body) {
      if (limitMarks) page.map.removeLayer(limitMarks);
      limitMarks = L.layerGroup();
      body.stages.forEach(function (st) {
        if (!st.over_max || st.limit_lat === null || st.limit_lat === undefined) return;
        var text = S.stage.replace("{n}", st.n) + ": " + fill(S.limit_mark, {max: Number(body.max_km)}) +
          " · " + (page.lang === "en" ? st.reason_en : st.reason_zh);
        L.circleMarker([st.limit_lat, st.limit_lon], {radius: 7, color: "#fff", weight: 2, fillColor: OVER_COLOR,
          fillOpacity: 1, pane: "atlasPlaces", className: "atlas-limit-mark"})
          .bindTooltip(el("span", null, text)).addTo(limitMarks);
      });
      // The marks are in WGS 84 like the plan: on a GCJ-02 basemap they are a few hundred
      // metres off, which the tooltips' text does not depend on.
      var dyn = page.dynamic.stages;
      if (dyn && page.map.hasLayer(dyn.container)) limitMarks.addTo(page.map);
      if (dyn && !dyn.marksBound) {  // the marks come and go with the stages overlay
        dyn.marksBound = true;
        page.map.on("overlayadd overlayremove", function (e) {
          if (e.layer !== dyn.container || !limitMarks) return;
          if (e.type === "overlayadd") limitMarks.addTo(page.map); else page.map.removeLayer(limitMarks);
        });
      }
      api.limitMarks = limitMarks.getLayers().length;
    }

    /** GPX and KML of each stage and of the whole trip (GET /api/route/trip.<gpx|kml>,
     *  geo.route.trip_export); GCJ-02 on request. */
    function drawDownloads(body) {
      var box = document.getElementById("atlas-trip-downloads");
      var base = cfg.endpoints && cfg.endpoints.trip;
      if (!box || !base) return;
      box.textContent = "";
      box.hidden = false;
      box.appendChild(el("h3", "atlas-trip-title", S.trip_downloads));
      var gcjId = "atlas-trip-gcj02";
      var gcjLabel = el("label", "atlas-check");
      var gcj = el("input");
      gcj.type = "checkbox";
      gcj.id = gcjId;
      gcjLabel.appendChild(gcj);
      gcjLabel.appendChild(el("span", null, " " + S.gcj02_for_apps));
      box.appendChild(gcjLabel);
      var ul = el("ul", "atlas-list");
      var links = [];
      function add(label, stage) {
        var li = el("li");
        ["gpx", "kml"].forEach(function (fmt, i) {
          var a = el("a", "atlas-download", label + " · " + fmt.toUpperCase());
          a.setAttribute("download", "");
          a._fmt = fmt;
          a._stage = stage;
          a.setAttribute("data-stage", stage === null ? "trip" : String(stage));
          a.setAttribute("data-format", fmt);
          links.push(a);
          if (i) li.appendChild(document.createTextNode(" · "));
          li.appendChild(a);
        });
        ul.appendChild(li);
      }
      add(S.trip_all, null);
      body.stages.forEach(function (st) { add(S.stage.replace("{n}", st.n), st.n); });
      function hrefs() {
        links.forEach(function (a) {
          a.href = U.withParams(base + "." + a._fmt, Object.assign({max_km: body.max_km, lang: page.lang,
            stage: a._stage, datum: gcj.checked ? "gcj02" : null}, ends()));
        });
      }
      gcj.addEventListener("change", hrefs);
      hrefs();
      box.appendChild(ul);
    }

    function drawStages(body, restorable) {
      drawList(body);
      drawDownloads(body);
      var desc = {
        id: "stages", title: S.stages, geometry_type: "LineString", group_title: S.stage_planner,
        name_field: "label", style: {color: "#000", weight: 6, opacity: 0.8, category_field: null},
        legend: [{value: null, label: S.stages, color: STAGE_COLORS[0]},
                 {value: true, label: S.over_limit, color: OVER_COLOR}],
        fields: [{name: "length_km", label: S.length, popup: true, tooltip: true, unit: "km", kind: "float"},
                 {name: "over_text", label: S.over_limit, popup: true, tooltip: false}],
        provenance: {},
      };
      var fc = body.geojson || {type: "FeatureCollection", features: []};
      var byN = {};
      body.stages.forEach(function (st) { byN[st.n] = st; });
      fc.features.forEach(function (f, i) {
        f.properties = f.properties || {};
        var n = f.properties.n || i + 1, st = byN[n] || {};
        f.properties.label = S.stage.replace("{n}", n);
        if (f.properties.over_max) f.properties.over_text = page.lang === "en" ? st.reason_en : st.reason_zh;
      });
      return page.addDynamic("stages", desc, fc, {
        restorable: restorable,
        style: function (p) {
          var n = (p.n || 1) - 1;
          if (p.over_max) return {color: OVER_COLOR, weight: 12, opacity: 0.55, dashArray: "10 8"};
          return {color: STAGE_COLORS[n % STAGE_COLORS.length], weight: 12, opacity: 0.35, dashArray: null};
        },
      }).then(function () {
        drawLimitMarks(body);
        api.stages = body;
        page.emit("stages", body);
      });
    }

    function ends() {
      var out = {};
      ["start", "end", "direction"].forEach(function (k) {
        var v = page.query[k];
        if (v) out[k] = v;
      });
      return out;
    }

    function planStages(restorable) {
      var maxKm = page.query.max_km;
      if (maxKm === undefined || maxKm === null || maxKm === "") return Promise.resolve();
      var mine = ++planSeq;
      api.stages = null;  // until the new plan is in
      var params = Object.assign({max_km: maxKm, lang: page.lang}, ends());
      return U.fetchJSON(U.withParams(cfg.api + "/route/stages", params))
        .then(function (body) {
          if (mine !== planSeq) return;
          showEnds(body);
          return drawStages(body, restorable);
        })
        .catch(function (err) { if (mine === planSeq) showStagesError(err); });
    }

    // Start and end stations: the stations of the road, in road order.
    function showEnds(body) {
      var box = document.getElementById("atlas-stage-ends");
      if (!box || body.direction === undefined) return;
      box.hidden = false;
      var entry = page.layers.stations;
      ["start", "end"].forEach(function (k) {
        var select = document.getElementById("atlas-stage-" + k);
        if (!select || select.options.length > 1 || !entry) return;
        entry.leaflet.map(function (l) { return l.feature.properties || {}; })
          .sort(function (a, b) { return (a.km || 0) - (b.km || 0); })
          .forEach(function (p) {
            var o = el("option", null, page.nameOf(entry.desc, p));
            o.value = p.id;
            select.appendChild(o);
          });
        select.value = page.query[k] || select.getAttribute("data-value") || "";
      });
    }

    function bindForm() {
      var form = document.getElementById("atlas-stage-form");
      var input = document.getElementById("atlas-max-km");
      if (!form || !input) return;
      form.addEventListener("submit", function (e) {
        e.preventDefault();  // re-plan in place: the map, its layers and its view stay
        if (!form.reportValidity()) return;
        var changes = {max_km: input.value.trim()};
        ["start", "end"].forEach(function (k) {
          var sel = document.getElementById("atlas-stage-" + k);
          if (sel && !sel.closest("[hidden]")) changes[k] = sel.value;
        });
        page.setQuery(changes);
        planStages(false);
      });
      var swap = document.getElementById("atlas-stage-swap");
      if (swap) swap.addEventListener("click", function () {
        var a = document.getElementById("atlas-stage-start"), b = document.getElementById("atlas-stage-end");
        var dir = document.getElementById("atlas-stage-direction");
        var t = a.value; a.value = b.value; b.value = t;
        var reverse = !a.value && !b.value ? (page.query.direction === "reverse" ? "" : "reverse") : "";
        if (dir) dir.value = reverse;
        page.setQuery({start: a.value, end: b.value, direction: reverse});
        planStages(false);
      });
    }

    api.planStages = planStages;
    api.fitStage = fitStage;

    function flagCorridor(entry) {
      // The projects in WGS 84 (whatever the basemap), overlaid on the road's corridor.
      var note = document.getElementById("atlas-corridor-note");
      var list = document.getElementById("atlas-corridor-list");
      return U.fetchJSON(U.withParams(entry.desc.features_url, {zoom: 14, datum: "wgs84"}))
        .then(function (fc) {
          return U.fetchJSON(cfg.api + "/overlay", {
            method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(fc),
          }).then(function (res) { return [fc, res]; });
        })
        .then(function (pair) {
          var fc = pair[0], res = pair[1];
          var inside = {};
          (res.rows || []).forEach(function (row, i) {
            var key = row.id !== undefined && row.id !== null ? row.id : (fc.features[i].properties || {}).id;
            if (row.in_road_corridor) inside[key] = row;
          });
          page.hooks.styleFor.push(function (desc, props) {
            if (desc.id === "projects" && inside[props.id]) return {color: "#000000", weight: 3};
            return null;
          });
          page.hooks.popupExtra.push(function (desc, props) {
            if (desc.id === "projects" && inside[props.id]) {
              var r = inside[props.id];
              var d = r.road_distance_m !== undefined ? " (" + Math.round(r.road_distance_m) + " m)" : "";
              return S.in_corridor + d;
            }
            return null;
          });
          page.restyle("projects");
          var ids = Object.keys(inside);
          if (note) note.textContent = ids.length + " / " + fc.features.length;
          if (list) {
            list.textContent = "";
            entry.leaflet.forEach(function (l) {
              var p = l.feature.properties || {};
              if (!inside[p.id]) return;
              var li = el("li", "atlas-hit", page.nameOf(entry.desc, p));
              li.addEventListener("click", function () { page.focus("projects", l); });
              list.appendChild(li);
            });
          }
          api.corridor = {count: ids.length, ids: ids};
        })
        .catch(function (err) {
          if (note) note.textContent = page.errorText(err, "corridor");
          api.corridor = {error: err.message};
        });
    }

    bindForm();
    api.ready.then(function () {
      kmPosts();
      page.settling.push(planStages(true));
      if (page.layers.projects) page.whenLayer("projects").then(flagCorridor);
    }).catch(function () {});
  });
})();
