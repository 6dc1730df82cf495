/* geogrid: the dispatcher's map.
 *
 * folium has drawn the map, the grids and the (empty) unit cluster; their JavaScript names are in
 * window.geogridLayers. This file loads the units, answers clicks, coordinates and searches
 * through the API, and swaps the overlays to GCJ-02 while AMap's tiles are the base layer.
 *
 * Data is written with textContent only. folium's grid tooltips build HTML from feature
 * properties: the page embeds them HTML-escaped, and escapeHtml() does the same for GeoJSON
 * fetched from the API.
 *
 * window.geogridReady resolves (and <html data-geogrid-ready="1"> is set, and the performance mark
 * "geogrid-ready" made) once the grids are drawn and clicks are handled; window.geogridUnitsReady
 * (mark "geogrid-units") once the units are on the map.
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("geogrid-config").textContent);
  const S = cfg.strings;
  const layers = window.geogridLayers;
  const map = layers.map;
  const grid2 = layers.grid2;
  const grid1 = layers.grid1;
  const outline = layers.outline;
  const units = layers.units;
  const incidents = layers.incidents;
  window.geogridMap = map;
  L.control.scale({ imperial: false }).addTo(map);  // metres only

  let readyResolve;
  window.geogridReady = new Promise((resolve) => { readyResolve = resolve; });

  // ------------------------------------------------------------------ helpers
  const { fmt, el } = window.GeogridDom;  // dom.js

  function escapeHtml(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function metres(m) {
    if (m === null || m === undefined || !isFinite(m)) return "—";
    return fmt(S.metres, { m: m < 10 ? m.toFixed(1) : Math.round(m).toLocaleString() });
  }

  class ApiError extends Error {}

  function apiUrl(base, params) {
    const url = new URL(base, window.location.href);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    return url.pathname + url.search;
  }

  async function getJSON(url, signal) {
    let resp;
    try {
      resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(S.network_error);
    }
    let body = null;
    try { body = await resp.json(); } catch (err) { body = null; }
    if (!resp.ok) {
      const message = body && body.error && body.error.message ? body.error.message : resp.status + " " + resp.statusText;
      throw new ApiError(message);
    }
    return body;
  }

  function telLink(phone) {
    const a = el("a", "phone", phone);
    a.setAttribute("href", "tel:" + String(phone).replace(/[^\d+]/g, ""));
    return a;
  }

  function categoryColour(category) {
    const known = cfg.categories[category];
    return known ? known.colour : cfg.other_colour;
  }

  function categoryLabel(category) {
    const known = cfg.categories[category];
    return known ? known.label : (category || "—");
  }

  const status = document.getElementById("map-status");
  function showStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
    status.hidden = !text;
  }

  // ------------------------------------------------------------------ display system
  // The page embeds WGS-84 geometry. On AMap (GCJ-02 tiles) the overlays are replaced by the
  // API's GCJ-02 geometry, clicks are sent with crs=gcj02, and answers are placed in GCJ-02.
  let displayCrs = "wgs84";
  const original = { grid2: [], grid1: [], outline: [] };
  grid2.eachLayer((l) => original.grid2.push(l.feature));
  grid1.eachLayer((l) => original.grid1.push(l.feature));
  outline.eachLayer((l) => original.outline.push(l.feature));
  const gridData = { wgs84: original, gcj02: null };

  const communityName = {};
  cfg.labels.grid1.codes.forEach((code, i) => { communityName[code] = cfg.labels.grid1.names[i]; });

  function asEmbedded(fc, level) {
    // the API's features in the shape the page embeds (tooltip properties HTML-escaped)
    return fc.features.map((f) => {
      const p = f.properties || {};
      const props = level === 2
        ? { c: escapeHtml(p.code), n: escapeHtml(p.name), p: escapeHtml(communityName[p.parent] || p.parent) }
        : level === 1 ? { c: escapeHtml(p.code), n: escapeHtml(p.name) } : {};
      return { type: "Feature", id: f.id || p.code, properties: props, geometry: f.geometry };
    });
  }

  // loads are kept as promises: asking again while one runs waits for it; a failed one is retried
  function once(cache, key, load) {
    if (!cache[key]) cache[key] = load().catch((err) => { delete cache[key]; throw err; });
    return cache[key];
  }

  function loadGrids(crs) {
    return once(gridData, crs, async () => {
      const get = (level) => getJSON(apiUrl(cfg.api.grids, { level, crs, simplify: cfg.simplify }));
      const [g2, g1, g0] = await Promise.all([get(2), get(1), get(0)]);
      return { grid2: asEmbedded(g2, 2), grid1: asEmbedded(g1, 1), outline: asEmbedded(g0, 0) };
    });
  }

  function refill(layer, features) {
    layer.clearLayers();
    layer.addData({ type: "FeatureCollection", features });
  }

  let wantedCrs = "wgs84";
  async function setDisplayCrs(crs) {
    wantedCrs = crs;
    if (crs === displayCrs) { showStatus(""); return; }
    showStatus(S.switching);
    try {
      const [data, unitFeatures] = await Promise.all([loadGrids(crs), loadUnits(crs)]);
      if (wantedCrs !== crs) return; // switched again while loading
      const from = displayCrs;
      displayCrs = crs;
      keepPlaceInView(from, crs);
      refill(grid2, data.grid2);
      refill(grid1, data.grid1);
      refill(outline, data.outline);
      placeLabels();
      fillUnits(unitFeatures);
      loadIncidents();
      applySelection();
      showStatus("");
      if (lastPoint) locateAt(lastPoint.lon, lastPoint.lat, "wgs84", { pin: !!pin, fly: false, unit: selectedUnit });
    } catch (err) {
      showStatus(err.message, true);
    }
  }

  function keepPlaceInView(from, to) {
    // The overlays move by the GCJ-02 offset (about 500 m here): move the view with them, so the
    // place the dispatcher was looking at stays put. The offset is taken from the nearest label
    // point, which the page has in both systems (it varies by well under a metre in a district).
    const a = cfg.labels.grid1[from];
    const b = cfg.labels.grid1[to];
    const c = map.getCenter();
    let best = -1;
    let bestD = Infinity;
    a.forEach((p, i) => {
      if (!p) return;
      const d = (p[0] - c.lat) * (p[0] - c.lat) + (p[1] - c.lng) * (p[1] - c.lng);
      if (d < bestD) { bestD = d; best = i; }
    });
    if (best < 0) return;
    map.setView([c.lat + b[best][0] - a[best][0], c.lng + b[best][1] - a[best][1]], map.getZoom(), { animate: false });
  }

  map.on("baselayerchange", (e) => {
    setDisplayCrs(e.layer === layers.bases.amap ? "gcj02" : "wgs84");
  });

  // ------------------------------------------------------------------ grid styles & selection
  const HL2 = { color: "#084f96", weight: 3, opacity: 1, fillColor: "#0b6bcb", fillOpacity: 0.22 };
  const HL1 = { color: "#0b6bcb", weight: 5, opacity: 0.85 };
  const CAND = { color: "#c2410c", weight: 2.5, opacity: 1, dashArray: "6 4", fillColor: "#f59e0b", fillOpacity: 0.16 };
  const sel = { grid2: null, grid1: null, candidates: new Set() };

  function grid2Style(feature) {
    if (feature.id === sel.grid2) return Object.assign({}, cfg.styles.grid2, HL2, { dashArray: null });
    if (sel.candidates.has(feature.id)) return Object.assign({}, cfg.styles.grid2, CAND);
    return Object.assign({}, cfg.styles.grid2, { dashArray: null });
  }

  function grid1Style(feature) {
    if (feature.id === sel.grid1) return Object.assign({}, cfg.styles.grid1, HL1);
    return cfg.styles.grid1;
  }

  grid2.options.style = grid2Style;
  grid1.options.style = grid1Style;

  grid2.on("mouseover", (e) => {
    const layer = e.propagatedFrom || e.layer;
    const base = grid2Style(layer.feature);
    layer.setStyle({ weight: base.weight + 1, fillOpacity: base.fillOpacity + 0.08 });
  });
  grid2.on("mouseout", (e) => grid2.resetStyle(e.propagatedFrom || e.layer));

  function findLayer(group, code) {
    let found = null;
    group.eachLayer((l) => { if (l.feature && l.feature.id === code) found = l; });
    return found;
  }

  function applySelection() {
    grid2.setStyle(grid2Style);
    grid1.setStyle(grid1Style);
    const order = [];
    sel.candidates.forEach((code) => order.push(findLayer(grid2, code)));
    order.push(findLayer(grid2, sel.grid2));
    order.forEach((l) => { if (l) l.bringToFront(); });
    if (map.hasLayer(grid1)) grid1.bringToFront();
    if (map.hasLayer(outline)) outline.bringToFront();
  }

  function select(grid2Code, grid1Code, candidates) {
    sel.grid2 = grid2Code || null;
    sel.grid1 = grid1Code || null;
    sel.candidates = new Set(candidates || []);
    applySelection();
  }

  // ------------------------------------------------------------------ first-level grid labels
  // labels above the unit clusters (community names orient the dispatcher); never clickable
  map.createPane("gg-labels");
  map.getPane("gg-labels").style.zIndex = 640;
  map.getPane("gg-labels").style.pointerEvents = "none";
  const labelLayer = L.layerGroup();
  function placeLabels() {
    labelLayer.clearLayers();
    const pts = cfg.labels.grid1[displayCrs];
    cfg.labels.grid1.names.forEach((name, i) => {
      if (!pts[i]) return; // a community without grids
      const [lat, lon] = pts[i];
      const span = el("span", null, name);
      labelLayer.addLayer(L.marker([lat, lon], {
        icon: L.divIcon({ className: "grid1-label", html: span, iconSize: null }),
        pane: "gg-labels",
        interactive: false,
        keyboard: false,
      }));
    });
  }
  placeLabels();
  if (map.hasLayer(grid1)) labelLayer.addTo(map);
  grid1.on("add", () => labelLayer.addTo(map));
  grid1.on("remove", () => map.removeLayer(labelLayer));

  // ------------------------------------------------------------------ the pin
  let pin = null;
  let lastPoint = null; // WGS-84 of the last located point
  function placePin(lat, lon) {
    const latlng = L.latLng(lat, lon);
    if (!pin) {
      pin = L.marker(latlng, {
        icon: L.divIcon({ className: "gg-pin", iconSize: [22, 22], iconAnchor: [11, 11] }),
        interactive: false,
        keyboard: false,
        zIndexOffset: 1000,
      }).addTo(map);
    } else {
      pin.setLatLng(latlng);
    }
  }
  function removePin() {
    if (pin) { map.removeLayer(pin); pin = null; }
  }

  // ------------------------------------------------------------------ the side panel
  const result = document.getElementById("result");

  function row(dl, label, value, phone) {
    if (!value && !phone) return;
    dl.appendChild(el("dt", null, label));
    const dd = el("dd");
    if (value) dd.appendChild(el("span", "who", value));
    if (phone) {
      if (value) dd.appendChild(document.createTextNode(" "));
      dd.appendChild(telLink(phone));
    }
    dl.appendChild(dd);
  }

  function card(kindLabel, name, code, extraClass) {
    const box = el("div", "card-box" + (extraClass ? " " + extraClass : ""));
    const head = el("div", "card-head");
    head.appendChild(el("span", "card-kind", kindLabel));
    if (code) head.appendChild(el("span", "card-code mono", code));
    box.appendChild(head);
    box.appendChild(el("div", "card-name", name || "—"));
    return box;
  }

  function unitCard(u) {
    const box = card(S.unit, u.name, u.code, "unit-card");
    const dl = el("dl", "facts");
    const cat = el("span", "cat");
    const dot = el("i", "dot");
    dot.style.background = categoryColour(u.category);
    cat.appendChild(dot);
    cat.appendChild(document.createTextNode(categoryLabel(u.category)));
    dl.appendChild(el("dt", null, S.category));
    const dd = el("dd");
    dd.appendChild(cat);
    dl.appendChild(dd);
    row(dl, S.address, u.address);
    row(dl, S.head, u.head, u.head_phone);
    box.appendChild(dl);
    return box;
  }

  function clearPanel() {
    while (result.firstChild) result.removeChild(result.firstChild);
  }

  function panelMessage(text, isError) {
    clearPanel();
    result.appendChild(el("p", isError ? "panel-msg error" : "panel-msg", text));
  }

  function renderAnswer(ans, unit) {
    clearPanel();
    if (unit) result.appendChild(unitCard(unit));

    if (ans.match === "outside") {
      const box = el("div", "alert outside");
      box.appendChild(el("strong", null, S.outside_title));
      box.appendChild(el("p", null, S.outside_text));
      if (ans.nearest) {
        const p = el("p", "nearest");
        p.appendChild(el("span", null, S.nearest_grid + ": "));
        p.appendChild(el("span", "mono", ans.nearest.code));
        p.appendChild(document.createTextNode(" "));
        p.appendChild(el("strong", null, ans.nearest.name));
        p.appendChild(el("span", "muted", " · " + fmt(S.distance, { m: Math.round(ans.nearest.distance_m) })));
        box.appendChild(p);
      }
      result.appendChild(box);
    } else if (ans.needs_confirmation) {
      const box = el("div", "alert warn");
      box.appendChild(el("strong", null, S.confirm_title));
      const nearest = ans.candidates && ans.candidates.length ? ans.candidates[0].distance_m : ans.distance_m;
      box.appendChild(el("p", null, fmt(S.confirm_text, { m: Math.round(nearest) })));
      if (ans.candidates && ans.candidates.length) {
        box.appendChild(el("div", "alert-sub", S.candidates));
        const ul = el("ul", "candidates");
        ans.candidates.forEach((c) => {
          const li = el("li");
          li.appendChild(el("span", "mono", c.code));
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("strong", null, c.name));
          li.appendChild(el("span", "muted", " · " + metres(c.distance_m)));
          ul.appendChild(li);
        });
        box.appendChild(ul);
      }
      result.appendChild(box);
    }

    if (ans.grid2) {
      const g = ans.grid2;
      const box = card(S.grid2, g.name, g.code, "grid2-card");
      const dl = el("dl", "facts");
      row(dl, S.kind, g.kind);
      row(dl, S.worker, g.worker, g.worker_phone);
      const match = S["match_" + ans.match];
      if (match) row(dl, S.boundary_distance, metres(ans.distance_m) + " · " + match);
      box.appendChild(dl);
      result.appendChild(box);
      if (cfg.may_report) {
        // the intake form, prefilled with this place (and unit); it locates the place again
        const params = { x: ans.lon, y: ans.lat, crs: "wgs84" };
        if (unit && unit.code) params.unit = unit.code;
        const link = el("a", "button primary new-incident", "＋ " + S.new_incident);
        link.href = apiUrl(cfg.pages.new_incident, params);
        result.appendChild(link);
      }
    }
    if (ans.grid1) {
      result.appendChild(communityCard(ans.grid1));
    }

    if (ans.units) {
      const sec = el("div", "units-near");
      sec.appendChild(el("div", "sec-title", S.nearest_units));
      if (!ans.units.length) sec.appendChild(el("p", "muted", S.no_units));
      const ul = el("ul", "unit-list");
      ans.units.forEach((u) => {
        const li = el("li");
        const btn = el("button", "unit-link");
        btn.type = "button";
        const dot = el("i", "dot");
        dot.style.background = categoryColour(u.category);
        btn.appendChild(dot);
        btn.appendChild(el("span", "u-name", u.name));
        btn.appendChild(el("span", "u-meta", categoryLabel(u.category) + " · " + metres(u.distance_m)));
        btn.addEventListener("click", () => selectUnitByCode(u.code, u));
        li.appendChild(btn);
        ul.appendChild(li);
      });
      sec.appendChild(ul);
      result.appendChild(sec);
    }

    const foot = el("p", "panel-foot mono",
      S.point + ": " + Number(ans.lon).toFixed(6) + ", " + Number(ans.lat).toFixed(6) + " · " + fmt(S.version, { n: ans.version }));
    result.appendChild(foot);
  }

  function communityCard(g) {
    const box = card(S.grid1, g.name, g.code, "grid1-card");
    const dl = el("dl", "facts");
    const leader = g.leader ? g.leader + (g.leader_title ? "（" + g.leader_title + "）" : "") : null;
    row(dl, S.leader, leader, g.leader_phone);
    row(dl, S.office, g.office, g.office_phone);
    box.appendChild(dl);
    return box;
  }

  // ------------------------------------------------------------------ locate
  let locateSeq = 0;
  let selectedUnit = null;

  async function locateAt(lon, lat, crs, opts) {
    opts = opts || {};
    const seq = ++locateSeq;
    selectedUnit = opts.unit || null;
    if (!opts.quiet) showStatus(S.locating);
    let ans;
    try {
      ans = await getJSON(apiUrl(cfg.api.locate, { lon, lat, crs, units: 5, display: displayCrs }));
    } catch (err) {
      if (seq !== locateSeq) return null;
      showStatus("");
      if (opts.onError) opts.onError(err.message);
      else panelMessage(S.locate_failed + ": " + err.message, true);
      return null;
    }
    if (seq !== locateSeq) return null;
    showStatus("");
    lastPoint = { lon: ans.lon, lat: ans.lat };
    const candidates = (ans.candidates || []).map((c) => c.code);
    if (ans.match === "outside" && ans.nearest) candidates.push(ans.nearest.code);
    select(ans.grid2 && ans.grid2.code, ans.grid1 && ans.grid1.code, candidates);
    const d = ans.display || { lon: ans.lon, lat: ans.lat };
    if (opts.pin === false) removePin();
    else placePin(d.lat, d.lon);
    if (opts.fly) map.flyTo([d.lat, d.lon], Math.max(map.getZoom(), 16), { duration: 0.6 });
    renderAnswer(ans, selectedUnit);
    return ans;
  }

  map.on("click", (e) => {
    locateAt(e.latlng.lng, e.latlng.lat, displayCrs, { pin: true });
  });

  // ------------------------------------------------------------------ units
  const unitData = { wgs84: null, gcj02: null };
  const unitByCode = {};
  let unitMarkers = {};

  function loadUnits(crs) {
    return once(unitData, crs, async () => {
      const fc = await getJSON(apiUrl(cfg.api.units, { crs, limit: 5000 }));
      fc.features.forEach((f) => { if (!unitByCode[f.properties.code]) unitByCode[f.properties.code] = f.properties; });
      return fc.features;
    });
  }

  function unitTip(p) {
    const box = el("div", "unit-tip");
    box.appendChild(el("strong", null, p.name));
    box.appendChild(el("div", "muted", categoryLabel(p.category)));
    if (p.address) box.appendChild(el("div", "muted", p.address));
    return box;
  }

  function clusterIcon(cluster) {
    const children = cluster.getAllChildMarkers();
    const counts = {};
    children.forEach((m) => { const c = m.options.category; counts[c] = (counts[c] || 0) + 1; });
    let at = 0;
    const stops = [];
    Object.keys(counts).sort((a, b) => counts[b] - counts[a]).forEach((c) => {
      const end = at + (counts[c] / children.length) * 360;
      stops.push(categoryColour(c) + " " + at.toFixed(1) + "deg " + end.toFixed(1) + "deg");
      at = end;
    });
    const n = children.length;
    const size = n < 10 ? 30 : n < 50 ? 36 : n < 200 ? 42 : 48;
    const ring = el("div", "gg-cluster-ring");
    ring.style.background = "conic-gradient(" + stops.join(", ") + ")";
    ring.appendChild(el("span", null, String(n)));
    return L.divIcon({ html: ring, className: "gg-cluster", iconSize: L.point(size, size) });
  }
  units.options.iconCreateFunction = clusterIcon;

  function makeMarker(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    const m = L.circleMarker([lat, lon], {
      radius: 6,
      color: "#ffffff",
      weight: 1.5,
      fillColor: categoryColour(p.category),
      fillOpacity: 0.95,
      bubblingMouseEvents: false,
      category: p.category,
    });
    m.unitCode = p.code;
    m.bindTooltip(() => unitTip(p), { direction: "top", offset: [0, -6], className: "unit-tooltip" });
    m.on("click", () => {
      const ll = m.getLatLng();
      locateAt(ll.lng, ll.lat, displayCrs, { pin: true, unit: unitByCode[p.code] || p });
    });
    return m;
  }

  function fillUnits(features) {
    units.clearLayers();
    unitMarkers = {};
    const markers = features.map((f) => {
      const m = makeMarker(f);
      unitMarkers[f.properties.code] = m;
      return m;
    });
    units.addLayers(markers);
    legendCount.textContent = fmt(S.units_count, { n: features.length.toLocaleString() });
  }

  function selectUnitByCode(code, fallback) {
    const props = unitByCode[code] || fallback;
    const marker = unitMarkers[code];
    if (marker) {
      const ll = marker.getLatLng();
      map.flyTo(ll, Math.max(map.getZoom(), 17), { duration: 0.6 });
      locateAt(ll.lng, ll.lat, displayCrs, { pin: true, unit: props });
    } else if (fallback && fallback.lon !== undefined) {
      locateAt(fallback.lon, fallback.lat, "wgs84", { pin: true, fly: true, unit: props });
    }
  }

  // ------------------------------------------------------------------ incidents
  // The open incidents the user may see (a grid worker: their grid's), coloured by state, the
  // overdue ones ringed in red and pulsing; a cluster shows how many of its incidents are overdue.
  // Reloaded every minute while the page is visible, and in the map's system on a base switch.
  const incidentState = (key) => cfg.states[key] || { label: key, colour: "#6b7280" };
  let incidentSeq = 0;

  function incidentTip(p) {
    const box = el("div", "unit-tip incident-tip");
    box.appendChild(el("strong", null, "#" + p.id + " " + (p.category_name ? p.category_name[cfg.lang === "en" ? "en" : "zh"] : p.category)));
    box.appendChild(el("div", "muted", incidentState(p.state).label + (p.worker ? " · " + p.worker : "")));
    if (p.description) box.appendChild(el("div", null, p.description.length > 60 ? p.description.slice(0, 60) + "…" : p.description));
    if (p.overdue) box.appendChild(el("div", "overdue-text", S.incident_overdue));
    else if (p.due_soon) box.appendChild(el("div", "due-soon-text", S.incident_due_soon));
    return box;
  }

  function incidentMarker(f) {
    const p = f.properties;
    const [lon, lat] = f.geometry.coordinates;
    const m = L.circleMarker([lat, lon], {
      radius: p.overdue ? 8 : 7,
      color: p.overdue ? "#dc2626" : "#ffffff",
      weight: p.overdue ? 3 : 2,
      fillColor: incidentState(p.state).colour,
      fillOpacity: 1,
      className: p.overdue ? "gg-incident gg-incident-overdue" : "gg-incident",
      bubblingMouseEvents: false,
      overdue: !!p.overdue,
    });
    m.incidentId = p.id;
    m.bindTooltip(() => incidentTip(p), { direction: "top", offset: [0, -8], className: "unit-tooltip" });
    m.on("click", () => { window.location.href = cfg.pages.incident + encodeURIComponent(p.id); });
    return m;
  }

  incidents.options.iconCreateFunction = function (cluster) {
    const children = cluster.getAllChildMarkers();
    const late = children.filter((m) => m.options.overdue).length;
    const n = children.length;
    const size = n < 10 ? 30 : n < 50 ? 36 : 42;
    const ring = el("div", "gg-incident-cluster" + (late ? " has-overdue" : ""));
    ring.appendChild(el("span", null, String(n)));
    if (late) ring.appendChild(el("b", "late", String(late)));
    return L.divIcon({ html: ring, className: "gg-cluster", iconSize: L.point(size, size) });
  };

  async function loadIncidents() {
    const seq = ++incidentSeq;
    const crs = displayCrs;
    try {
      // the overdue ones asked for apart, so that a page limit never leaves them out
      const get = (overdue) => getJSON(apiUrl(cfg.api.incidents, {
        format: "geojson", state: cfg.open_states.join(","), overdue, sort: "-created_at", limit: 1000, crs,
      }));
      const [late, rest] = await Promise.all([get(true), get(false)]);
      if (seq !== incidentSeq) return null;
      const features = late.features.concat(rest.features);
      incidents.clearLayers();
      incidents.addLayers(features.map(incidentMarker));
      incidentCount.textContent = fmt(S.incidents_count, {
        n: (late.total + rest.total).toLocaleString(), o: late.total.toLocaleString(),
      });
      return features.length;
    } catch (err) {
      if (seq === incidentSeq) incidentCount.textContent = S.incidents_failed;
      return null;
    }
  }
  setInterval(() => { if (!document.hidden) loadIncidents(); }, 60000);
  // live: reload the layer when an incident changes (or the stream had to resync)
  const liveStatus = el("div", "legend-count live-status", S.live_offline);
  liveStatus.dataset.live = S.live;
  liveStatus.dataset.offline = S.live_offline;
  liveStatus.setAttribute("role", "status");
  let liveTimer = null;
  const reloadSoon = () => { clearTimeout(liveTimer); liveTimer = setTimeout(loadIncidents, 200); };
  if (window.GeogridLive && cfg.api.events) {
    window.GeogridLive.connect({
      url: cfg.api.events,
      status: liveStatus,
      onEvents: (events) => {
        if (events.some(window.GeogridLive.isAssignment)) window.GeogridLive.signal();
        reloadSoon();
      },
      onResync: reloadSoon,
    });
  }

  // ------------------------------------------------------------------ legend
  const legendCount = el("div", "legend-count", S.units_loading);
  const incidentCount = el("div", "legend-count", "");
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    const box = el("div", "gg-legend leaflet-bar");
    const title = el("button", "legend-title");
    title.type = "button";
    title.setAttribute("aria-expanded", "true");
    title.appendChild(el("span", null, S.legend));
    box.appendChild(title);
    const list = el("ul", "legend-list");
    Object.keys(cfg.categories).forEach((key) => {
      const li = el("li");
      const dot = el("i", "dot");
      dot.style.background = cfg.categories[key].colour;
      li.appendChild(dot);
      li.appendChild(el("span", null, cfg.categories[key].label));
      list.appendChild(li);
    });
    box.appendChild(list);
    box.appendChild(legendCount);
    box.appendChild(el("div", "legend-sub", S.incidents_legend));
    const states = el("ul", "legend-list legend-states");
    cfg.open_states.forEach((key) => {
      const li = el("li");
      const dot = el("i", "dot ring");
      dot.style.background = incidentState(key).colour;
      li.appendChild(dot);
      li.appendChild(el("span", null, incidentState(key).label));
      states.appendChild(li);
    });
    const late = el("li");
    late.appendChild(el("i", "dot ring overdue"));
    late.appendChild(el("span", null, S.incident_overdue));
    states.appendChild(late);
    box.appendChild(states);
    box.appendChild(incidentCount);
    box.appendChild(liveStatus);
    title.addEventListener("click", () => {
      const folded = box.classList.toggle("collapsed");
      title.setAttribute("aria-expanded", folded ? "false" : "true");
    });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  legend.addTo(map);
  // small screens: the legend folded, the layer control as an icon that opens on hover
  if (map.getSize().y < 760) legend.getContainer().querySelector(".legend-title").click();
  if (map.getSize().x < 1100 || map.getSize().y < 760) {
    const control = layers.control;
    control.remove();
    control.options.collapsed = true;
    control.addTo(map);
  }
  // frame the district, beside the layer control when it is open (it covers the top-right corner)
  const controlWidth = layers.control.options.collapsed ? 0 : layers.control.getContainer().offsetWidth;
  map.fitBounds(outline.getBounds(), { paddingTopLeft: [12, 12], paddingBottomRight: [controlWidth + 12, 12], animate: false });
  const showLegend = () => { legend.getContainer().hidden = !map.hasLayer(units) && !map.hasLayer(incidents); };
  showLegend();
  [units, incidents].forEach((layer) => { layer.on("add", showLegend); layer.on("remove", showLegend); });

  // ------------------------------------------------------------------ coordinates
  const coordForm = document.getElementById("coord-form");
  const coordInput = document.getElementById("coord-input");
  const coordCrs = document.getElementById("coord-crs");
  const coordError = document.getElementById("coord-error");

  function coordFail(text) {
    coordError.textContent = text;
    coordError.hidden = false;
    coordInput.setAttribute("aria-invalid", "true");
  }

  function parseCoordinates(text) {
    const cleaned = text.trim().replace(/[，、；;]/g, ",").replace(/[°]/g, "");
    if (!cleaned) return { error: S.coord_empty };
    const parts = cleaned.split(/\s*,\s*|\s+/).filter(Boolean);
    if (parts.length !== 2) return { error: S.coord_format };
    const a = Number(parts[0]);
    const b = Number(parts[1]);
    if (!isFinite(a) || !isFinite(b)) return { error: S.coord_format };
    const looksSwapped = Math.abs(a) <= 90 && Math.abs(b) > 90 && Math.abs(b) <= 180;
    const chinaSwapped = a >= 3 && a <= 54 && b >= 73 && b <= 136;
    if (looksSwapped || chinaSwapped) return { error: fmt(S.coord_swapped, { lon: parts[1], lat: parts[0] }) };
    if (Math.abs(a) > 180 || Math.abs(b) > 90) return { error: S.coord_range };
    return { lon: a, lat: b };
  }

  coordInput.addEventListener("input", () => {
    coordError.hidden = true;
    coordInput.removeAttribute("aria-invalid");
  });

  coordForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    coordError.hidden = true;
    coordInput.removeAttribute("aria-invalid");
    const parsed = parseCoordinates(coordInput.value);
    if (parsed.error) { coordFail(parsed.error); return; }
    await locateAt(parsed.lon, parsed.lat, coordCrs.value, { pin: true, fly: true, onError: coordFail });
  });

  // ------------------------------------------------------------------ search
  const searchForm = document.getElementById("search-form");
  const searchInput = document.getElementById("search-q");
  const searchList = document.getElementById("search-results");
  const searchMsg = document.getElementById("search-msg");
  let searchHits = [];
  let searchHitsFor = null; // the query searchHits answer
  let searchActive = -1;
  let searchTimer = null;
  let searchAbort = null;

  function hideResults() {
    searchList.hidden = true;
    searchInput.setAttribute("aria-expanded", "false");
    searchActive = -1;
  }

  function searchNote(text, isError) {
    searchMsg.textContent = text || "";
    searchMsg.classList.toggle("error", !!isError);
    searchMsg.hidden = !text;
  }

  function hitLine(hit) {
    const bits = [];
    if (hit.code) bits.push(hit.code);
    if (hit.kind === "unit") bits.push(categoryLabel(hit.category));
    if (hit.kind === "grid2" && hit.parent) bits.push(communityName[hit.parent] || hit.parent);
    if ((hit.kind === "unit" || hit.kind === "address") && hit.address) bits.push(hit.address);
    return bits.join(" · ");
  }

  function renderHits(hits, q) {
    while (searchList.firstChild) searchList.removeChild(searchList.firstChild);
    searchHits = hits;
    searchHitsFor = q;
    searchActive = -1;
    if (!hits.length) {
      hideResults();
      searchNote(S.search_none);
      return;
    }
    searchNote("");
    hits.forEach((hit, i) => {
      const li = el("li", "hit");
      li.id = "search-hit-" + i;
      li.setAttribute("role", "option");
      const kind = el("span", "hit-kind kind-" + hit.kind, S.kinds[hit.kind] || hit.kind);
      if (hit.kind === "unit") {
        kind.style.borderColor = categoryColour(hit.category);
      }
      li.appendChild(kind);
      const body = el("span", "hit-body");
      body.appendChild(el("span", "hit-name", hit.name));
      body.appendChild(el("span", "hit-line", hitLine(hit)));
      li.appendChild(body);
      li.addEventListener("mousedown", (e) => e.preventDefault());
      li.addEventListener("click", () => choose(hit));
      searchList.appendChild(li);
    });
    searchList.hidden = false;
    searchInput.setAttribute("aria-expanded", "true");
  }

  function setActive(i) {
    const items = searchList.querySelectorAll(".hit");
    if (!items.length) return;
    searchActive = (i + items.length) % items.length;
    items.forEach((item, k) => item.classList.toggle("active", k === searchActive));
    searchInput.setAttribute("aria-activedescendant", items[searchActive].id);
    items[searchActive].scrollIntoView({ block: "nearest" });
  }

  async function runSearch(q) {
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    try {
      const ans = await getJSON(apiUrl(cfg.api.search, { q, limit: 10, crs: displayCrs }), searchAbort.signal);
      if (searchInput.value.trim() !== q) return searchHits;
      renderHits(ans.results, q);
      return ans.results;
    } catch (err) {
      if (err.name === "AbortError") return searchHits;
      hideResults();
      searchNote(S.search_failed + ": " + err.message, true);
      return [];
    }
  }

  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    const q = searchInput.value.trim();
    if (q !== searchHitsFor) hideResults(); // never offer results of an older query
    if (!q) {
      hideResults();
      searchNote("");
      return;
    }
    searchTimer = setTimeout(() => { runSearch(q); }, 150);
  });

  searchInput.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (searchHitsFor !== searchInput.value.trim()) return;
      searchList.hidden = false;
      setActive(searchActive + 1);
    }
    else if (e.key === "ArrowUp") { e.preventDefault(); setActive(searchActive - 1); }
    else if (e.key === "Escape") { hideResults(); }
  });
  searchInput.addEventListener("blur", () => setTimeout(hideResults, 150));
  searchInput.addEventListener("focus", () => {
    if (searchHits.length && searchInput.value.trim() === searchHitsFor) { searchList.hidden = false; searchInput.setAttribute("aria-expanded", "true"); }
  });

  searchForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = searchInput.value.trim();
    if (!q) return;
    if (searchHitsFor === q && searchActive >= 0 && searchHits[searchActive]) { choose(searchHits[searchActive]); return; }
    clearTimeout(searchTimer);
    const hits = await runSearch(q);
    if (hits && hits.length) choose(hits[0]);
  });

  function flyToHit(hit) {
    if (hit.bbox) {
      const b = hit.bbox;
      map.flyToBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [40, 40], maxZoom: 17, duration: 0.7 });
    } else {
      map.flyTo([hit.lat, hit.lon], Math.max(map.getZoom(), 17), { duration: 0.7 });
    }
  }

  async function choose(hit) {
    hideResults();
    searchInput.blur();
    flyToHit(hit);
    if (hit.kind === "grid1") {
      removePin();
      select(null, hit.code, []);
      clearPanel();
      result.appendChild(card(S.grid1, hit.name, hit.code, "grid1-card"));
      try {
        const f = await getJSON(apiUrl(cfg.api.grid.replace("CODE", encodeURIComponent(hit.code)), { simplify: 50 }));
        clearPanel();
        result.appendChild(communityCard(Object.assign({ code: hit.code, name: hit.name }, f.properties)));
      } catch (err) {
        panelMessage(err.message, true);
      }
    } else if (hit.kind === "road") {
      removePin();
      select(null, null, []);
      clearPanel();
      const box = card(S.kinds.road, hit.name, null, "road-card");
      box.appendChild(el("p", "muted", S.road_units));
      result.appendChild(box);
    } else {
      const unit = hit.kind === "unit" ? (unitByCode[hit.code] || hit) : null;
      await locateAt(hit.lon, hit.lat, displayCrs, { pin: hit.kind !== "grid2", unit });
    }
  }

  // ------------------------------------------------------------------ start
  window.geogridUnitsReady = loadUnits("wgs84").then((features) => {
    if (displayCrs === "wgs84") fillUnits(features);
    if (window.performance && performance.mark) performance.mark("geogrid-units");
    return features.length;
  }).catch((err) => {
    legendCount.textContent = S.units_failed;
    showStatus(S.units_failed + " " + err.message, true);
    throw err;
  });

  window.geogridIncidentsReady = loadIncidents();

  map.whenReady(() => {
    requestAnimationFrame(() => {
      document.documentElement.dataset.geogridReady = "1";
      if (window.performance && performance.mark) performance.mark("geogrid-ready");
      readyResolve(map);
    });
  });
})();
