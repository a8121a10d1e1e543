/* /route — the scenic road for tourism planners: kilometre posts, the stage planner
 * (GET /api/route/stages?max_km=) and the projects inside the road's view corridor
 * (POST /api/overlay with the projects as GeoJSON).  Text from the data goes in with
 * textContent only. */
(function () {
  "use strict";
  var STAGE_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];

  window.Atlas.pageHooks.route = function (page) {
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
        fields: [{name: "km", label: S.km_post, kind: "float", popup: true, tooltip: true, unit: "km"}],
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

    function showStagesError(err) {
      var total = document.getElementById("atlas-stage-total");
      if (total) total.textContent = S.error + ": " + err.message;
      api.stages = {error: err.message};
    }

    function drawStages(body) {
      var list = document.getElementById("atlas-stage-list");
      var total = document.getElementById("atlas-stage-total");
      if (total) total.textContent = S.total_km + " " + Number(body.total_km).toFixed(1) + " km · " +
        body.stages.length + " × ≤ " + body.max_km + " km";
      if (list) list.textContent = "";
      var nameKey = page.lang === "en" ? "_en" : "_zh";
      body.stages.forEach(function (st) {
        var li = el("li", "atlas-stage");
        li.setAttribute("data-stage", st.n);
        var head = el("strong", null, S.stage.replace("{n}", st.n) + " ");
        li.appendChild(head);
        li.appendChild(el("span", null, (st["from" + nameKey] || st.from_zh || "") + " → " +
          (st["to" + nameKey] || st.to_zh || "")));
        li.appendChild(el("small", null, " · " + Number(st.length_km).toFixed(1) + " km (" +
          Number(st.km_start).toFixed(0) + "–" + Number(st.km_end).toFixed(0) + ")"));
        if (st.stops && st.stops.length) {
          var names = st.stops.map(function (s) {
            return typeof s === "string" ? s : (s["name" + nameKey] || s.name_zh || s.name || "");
          }).filter(Boolean);
          if (names.length) li.appendChild(el("div", "atlas-note", S.stops + ": " + names.join(S.list_sep)));
        }
        list && list.appendChild(li);
      });
      var desc = {
        id: "stages", title: S.stages, geometry_type: "LineString", group_title: S.stage_planner,
        name_field: "label", style: {color: "#000", weight: 6, opacity: 0.8, category_field: null},
        legend: [], fields: [{name: "length_km", label: S.length, popup: true, tooltip: true, unit: "km", kind: "float"}],
        provenance: {},
      };
      var fc = body.geojson || {type: "FeatureCollection", features: []};
      fc.features.forEach(function (f, i) {
        f.properties = f.properties || {};
        var n = f.properties.n || i + 1;
        f.properties.label = S.stage.replace("{n}", n);
      });
      return page.addDynamic("stages", desc, fc, {
        style: function (p) {
          var n = (p.n || 1) - 1;
          return {color: STAGE_COLORS[n % STAGE_COLORS.length], weight: 12, opacity: 0.35};
        },
      }).then(function () { api.stages = body; });
    }

    function planStages() {
      if (cfg.max_km === null || cfg.max_km === undefined) return Promise.resolve();
      return U.fetchJSON(U.withParams(cfg.api + "/route/stages", {max_km: cfg.max_km, lang: page.lang}))
        .then(drawStages).catch(showStagesError);
    }

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
          if (note) note.textContent = S.error + ": " + err.message;
          api.corridor = {error: err.message};
        });
    }

    api.ready.then(function () {
      kmPosts();
      planStages();
      if (page.layers.projects) page.whenLayer("projects").then(flagCorridor);
    }).catch(function () {});
  };
})();
