// Live incident events for a page: a small wrapper over EventSource (GET /api/v1/events).
//
//   GeogridLive.connect({ url, status, onEvents(events), onResync(), onState(s), onExpired() })
//
// - status: an element whose text says "live" or "disconnected, reconnecting" (its
//   data-live / data-offline attributes hold the translated words) and whose data-state is
//   "live" | "offline";
// - onEvents(events): incident events as they come (batched over a few milliseconds);
// - onResync(): the page reloads its list: after `event: reset` (the stream could not resume
//   from the last id) and after a reconnection that followed an error;
// - onState(s): "live" or "offline", as the status element shows it;
// - onExpired(): the stream was refused with 401 (the login has expired).
// The last event id is kept: the browser resumes with Last-Event-ID, and when the stream has to
// be opened anew (the server answered an error) it asks for ?after=<last id>, so nothing is lost.
(function () {
  "use strict";

  function connect(opts) {
    const status = opts.status || null;
    let last = null;
    let source = null;
    let broken = false;
    let retry = null;
    let retryMs = 2000;
    let batch = [];
    let flushTimer = null;

    function say(state) {
      if (opts.onState) opts.onState(state);
      if (!status) return;
      status.dataset.state = state;
      status.textContent = state === "live" ? status.dataset.live : status.dataset.offline;
    }

    function flush() {
      flushTimer = null;
      const events = batch;
      batch = [];
      if (events.length && opts.onEvents) opts.onEvents(events);
    }

    function open() {
      const sep = opts.url.indexOf("?") < 0 ? "?" : "&";
      source = new EventSource(last === null ? opts.url : opts.url + sep + "after=" + encodeURIComponent(last));
      source.onopen = function () {
        retryMs = 2000;
        say("live");
        if (broken && opts.onResync) opts.onResync();
        broken = false;
      };
      source.onerror = function () {
        broken = true;
        say("offline");
        if (source.readyState === EventSource.CLOSED) {
          // the server refused (an error status) or went away for good: open anew, from the
          // last id, backing off; a 401 means the login has expired
          source.close();
          clearTimeout(retry);
          if (opts.onExpired) {
            const ctl = new AbortController();  // only the status is wanted, not a stream
            fetch(opts.url, { credentials: "same-origin", signal: ctl.signal, headers: { Accept: "text/event-stream" } })
              .then(function (r) { ctl.abort(); if (r.status === 401) opts.onExpired(); })
              .catch(function () { /* offline */ });
          }
          retry = setTimeout(open, retryMs);
          retryMs = Math.min(retryMs * 2, 60000);
        }
      };
      source.addEventListener("incident", function (e) {
        last = e.lastEventId || last;
        batch.push(JSON.parse(e.data));
        if (!flushTimer) flushTimer = setTimeout(flush, 50);
      });
      source.addEventListener("reset", function (e) {
        last = e.lastEventId || last;
        if (opts.onResync) opts.onResync();
      });
    }

    function reopen() {
      if (source && source.readyState !== EventSource.CLOSED) return;
      clearTimeout(retry);
      retryMs = 2000;
      open();
    }

    // a page that comes back from the background or the network: check at once
    window.addEventListener("online", reopen);
    say("offline");
    open();
    return {
      get last() { return last; },
      reopen: reopen,
      close: function () { clearTimeout(retry); if (source) source.close(); },
    };
  }

  // A short signal for a new assignment where the browser allows it (vibration on phones; a
  // beep once the user has touched or clicked the page, which browsers require for sound).
  let audio = null;
  document.addEventListener("pointerdown", function () {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    else if (audio && audio.state === "suspended") audio.resume();
  }, { passive: true });

  function signal() {
    try { if (navigator.vibrate) navigator.vibrate([200, 100, 200]); } catch (e) { /* not allowed */ }
    if (!audio || audio.state !== "running") return;
    try {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.25, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.3);
    } catch (e) { /* no sound: fine */ }
  }

  // An assignment: a report dispatched at once, a dispatch, a reassignment, a reroute.
  function isAssignment(ev) {
    return ev.to_state === "dispatched" || ev.action === "reassign" || ev.action === "reroute";
  }

  // The incident list pages: the list (#incident-list) is fetched again (same address, same
  // filters) and replaced; rows of incidents that just changed are highlighted for a moment.
  function liveList(root) {
    const status = document.querySelector("[data-live-status]");
    let pending = new Set();
    let loading = null;
    let again = false;

    async function reload() {
      if (loading) { again = true; return; }
      loading = true;
      try {
        const resp = await fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!resp.ok) return;
        const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
        const fresh = doc.getElementById(root.id);
        if (!fresh) return;
        root.innerHTML = fresh.innerHTML;
        const changed = pending;
        pending = new Set();
        root.querySelectorAll("tr[data-id]").forEach(function (tr) {
          if (changed.has(tr.dataset.id)) tr.classList.add("live-changed");
        });
      } catch (e) {
        /* the next event or reconnection reloads */
      } finally {
        loading = null;
        if (again) { again = false; reload(); }
      }
    }

    connect({
      url: root.dataset.events,
      status: status,
      onEvents: function (events) {
        events.forEach(function (ev) { pending.add(String(ev.incident_id)); });
        if (events.some(isAssignment)) signal();
        reload();
      },
      onResync: reload,
    });
  }

  window.GeogridLive = { connect: connect, signal: signal, isAssignment: isAssignment };
  document.addEventListener("DOMContentLoaded", function () {
    const root = document.getElementById("incident-list");
    if (root && root.dataset.events) liveList(root);
  });
})();
