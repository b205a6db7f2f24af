// Keeps the phone page usable after a reload with no network (phone-sw.js). The worker caches
// what it fetches; this page was fetched before the worker existed, so once the worker runs,
// the page puts itself and the files it loaded into the same cache.
const CACHE = "phone-v1"; // the name in phone-sw.js

// Read when the module loads: the worker registered below claims the page at once.
const controlledAtStart = Boolean(navigator.serviceWorker?.controller);

export async function keepForOffline(workerUrl) {
  // Service workers need a secure context (HTTPS, or localhost): elsewhere the page still works,
  // just not after an offline reload.
  if (!workerUrl || !("serviceWorker" in navigator) || !window.isSecureContext) return false;
  try {
    await navigator.serviceWorker.register(workerUrl);
    await navigator.serviceWorker.ready;
  } catch (error) {
    console.warn("The page will not open without a network:", error);
    return false;
  }
  // Opened through the worker (a repeat visit): it has put the page and each of its files in
  // the cache as it fetched them, so downloading the page again would only cost a weak link.
  if (controlledAtStart) {
    document.documentElement.dataset.offlineReady = "true";
    return true;
  }
  return cacheThisPage();
}

// The network may drop before the page is cached (a phone on a weak link): try again when it
// comes back, or a little later (the "online" event can come before the link really works, and
// a flaky link may never go fully offline), until it works. Each try downloads the page and its
// files again, a real share of a weak link, so the wait doubles up to five minutes.
const FIRST_RETRY_MS = 30_000;
const LAST_RETRY_MS = 300_000;

async function cacheThisPage(retryMs = FIRST_RETRY_MS) {
  try {
    const ownFiles = performance.getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((url) => {
        const parsed = new URL(url);
        return parsed.origin === location.origin && !parsed.pathname.startsWith("/api/");
      });
    const cache = await caches.open(CACHE);
    await cache.addAll([location.href, ...new Set(ownFiles)]);
    document.documentElement.dataset.offlineReady = "true";
    return true;
  } catch (error) {
    const again = () => {
      window.removeEventListener("online", again);
      clearTimeout(timer);
      cacheThisPage(Math.min(retryMs * 2, LAST_RETRY_MS));
    };
    const timer = setTimeout(again, retryMs);
    window.addEventListener("online", again);
    return false;
  }
}
