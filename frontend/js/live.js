// The meeting stream: one websocket that keeps a page's copy of the meeting state current.
//
// The server sends every event this viewer may see, in order; each names the previous one
// ("prev"), so a missed event is noticed here and repaired by asking again from our last seq.
// A dropped connection reconnects by itself with growing, jittered delays and resumes from
// where it stopped. See docs/protocol.md.
//
// Frames that are not part of the state (the media hub's answers and link figures, the halls'
// thumbnails) reach whoever subscribed to their type with on(type, handler); so do the stream's
// own frames ("welcome" marks a new connection), after the stream has handled them.
import { applyPatch } from "./patch.js";

// 4409: a kiosk whose session does not (or no longer) hold its hall; the page asks why.
const PERMANENT_CLOSE = new Set([4401, 4403, 4404, 4409]);
// While the browser says it is offline, its online event reconnects; look again this often
// in case that event never comes.
const OFFLINE_CHECK_MS = 15000;

export class MeetingStream {
  // session: a kiosk's session token (or a function returning it), sent as `session`.
  constructor({ wsPath, link = null, session = null, onState = () => {}, onEvent = () => {}, onStatus = () => {} }) {
    this.wsPath = wsPath;
    this.link = link;
    this.session = session;
    this.onState = onState;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.state = null;
    this.seq = null;
    this.viewer = null;
    this.socket = null;
    this.retries = 0;
    this.resyncing = false;
    this.heartbeat = 20;
    this.stopped = false;
    this.pingTimer = null;
    this.lastHeard = 0;
    this.welcomed = false;
    this.listeners = new Map(); // frame type -> Set of handlers
    this.requests = 0; // ids of the frames sent with request()
    window.addEventListener("online", () => this.reconnectSoon(0));
    // The network went away (a hall's link is cut): say so at once, and do not keep the
    // socket, which TCP would resume only at its next retransmission, seconds after the
    // network returns; a new one catches up with hello since.
    window.addEventListener("offline", () => this.abandon());
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const session = typeof this.session === "function" ? this.session() : this.session;
    const parts = [];
    if (this.link) parts.push(`link=${encodeURIComponent(this.link)}`);
    if (session) parts.push(`session=${encodeURIComponent(session)}`);
    const query = parts.length ? `?${parts.join("&")}` : "";
    return `${scheme}://${location.host}${this.wsPath}${query}`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  // Close the stream for good (a kiosk that no longer holds its hall).
  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    this.welcomed = false;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    this.welcomed = false;
    this.onStatus("connecting");
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.addEventListener("message", (message) => {
      // What an abandoned socket still delivers is left to the new one's catch-up.
      if (socket === this.socket) this.receive(JSON.parse(message.data));
    });
    socket.addEventListener("close", (close) => this.closed(socket, close.code));
  }

  // Returns whether the frame went out (false while the socket is down: nothing is queued).
  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // Whether the socket is open and the server has admitted us ("welcome").
  isOpen() {
    return this.welcomed && this.socket?.readyState === WebSocket.OPEN;
  }

  // Sends a frame that the server answers (a vote): resolves with the answer of type `answer`
  // that carries the frame's id, rejects with the server's refusal (an Error whose `code` is
  // the error frame's, `retryable` false) or, when no answer comes within `timeout` ms or the
  // socket is not open, with an Error whose `retryable` is true.
  request(frame, { answer, timeout = 8000 }) {
    const id = `r${++this.requests}`;
    return new Promise((resolve, reject) => {
      const unsubscribe = [];
      const done = (settle, value) => {
        clearTimeout(timer);
        for (const stop of unsubscribe) stop();
        settle(value);
      };
      const timer = setTimeout(() => done(reject, Object.assign(new Error("no answer"), { retryable: true })), timeout);
      unsubscribe.push(this.on(answer, (reply) => reply.id === id && done(resolve, reply)));
      unsubscribe.push(this.on("error", (reply) => {
        if (reply.id === id) done(reject, Object.assign(new Error(reply.message), { code: reply.code, retryable: false }));
      }));
      if (!this.isOpen() || !this.send({ ...frame, id })) {
        done(reject, Object.assign(new Error("not connected"), { retryable: true }));
      }
    });
  }

  // Calls handler(frame) for each frame of this type; returns a function that unsubscribes.
  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(handler);
    return () => this.listeners.get(type)?.delete(handler);
  }

  emit(frame) {
    for (const handler of this.listeners.get(frame.type) || []) {
      try {
        handler(frame);
      } catch (error) {
        console.warn("meeting stream: a handler of", frame.type, "failed", error);
      }
    }
  }

  resume() {
    this.resyncing = true;
    this.send({ type: "hello", since: this.seq });
  }

  receive(frame) {
    this.lastHeard = Date.now();
    switch (frame.type) {
      case "welcome":
        this.welcomed = true;
        this.viewer = frame.viewer;
        this.heartbeat = frame.heartbeat_seconds;
        this.retries = 0;
        this.startPinging();
        this.resume();
        break;
      case "snapshot":
        this.state = frame.state;
        this.seq = frame.seq;
        this.resyncing = false;
        this.onStatus("live");
        this.onState(this.state, null);
        break;
      case "synced":
        this.resyncing = false;
        this.onStatus("live");
        break;
      case "event":
        this.applyEvent(frame);
        break;
      case "batch":
        this.applyBatch(frame);
        break;
      case "pong":
        if (this.seq !== null && frame.seq > this.seq && !this.resyncing) this.resume();
        break;
      case "error":
        console.warn("meeting stream error", frame.code, frame.message);
        break;
    }
    if (this.listeners.has(frame.type)) this.emit(frame);
  }

  applyEvent(frame) {
    this.applyRun(frame.prev, frame.seq, [frame.event]);
  }

  // Phones get events that come close together in one frame: a run of events, oldest first,
  // the first following frame.prev; those already held are skipped.
  applyBatch(frame) {
    this.applyRun(frame.prev, frame.seq, frame.events);
  }

  applyRun(prev, seq, events) {
    if (this.state === null || seq <= this.seq) return;
    if (prev > this.seq) {
      // Something between our last event and these never reached us: ask again.
      if (!this.resyncing) this.resume();
      return;
    }
    let last = null;
    for (const event of events) {
      if (event.seq <= this.seq) continue;
      applyPatch(this.state, event.payload.patch);
      this.seq = event.seq;
      this.onEvent(event, this.state);
      last = event;
    }
    if (last) this.onState(this.state, last);
  }

  startPinging() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      // A connection that went silent (a mountain link that dropped without a close) is
      // abandoned after three missed heartbeats and rebuilt.
      if (Date.now() - this.lastHeard > 3 * this.heartbeat * 1000) {
        this.abandon();
        return;
      }
      this.send({ type: "ping" });
    }, this.heartbeat * 1000);
  }

  // Stop using the socket now: on a dead link the browser fires its close event only when the
  // closing handshake finally fails, which may be long after the network is back.
  abandon() {
    const socket = this.socket;
    if (!socket || socket.readyState > WebSocket.OPEN) return;
    socket.close();
    this.closed(socket, 1006);
  }

  closed(socket, code) {
    if (socket !== this.socket) return; // an abandoned socket closing at last
    this.socket = null;
    this.welcomed = false;
    clearInterval(this.pingTimer);
    if (PERMANENT_CLOSE.has(code)) {
      this.stopped = true;
      this.onStatus("refused", code);
      return;
    }
    this.onStatus("offline");
    this.reconnectSoon();
  }

  reconnectSoon(delay) {
    if (this.stopped) return;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN && delay === 0) return;
    const offline = navigator.onLine === false && delay !== 0;
    const backoff = offline
      ? OFFLINE_CHECK_MS
      : (delay ?? Math.min(30000, 1000 * 2 ** this.retries) * (0.5 + Math.random()));
    if (!offline) this.retries += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), backoff);
  }
}
