/* geogrid: the planner's page. Every edit is computed by the server (/api/v1/drafts): this script
   sends what was drawn with Leaflet-Geoman and the draft's revision, and redraws from the answer.
   Text goes in with textContent only. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("plan-config").textContent);
  const S = cfg.strings;
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);

  let state = null; // the draft as the server last answered (geojson kept in `features`)
  const features = new Map(); // code -> GeoJSON feature
  let selected = []; // grid codes, in the order clicked
  let tool = null;
  let sortKey = "code";
  let sortDir = 1;
  let fitted = false;

  // ------------------------------------------------------------------ map
  const map = L.map("plan-map", { zoomSnap: 0.25 }).setView([32.11, 118.93], 13);
  window.geogridPlanMap = map; // for the browser tests (pixel positions of places)
  if (document.documentElement.lang.startsWith("zh")) map.pm.setLang("zh");
  map.pm.setGlobalOptions({ snappable: true, snapDistance: 15, allowSelfIntersection: false });

  const SCORE_CLASSES = [
    [0.6, "#d9f0d3"], [0.85, "#a6dba0"], [1.15, "#fff3b0"], [1.5, "#fdb863"], [Infinity, "#e66101"],
  ];
  const scoreColour = (s) => SCORE_CLASSES.find((c) => s < c[0])[1];
  const scores = new Map(); // code -> the chosen figure over its district mean (1 = average)
  const overridden = new Set(); // codes of units placed by hand

  function gridStyle(f) {
    const code = f.properties.code;
    const sel = selected.includes(code);
    const choro = $("choropleth").checked;
    return {
      color: sel ? "#b45309" : "#0b4f96",
      weight: sel ? 3 : 1.2,
      fillColor: sel ? "#fde047" : choro ? scoreColour(scores.get(code) || 0) : "#0b6bcb",
      fillOpacity: sel ? 0.45 : choro ? 0.75 : 0.08,
    };
  }

  const grids = L.geoJSON(null, {
    style: gridStyle,
    onEachFeature(f, layer) {
      const p = f.properties;
      layer.bindTooltip(p.code + (p.name ? " " + p.name : ""), { sticky: true });
      layer.on("click", (ev) => {
        if (map.pm.globalDrawModeEnabled() || tool === "vertex") return;
        if (tool === "edge") return pickEdge(ev.latlng);
        if (tool === "pick-unit-grid") return pickUnitGrid(p.code);
        toggle(p.code);
      });
    },
  }).addTo(map);
  const problems = L.geoJSON(null, {
    pmIgnore: true,
    snapIgnore: true,
    interactive: false,
    style: (f) => f.properties.severity === "error"
      ? { color: "#c62828", weight: 4, fillColor: "#e53935", fillOpacity: 0.45 }
      : { color: "#d97706", weight: 3, dashArray: "6 4", fillColor: "#f59e0b", fillOpacity: 0.25 },
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 6, pmIgnore: true, snapIgnore: true }),
  }).addTo(map);
  const changes = L.geoJSON(null, {
    pmIgnore: true,
    snapIgnore: true,
    interactive: false,
    style: { color: "#6d28d9", weight: 2, fillColor: "#8b5cf6", fillOpacity: 0.45 },
  }).addTo(map);

  const communities = L.geoJSON(null, {
    pmIgnore: true,
    snapIgnore: true,
    interactive: false,
    style: { color: "#102a43", weight: 3.5, fill: false, opacity: 0.85 },
    onEachFeature(f, layer) {
      layer.bindTooltip(f.properties.name || f.properties.code, {
        permanent: true, direction: "center", className: "community-label", interactive: false,
      });
    },
  }).addTo(map);
  const placed = L.layerGroup().addTo(map); // units placed by hand
  const edgeLayer = L.layerGroup().addTo(map); // the edge being dragged
  const communityFeatures = new Map();
  const showLabels = () => map.getContainer().classList.toggle("show-communities", map.getZoom() >= 12.5 && map.getZoom() < 16.5);
  map.on("zoomend", showLabels);
  showLabels();

  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    let lo = 0;
    for (const [hi, colour] of SCORE_CLASSES) {
      const row = document.createElement("div");
      const sw = document.createElement("i");
      sw.style.background = colour;
      row.append(sw, document.createTextNode(hi === Infinity ? "≥ " + lo : lo + " – " + hi));
      div.append(row);
      lo = hi;
    }
    return div;
  };

  // ------------------------------------------------------------------ talking to the server
  async function api(method, path, body) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = CSRF;
      opts.body = JSON.stringify(body || {});
    }
    const resp = await fetch(cfg.api + path, opts);
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const err = new Error((data.error && data.error.message) || resp.statusText);
      err.status = resp.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  function say(text, kind) {
    const el = $("status");
    el.textContent = text || "";
    el.className = "pmsg" + (kind ? " " + kind : "");
  }

  async function busy(fn) {
    say(S.saving);
    document.body.classList.add("busy");
    try {
      return await fn();
    } catch (err) {
      say(err.message, "error");
      if (err.status === 409 && state) await load(state.draft.id, true);
      return null;
    } finally {
      document.body.classList.remove("busy");
    }
  }

  // ------------------------------------------------------------------ drawing the state
  function render(next, retired) {
    if (!next.partial) features.clear();
    for (const code of retired || []) features.delete(code);
    for (const f of next.geojson.features) features.set(f.properties.code, f);
    state = next;
    if (!next.partial) communityFeatures.clear();
    for (const f of (next.communities || { features: [] }).features) communityFeatures.set(f.properties.code, f);
    communities.clearLayers();
    communities.addData({ type: "FeatureCollection", features: [...communityFeatures.values()] });
    computeScores();
    renderOverrides();
    vertexOwners = null;
    selected = selected.filter((c) => features.has(c));
    grids.clearLayers();
    grids.addData({ type: "FeatureCollection", features: [...features.values()] });
    if (!fitted && features.size) {
      map.fitBounds(grids.getBounds(), { padding: [10, 10] });
      fitted = true;
    }
    renderInfo();
    renderFindings(next.report);
    renderTable();
    renderSelection();
    const editable = next.draft.status === "open";
    for (const a of document.querySelectorAll("#exports a")) {
      a.href = `${cfg.api}/drafts/${next.draft.id}/export?format=${a.dataset.format}`;
    }
    for (const b of document.querySelectorAll(".tools button, #undo-btn, #redo-btn, #publish-btn, #rebase-btn, #discard-btn, form[data-edit] button")) {
      b.disabled = !editable;
    }
    $("undo-btn").disabled = !editable || !next.draft.edits.some((e) => e.active);
    $("redo-btn").disabled = !editable || !next.draft.edits.some((e) => !e.active);
    $("rebase-btn").hidden = !next.stale;
  }

  function renderInfo() {
    const el = $("draft-info");
    let text = `${S.revision} ${state.draft.revision} · ${S.base} ${state.base.number} · ${state.grids}`;
    if (state.vacant.length) text += ` · ${S.vacant}: ${state.vacant.length}`;
    if (state.stale) text += ` · ${S.stale}`;
    el.textContent = text;
    el.className = "pmsg" + (state.stale ? " error" : "");
  }

  function renderFindings(report) {
    problems.clearLayers();
    const list = $("findings");
    list.replaceChildren();
    if (report.ok && !report.notices.length) {
      const li = document.createElement("li");
      li.className = "ok";
      li.textContent = S.ok;
      list.append(li);
    }
    const head = document.createElement("li");
    head.className = report.ok ? "ok" : "error";
    head.textContent = `${report.errors.length} ${S.errors} · ${report.notices.length} ${S.notices}`
      + (report.ok ? "" : ` · ${S.blocked}`);
    if (!report.ok || report.notices.length) list.append(head);
    for (const f of [...report.errors, ...report.notices]) {
      const li = document.createElement("li");
      li.className = f.severity === "error" ? "error" : "notice";
      li.textContent = f.message;
      let layer = null;
      if (f.geometry) {
        layer = L.geoJSON({ type: "Feature", geometry: f.geometry, properties: { severity: f.severity } });
        problems.addData({ type: "Feature", geometry: f.geometry, properties: { severity: f.severity } });
      }
      li.addEventListener("click", () => {
        if (layer) map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [40, 40] });
        else if (f.codes.length) select(f.codes.filter((c) => features.has(c)), true);
      });
      list.append(li);
    }
  }

  const fmt = {
    area_km2: (v) => v.toFixed(3),
    score: (v) => v.toFixed(2),
  };

  function computeScores() {
    scores.clear();
    if (!state) return;
    const key = $("choro-key").value;
    const rows = state.workload.grids;
    const mean = rows.reduce((a, r) => a + (r[key] || 0), 0) / (rows.length || 1);
    for (const r of rows) scores.set(r.code, mean > 0 ? (r[key] || 0) / mean : 0);
  }

  function renderTable() {
    const rows = [...state.workload.grids].sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
    });
    const body = document.querySelector("#workload tbody");
    body.replaceChildren();
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.code = r.code;
      if (selected.includes(r.code)) tr.className = "sel";
      for (const th of document.querySelectorAll("#workload th")) {
        const k = th.dataset.key;
        const td = document.createElement("td");
        if (th.classList.contains("num")) td.className = "num";
        td.textContent = fmt[k] ? fmt[k](r[k]) : k === "code" ? `${r.code} ${r.name || ""}` : String(r[k]);
        if (k === "code") td.title = r.worker || "";
        tr.append(td);
      }
      tr.addEventListener("click", () => select([r.code], true));
      body.append(tr);
    }
    for (const th of document.querySelectorAll("#workload th")) {
      th.classList.toggle("sorted-asc", th.dataset.key === sortKey && sortDir > 0);
      th.classList.toggle("sorted-desc", th.dataset.key === sortKey && sortDir < 0);
    }
    const b = state.workload.balance;
    $("balance").textContent = `${S.balance}: ${b.cv.toFixed(3)} · min ${b.min.toFixed(2)} (${b.lightest || "-"}) · max ${b.max.toFixed(2)} (${b.heaviest || "-"})`;
  }

  function renderSelection() {
    $("selection").textContent = `${S.selected}: ${selected.length ? selected.join(", ") : S.none}`;
    renderGridPanel();
    grids.setStyle(gridStyle);
    for (const tr of document.querySelectorAll("#workload tbody tr")) {
      tr.classList.toggle("sel", selected.includes(tr.dataset.code));
    }
  }

  function toggle(code) {
    selected = selected.includes(code) ? selected.filter((c) => c !== code) : [...selected, code];
    renderSelection();
  }

  function select(codes, zoom) {
    selected = codes;
    renderSelection();
    if (zoom && codes.length) {
      const b = L.latLngBounds([]);
      grids.eachLayer((l) => { if (codes.includes(l.feature.properties.code)) b.extend(l.getBounds()); });
      if (b.isValid()) map.fitBounds(b, { maxZoom: 16, padding: [40, 40] });
    }
  }

  // ------------------------------------------------------------------ drafts
  async function loadList(chosen) {
    const data = await api("GET", "/drafts");
    const sel = $("draft-select");
    sel.replaceChildren();
    const first = document.createElement("option");
    first.value = "";
    first.textContent = data.drafts.length ? S.choose : S.no_draft;
    sel.append(first);
    for (const d of data.drafts) {
      const o = document.createElement("option");
      o.value = String(d.id);
      o.textContent = `#${d.id} ${d.name} (${d.created_by})`;
      sel.append(o);
    }
    if (chosen && data.drafts.some((d) => d.id === chosen)) sel.value = String(chosen);
    return data.drafts;
  }

  async function load(id, quiet) {
    if (!quiet) say(S.loading);
    const next = await api("GET", `/drafts/${id}`);
    render(next);
    $("draft-select").value = String(id);
    history.replaceState(null, "", `?draft=${id}`);
    if (!quiet) say("");
  }

  function editAnswer(answer, message) {
    const retired = answer.result ? answer.result.retired : [];
    render(answer.state, answer.state.partial ? retired : null);
    if (answer.result && answer.result.created.length && answer.state.partial) {
      select(answer.result.created.filter((c) => features.has(c)));
    }
    const notes = answer.result ? answer.result.notes.join(" ") : "";
    const errs = answer.check && !answer.check.ok ? ` ${answer.check.errors.length} ${S.errors}` : "";
    say(`${message} ${notes}${errs}`.trim(), errs ? "error" : "ok");
  }

  function sendEdit(edit) {
    return busy(async () => {
      const answer = await api("POST", `/drafts/${state.draft.id}/edits`, { ...edit, revision: state.draft.revision });
      editAnswer(answer, S.done);
      return true;
    });
  }

  // ------------------------------------------------------------------ tools
  let dragFrom = null;
  let editing = null;

  function setTool(name) {
    if (map.pm.globalDrawModeEnabled()) map.pm.disableDraw();
    if (editing) {
      editing.pm.disable();
      editing = null;
    }
    edgeLayer.clearLayers();
    tool = name;
    for (const b of document.querySelectorAll(".tools button")) {
      if (b.dataset.tool !== "unit") b.classList.toggle("on", b.dataset.tool === name);
    }
  }

  const round = (v) => Math.round(v * 1e7) / 1e7;

  map.on("pm:create", (e) => {
    const line = e.layer.getLatLngs().map((p) => [round(p.lng), round(p.lat)]);
    e.layer.remove();
    const which = tool;
    setTool(null);
    if (which === "split") sendEdit({ kind: "split", code: selected[0], line });
    else if (which === "boundary") sendEdit({ kind: "move_boundary", line });
  });

  function startTool(name) {
    if (!state || state.draft.status !== "open") return;
    if (tool === name) return setTool(null);
    setTool(null);
    if (name === "split") {
      if (selected.length !== 1) return say(S.select_one, "error");
      setTool(name);
      map.pm.enableDraw("Line", { snappable: true, snapDistance: 15 });
      say(S.draw_split);
    } else if (name === "boundary") {
      setTool(name);
      map.pm.enableDraw("Line", { snappable: true, snapDistance: 15 });
      say(S.draw_boundary);
    } else if (name === "merge") {
      if (selected.length < 2) return say(S.select_two, "error");
      sendEdit({ kind: "merge", codes: selected });
    } else if (name === "edge") {
      if (selected.length !== 1) return say(S.select_one, "error");
      setTool(name);
      say(S.edge_hint);
    } else if (name === "unit") {
      const panel = $("unit-panel");
      panel.hidden = !panel.hidden;
      $("tool-unit").classList.toggle("on", !panel.hidden);
      if (!panel.hidden) $("unit-q").focus();
    } else if (name === "vertex") {
      if (selected.length !== 1) return say(S.select_one, "error");
      let layer = null;
      grids.eachLayer((l) => { if (l.feature.properties.code === selected[0]) layer = l; });
      if (!layer) return;
      setTool(name);
      editing = layer;
      layer.pm.enable({ snappable: true, hideMiddleMarkers: true, draggable: false, allowSelfIntersection: false });
      layer.on("pm:markerdragstart", (ev) => { dragFrom = ev.markerEvent.target.getLatLng(); });
      layer.on("pm:markerdragend", (ev) => {
        const to = ev.markerEvent.target.getLatLng();
        const from = dragFrom;
        setTool(null);
        if (!from) return;
        sendEdit({ kind: "drag_vertex", source: [round(from.lng), round(from.lat)], target: [round(to.lng), round(to.lat)] })
          .then(() => { if (!state || features.size) grids.setStyle(gridStyle); });
      });
      say(S.drag_hint);
    }
  }

  for (const b of document.querySelectorAll(".tools button")) {
    b.addEventListener("click", () => startTool(b.dataset.tool));
  }
  $("clear-btn").addEventListener("click", () => { setTool(null); select([]); say(""); });
  $("side-toggle").addEventListener("click", () => {
    const side = $("plan-side");
    const closed = side.classList.toggle("collapsed");
    $("side-toggle").setAttribute("aria-expanded", String(!closed));
    setTimeout(() => map.invalidateSize(), 0);
  });

  for (const [id, path, message] of [["undo-btn", "undo", S.undone], ["redo-btn", "redo", S.redone]]) {
    $(id).addEventListener("click", () => busy(async () => {
      setTool(null);
      const answer = await api("POST", `/drafts/${state.draft.id}/${path}`, { revision: state.draft.revision });
      editAnswer(answer, message);
    }));
  }

  // ------------------------------------------------------------------ the selected grid's forms
  const props = (code) => (features.get(code) || { properties: {} }).properties;
  const key = (c) => c[0].toFixed(7) + "," + c[1].toFixed(7);

  function rings(f) {
    const g = f.geometry;
    if (!g) return [];
    return g.type === "Polygon" ? g.coordinates : g.type === "MultiPolygon" ? g.coordinates.flat() : [];
  }

  let vertexOwners = null; // "lon,lat" -> Set of grid codes having that vertex
  function owners() {
    if (vertexOwners) return vertexOwners;
    vertexOwners = new Map();
    for (const [code, f] of features) {
      for (const ring of rings(f)) {
        for (const c of ring) {
          const k = key(c);
          if (!vertexOwners.has(k)) vertexOwners.set(k, new Set());
          vertexOwners.get(k).add(code);
        }
      }
    }
    return vertexOwners;
  }

  function neighbourCommunities(code) {
    const mine = props(code).parent;
    const own = owners();
    const out = new Set();
    for (const ring of rings(features.get(code))) {
      for (const c of ring) {
        for (const other of own.get(key(c)) || []) {
          const p = props(other).parent;
          if (p && p !== mine) out.add(p);
        }
      }
    }
    return [...out].sort();
  }

  function communityName(code) {
    const f = communityFeatures.get(code);
    return (f && f.properties.name) || code;
  }

  function renderGridPanel() {
    const panel = $("grid-panel");
    const one = selected.length === 1 && state && features.has(selected[0]) ? selected[0] : null;
    panel.hidden = !one;
    if (!one) return;
    const p = props(one);
    $("grid-title").textContent = `${one} ${p.name || ""} · ${communityName(p.parent)}`;
    const rename = document.querySelector("form[data-edit=rename] [name=name]");
    if (rename.dataset.code !== one) {
      for (const m of document.querySelectorAll("#grid-panel .fmsg")) { m.textContent = ""; m.className = "pmsg fmsg"; }
      rename.value = p.name || "";
      document.querySelector("form[data-edit=recode] [name=new_code]").value = "";
      document.querySelector("form[data-edit=set_worker] [name=name]").value = p.worker || "";
      document.querySelector("form[data-edit=set_worker] [name=phone]").value = p.worker_phone || "";
    }
    rename.dataset.code = one;
    $("recode-rule").textContent = S.recode_rule.replace("{community}", p.parent || "");
    const sel = document.querySelector("form[data-edit=move_grid] [name=community]");
    sel.replaceChildren();
    const near = neighbourCommunities(one);
    for (const c of near) {
      const o = document.createElement("option");
      o.value = c;
      o.textContent = `${communityName(c)} (${c})`;
      sel.append(o);
    }
    if (!near.length) {
      const o = document.createElement("option");
      o.value = "";
      o.textContent = S.no_neighbour;
      sel.append(o);
    }
  }

  function fieldsOf(form) {
    const kind = form.dataset.edit;
    const v = (n) => form.querySelector(`[name=${n}]`).value.trim();
    if (kind === "move_unit") return { kind, unit: unitChosen && unitChosen.code, grid: v("grid"), reason: v("reason") };
    const code = selected[0];
    if (kind === "rename") return { kind, code, name: v("name") };
    if (kind === "recode") return { kind, code, new_code: v("new_code") };
    if (kind === "set_worker") return { kind, code, name: v("name") || null, phone: v("phone") || null };
    if (kind === "move_grid") return { kind, code, community: v("community") };
    return null;
  }

  for (const form of document.querySelectorAll("form[data-edit]")) {
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!state || state.draft.status !== "open") return;
      const msg = form.querySelector(".fmsg");
      const edit = fieldsOf(form);
      if (!edit || (edit.kind !== "move_unit" && selected.length !== 1)) {
        msg.textContent = S.select_grid;
        msg.className = "pmsg fmsg error";
        return;
      }
      setTool(null);
      const ok = await sendEdit(edit);
      msg.textContent = ok ? S.done : $("status").textContent;
      msg.className = "pmsg fmsg " + (ok ? "ok" : "error");
      if (ok && edit.kind === "move_unit") showUnit(unitChosen);
    });
  }

  // ------------------------------------------------------------------ moving a unit
  let unitChosen = null; // {code, name, lon, lat}
  let unitMarker = null;

  function inRing(pt, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > pt[1]) !== (yj > pt[1]) && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function gridAt(pt) {
    for (const [code, f] of features) {
      const g = f.geometry;
      const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const poly of polys) {
        if (inRing(pt, poly[0]) && !poly.slice(1).some((h) => inRing(pt, h))) return code;
      }
    }
    return null;
  }

  function unitGrid(u) {
    const o = (state.overrides || []).find((x) => x.code === u.code);
    return o ? { grid: o.grid, reason: o.reason } : { grid: gridAt([u.lon, u.lat]), reason: null };
  }

  function showUnit(u) {
    unitChosen = u;
    const form = $("unit-form");
    form.hidden = !u;
    if (unitMarker) unitMarker.remove();
    if (!u) return;
    const where = unitGrid(u);
    $("unit-where").textContent = `${u.code} ${u.name || ""} · ${S.in_grid} ${where.grid || S.none}`
      + (where.reason ? ` · ${S.by_hand}: ${where.reason}` : "");
    const sel = $("unit-grid");
    const keep = sel.value;
    sel.replaceChildren();
    for (const code of [...features.keys()].sort()) {
      const o = document.createElement("option");
      o.value = code;
      o.textContent = `${code} ${props(code).name || ""}`;
      sel.append(o);
    }
    if (keep && features.has(keep) && keep !== where.grid) sel.value = keep;
    else if (where.grid) sel.value = where.grid;
    unitMarker = L.circleMarker([u.lat, u.lon], { radius: 8, color: "#7c2d12", weight: 3, fillColor: "#f97316", fillOpacity: 0.9, pmIgnore: true, snapIgnore: true, interactive: false }).addTo(map);
    map.setView([u.lat, u.lon], Math.max(map.getZoom(), 16));
  }

  function pickUnitGrid(code) {
    $("unit-grid").value = code;
    setTool(null);
    $("unit-pick").classList.remove("on");
    say(`${S.target_grid}: ${code}`, "ok");
  }

  $("unit-pick").addEventListener("click", () => {
    if (tool === "pick-unit-grid") { setTool(null); $("unit-pick").classList.remove("on"); return; }
    setTool("pick-unit-grid");
    $("unit-pick").classList.add("on");
    say(S.pick_grid);
  });

  $("unit-search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("unit-q").value.trim();
    if (!q) return;
    busy(async () => {
      const out = await api("GET", `/units?q=${encodeURIComponent(q)}&limit=20`);
      const list = $("unit-hits");
      list.replaceChildren();
      if (!out.features.length) {
        const li = document.createElement("li");
        li.textContent = S.no_unit;
        list.append(li);
      }
      for (const f of out.features) {
        const u = { code: f.properties.code, name: f.properties.name, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] };
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "link";
        b.textContent = `${u.code} ${u.name || ""}`;
        b.addEventListener("click", () => { list.replaceChildren(); showUnit(u); });
        li.append(b);
        if (f.properties.address) li.append(document.createTextNode(` · ${f.properties.address}`));
        list.append(li);
      }
      say("");
    });
  });

  function renderOverrides() {
    placed.clearLayers();
    overridden.clear();
    const list = $("overrides");
    list.replaceChildren();
    for (const o of state.overrides || []) {
      overridden.add(o.code);
      const m = L.marker([o.lat, o.lon], {
        icon: L.divIcon({ className: "placed-unit", iconSize: [14, 14] }),
        pmIgnore: true, snapIgnore: true, keyboard: false,
      });
      m.bindTooltip(`${o.code} ${o.name || ""} → ${o.grid} (${o.reason})`);
      placed.addLayer(m);
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = `${o.code} ${o.name || ""} → ${o.grid}`;
      b.addEventListener("click", () => { $("unit-panel").hidden = false; showUnit(o); });
      li.append(b, document.createTextNode(` · ${o.reason}`));
      list.append(li);
    }
    if (!list.children.length) {
      const li = document.createElement("li");
      li.textContent = S.none;
      list.append(li);
    }
    if (unitChosen && !$("unit-form").hidden) {
      const where = unitGrid(unitChosen);
      $("unit-where").textContent = `${unitChosen.code} ${unitChosen.name || ""} · ${S.in_grid} ${where.grid || S.none}`
        + (where.reason ? ` · ${S.by_hand}: ${where.reason}` : "");
    }
  }

  // ------------------------------------------------------------------ dragging a whole edge
  const M_PER_DEG = 111320;

  function edgeRun(code, latlng) {
    // the nearest segment of the grid (in pixels), then along it while the same neighbour shares it
    const click = map.latLngToLayerPoint(latlng);
    let best = null;
    for (const ring of rings(features.get(code))) {
      const pts = ring.slice(0, -1);
      for (let i = 0; i < pts.length; i++) {
        const a = map.latLngToLayerPoint([pts[i][1], pts[i][0]]);
        const b = map.latLngToLayerPoint([pts[(i + 1) % pts.length][1], pts[(i + 1) % pts.length][0]]);
        const d = L.LineUtil.pointToSegmentDistance(click, a, b);
        if (!best || d < best.d) best = { d, pts, i };
      }
    }
    if (!best || best.d > 18) return { error: S.edge_near };
    const own = owners();
    const { pts, i } = best;
    const n = pts.length;
    const at = (k) => own.get(key(pts[((k % n) + n) % n])) || new Set();
    const shared = [...at(i)].filter((c) => c !== code && at(i + 1).has(c));
    if (!shared.length) return { error: S.edge_outline };
    const other = shared[0];
    let lo = i, hi = i + 1;
    while (hi - lo < n && at(hi).size === 2 && at(hi + 1).has(other)) hi++;
    while (hi - lo < n && at(lo).size === 2 && at(lo - 1).has(other)) lo--;
    // an end shared by the two grids only lies on the district outline: it stays
    if (at(hi).size === 2) hi--;
    if (at(lo).size === 2) lo++;
    if (hi <= lo) return { error: S.edge_outline };
    const run = [];
    for (let k = lo; k <= hi; k++) run.push(pts[((k % n) + n) % n]);
    return { run, other };
  }

  function pickEdge(latlng) {
    const code = selected[0];
    edgeLayer.clearLayers();
    const found = edgeRun(code, latlng);
    if (found.error) return say(found.error, "error");
    const { run, other } = found;
    const line = L.polyline(run.map((c) => [c[1], c[0]]), { color: "#dc2626", weight: 6, opacity: 0.9, pmIgnore: true, snapIgnore: true, interactive: false });
    edgeLayer.addLayer(line);
    const mid = run.length % 2 ? run[(run.length - 1) / 2]
      : [(run[run.length / 2 - 1][0] + run[run.length / 2][0]) / 2, (run[run.length / 2 - 1][1] + run[run.length / 2][1]) / 2];
    const from = L.latLng(mid[1], mid[0]);
    const handle = L.marker(from, {
      draggable: true, pmIgnore: true, snapIgnore: true, autoPan: false,
      icon: L.divIcon({ className: "edge-handle", iconSize: [20, 20] }),
    });
    edgeLayer.addLayer(handle);
    handle.on("drag", () => {
      const to = handle.getLatLng();
      const dlat = to.lat - from.lat, dlng = to.lng - from.lng;
      line.setLatLngs(run.map((c) => [c[1] + dlat, c[0] + dlng]));
    });
    handle.on("dragend", () => {
      const to = handle.getLatLng();
      const dx = (to.lng - from.lng) * M_PER_DEG * Math.cos((from.lat * Math.PI) / 180);
      const dy = (to.lat - from.lat) * M_PER_DEG;
      setTool(null);
      sendEdit({
        kind: "drag_edge", code, neighbour: other, start: run[0], end: run[run.length - 1],
        offset: [Math.round(dx * 100) / 100, Math.round(dy * 100) / 100],
      });
    });
    say(`${S.edge_drag} ${code} / ${other} (${run.length - 1})`);
  }

  // ------------------------------------------------------------------ tabs, table, impact, publish
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => {
      for (const o of document.querySelectorAll(".tabs button")) o.classList.toggle("on", o === b);
      for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== `tab-${b.dataset.tab}`;
    });
  }
  for (const th of document.querySelectorAll("#workload th")) {
    th.addEventListener("click", () => {
      sortDir = sortKey === th.dataset.key ? -sortDir : th.dataset.key === "code" ? 1 : -1;
      sortKey = th.dataset.key;
      renderTable();
    });
  }
  $("choro-key").addEventListener("change", () => {
    computeScores();
    if (!$("choropleth").checked) $("choropleth").checked = true;
    $("choropleth").dispatchEvent(new Event("change"));
  });
  $("choropleth").addEventListener("change", () => {
    grids.setStyle(gridStyle);
    if ($("choropleth").checked) legend.addTo(map);
    else legend.remove();
  });

  function para(parent, text, cls) {
    const p = document.createElement("p");
    p.className = "pmsg" + (cls ? " " + cls : "");
    p.textContent = text;
    parent.append(p);
    return p;
  }

  $("impact-btn").addEventListener("click", () => busy(async () => {
    const out = await api("GET", `/drafts/${state.draft.id}/impact`);
    const box = $("impact");
    box.replaceChildren();
    changes.clearLayers();
    changes.addData(out.areas);
    const s = out.summary;
    para(box, `${S.impact_units}: ${s.units} · ${S.impact_incidents}: ${s.incidents} · ${S.impact_area}: ${Math.round(s.area_m2)}`);
    const ul = document.createElement("ul");
    for (const g of out.grids) {
      const li = document.createElement("li");
      const status = S[g.status] || g.status;
      const delta = Math.round(g.area_change_m2);
      li.textContent = `${g.code} ${g.name || ""} · ${status} · ${delta > 0 ? "+" : ""}${delta} m²`;
      ul.append(li);
    }
    para(box, `${S.impact_grids}: ${s.grids}`);
    box.append(ul);
    const units = document.createElement("ul");
    for (const u of out.units.slice(0, 50)) {
      const li = document.createElement("li");
      li.textContent = `${u.code} ${u.name || ""}: ${u.from_grid} → ${u.to_grid}`;
      units.append(li);
    }
    if (out.units.length) {
      para(box, `${S.impact_units}:`);
      box.append(units);
    }
    if (changes.getLayers().length) map.fitBounds(changes.getBounds(), { maxZoom: 16, padding: [40, 40] });
    say("");
  }));

  $("publish-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const message = $("publish-msg").value.trim();
    const result = $("publish-result");
    if (!message) {
      result.textContent = S.need_message;
      result.className = "pmsg error";
      return;
    }
    busy(async () => {
      try {
        const out = await api("POST", `/drafts/${state.draft.id}/publish`, { message, revision: state.draft.revision });
        result.textContent = `${S.published} ${out.version.number}: ${out.units_moved} ${S.units_moved}, ${out.incidents_moved} ${S.incidents_moved}`
          + (out.vacant.length ? ` · ${S.vacant}: ${out.vacant.join(", ")}` : "");
        result.className = "pmsg ok";
        $("publish-msg").value = "";
        await load(state.draft.id, true);
        await loadList(null);
        say(result.textContent, "ok");
      } catch (err) {
        result.textContent = err.message;
        result.className = "pmsg error";
        if (err.body && err.body.error && err.body.error.report) renderFindings(err.body.error.report);
        throw err;
      }
    });
  });

  $("rebase-btn").addEventListener("click", () => busy(async () => {
    const out = await api("POST", `/drafts/${state.draft.id}/rebase`, { revision: state.draft.revision });
    render(out.state);
    say(`${S.rebased} ${out.to_version} · ${out.conflicts.length} ${S.conflicts}`, out.conflicts.length ? "error" : "ok");
  }));

  $("discard-btn").addEventListener("click", () => {
    if (!state || !window.confirm(S.confirm_discard)) return;
    busy(async () => {
      await api("POST", `/drafts/${state.draft.id}/discard`, { revision: state.draft.revision });
      await load(state.draft.id, true);
      await loadList(null);
      say(S.discarded, "ok");
    });
  });

  $("draft-select").addEventListener("change", (e) => {
    const id = Number(e.target.value);
    if (id) busy(() => load(id));
  });

  $("new-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("new-name").value.trim();
    if (!name) return say(S.need_name, "error");
    busy(async () => {
      const next = await api("POST", "/drafts", { name });
      $("new-name").value = "";
      await loadList(next.draft.id);
      render(next);
      history.replaceState(null, "", `?draft=${next.draft.id}`);
      say("");
    });
  });

  // ------------------------------------------------------------------ start
  busy(async () => {
    const m = /[?&]draft=(\d+)/.exec(location.search) || /draft=(\d+)/.exec(location.hash);
    const wanted = m ? Number(m[1]) : null;
    const list = await loadList(wanted);
    const id = wanted || (list.length ? list[0].id : null);
    if (id) await load(id);
    else {
      // no draft yet: the current grids, to look at before opening one
      say(S.no_draft);
      const current = await api("GET", "/grids?level=2&simplify=2");
      grids.addData(current);
      if (current.features.length) { map.fitBounds(grids.getBounds(), { padding: [10, 10] }); fitted = true; }
    }
    document.body.dataset.ready = "1";
  });
})();
