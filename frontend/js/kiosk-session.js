// This screen's hold on its hall (docs/protocol.md, "Kiosk sessions").
//
// A hall's operator link admits one screen at a time. The first screen to open it while the
// hall is free holds the hall; the same device comes back to its hold (a reload, a reboot) with
// the session token it keeps in its storage; any other screen asks the studio to let it take
// over, and waits, asking the server every 2 s. A screen whose session ended (another screen
// took over, the studio ended or refused it) shows why when it opens again, and asks again
// only when someone presses the button: the studio's decision is not undone by a reload.
import { storage } from "./outbox.js";

const POLL_MS = 2000;
const RETRY_MS = 3000;
const TIMEOUT_MS = 10000;

export class KioskHold {
  // api: an apiClient of the operator link (whose headers include ours); key: where the token
  // is kept; onChange(session, previousState): after each change of what the server says.
  constructor({ api, key, onChange = () => {} }) {
    this.api = api;
    this.key = key;
    this.onChange = onChange;
    this.token = storage.get(key, null);
    this.session = null; // {id, hall_id, state, since, end_reason, ended_at}
    this.problem = null; // a refusal to show (too many screens asking), or null
    this.timer = null;
    this.busy = false;
  }

  get state() {
    return this.session?.state ?? null;
  }

  headers() {
    return this.token ? { "X-Kiosk-Session": this.token } : {};
  }

  // Opening the page: a session kept here that ended shows why; anything else claims.
  async begin() {
    if (this.token) {
      const session = await this.read();
      if (session === undefined) return this.later(() => this.begin(), RETRY_MS);
      if (session?.state === "ended") return this.set(session);
    }
    return this.claim();
  }

  // Resume this screen's session, or get a new one (holding the hall if it is free).
  async claim() {
    if (this.busy) return;
    this.busy = true;
    try {
      const answer = await this.api.post("/kiosk/session", {}, { timeout: TIMEOUT_MS });
      if (answer.token) {
        this.token = answer.token;
        storage.set(this.key, answer.token);
      }
      this.problem = null;
      this.set(answer.session);
    } catch (error) {
      if (error.retryable) {
        this.later(() => this.claim(), RETRY_MS);
      } else {
        // Refused: too many screens asking (429), or the link itself no longer works (403).
        this.problem = error;
        this.onChange(this.session, this.state);
        if (error.status === 429) this.later(() => this.claim(), 5 * RETRY_MS);
      }
    } finally {
      this.busy = false;
    }
  }

  // The server refused this screen as the hall's kiosk (its websocket closed with 4409, or an
  // action answered hall_held_elsewhere): learn why.
  async lost() {
    if (this.busy || this.state === "ended") return;
    const session = await this.read();
    if (session === undefined) return this.later(() => this.lost(), RETRY_MS);
    if (session === null) return this.claim(); // forgotten by the server: start again
    this.set(session); // still holding (the refusal raced a takeover's end): carries on
  }

  // What the server says of this screen's session: the session, null if it knows no such
  // session (never was, or another hall's), undefined if it could not be asked.
  async read() {
    try {
      return await this.api.get("/kiosk/session", { timeout: TIMEOUT_MS });
    } catch (error) {
      if (error.status === 404) return null;
      return undefined;
    }
  }

  set(session) {
    const previous = this.state;
    this.session = session;
    clearTimeout(this.timer);
    if (session.state === "asking") this.later(() => this.poll(), POLL_MS);
    this.onChange(session, previous);
  }

  async poll() {
    const session = await this.read();
    if (session === undefined) return this.later(() => this.poll(), POLL_MS);
    if (session === null) return this.claim();
    this.set(session);
  }

  later(action, ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(action, ms);
  }
}
