// The phone page's service worker, served at /v/sw.js so that it controls the voters' pages
// (/v/<token>/). A voter on a weak link who reloads the page, or opens it again from the
// browser's history, with no network still gets the page: its questions waiting in the outbox
// (kept in localStorage, outbox.js) are there, and the outbox sends them when the network
// returns. Pages and files are fetched from the network first, so an online phone always gets
// the current page; the cache is only a fallback, for no network and for a server error. The
// API and the websocket are never cached: the page itself handles their failures.
const CACHE = "phone-v1";

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function cacheable(request) {
  if (request.method !== "GET") return false;
  const url = new URL(request.url);
  return url.origin === self.location.origin && !url.pathname.startsWith("/api/") && !url.pathname.startsWith("/ws/");
}

self.addEventListener("fetch", (event) => {
  if (!cacheable(event.request)) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(event.request);
      // Only a page that worked is kept: a refused link (403) must not replace the last good one.
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(event.request, copy)));
        return response;
      }
      // A server too busy to answer (503 with Retry-After) or failing: the last good copy keeps
      // the voter's page, and its outbox, usable; the page retries the API by itself.
      if (response.status >= 500) {
        const cached = await caches.match(event.request);
        if (cached) return cached;
      }
      return response;
    } catch (error) {
      const cached = await caches.match(event.request);
      if (cached) return cached;
      throw error;
    }
  })());
});
