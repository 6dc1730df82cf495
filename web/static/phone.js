/* geogrid: the grid worker's phone page (/m/).
 *
 * A thin client of /api/v1: the task list is GET /api/v1/incidents (the open incidents of the
 * worker's grid, with distance_m from the phone's position: the server converts GCJ-02 exactly
 * and measures in EPSG:4549), the steps are POST /api/v1/incidents/<id>/actions (photos:
 * multipart) and /photos. Buttons are only those the server lists in each incident's `actions`.
 *
 * Live: GeogridLive (live.js) on /api/v1/events (Server-Sent Events: `incident` events, `reset`,
 * resumed from the last id after a drop); every event refetches the list; a task newly
 * dispatched to the grid shows a banner and GeogridLive.signal() vibrates and beeps (after the
 * first touch, which browsers require for sound). A browser without EventSource polls the list
 * every cfg.poll_seconds.
 *
 * Offline: the last list is kept in localStorage and shown with its time; a step taken offline
 * (photos included) is queued in IndexedDB, shown as waiting, and sent in order once online,
 * each answer shown (a refused one with the server's message, kept until dismissed). Without
 * IndexedDB an offline step is refused with a message, never dropped.
 *
 * Position: the browser's geolocation (WGS-84). An AMap-based shell opens /m/?geo=gcj02 when its
 * geolocation reports GCJ-02, or calls window.geogridPhone.setPosition(lon, lat, "gcj02").
 *
 * Text is written with textContent only. <html data-phone-ready="1"> once the first list is shown;
 * data-live is "connecting", "sse", "reconnecting" or "polling". Performance marks: "phone-tasks"
 * (the first list from the network), "phone-map" (the first card's map drawn).
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("phone-config").textContent);
  const S = cfg.strings;
  const root = document.documentElement;
  const STORE = "geogrid.phone." + cfg.user + ".";
  const TABS = ["new", "soon", "overdue", "revisit", "all"];
  const OPEN_STATES = "dispatched,handling,escalated,resolved";
  const LIMIT = 200;
  const SHOWN_ACTIONS = ["accept", "revisit", "resolve", "escalate", "photo"];
  const locale = cfg.lang === "zh" ? "zh-CN" : "en-GB";

  const state = {
    rows: null, total: 0, fetchedAt: null,
    tab: localStorage.getItem(STORE + "tab") || "new",
    sort: localStorage.getItem(STORE + "sort") || "deadline",
    position: null, positionError: false, fetchedWith: null,
    online: navigator.onLine, live: "connecting", everLive: false, expired: false,
    outbox: [], results: [], mine: new Set(), seen: [],
  };
  let csrf = document.querySelector("meta[name=csrf-token]").content;

  // ------------------------------------------------------------------ helpers
  const { fmt, el } = window.GeogridDom;  // dom.js

  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(locale, {
      timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    });
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString(locale, { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit" });
  }

  function load(key, fallback) {
    try {
      const v = localStorage.getItem(STORE + key);
      return v === null ? fallback : JSON.parse(v);
    } catch (err) { return fallback; }
  }

  function save(key, value) {
    try { localStorage.setItem(STORE + key, JSON.stringify(value)); } catch (err) { /* full: keep going */ }
  }

  class NetworkError extends Error {}
  class ServerError extends NetworkError {}  // 5xx: try again later, the network is fine
  class ExpiredError extends Error {}
  class ApiError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }

  async function call(url, options) {
    let resp;
    try {
      resp = await fetch(url, Object.assign({ credentials: "same-origin", redirect: "manual" }, options));
    } catch (err) {
      throw new NetworkError(S.network_error);
    }
    if (resp.type === "opaqueredirect" || resp.status === 401) throw new ExpiredError(S.expired);
    let body = null;
    try { body = await resp.json(); } catch (err) { body = null; }
    if (!resp.ok) {
      const message = body && body.error && body.error.message ? body.error.message : resp.status + " " + resp.statusText;
      if (resp.status >= 500) throw new ServerError(message);
      throw new ApiError(message, resp.status);
    }
    return body;
  }

  function actionLabel(action) { return S.actions[action] || action; }

  // ------------------------------------------------------------------ the outbox (IndexedDB)
  const DB_NAME = "geogrid-phone";
  let dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore("outbox", { keyPath: "key", autoIncrement: true });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    }
    return dbPromise;
  }

  async function tx(mode, work) {
    const conn = await db();
    return new Promise((resolve, reject) => {
      const t = conn.transaction("outbox", mode);
      const req = work(t.objectStore("outbox"));
      t.oncomplete = () => resolve(req ? req.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }

  async function loadOutbox() {
    try {
      const all = await tx("readonly", (s) => s.getAll());
      state.outbox = (all || []).filter((item) => item.user === cfg.user).sort((a, b) => a.key - b.key);
    } catch (err) { state.outbox = []; }
  }

  async function enqueue(item) {
    item.user = cfg.user;
    item.key = await tx("readwrite", (s) => s.add(item));
    state.outbox.push(item);
  }

  async function dequeue(item) {
    await tx("readwrite", (s) => s.delete(item.key));
    state.outbox = state.outbox.filter((x) => x.key !== item.key);
  }

  // ------------------------------------------------------------------ sending steps
  function request(item) {
    const base = cfg.urls.incident + item.incident_id;
    const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    const files = item.files || [];
    if (item.action === "photo" || files.length) {
      const form = new FormData();
      if (item.action !== "photo") form.append("action", item.action);
      for (const [k, v] of Object.entries(item.fields || {})) form.append(k, v);
      files.forEach((f, i) => form.append("photos", f, f.name || "photo-" + (i + 1) + ".jpg"));
      const url = item.action === "photo" ? base + "/photos" : base + "/actions";
      return call(url, { method: "POST", headers, body: form });
    }
    headers["Content-Type"] = "application/json";
    const body = JSON.stringify(Object.assign({ action: item.action }, item.fields || {}));
    return call(base + "/actions", { method: "POST", headers, body });
  }

  /* Take a step: sent now, or queued when offline (or behind steps still queued, to keep their
   * order). Returns "sent" or "queued"; throws ApiError (the server refused: shown in the sheet). */
  async function takeStep(item) {
    state.mine.add(item.incident_id);
    if (state.online && state.outbox.length === 0) {
      try {
        await request(item);
        toast(fmt(S.done, { id: item.incident_id, what: actionLabel(item.action) }));
        scheduleRefresh();
        return "sent";
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        if (!(err instanceof ServerError)) setOnline(false);
      }
    }
    try {
      await enqueue(item);
    } catch (err) {
      throw new ApiError(S.network_error);  // no storage: refused, never dropped
    }
    toast(S.queued);
    renderOutbox();
    render();
    if (state.online) flush();  // behind others still waiting (a flush may be under way)
    return "queued";
  }

  let flushing = false;

  async function flush() {
    if (flushing || state.outbox.length === 0 || !state.online) return;
    flushing = true;
    try {
      const me = await call(cfg.urls.state, { headers: { Accept: "application/json" } });
      csrf = me.csrf_token;
      while (state.outbox.length) {
        const item = state.outbox[0];
        showOutboxSending(item);
        let result;
        try {
          await request(item);
          result = { ok: true, id: item.incident_id, what: actionLabel(item.action) };
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;  // network, login: keep it for later
          result = { ok: false, id: item.incident_id, what: actionLabel(item.action), message: err.message };
        }
        await dequeue(item);
        state.results.push(result);
        if (result.ok) forgetLater(result);
        save("results", state.results);
        renderOutbox();
      }
    } catch (err) {
      if (err instanceof ExpiredError) setExpired(true);
      else if (err instanceof NetworkError && !(err instanceof ServerError)) setOnline(false);
    } finally {
      flushing = false;
      renderOutbox();
      render();
    }
    scheduleRefresh();
  }

  // ------------------------------------------------------------------ the task list
  let inflight = false;
  let again = false;
  let refreshTimer = null;

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 120);
  }

  async function refresh() {
    if (inflight) { again = true; return; }
    inflight = true;
    const params = new URLSearchParams({ state: OPEN_STATES, limit: String(LIMIT), sort: "due_at" });
    const pos = state.position;
    if (pos) {
      params.set("near", pos.lon.toFixed(7) + "," + pos.lat.toFixed(7));
      params.set("crs", pos.crs);
    }
    try {
      const body = await call(cfg.urls.incidents + "?" + params, { headers: { Accept: "application/json" } });
      const before = state.rows;
      state.rows = body.incidents;
      state.total = body.total;
      state.fetchedAt = Date.now();
      state.fetchedWith = pos;
      save("list", { rows: state.rows, total: state.total, at: state.fetchedAt });
      if (!performance.getEntriesByName("phone-tasks").length) performance.mark("phone-tasks");
      setExpired(false);
      setOnline(true);
      if (state.live === "polling" && before) announceNewSince(before);
    } catch (err) {
      if (err instanceof ExpiredError) setExpired(true);
      else if (err instanceof ServerError) toast(err.message);
      else if (err instanceof NetworkError) setOnline(false);
      else toast(err.message);
    } finally {
      inflight = false;
    }
    render();
    root.dataset.phoneReady = "1";
    if (again) { again = false; scheduleRefresh(); }
  }

  function inTab(r, tab) {
    if (tab === "new") return r.state === "dispatched";
    if (tab === "soon") return r.due_soon;
    if (tab === "overdue") return r.overdue;
    if (tab === "revisit") return r.revisit_due;
    return true;
  }

  function sortKey(r) {
    const t = r.state === "resolved" ? r.revisit_due_at : r.deadline;
    return t ? Date.parse(t) : Infinity;
  }

  function sorted(rows) {
    const copy = rows.slice();
    if (state.sort === "near" && copy.some((r) => typeof r.distance_m === "number")) {
      copy.sort((a, b) => (a.distance_m ?? Infinity) - (b.distance_m ?? Infinity));
    } else {
      copy.sort((a, b) => sortKey(a) - sortKey(b) || a.id - b.id);
    }
    return copy;
  }

  // ------------------------------------------------------------------ drawing
  const list = document.getElementById("ph-list");
  const maps = [];
  let observer = null;

  function render() {
    state.renders = (state.renders || 0) + 1;
    const rows = state.rows || [];
    for (const tab of TABS) {
      const btn = document.getElementById("tab-" + tab);
      btn.querySelector(".ph-tab-label").textContent = S.tabs[tab];
      const n = rows.filter((r) => inTab(r, tab)).length;
      const badge = btn.querySelector(".ph-badge");
      badge.textContent = String(n);
      badge.dataset.count = String(n);
      btn.classList.toggle("ph-urgent", tab === "overdue" && n > 0);
      btn.setAttribute("aria-selected", String(tab === state.tab));
    }
    document.getElementById("ph-updated").textContent = state.fetchedAt ? fmt(S.updated, { when: clock(state.fetchedAt) }) : "";
    const sortBox = document.getElementById("ph-sort");
    sortBox.hidden = !rows.some((r) => typeof r.distance_m === "number");
    for (const b of sortBox.querySelectorAll("button")) {
      b.textContent = b.dataset.sort === "near" ? S.nearest : S.by_deadline;
      b.setAttribute("aria-pressed", String(b.dataset.sort === state.sort));
    }
    renderBanner();

    while (maps.length) maps.pop().remove();
    if (observer) observer.disconnect();
    list.replaceChildren();
    if (state.rows === null) {
      list.append(el("p", "ph-empty", S.never));
      return;
    }
    const shown = sorted(rows.filter((r) => inTab(r, state.tab)));
    if (!shown.length) list.append(el("p", "ph-empty", S.empty[state.tab]));
    observer = "IntersectionObserver" in window ? new IntersectionObserver(drawVisibleMaps, { rootMargin: "200px" }) : null;
    for (const r of shown) list.append(card(r));
    if (state.total > rows.length) list.append(el("p", "ph-empty", fmt(S.more, { n: rows.length, total: state.total })));
  }

  function card(r) {
    const node = el("article", "ph-card");
    node.dataset.id = String(r.id);
    node.dataset.state = r.state;
    if (r.overdue) node.classList.add("ph-overdue");
    else if (r.due_soon) node.classList.add("ph-soon");

    const head = el("header", "ph-card-head");
    const cat = r.category_name ? (cfg.lang === "zh" ? r.category_name.zh : r.category_name.en) : r.category;
    const link = el("a", "ph-id", "#" + r.id);
    link.href = cfg.urls.desktop_incident + r.id;  // the full page: log, photos
    head.append(el("span", "ph-cat", cat), link);
    node.append(head);

    const line = el("div", "ph-line");
    line.append(el("span", "ph-state ph-st-" + r.state, S.states[r.state] || r.state));
    const due = r.state === "resolved" ? r.revisit_due_at : r.deadline;
    if (due) {
      const text = r.state === "resolved" ? S.revisit_by : r.overdue ? S.overdue_by : S.deadline;
      line.append(el("span", "ph-due" + (r.overdue ? " ph-due-over" : r.due_soon ? " ph-due-soon" : ""), fmt(text, { when: when(due) })));
    }
    node.append(line);

    if (r.description) node.append(el("p", "ph-desc", r.description));
    if (r.address) node.append(el("p", "ph-addr", r.address));

    const where = el("div", "ph-where");
    const mapBox = el("div", "ph-map");
    mapBox.dataset.lon = String(r.lon);
    mapBox.dataset.lat = String(r.lat);
    where.append(mapBox);
    const dist = el("p", "ph-dist");
    if (typeof r.distance_m === "number") {
      dist.textContent = r.distance_m < 1000
        ? fmt(S.distance_m, { m: Math.round(r.distance_m) })
        : fmt(S.distance_km, { km: (r.distance_m / 1000).toFixed(1) });
    } else {
      dist.textContent = state.positionError || !navigator.geolocation ? S.no_position : S.locating;
      dist.classList.add("ph-muted");
    }
    where.append(dist);
    node.append(where);
    if (observer) observer.observe(mapBox); else drawMap(mapBox);

    if (r.reporter_contact) {
      const tel = r.reporter_contact.replace(/[^0-9+]/g, "");
      const call = el("a", "ph-call");
      call.href = "tel:" + tel;
      call.textContent = fmt(S.call, { who: (r.reporter ? r.reporter + " " : "") + r.reporter_contact });
      node.append(call);
    }

    const waiting = state.outbox.filter((x) => x.incident_id === r.id);
    for (const w of waiting) node.append(el("p", "ph-pending", fmt(S.pending, { what: actionLabel(w.action) })));

    // the server's steps, the likeliest next one first and largest
    const actions = SHOWN_ACTIONS.filter((a) => (r.actions || []).includes(a));
    if (actions.length && !waiting.length) {  // while a step waits, the server's state is unknown
      const bar = el("div", "ph-actions");
      for (const a of actions) {
        const b = el("button", "ph-btn" + (a === actions[0] ? " ph-primary ph-main" : ""), actionLabel(a));
        b.type = "button";
        b.dataset.action = a;
        b.addEventListener("click", () => (a === "accept" ? accept(r, b) : openSheet(r, a)));
        bar.append(b);
      }
      node.append(bar);
    }
    return node;
  }

  function drawVisibleMaps(entries) {
    for (const e of entries) {
      if (e.isIntersecting) {
        observer.unobserve(e.target);
        drawMap(e.target);
      }
    }
  }

  function drawMap(box) {
    if (!window.L) return;
    const map = L.map(box, {
      zoomSnap: 0.1, zoomControl: false, attributionControl: false, dragging: false, touchZoom: false,
      scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false, tap: false,
    });
    const point = [Number(box.dataset.lat), Number(box.dataset.lon)];
    const bounds = L.latLngBounds([point, point]);
    const outline = cfg.grid.outline
      ? L.geoJSON(cfg.grid.outline, { style: { color: "#0f2742", weight: 2, fillColor: "#9fb3c8", fillOpacity: 0.18 }, interactive: false })
      : null;
    if (outline) bounds.extend(outline.getBounds());
    map.fitBounds(bounds, { padding: [8, 8], maxZoom: 17 });  // a view first: then the layers
    if (!performance.getEntriesByName("phone-map").length) performance.mark("phone-map");
    if (outline) outline.addTo(map);
    L.circleMarker(point, { radius: 8, color: "#fff", weight: 3, fillColor: "#d93025", fillOpacity: 1, interactive: false }).addTo(map);
    maps.push(map);
  }

  // ------------------------------------------------------------------ banners, toasts, outbox
  const banner = document.getElementById("ph-banner");

  function renderBanner() {
    let text = null;
    let kind = "warn";
    if (state.expired) {
      banner.replaceChildren(el("span", null, S.expired + " "));
      const a = el("a", null, S.log_in);
      a.href = cfg.urls.login;
      banner.append(a);
      banner.className = "ph-banner ph-banner-error";
      banner.hidden = false;
      return;
    }
    if (!state.online) {
      const at = load("list", null);
      text = fmt(S.offline, { when: at && at.at ? clock(at.at) : "—" });
      kind = "error";
    } else if (state.live === "reconnecting") {
      text = S.reconnecting;
    } else if (state.live === "polling") {
      text = fmt(S.polling, { s: cfg.poll_seconds });
      kind = "info";
    }
    banner.hidden = text === null;
    banner.textContent = text || "";
    banner.className = "ph-banner ph-banner-" + kind;
    banner.dataset.kind = text === null ? "" : !state.online ? "offline" : state.live;
  }

  function setOnline(online) {
    if (state.online === online) return;
    state.online = online;
    renderBanner();
    if (online) {
      flush();
      if (state.live === "reconnecting") connectLive();
    }
  }

  function setExpired(expired) {
    if (state.expired === expired) return;
    state.expired = expired;
    renderBanner();
  }

  let toastTimer = null;
  function toast(text) {
    const t = document.getElementById("ph-toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  const outboxBox = document.getElementById("ph-outbox");

  function renderOutbox() {
    outboxBox.replaceChildren();
    if (state.outbox.length) {
      const steps = state.outbox.map((item) => "#" + item.incident_id + " " + actionLabel(item.action)).join(" · ");
      const wait = el("p", "ph-out ph-out-wait", fmt(S.waiting, { n: state.outbox.length, steps }));
      wait.dataset.count = String(state.outbox.length);
      outboxBox.append(wait);
    }
    state.results.forEach((res, i) => {
      const row = el("p", "ph-out " + (res.ok ? "ph-out-ok" : "ph-out-refused"));
      row.append(el("span", null, res.ok ? fmt(S.sent, res) : fmt(S.refused, res)));
      const x = el("button", "ph-out-close", "×");
      x.type = "button";
      x.setAttribute("aria-label", S.dismiss);
      x.addEventListener("click", () => {
        state.results.splice(i, 1);
        save("results", state.results);
        renderOutbox();
      });
      row.append(x);
      outboxBox.append(row);
    });
    outboxBox.hidden = !outboxBox.childElementCount;
  }

  function showOutboxSending(item) {
    const wait = outboxBox.querySelector(".ph-out-wait");
    if (wait) wait.textContent = S.sending + " #" + item.incident_id + " " + actionLabel(item.action);
  }

  /* A step sent fine is said for a while; a refused one stays until dismissed. */
  function forgetLater(result) {
    setTimeout(() => {
      state.results = state.results.filter((r) => r !== result);
      save("results", state.results);
      renderOutbox();
    }, 20000);
  }

  // ------------------------------------------------------------------ new assignments
  const alertBox = document.getElementById("ph-alert");
  document.getElementById("ph-alert-open").addEventListener("click", () => {
    alertBox.hidden = true;
    selectTab("new");
  });
  document.getElementById("ph-alert-close").addEventListener("click", () => { alertBox.hidden = true; });

  function announce(ids) {
    if (!ids.length) return;
    document.getElementById("ph-alert-open").textContent = ids.map((id) => fmt(S.new_task, { id })).join(" · ");
    alertBox.hidden = false;
    window.GeogridLive.signal();  // vibration, and a beep after the first touch
  }

  /* A task newly given to this grid by someone else: dispatched (also at intake, or again
   * after a failed return visit or a reopen) or reassigned here. */
  function isNewForMe(ev) {
    if (ev.actor === cfg.user || (ev.grid_code && ev.grid_code !== cfg.grid.code)) return false;
    return ev.action === "reassign" || (ev.to_state === "dispatched" && ev.from_state !== "dispatched");
  }

  function announceNewSince(before) {
    const was = new Map(before.map((r) => [r.id, r.state]));
    const fresh = state.rows.filter((r) => r.state === "dispatched" && was.get(r.id) !== "dispatched" && !state.mine.has(r.id));
    announce(fresh.map((r) => r.id));
  }

  // ------------------------------------------------------------------ live events
  // The stream (web/static/live.js, GET /api/v1/events): every event refetches the list; after
  // a drop it resumes from the last id and the list is read again. Without EventSource: polling.
  let live = null;
  let pollTimer = null;

  function setLive(mode) {
    state.live = mode;
    root.dataset.live = mode;
    renderBanner();
  }

  function connectLive() {
    if (state.live === "polling") return;
    if (!window.EventSource || !window.GeogridLive) { startPolling(); return; }
    if (live) { live.reopen(); return; }
    live = window.GeogridLive.connect({
      url: cfg.urls.events,
      onState: (s) => {
        if (s === "live") {
          state.everLive = true;
          setLive("sse");
          setOnline(true);
        } else if (state.everLive) {
          setLive("reconnecting");
        }
      },
      onEvents: (events) => {
        state.seen = state.seen.concat(events.map((ev) => ev.incident_id)).slice(-100);
        announce(events.filter(isNewForMe).map((ev) => ev.incident_id));
        scheduleRefresh();
      },
      onResync: () => scheduleRefresh(),  // whatever happened while the stream was down
      onExpired: () => setExpired(true),
    });
  }

  function startPolling() {
    setLive("polling");
    clearInterval(pollTimer);
    pollTimer = setInterval(refresh, Math.max(1, cfg.poll_seconds) * 1000);
  }

  // ------------------------------------------------------------------ steps and sheets
  async function accept(r, button) {
    button.disabled = true;
    try {
      await takeStep({ incident_id: r.id, action: "accept", fields: {}, files: [] });
    } catch (err) {
      toast(fmt(S.refused, { id: r.id, what: actionLabel("accept"), message: err.message }));
      scheduleRefresh();
    } finally {
      button.disabled = false;
    }
  }

  const sheet = document.getElementById("ph-sheet");
  const sheetForm = document.getElementById("ph-sheet-form");
  const sheetBody = document.getElementById("ph-sheet-body");
  const sheetError = document.getElementById("ph-sheet-error");
  let sheetSubmit = null;
  document.getElementById("ph-sheet-cancel").textContent = S.cancel;
  document.getElementById("ph-sheet-send").textContent = S.send;
  document.getElementById("ph-sheet-cancel").addEventListener("click", closeSheet);
  sheet.addEventListener("click", (e) => { if (e.target === sheet) closeSheet(); });

  function closeSheet() {
    sheet.hidden = true;
    sheetBody.replaceChildren();
    sheetSubmit = null;
    document.body.classList.remove("ph-locked");
  }

  function field(labelText, input) {
    const wrap = el("label", "ph-field");
    wrap.append(el("span", "ph-field-label", labelText), input);
    return wrap;
  }

  function textarea(name, placeholder) {
    const t = el("textarea");
    t.name = name;
    t.rows = 3;
    t.maxLength = 4000;
    if (placeholder) t.placeholder = placeholder;
    return t;
  }

  function choice(name, options) {
    const group = el("div", "ph-choice");
    group.setAttribute("role", "radiogroup");
    for (const [value, text] of options) {
      const lab = el("label", "ph-choice-item");
      const input = el("input");
      input.type = "radio";
      input.name = name;
      input.value = value;
      lab.append(input, el("span", null, text));
      group.append(lab);
    }
    return group;
  }

  function cameraInput() {
    const wrap = el("div", "ph-photos");
    const lab = el("label", "ph-btn ph-camera");
    const input = el("input");
    input.type = "file";
    input.name = "photos";
    input.accept = "image/*";
    input.setAttribute("capture", "environment");
    input.multiple = true;
    lab.append(el("span", null, S.take_photos), input);
    const previews = el("div", "ph-previews");
    input.addEventListener("change", () => {
      previews.replaceChildren();
      for (const f of input.files) {
        const img = el("img");
        img.src = URL.createObjectURL(f);
        img.alt = f.name;
        previews.append(img);
      }
      if (input.files.length) previews.append(el("span", "ph-muted", fmt(S.photos_count, { n: input.files.length })));
    });
    wrap.append(lab, previews);
    return { wrap, input };
  }

  function openSheet(r, action) {
    sheetBody.replaceChildren();
    sheetError.hidden = true;
    document.getElementById("ph-sheet-title").textContent = S.sheet_titles[action] + " · #" + r.id;
    const summary = el("p", "ph-sheet-summary", (r.category_name ? (cfg.lang === "zh" ? r.category_name.zh : r.category_name.en) : "") + (r.description ? " · " + r.description : ""));
    sheetBody.append(summary);
    let build;
    if (action === "resolve") {
      const note = textarea("note", S.resolve_placeholder);
      const cam = cameraInput();
      sheetBody.append(field(S.resolve_note, note), field(S.photos, cam.wrap));
      build = () => {
        if (!note.value.trim()) return S.need_note;
        return { fields: { note: note.value.trim() }, files: Array.from(cam.input.files) };
      };
    } else if (action === "escalate") {
      const note = textarea("note", S.reason_placeholder);
      sheetBody.append(field(S.reason, note));
      build = () => (note.value.trim() ? { fields: { note: note.value.trim() }, files: [] } : S.need_reason);
    } else if (action === "revisit") {
      const passed = choice("passed", [["true", S.passed_yes], ["false", S.passed_no]]);
      const sat = choice("satisfaction", cfg.satisfaction.map((k) => [k, S.satisfaction[k]]));
      const note = textarea("note", "");
      const noteField = field(S.note, note);
      const satField = field(S.satisfaction_q, sat);
      sheetBody.append(field(S.passed, passed), satField, noteField);
      passed.querySelector("input[value=true]").checked = true;
      passed.addEventListener("change", () => {
        const ok = passed.querySelector("input:checked").value === "true";
        satField.hidden = !ok;
        noteField.querySelector(".ph-field-label").textContent = ok ? S.note : S.back_note;
      });
      build = () => {
        const ok = passed.querySelector("input:checked").value === "true";
        const fields = { passed: ok };
        if (ok) {
          const s = sat.querySelector("input:checked");
          if (!s) return S.need_satisfaction;
          fields.satisfaction = s.value;
        } else if (!note.value.trim()) {
          return S.need_note;
        }
        if (note.value.trim()) fields.note = note.value.trim();
        return { fields, files: [] };
      };
    } else if (action === "photo") {
      const cam = cameraInput();
      const note = textarea("note", "");
      sheetBody.append(field(S.photos, cam.wrap), field(S.note, note));
      build = () => {
        if (!cam.input.files.length) return S.need_photos;
        const fields = note.value.trim() ? { note: note.value.trim() } : {};
        return { fields, files: Array.from(cam.input.files) };
      };
    }
    sheetSubmit = async () => {
      const made = build();
      if (typeof made === "string") { showSheetError(made); return; }
      const send = document.getElementById("ph-sheet-send");
      send.disabled = true;
      try {
        await takeStep({ incident_id: r.id, action, fields: made.fields, files: made.files });
        closeSheet();
      } catch (err) {
        showSheetError(fmt(S.server_refused, { message: err.message }));
        scheduleRefresh();  // the task may have changed meanwhile
      } finally {
        send.disabled = false;
      }
    };
    sheet.hidden = false;
    document.body.classList.add("ph-locked");
    const first = sheetBody.querySelector("textarea, input");
    if (first && first.type !== "file" && first.type !== "radio") first.focus();
  }

  function showSheetError(text) {
    sheetError.textContent = text;
    sheetError.hidden = false;
  }

  sheetForm.addEventListener("input", () => { sheetError.hidden = true; });
  sheetForm.addEventListener("change", () => { sheetError.hidden = true; });
  sheetForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (sheetSubmit) sheetSubmit();
  });

  // ------------------------------------------------------------------ tabs, sort, position
  function selectTab(tab) {
    state.tab = tab;
    localStorage.setItem(STORE + "tab", tab);
    render();
    window.scrollTo(0, 0);
  }

  for (const tab of TABS) document.getElementById("tab-" + tab).addEventListener("click", () => selectTab(tab));
  for (const b of document.querySelectorAll("#ph-sort button")) {
    b.addEventListener("click", () => {
      state.sort = b.dataset.sort;
      localStorage.setItem(STORE + "sort", state.sort);
      render();
    });
  }

  function setPosition(lon, lat, crs) {
    const moved = !state.fetchedWith ||
      Math.abs(state.fetchedWith.lon - lon) + Math.abs(state.fetchedWith.lat - lat) > 0.0003;  // ~30 m: not worth a call below
    state.position = { lon: Number(lon), lat: Number(lat), crs: crs === "gcj02" ? "gcj02" : "wgs84" };
    state.positionError = false;
    if (moved) scheduleRefresh();
  }

  function watchPosition() {
    if (!navigator.geolocation) return;
    navigator.geolocation.watchPosition(
      (p) => setPosition(p.coords.longitude, p.coords.latitude, cfg.geo_crs),
      () => { state.positionError = true; render(); },
      { enableHighAccuracy: true, maximumAge: 30000, timeout: 30000 }
    );
  }

  // ------------------------------------------------------------------ logging out
  document.getElementById("ph-logout").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target;
    if (state.outbox.length) {  // logging out would drop them: not without sending them first
      toast(fmt(S.unsent_logout, { n: state.outbox.length }));
      return;
    }
    try {
      for (const key of Object.keys(localStorage)) if (key.startsWith("geogrid.phone.")) localStorage.removeItem(key);
      await tx("readwrite", (s) => s.clear()).catch(() => null);
      if (window.caches) for (const name of await caches.keys()) if (name.startsWith("geogrid-phone-")) await caches.delete(name);
    } finally {
      form.submit();
    }
  });

  // ------------------------------------------------------------------ start
  window.addEventListener("online", () => { setOnline(true); scheduleRefresh(); });
  // steps kept after a server error or an expired login are tried again now and then
  setInterval(() => { if (state.outbox.length && state.online && !state.expired) flush(); }, 30000);
  window.addEventListener("offline", () => setOnline(false));
  window.geogridPhone = { setPosition, refresh: scheduleRefresh, flush, state };

  root.dataset.live = state.live;
  const kept = load("list", null);
  if (kept) {
    state.rows = kept.rows;
    state.total = kept.total;
    state.fetchedAt = kept.at;
  }
  state.results = load("results", []).filter((r) => !r.ok);
  if (!state.online) root.dataset.phoneReady = "1";
  render();
  loadOutbox().then(() => { renderOutbox(); render(); flush(); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(cfg.urls.sw, { scope: cfg.urls.sw.replace(/sw\.js$/, "") }).catch(() => null);
  }
  if (state.online) {
    call(cfg.urls.state, { headers: { Accept: "application/json" } })
      .then((me) => { csrf = me.csrf_token; })
      .catch((err) => { if (err instanceof ExpiredError) setExpired(true); });
  }
  watchPosition();
  refresh();
  connectLive();
})();
