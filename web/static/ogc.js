/* geogrid: the features of an OGC API page on a small map, on a plain background (no tile
 * server is needed). <html data-ogc-map="N"> is set with the number of features drawn. */
(function () {
  "use strict";

  const node = document.getElementById("ogc-map");
  const data = document.getElementById("ogc-data");
  if (!node || !data || !window.L) return;
  const collection = JSON.parse(data.textContent);
  const map = L.map(node, { attributionControl: false, scrollWheelZoom: false });
  L.control.scale({ imperial: false }).addTo(map);
  const layer = L.geoJSON(collection, {
    style: { color: "#0b6bcb", weight: 1.5, fillOpacity: 0.12 },
    pointToLayer: (f, at) => L.circleMarker(at, { radius: 5, color: "#c2410c", weight: 2, fillOpacity: 0.7 }),
    onEachFeature: (f, l) => l.bindTooltip(String(f.properties.name || f.properties.category || f.id)),
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
  document.documentElement.dataset.ogcMap = String(collection.features.length);
})();
