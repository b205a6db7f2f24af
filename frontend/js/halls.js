// The moderators' halls and floor: a grid of every hall with the latest picture from its
// kiosk's camera and the figures of its programme link; the raised hands in order, who has
// the floor and for how long; the programme's layout; a monitor of the programme and the
// moderator's microphone; the screens that hold each hall or ask to take it over (kiosk
// sessions). Acts through the floor control API (rooms/api/media.py) and the kiosk sessions'
// (rooms/api/kiosk.py).
import { apiClient } from "./api.js";
import { bound, h, pageConfig, setText, toast } from "./dom.js";
import { clock, deviceWords, duration, statusLabel, tierWords } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import { linkSummary, openLocalMedia, stopStream } from "./media.js";
import { programmeMonitor } from "./monitor.js";
import { hallName, sortedHalls } from "./question-words.js";
import { showConnection } from "./status.js";

const config = pageConfig();
const api = apiClient({ base: config.api });
const readOnly = Boolean(config.read_only);
// The hub reports every 2 s; figures older than this mean the hall's link is gone.
const FIGURES_FRESH_MS = 6000;
const TIERS = ["high", "low", "audio"];

let state = null;
const thumbnails = new Map(); // hall id -> {image, at}
const figures = new Map(); // hall id -> {tier, pinned, loss, rtt, state, role, heard: ms}
const busy = new Set(); // actions under way, so a double click does not send twice

// --- talking to the server -----------------------------------------------------------------

async function act(key, request, done = null) {
  if (busy.has(key)) return;
  busy.add(key);
  render();
  try {
    await request();
    if (done) toast(done);
  } catch (error) {
    toast(error.message || _("The server could not do this."), "error");
    if (error.status === 409) stream.resume();
  } finally {
    busy.delete(key);
    render();
  }
}

function floorLimit() {
  const value = bound("floor-limit")?.value;
  return value ? Number(value) : null;
}

const giveFloor = (hallId) => act(`floor:${hallId}`, () =>
  api.post(`/halls/${hallId}/floor/grant`, { seconds: floorLimit() }));

const revokeFloor = () => act("revoke", () => api.post("/floor/revoke"));

const setLayout = (layout) => act(`layout:${layout}`, () => api.post("/programme/layout", { layout }));

const pinTier = (hallId, tier) => act(`tier:${hallId}`, () =>
  api.post(`/halls/${hallId}/tier`, { tier: tier || null }));

const allowTakeover = (sessionId) => act(`session:${sessionId}`, () =>
  api.post(`/kiosk-sessions/${sessionId}/allow`), _("The screen now shows the hall."));

function endSession(session) {
  if (session.state === "holding"
    && !window.confirm(_("End this screen's session? It stops showing the hall at once, and the next screen that opens the hall's operator link takes the hall."))) return;
  act(`session:${session.id}`, () => api.post(`/kiosk-sessions/${session.id}/end`),
    session.state === "asking" ? _("The screen was refused.") : _("The screen's session has ended."));
}

// --- drawing -------------------------------------------------------------------------------

function raisedHands() {
  return Object.entries(state?.floor_requests || {})
    .map(([id, request]) => ({ id: Number(id), at: request.requested_at }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id - b.id));
}

const ago = (iso) => duration((Date.now() - Date.parse(iso)) / 1000);

function render() {
  if (!state) return;
  const badge = bound("status");
  badge.textContent = statusLabel(state.meeting.status);
  badge.className = `badge status-${state.meeting.status}`;
  renderTakeovers();
  renderFloor();
  renderHands();
  renderLayout();
  renderGrid();
  renderMonitor();
}

function renderFloor() {
  const programme = state.programme || {};
  const holder = programme.floor_hall_id ?? null;
  const box = bound("floor-holder");
  box.classList.toggle("active", holder !== null);
  box.dataset.hall = holder ?? "";
  setText("floor-holder-name", holder === null
    ? _("No hall has the floor: the programme shows the studio.")
    : fmt("%(hall)s has the floor", { hall: hallName(state, holder) }));
  setText("floor-holder-since", holder === null || !programme.floor_granted_at
    ? ""
    : fmt("since %(time)s", { time: clock(programme.floor_granted_at) }));
  const revoke = document.querySelector('[data-action="revoke"]');
  if (revoke) {
    revoke.hidden = holder === null;
    revoke.disabled = busy.has("revoke");
  }
  renderCountdown();
}

function renderCountdown() {
  const programme = state?.programme || {};
  const element = bound("floor-countdown");
  element.classList.remove("ending");
  if (programme.floor_hall_id == null) {
    element.textContent = "";
  } else if (programme.floor_until) {
    const left = Math.max(0, (Date.parse(programme.floor_until) - Date.now()) / 1000);
    element.textContent = duration(left);
    element.title = _("time left");
    element.classList.toggle("ending", left <= 15);
  } else if (programme.floor_granted_at) {
    element.textContent = ago(programme.floor_granted_at);
    element.title = _("time on the floor, without a limit");
  }
}

function giveButton(hallId, { primary = false } = {}) {
  if (readOnly) return null;
  const live = state.meeting.status === "live";
  return h("button", {
    type: "button",
    class: primary ? "primary small" : "secondary small",
    "data-action": "give-floor",
    "data-hall": hallId,
    disabled: !live || busy.has(`floor:${hallId}`),
    title: live ? null : _("The floor can be given only while the conference is live."),
    onclick: () => giveFloor(hallId),
  }, _("Give the floor"));
}

function renderHands() {
  const hands = raisedHands();
  bound("hands-empty").hidden = hands.length > 0;
  const list = bound("hands");
  const signature = JSON.stringify([hands, state.meeting.status, [...busy]]);
  if (list.dataset.sig === signature) {
    for (const item of list.children) {
      setText("hand-age", fmt("raised at %(time)s, %(ago)s ago", { time: clock(item.dataset.at), ago: ago(item.dataset.at) }), item);
    }
    return;
  }
  list.dataset.sig = signature;
  list.replaceChildren(...hands.map((hand, index) => h("li", { "data-hall": hand.id, "data-at": hand.at },
    h("span", { class: "hand-place" }, String(index + 1)),
    h("div", { class: "hand-body" },
      h("strong", {}, hallName(state, hand.id)),
      h("span", { class: "muted small-print", "data-bind": "hand-age" },
        fmt("raised at %(time)s, %(ago)s ago", { time: clock(hand.at), ago: ago(hand.at) }))),
    giveButton(hand.id, { primary: index === 0 }))));
}

function renderLayout() {
  const current = state.programme?.layout;
  for (const button of document.querySelectorAll("[data-layout]")) {
    button.setAttribute("aria-pressed", String(button.dataset.layout === current));
    if (!readOnly) button.disabled = busy.has(`layout:${button.dataset.layout}`);
  }
}

// --- the screens of each hall (kiosk sessions) ----------------------------------------------

function screensOf(hallId = null) {
  return Object.values(state.kiosk_sessions || {})
    .filter((session) => hallId === null || session.hall_id === hallId)
    .sort((a, b) => (a.state === b.state ? (a.since < b.since ? -1 : 1) : a.state === "holding" ? -1 : 1));
}

function screenRow(session, { withHall = false } = {}) {
  const holding = session.state === "holding";
  const pending = busy.has(`session:${session.id}`);
  return h("li", {
    class: `screen screen-${session.state}`,
    "data-testid": "kiosk-session",
    "data-session": session.id,
    "data-state": session.state,
    "data-for-hall": session.hall_id,
  },
  h("span", { class: `chip screen-state-${session.state}` }, holding ? _("shows the hall") : _("asks to take over")),
  withHall ? h("strong", {}, hallName(state, session.hall_id)) : null,
  h("span", { class: "screen-device", title: session.device || "" }, deviceWords(session.device)),
  h("span", { class: "mono small-print", "data-testid": "screen-address" }, session.address || "?"),
  h("span", { class: "muted small-print" }, fmt("since %(time)s", { time: clock(session.since) })),
  readOnly ? null : h("span", { class: "screen-actions" },
    holding ? null : h("button", {
      type: "button", class: "primary small", "data-action": "allow-takeover", disabled: pending,
      onclick: () => allowTakeover(session.id),
    }, _("Allow")),
    h("button", {
      type: "button", class: holding ? "danger small" : "secondary small",
      "data-action": holding ? "end-session" : "refuse-takeover", disabled: pending,
      onclick: () => endSession(session),
    }, holding ? _("End") : _("Refuse"))));
}

function renderScreens(list, sessions, options) {
  const signature = JSON.stringify([sessions, [...busy].filter((key) => key.startsWith("session:")), document.documentElement.lang]);
  if (list.dataset.sig === signature) return;
  list.dataset.sig = signature;
  list.replaceChildren(...sessions.map((session) => screenRow(session, options)));
}

function renderTakeovers() {
  const asking = screensOf().filter((session) => session.state === "asking");
  bound("takeover-list").closest("section").hidden = asking.length === 0;
  renderScreens(bound("takeover-list"), asking, { withHall: true });
}

// The hall's link: up (the hub reports it connected, lately), the kiosk is open but its
// programme link is not (yet) up, or no kiosk at all.
function linkState(hallId) {
  const figure = figures.get(hallId);
  if (figure && Date.now() - figure.heard < FIGURES_FRESH_MS && figure.state === "connected") return "up";
  if (state.presence?.[String(hallId)]?.connected || (figure && Date.now() - figure.heard < FIGURES_FRESH_MS)) return "kiosk";
  return "off";
}

const LINK_WORDS = {
  up: () => _("programme link up"),
  kiosk: () => _("kiosk open, programme link down"),
  off: () => _("kiosk not connected"),
};

function tierSelect(hallId) {
  const select = h("select", { "data-tier": hallId, "aria-label": _("Quality of this hall's link"), disabled: readOnly },
    h("option", { value: "" }, _("automatic")),
    ...TIERS.map((tier) => h("option", { value: tier }, fmt("always %(tier)s", { tier: tierWords(tier) }))));
  select.addEventListener("change", () => pinTier(hallId, select.value));
  return select;
}

function createTile(hall) {
  return h("li", { class: "hall-tile", "data-hall": hall.id },
    h("div", { class: "hall-thumb" },
      h("img", { alt: "", hidden: true }),
      h("span", { class: "hall-thumb-empty" }, _("No picture yet")),
      h("span", { class: "hall-flag", "data-bind": "flag", hidden: true })),
    h("div", { class: "hall-tile-body" },
      h("p", { class: "hall-tile-name" },
        h("span", { class: "dot", "data-bind": "dot" }),
        h("span", { "data-bind": "name" }),
        hall.is_studio ? h("span", { class: "chip" }, _("studio")) : null),
      h("p", { class: "hall-tile-figures mono", "data-bind": "figures", "data-testid": "hall-figures" }),
      h("p", { class: "hall-tile-seen muted small-print", "data-bind": "seen" }),
      h("ul", { class: "screen-list hall-screens", "data-bind": "screens", "data-testid": "hall-screens" }),
      h("div", { class: "hall-tile-actions" },
        h("label", { class: "tier-pin" }, _("Quality"), tierSelect(hall.id)),
        hall.is_studio ? null : h("span", { "data-bind": "give" }))));
}

function renderGrid() {
  const grid = bound("hall-grid");
  const tiles = new Map([...grid.children].map((tile) => [Number(tile.dataset.hall), tile]));
  const hands = raisedHands();
  let next = grid.firstElementChild;
  for (const hall of sortedHalls(state)) {
    let tile = tiles.get(hall.id);
    if (!tile) tile = createTile(hall);
    tiles.delete(hall.id);
    if (tile === next) next = next.nextElementSibling;
    else grid.insertBefore(tile, next);
    updateTile(tile, hall, hands);
  }
  for (const stale of tiles.values()) stale.remove();
}

function updateTile(tile, hall, hands) {
  const id = hall.id;
  const hallLink = linkState(id);
  tile.dataset.link = hallLink;
  const dot = bound("dot", tile);
  dot.className = `dot link-${hallLink}`;
  dot.title = LINK_WORDS[hallLink]();
  setText("name", hall.name, tile);

  const thumbnail = thumbnails.get(id);
  const image = tile.querySelector("img");
  if (thumbnail && image.getAttribute("src") !== thumbnail.image) image.src = thumbnail.image;
  image.hidden = !thumbnail;
  tile.querySelector(".hall-thumb-empty").hidden = Boolean(thumbnail);

  const figure = figures.get(id);
  const fresh = figure && Date.now() - figure.heard < FIGURES_FRESH_MS;
  setText("figures", fresh ? linkSummary(figure) : LINK_WORDS[hallLink](), tile);
  const seen = [];
  if (thumbnail?.at) seen.push(fmt("picture at %(time)s", { time: clock(thumbnail.at) }));
  if (figure && !fresh) seen.push(fmt("link last seen %(ago)s ago", { ago: duration((Date.now() - figure.heard) / 1000) }));
  setText("seen", seen.join(" · "), tile);

  renderScreens(bound("screens", tile), screensOf(id));

  const holder = state.programme?.floor_hall_id === id;
  const place = hands.findIndex((hand) => hand.id === id) + 1;
  tile.classList.toggle("has-floor", holder);
  tile.classList.toggle("hand-raised", place > 0);
  const flag = bound("flag", tile);
  flag.hidden = !holder && !place;
  flag.textContent = holder ? _("has the floor") : place ? fmt("hand raised · %(place)s", { place }) : "";

  const select = tile.querySelector("select[data-tier]");
  const pinned = state.tier_pins?.[String(id)] || "";
  if (document.activeElement !== select) select.value = pinned;
  if (!readOnly) select.disabled = busy.has(`tier:${id}`);

  const give = bound("give", tile);
  if (give) {
    const signature = JSON.stringify([holder, state.meeting.status, busy.has(`floor:${id}`)]);
    if (give.dataset.sig !== signature) {
      give.dataset.sig = signature;
      give.replaceChildren(holder ? "" : giveButton(id) || "");
    }
  }
}

// --- the programme monitor and the moderator's microphone -------------------------------------

let microphone = null; // the moderator's microphone while it is on the programme
let microphoneBusy = false;

const stream = new MeetingStream({
  wsPath: config.ws,
  onState: (newState) => {
    state = newState;
    render();
  },
  onStatus: showConnection,
});

const link = programmeMonitor({ stream, api, onChange: () => renderMonitor() });

function renderMonitor() {
  const mic = document.querySelector('[data-action="microphone"]');
  if (mic) {
    mic.textContent = microphone ? _("Stop my microphone") : _("Use my microphone");
    mic.setAttribute("aria-pressed", String(Boolean(microphone)));
    mic.disabled = microphoneBusy;
  }
  const label = bound("monitor-label");
  const holder = state?.programme?.floor_hall_id ?? null;
  label.hidden = holder === null;
  label.textContent = holder === null ? "" : fmt("%(hall)s has the floor", { hall: hallName(state, holder) });
}

async function toggleMicrophone() {
  if (microphoneBusy) return;
  const error = bound("microphone-error");
  error.hidden = true;
  if (microphone) {
    link.setTracks({ audio: null });
    link.setSend({ audio: false, video: false });
    stopStream(microphone);
    microphone = null;
    renderMonitor();
    return;
  }
  microphoneBusy = true;
  renderMonitor();
  const opened = await openLocalMedia({ audio: true, video: false });
  microphoneBusy = false;
  if (opened.error) {
    error.textContent = opened.error;
    error.hidden = false;
  } else {
    microphone = opened.stream;
    // A sending screen is another role at the hub: the link is offered again.
    link.setTracks({ audio: microphone.getAudioTracks()[0] || null });
    link.setSend({ audio: true, video: false });
  }
  renderMonitor();
}

// --- the page ---------------------------------------------------------------------------------

stream.on("media.halls", (frame) => {
  const heard = Date.now();
  for (const [id, figure] of Object.entries(frame.halls || {})) figures.set(Number(id), { ...figure, heard });
  render();
});
stream.on("thumbnail", (frame) => {
  thumbnails.set(Number(frame.hall), { image: frame.image, at: frame.at });
  render();
});

async function loadThumbnails() {
  try {
    const found = await api.get("/thumbnails");
    for (const [id, thumbnail] of Object.entries(found)) {
      if (!thumbnails.has(Number(id))) thumbnails.set(Number(id), { image: thumbnail.image, at: thumbnail.at });
    }
    render();
  } catch (error) {
    // The live frames bring each hall's picture within seconds anyway.
  }
}

document.querySelector('[data-action="microphone"]')?.addEventListener("click", toggleMicrophone);
document.querySelector('[data-action="revoke"]')?.addEventListener("click", revokeFloor);
for (const button of document.querySelectorAll("[data-layout]")) {
  button.addEventListener("click", () => setLayout(button.dataset.layout));
}

stream.start();
link.start();
loadThumbnails();
setInterval(() => {
  if (!state) return;
  renderCountdown();
  renderHands();
  renderGrid();
}, 1000);
