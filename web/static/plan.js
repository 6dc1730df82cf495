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
  const scores = new Map();

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
      layer.on("click", () => {
        if (map.pm.globalDrawModeEnabled() || tool === "vertex") return;
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
    scores.clear();
    for (const r of next.workload.grids) scores.set(r.code, r.score);
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
    for (const b of document.querySelectorAll(".tools button, #undo-btn, #redo-btn, #publish-btn, #rebase-btn, #discard-btn")) {
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
    history.replaceState(null, "", `#draft=${id}`);
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
    tool = name;
    for (const b of document.querySelectorAll(".tools button")) b.classList.toggle("on", b.dataset.tool === name);
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

  for (const [id, path, message] of [["undo-btn", "undo", S.undone], ["redo-btn", "redo", S.redone]]) {
    $(id).addEventListener("click", () => busy(async () => {
      setTool(null);
      const answer = await api("POST", `/drafts/${state.draft.id}/${path}`, { revision: state.draft.revision });
      editAnswer(answer, message);
    }));
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
      history.replaceState(null, "", `#draft=${next.draft.id}`);
      say("");
    });
  });

  // ------------------------------------------------------------------ start
  busy(async () => {
    const m = /draft=(\d+)/.exec(location.hash);
    const wanted = m ? Number(m[1]) : null;
    const list = await loadList(wanted);
    const id = wanted || (list.length ? list[0].id : null);
    if (id) await load(id);
    else say(S.no_draft);
    document.body.dataset.ready = "1";
  });
})();
