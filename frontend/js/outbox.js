// Keeping what a hall screen sends until the server has it: the device's storage, random ids,
// and the outbox of questions (used by phone.js and kiosk.js; the phone's own id is device.js).
import { ApiError } from "./api.js";

const SEND_TIMEOUT_MS = 30000; // a weak 3G link is slow, but a hung request must not block the rest
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 60000;
const OFFLINE_CHECK_MS = 15000;

// --- storage on the device ----------------------------------------------------------------

// localStorage, or (private browsing, a full disk) memory for this visit only.
const memory = new Map();
let persistent = (() => {
  try {
    const probe = "meetings.probe";
    localStorage.setItem(probe, "1");
    localStorage.removeItem(probe);
    return true;
  } catch {
    return false;
  }
})();

export const storage = {
  get persistent() {
    return persistent;
  },
  get(key, fallback = null) {
    if (!persistent) return memory.has(key) ? memory.get(key) : fallback;
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    if (persistent) {
      try {
        localStorage.setItem(key, JSON.stringify(value));
        return;
      } catch {
        // Full or refused: keep going in memory rather than lose what the voter wrote.
        persistent = false;
      }
    }
    memory.set(key, value);
  },
  remove(key) {
    memory.delete(key);
    if (persistent) {
      try {
        localStorage.removeItem(key);
      } catch {
        // nothing to do
      }
    }
  },
};

export const storageKey = (slug, ...parts) => ["meetings", slug, ...parts].join(".");

// --- ids --------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A random (version 4) UUID. crypto.randomUUID exists only on secure pages (https, localhost);
// a hall's phone page may be plain http on the local network, so fall back to random bytes.
export function newUuid() {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === "function") crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// --- the outbox -------------------------------------------------------------------------------

const jittered = (ms) => Math.round(ms * (0.5 + Math.random()));

// Questions waiting to reach the server, kept in the device's storage. Each gets its client id
// when the voter presses Send and is stored before any attempt, so a dead network, a closed
// tab or a reload loses nothing; the client id makes every retry the same question.
//
// An item is removed only when the server says it has the question (201 created, or 200:
// it had it already). Network failures, server errors and rate limits keep it pending and
// retry later; any other refusal marks it "failed" with the server's message, and it stays
// until the voter edits, sends again or deletes it.
export class Outbox {
  // onWait(item): the server said to wait (a rate limit); the item goes by itself at
  // item.retry_at.
  constructor({ key, api, path = "/questions", onChange = () => {}, onSent = () => {}, onWait = () => {} }) {
    this.key = key;
    this.api = api;
    this.path = path;
    this.onChange = onChange;
    this.onSent = onSent;
    this.onWait = onWait;
    this.sending = null; // the client id of the request under way
    this.again = false;
    this.failures = 0;
    this.timer = null;
    window.addEventListener("storage", (event) => {
      if (event.key === this.key) this.changed();
    });
    window.addEventListener("online", () => {
      this.failures = 0;
      this.flush();
    });
  }

  items() {
    const items = storage.get(this.key, []);
    return Array.isArray(items) ? items.filter((item) => item && UUID.test(item.client_id)) : [];
  }

  // Read, change and write back at once: another tab of the same phone may have changed it.
  update(change) {
    const items = this.items();
    const result = change(items);
    storage.set(this.key, items);
    this.changed();
    return result;
  }

  changed() {
    this.onChange(this.items());
  }

  add(body) {
    const item = {
      client_id: newUuid(),
      body,
      state: "pending",
      message: "",
      created: new Date().toISOString(),
    };
    this.update((items) => items.push(item));
    this.flush();
    return item;
  }

  mark(clientId, fields) {
    this.update((items) => {
      const item = items.find((each) => each.client_id === clientId);
      if (item) Object.assign(item, fields);
    });
  }

  remove(clientId) {
    return this.update((items) => {
      const index = items.findIndex((item) => item.client_id === clientId);
      return index >= 0 ? items.splice(index, 1)[0] : null;
    });
  }

  retry(clientId) {
    this.mark(clientId, { state: "pending", message: "", retry_at: null });
    this.failures = 0;
    this.flush();
  }

  isSending(clientId) {
    return this.sending === clientId;
  }

  // Sends the pending items one after another. Safe to call at any time and often: on load,
  // when the browser comes online, when the stream reconnects, and from its own retry timer.
  async flush() {
    if (this.sending !== null) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = null;
    if (navigator.onLine === false) {
      // The `online` event starts us again; the timer in case a browser never sends it.
      this.timer = setTimeout(() => this.flush(), OFFLINE_CHECK_MS);
      return;
    }
    let retryIn = null;
    const tried = new Set();
    for (;;) {
      const now = Date.now();
      const pending = this.items().filter((item) => item.state === "pending");
      const item = pending.find((each) => !tried.has(each.client_id) && !(each.retry_at > now));
      if (!item) {
        // Those told to wait (a rate limit) go when their time comes.
        const later = pending.map((each) => each.retry_at - now).filter((ms) => ms > 0);
        if (later.length) retryIn = Math.min(...later);
        break;
      }
      tried.add(item.client_id);
      const wait = await this.send(item);
      if (wait !== null) {
        // The network or the server is down, or we must slow down: the others would fail
        // the same way.
        retryIn = wait;
        break;
      }
    }
    if (this.again) {
      this.again = false;
      this.flush();
      return;
    }
    if (retryIn !== null) this.timer = setTimeout(() => this.flush(), retryIn);
  }

  // One attempt; returns milliseconds to wait before trying any item again, or null to go on.
  async send(item) {
    this.sending = item.client_id;
    this.changed();
    try {
      const answer = await this.api.post(this.path, { ...item.body, client_id: item.client_id }, { timeout: SEND_TIMEOUT_MS });
      this.failures = 0;
      this.sending = null;
      this.remove(item.client_id);
      this.onSent(item, answer);
      return null;
    } catch (error) {
      this.sending = null;
      if (!(error instanceof ApiError) || error.retryable) {
        this.failures += 1;
        this.mark(item.client_id, { attempts: (item.attempts || 0) + 1 });
        if (!(error instanceof ApiError)) console.warn("question not sent", error);
        return jittered(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1)));
      }
      if (error.status === 429) {
        const wait = ((error.retryAfter ?? 60) + 1) * 1000;
        const fields = { message: error.message, retry_at: Date.now() + wait };
        this.mark(item.client_id, fields);
        this.onWait({ ...item, ...fields });
        return wait;
      }
      this.mark(item.client_id, { state: "failed", message: error.message, status: error.status });
      return null;
    }
  }
}
