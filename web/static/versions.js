/* geogrid: the map of a version diff.
 *
 * Both versions' second-level outlines (before dashed, after solid) and the changed areas
 * filled, on a plain background (no tile server is needed). <html data-diff-map="1"> is set
 * once everything is drawn; window.geogridDiffMap is the Leaflet map.
 */
(function () {
  "use strict";

  const node = document.getElementById("diff-map");
  const cfgNode = document.getElementById("diff-config");
  if (!node || !cfgNode || !window.L) return;
  const cfg = JSON.parse(cfgNode.textContent);
  const map = L.map(node, { attributionControl: false, scrollWheelZoom: false, preferCanvas: false });
  window.geogridDiffMap = map;
  map.setView([32.11, 118.93], 13);
  L.control.scale({ imperial: false }).addTo(map);

  const get = (url) =>
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then((r) => (r.ok ? r.json() : { type: "FeatureCollection", features: [] }));

  Promise.all([get(cfg.from_url), get(cfg.to_url), get(cfg.diff_url)]).then(([before, after, changed]) => {
    const old = L.geoJSON(before, {
      style: { color: "#7b8794", weight: 1.5, dashArray: "5 4", fill: false },
      interactive: false,
    }).addTo(map);
    const now = L.geoJSON(after, {
      style: { color: "#0b6bcb", weight: 1.2, fill: false },
      interactive: false,
    }).addTo(map);
    const transfers = {
      type: "FeatureCollection",
      features: changed.features.filter((f) => f.properties.kind === "transfer"),
    };
    const grids = {
      type: "FeatureCollection",
      features: changed.features.filter((f) => f.properties.kind === "grid"),
    };
    const filled = L.geoJSON(transfers.features.length ? transfers : grids, {
      style: { color: "#c2570c", weight: 1, fillColor: "#e67814", fillOpacity: 0.55, className: "diff-changed" },
      onEachFeature: (f, layer) => {
        const p = f.properties;
        layer.bindTooltip(p.kind === "transfer"
          ? `${p.from} → ${p.to}: ${p.area_m2.toLocaleString()} m²`
          : `${p.code} ${p.name || ""}: ${p.area_change_m2.toLocaleString()} m²`);
      },
    }).addTo(map);
    const focus = filled.getLayers().length ? filled.getBounds() : now.getBounds().extend(old.getBounds());
    if (focus.isValid()) map.fitBounds(focus, { padding: [24, 24], maxZoom: 16 });
    document.documentElement.dataset.diffMap = "1";
  }).catch(() => { document.documentElement.dataset.diffMap = "error"; });
})();
