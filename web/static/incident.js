/* geogrid: the small map of an incident's page.
 *
 * The place as a marker, over the outline of the grid that owns it (fetched from the API, drawn
 * on a plain background: no tile server is needed). <html data-incident-map="1"> is set once the
 * map is drawn, and "2" once the grid is on it.
 */
(function () {
  "use strict";

  const node = document.getElementById("incident-map");
  const cfgNode = document.getElementById("incident-config");
  if (!node || !cfgNode || !window.L) return;
  const cfg = JSON.parse(cfgNode.textContent);
  const here = [cfg.lat, cfg.lon];
  const map = L.map(node, { zoomControl: true, attributionControl: false, scrollWheelZoom: false });
  map.setView(here, 16);
  L.control.scale({ imperial: false }).addTo(map);
  L.circleMarker(here, {
    radius: 8, color: "#fff", weight: 2, fillColor: "#b3261e", fillOpacity: 1,
  }).addTo(map);
  document.documentElement.dataset.incidentMap = "1";

  if (!cfg.grid_url) return;
  fetch(cfg.grid_url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then((resp) => (resp.ok ? resp.json() : null))
    .then((feature) => {
      if (!feature) return;
      const layer = L.geoJSON(feature, {
        style: { color: "#0b6bcb", weight: 2, fillColor: "#9fb3c8", fillOpacity: 0.12 },
        interactive: false,
      }).addTo(map);
      layer.bringToBack();
      map.fitBounds(layer.getBounds().extend(here), { padding: [12, 12], maxZoom: 17 });
      document.documentElement.dataset.incidentMap = "2";
    })
    .catch(() => {});  // the marker alone still shows the place
})();
