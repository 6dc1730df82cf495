// Live incident events for a page: a small wrapper over EventSource (GET /api/v1/events).
//
//   GeogridLive.connect({ url, status, onEvents(events), onResync() })
//
// - status: an element whose text says "live" or "disconnected, reconnecting" (its
//   data-live / data-offline attributes hold the translated words) and whose data-state is
//   "live" | "offline";
// - onEvents(events): incident events as they come (batched over a few milliseconds);
// - onResync(): the page reloads its list: after `event: reset` (the stream could not resume
//   from the last id) and after a reconnection that followed an error.
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
    let batch = [];
    let flushTimer = null;

    function say(state) {
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
        say("live");
        if (broken && opts.onResync) opts.onResync();
        broken = false;
      };
      source.onerror = function () {
        broken = true;
        say("offline");
        if (source.readyState === EventSource.CLOSED) {
          // the server refused (an error status) or went away for good: open anew, from the last id
          source.close();
          clearTimeout(retry);
          retry = setTimeout(open, 2000);
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

    // a page that comes back from the background or the network: check at once
    window.addEventListener("online", function () {
      if (source && source.readyState === EventSource.CLOSED) { clearTimeout(retry); open(); }
    });
    say("offline");
    open();
    return {
      get last() { return last; },
      close: function () { clearTimeout(retry); if (source) source.close(); },
    };
  }

  // A short signal for a new assignment where the browser allows it (vibration on phones; a
  // beep once the user has interacted with the page).
  let audio = null;
  function signal() {
    try { if (navigator.vibrate) navigator.vibrate([120, 60, 120]); } catch (e) { /* not allowed */ }
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
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
