/* geogrid: the early-warning layer of the dispatcher's map (loaded after map.js).
 *
 * The active warnings the user may see (GET /api/v1/warnings, in the map's display system) as
 * markers ("!" red for high, orange for medium) with a popup linking to /warnings; a repeat or
 * a surge also outlines its grid (taken from the page's grid layer, so it follows the base
 * map's coordinate system), a cluster or a recurrence draws the radius its rule used. The layer
 * is listed in the layer control ("Early warnings") and can be switched off there.
 *
 * Text is written with textContent only. <html data-warnings-map="N"> is set once N warnings
 * are drawn (N may be 0).
 */
(function () {
  "use strict";

  const cfgNode = document.getElementById("warnings-config");
  const layers = window.geogridLayers;
  if (!cfgNode || !layers || !window.L) return;
  const cfg = JSON.parse(cfgNode.textContent);
  const S = cfg.strings;
  const map = layers.map;
  const grid2 = layers.grid2;
  const group = L.featureGroup().addTo(map);
  layers.control.addOverlay(group, S.layer);

  let crs = "wgs84";
  let seq = 0;
  let last = [];

  const { fmt, el } = window.GeogridDom;  // dom.js

  function gridFeature(code) {
    let found = null;
    grid2.eachLayer((l) => { if (!found && l.feature && l.feature.id === code) found = l.feature; });
    return found;
  }

  function popup(w) {
    const box = el("div", "warning-popup");
    box.appendChild(el("div", "w-rule", (S.severity[w.severity] || w.severity) + " · " + (S.rules[w.rule] || w.rule)));
    box.appendChild(el("p", null, w.explanation[cfg.lang] || w.explanation.zh));
    box.appendChild(el("p", "muted", fmt(S.incidents, { n: w.incidents.length })));
    const link = el("a", "button", S.open_page);
    link.href = cfg.page + "?rule=" + encodeURIComponent(w.rule);
    box.appendChild(link);
    return box;
  }

  function draw(warnings) {
    group.clearLayers();
    const taken = {};  // warnings at the same place (a repeat and a surge of one grid) side by side
    const style = (w) => ({
      color: w.severity === "high" ? "#b3261e" : "#e07b00", weight: 2.5, dashArray: "6 4",
      fillColor: w.severity === "high" ? "#b3261e" : "#f59e0b", fillOpacity: 0.1, interactive: false,
    });
    warnings.forEach((w) => {
      if ((w.rule === "repeat" || w.rule === "surge") && w.grid_code) {
        const f = gridFeature(w.grid_code);
        if (f) group.addLayer(L.geoJSON(f, { style: () => style(w), interactive: false }));
      } else if (w.detail && w.detail.radius_m) {
        group.addLayer(L.circle([w.lat, w.lon], { radius: w.detail.radius_m, ...style(w) }));
      }
      const place = w.lat.toFixed(4) + "," + w.lon.toFixed(4);
      const nth = taken[place] = (taken[place] || 0) + 1;
      const shift = (nth - 1) * 30;
      const icon = L.divIcon({
        className: "gg-warning-icon " + (w.severity === "high" ? "high" : "medium"),
        html: "<span>!</span>", iconSize: [26, 26], iconAnchor: [13 - shift, 13], popupAnchor: [shift, -12],
      });
      const marker = L.marker([w.lat, w.lon], { icon, title: S.rules[w.rule] || w.rule, keyboard: true, zIndexOffset: 1000 });
      marker.warningKey = w.key;
      marker.bindPopup(popup(w), { maxWidth: 300 });
      group.addLayer(marker);
    });
    document.documentElement.dataset.warningsMap = String(warnings.length);
  }

  async function load() {
    const mine = ++seq;
    const url = new URL(cfg.api, window.location.href);
    url.searchParams.set("crs", crs);
    try {
      const resp = await fetch(url.pathname + url.search, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
      const body = await resp.json();
      if (mine !== seq) return;
      last = body.warnings;
      draw(last);
      if (window.location.hash === "#warnings" && last.length && !load.framed) {
        load.framed = true;
        map.fitBounds(group.getBounds(), { padding: [40, 40], maxZoom: 16 });
      }
    } catch (err) {
      if (mine === seq) document.documentElement.dataset.warningsMap = "failed";
    }
  }

  // map.js refills the grid layer when the base map switches between WGS-84 and GCJ-02: the
  // warnings follow (once the refill is over)
  function gridSignature() {
    const first = grid2.getLayers()[0];
    return first && first.feature ? JSON.stringify(first.feature.geometry.coordinates).slice(0, 60) : "";
  }
  let drawnOn = gridSignature();
  let refill = null;
  grid2.on("layeradd", () => {
    clearTimeout(refill);
    refill = setTimeout(() => {
      const now = gridSignature();
      if (now !== drawnOn) { drawnOn = now; draw(last); }  // a refill, not the same grids again
    }, 30);
  });
  map.on("baselayerchange", (e) => {
    crs = e.layer === layers.bases.amap ? "gcj02" : "wgs84";
    load();
  });
  setInterval(() => { if (!document.hidden) load(); }, 60000);
  load();
})();
