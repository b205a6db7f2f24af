// The phone's device id: issued and signed by the server for this hall (POST /device), kept in
// the phone's storage and sent with everything the phone sends (X-Device-Id, and the `device`
// of its websocket's vote frames). The server refuses an id it did not issue for this hall
// (code "unknown_device": storage cleared by another tab, an id from before, another hall's);
// the page then gets a new one and sends again, so nothing the voter wrote is lost.
import { storage } from "./outbox.js";

export const UNKNOWN_DEVICE = "unknown_device";

const refusedAsUnknown = (error) => (error?.body?.code ?? error?.code) === UNKNOWN_DEVICE;

export class PhoneDevice {
  // `api`: the page's API client (apiClient); `key`: where the id is kept.
  constructor({ api, key }) {
    this.api = api;
    this.key = key;
    this.asking = null; // the request for a new id under way, shared by every caller
  }

  // The id kept on the phone, or null.
  current() {
    const id = storage.get(this.key);
    return typeof id === "string" && id ? id : null;
  }

  // The id, asking the server for one if the phone has none yet. Rejects as the request does
  // (an ApiError: no network, or a 429 while the hall has been issued many ids just now).
  async id() {
    return this.current() ?? this.renew(null);
  }

  // A new id, in place of `refused` (the one the server did not know). If another tab has
  // already replaced it, that one is used; one request at a time.
  async renew(refused) {
    const kept = this.current();
    if (kept && kept !== refused) return kept;
    if (!this.asking) {
      this.asking = this.api.post("/device")
        .then((answer) => {
          storage.set(this.key, answer.device);
          return answer.device;
        })
        .finally(() => {
          this.asking = null;
        });
    }
    return this.asking;
  }

  // `call(id)` sends something as this phone; refused for an unknown id, it is sent once more
  // with a new one.
  async send(call) {
    const id = await this.id();
    try {
      return await call(id);
    } catch (error) {
      if (!refusedAsUnknown(error)) throw error;
      return call(await this.renew(id));
    }
  }
}

// The page's API calls as this phone: each carries the phone's id, which is fetched first if
// the phone has none, and renewed once if the server does not know it.
export function phoneApi(api, device) {
  const headers = (id, options) => ({ ...options, headers: { ...options?.headers, "X-Device-Id": id } });
  return {
    get: (path, options) => device.send((id) => api.get(path, headers(id, options))),
    post: (path, body, options) => device.send((id) => api.post(path, body, headers(id, options))),
  };
}
