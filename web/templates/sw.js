/* geogrid: the service worker of the grid worker's phone page (scope /m/).
 *
 * It keeps the page's shell (the page, its script and style, Leaflet, the icons) so that the
 * page opens without a network. The page itself is fetched from the network first (it carries
 * the login's CSRF token and the grid) and taken from the cache only when the network fails or
 * takes longer than a few seconds; the other shell files are answered from the cache and
 * refreshed behind. API calls are not touched: the page keeps its last task list itself.
 * The version below changes with the shell's files, which replaces the cache.
 */
"use strict";

const VERSION = {{ version|tojson }};
const CACHE = "geogrid-phone-" + VERSION;
const SHELL = {{ shell|tojson }};
const PAGE = SHELL[0];
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("geogrid-phone-") && n !== CACHE).map((n) => caches.delete(n))
      ))
      .then(() => self.clients.claim())
  );
});

function pageFromNetwork(request) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("slow network")), NETWORK_WAIT_MS);
    fetch(request).then((resp) => {
      clearTimeout(timer);
      if (resp.ok && !resp.redirected && resp.type === "basic") {
        const copy = resp.clone();
        caches.open(CACHE).then((cache) => cache.put(PAGE, copy));
      } else if (resp.redirected || resp.type === "opaqueredirect") {
        // logged out (sent to the login page) or not a worker: the kept page is dropped, so it
        // no longer opens offline with the last worker's tasks
        caches.open(CACHE).then((cache) => cache.delete(PAGE));
      }
      resolve(resp);
    }, (err) => { clearTimeout(timer); reject(err); });
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && (url.pathname === PAGE || url.pathname === PAGE.replace(/\/$/, ""))) {
    event.respondWith(
      pageFromNetwork(request).catch(() =>
        caches.match(PAGE).then((hit) => hit || Promise.reject(new Error("offline and not cached")))
      )
    );
    return;
  }
  if (SHELL.indexOf(url.pathname) > 0) {
    event.respondWith(
      caches.open(CACHE).then((cache) => cache.match(url.pathname).then((hit) => {
        const fresh = fetch(request).then((resp) => {
          if (resp.ok) cache.put(url.pathname, resp.clone());
          return resp;
        });
        if (hit) {
          fresh.catch(() => null);
          return hit;
        }
        return fresh;
      }))
    );
  }
});
