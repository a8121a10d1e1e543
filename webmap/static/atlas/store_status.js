/* Xilingol Grassland Atlas — a notice while the store cannot be written (issue 13).
 *
 * Loaded by every map page (webmap/pages/map_pages.py) and the data page, where layers
 * are replaced (webmap/pages/data_page.py).  It asks /healthz once the page
 * has loaded; when writes are paused (the store's disk is full or below the space kept
 * free, or its filesystem is read-only) it shows why, in the page's language: the map
 * still reads every layer, but saving a layer will be refused until the operator frees
 * space.  The answer is kept as window.atlasStoreStatus (for tests).
 */
(function () {
  "use strict";

  function show(status) {
    var en = (document.documentElement.lang || "").indexOf("en") === 0;
    var box = document.createElement("div");
    box.id = "atlas-store-notice";
    box.className = "atlas-notice";
    box.setAttribute("role", "status");
    // below the page's own notice (load errors), which takes the same place
    box.style.top = "calc(var(--atlas-header, 44px) + 40px)";
    var reason = en ? status.reason : (status.reason_zh || status.reason);
    box.textContent = en
      ? "The data store cannot be written just now: the map shows every layer, but saving " +
        "a layer is paused" + (reason ? " (" + reason + ")" : "") + "."
      : "数据存储暂时无法写入：地图照常浏览，保存图层已暂停" + (reason ? "（" + reason + "）" : "") + "。";
    document.body.appendChild(box);
  }

  function check() {
    if (!window.fetch) return;
    fetch("/healthz", {credentials: "same-origin", cache: "no-store"})
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (status) {
        window.atlasStoreStatus = status;
        if (status && status.writable === false) show(status);
      })
      .catch(function () {});  // no answer: nothing to say
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", check);
  else check();
})();
