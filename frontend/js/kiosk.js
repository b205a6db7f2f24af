// A hall's kiosk, full screen on the hall's TV: the programme's "now" or the question on air,
// the hall's question count, attendance, and the clerk's entry of questions handed in on paper.
// The programme's picture and sound, the floor and the hall's camera: kiosk-media.js. It runs
// only while this screen holds its hall (kiosk-session.js); otherwise the screen says why.
import { apiClient } from "./api.js";
import { bound, h, pageConfig, setText } from "./dom.js";
import { describeEvent } from "./format.js";
import { _, fmt } from "./i18n.js";
import { kioskMedia } from "./kiosk-media.js";
import { QuestionPages } from "./kiosk-pages.js";
import { KioskHold } from "./kiosk-session.js";
import { Ticker } from "./kiosk-ticker.js";
import { conferenceTime } from "./kiosk-time.js";
import { MeetingStream } from "./live.js";
import { renderNow, renderTimer } from "./programme.js";
import { Outbox, storage, storageKey } from "./outbox.js";
import {
  QuestionForm,
  acceptsQuestions,
  candidateName,
  fill,
  hallName,
  keyedList,
  onAirQuestion,
  rejectReasonWords,
  statusWords,
} from "./questions.js";
import { showConnection } from "./status.js";

const config = pageConfig();
const hallId = String(config.viewer.hall);
const keys = {
  session: storageKey(config.slug, "kiosk", hallId, "session"),
  outbox: storageKey(config.slug, "kiosk", hallId, "outbox"),
  entered: storageKey(config.slug, "kiosk", hallId, "entered"),
  seen: storageKey(config.slug, "kiosk", hallId, "seen"),
  draft: storageKey(config.slug, "kiosk", hallId, "draft"),
};
// Every call carries this screen's session: only the screen that holds the hall acts for it.
const sessionApi = apiClient({ base: config.api, link: config.link, headers: () => hold.headers() });
const hold = new KioskHold({ api: sessionApi, key: keys.session, onChange: (session, previous) => holdChanged(session, previous) });
// A refusal because this screen no longer holds its hall: learn why, and say so.
const guarded = (promise) => promise.catch((error) => {
  if (error.body?.code === "hall_held_elsewhere") hold.lost();
  throw error;
});
const api = {
  get: (path, options) => guarded(sessionApi.get(path, options)),
  post: (path, body, options) => guarded(sessionApi.post(path, body, options)),
};
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const ENTERED_KEPT = 50;
const ENTERED_SHOWN = 12;
// Statuses that can still change; the others are final.
const OPEN_STATUSES = new Set(["submitted", "approved", "on_air", "merged"]);
// The conference takes paper questions while scheduled or live (docs/questions.md); before it
// is scheduled and after it ended the hall is not invited to ask.
const ASKING_STATUSES = new Set(["scheduled", "live"]);
const OVER_STATUSES = new Set(["ended", "archived"]);
let state = null;
const ticker = new Ticker(bound("ticker"));
const say = (text) => ticker.say(text);
// Times in the conference's zone (kiosk-time.js): the snapshot's, and until it arrives the
// page's (the asking screen has no snapshot).
const timeZone = () => state?.meeting?.time_zone || config.time_zone || null;
const shortClock = (iso) => conferenceTime(iso, timeZone());

// --- the question on air ---------------------------------------------------------------------

const pages = new QuestionPages({
  text: bound("on-air-text"),
  indicator: bound("on-air-page"),
  pageWords: (page, count) => fmt("Page %(page)s of %(pages)s", { page, pages: count }),
});

let shownOnAir = null;

function renderOnAir() {
  const question = onAirQuestion(state);
  byTestId("kiosk-on-air").hidden = !question;
  byTestId("kiosk-stage").hidden = Boolean(question);
  if (!question) {
    if (shownOnAir !== null) pages.clear();
    shownOnAir = null;
    return;
  }
  const origin = question.asker
    ? fmt("Asked by %(name)s, %(hall)s", { name: question.asker, hall: hallName(state, question.hall_id) })
    : fmt("Asked at %(hall)s", { hall: hallName(state, question.hall_id) });
  const also = (question.also_from_halls || []).map((id) => hallName(state, id));
  setText("on-air-origin", origin);
  setText("on-air-also", also.length ? fmt("Also asked at %(halls)s", { halls: also.join(", ") }) : "");
  setText("on-air-candidate", question.candidate_id
    ? fmt("To %(name)s", { name: candidateName(state, question.candidate_id) })
    : "");
  // Fitted again only when something that takes room changed (votes arrive every second).
  const signature = JSON.stringify([question.id, question.text, origin, also, question.candidate_id]);
  if (signature !== shownOnAir) {
    shownOnAir = signature;
    // A question that needs pages in the panel's usual part of the column gets the whole
    // column (and keeps it while it is on air: fewer, fuller pages, and no back and forth).
    const section = byTestId("kiosk-on-air");
    section.classList.remove("long");
    pages.show(question.text);
    if (pages.pages.length > 1) section.classList.add("long"); // refitted as the box grows
  }
}

function renderTally() {
  const tally = state.tally?.[hallId];
  setText("tally", fmt("Questions from this hall: %(received)s received, %(approved)s approved", {
    received: tally?.received || 0,
    approved: tally?.approved || 0,
  }));
}

// Before and after the conference the hall is told so, and not invited to do what it cannot:
// no QR code inviting questions once it has ended, no paper questions outside its time.
function renderPhase() {
  const status = state.meeting.status;
  const over = OVER_STATUSES.has(status);
  document.body.dataset.phase = status;
  byTestId("kiosk-qr").hidden = over;
  for (const part of document.querySelectorAll("[data-qr]")) {
    part.hidden = part.dataset.qr !== (acceptsQuestions(state) ? "ask" : "follow");
  }
  byTestId("kiosk-ended").hidden = !over;
  const published = Boolean(state.meeting.published_at);
  byTestId("public-will-be").hidden = published;
  byTestId("public-is").hidden = !published;
  const paper = ASKING_STATUSES.has(status);
  opener.hidden = !paper;
  if (!paper && !drawer.hidden) closeDrawer();
}

function render() {
  renderNow(state);
  renderPhase();
  media?.render(state);
  renderConnecting(); // the programme is wanted, or no longer, with the conference's status
  renderOnAir();
  renderTally();
  clerkForm.fillChoices(state);
  renderEntered();
  const input = bound("attendance-input");
  const attendance = state.halls[hallId]?.attendance;
  if (document.activeElement !== input) input.value = attendance ?? "";
}

bound("attendance-input").closest("form").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const count = Number.parseInt(bound("attendance-input").value, 10);
  if (Number.isNaN(count)) return;
  try {
    await api.post(`/halls/${hallId}/attendance`, { count });
    say(fmt("Attendance saved: %(count)s", { count }));
  } catch (error) {
    say(error.message);
  }
});

// --- paper questions, typed by the hall's clerk ---------------------------------------------

// What this kiosk entered: the id the server gave, and what became of it as far as the hall's
// stream tells (public questions from the state; rejections and merges from their events).
let entered = storage.get(keys.entered, []);

function keepEntered() {
  entered = entered.slice(-ENTERED_KEPT);
  storage.set(keys.entered, entered);
  renderEntered();
}

function enteredStatus(entry) {
  const shown = entry.id != null ? state?.questions?.[String(entry.id)] : null;
  return shown ? shown.status : entry.status;
}

function enteredWords(entry) {
  const status = enteredStatus(entry);
  if (status === "rejected") {
    return entry.reason ? fmt("Not accepted: %(reason)s", { reason: rejectReasonWords(entry.reason) }) : statusWords(status);
  }
  if (status === "merged" && entry.into != null) return fmt("Merged with question #%(id)s", { id: entry.into });
  return statusWords(status);
}

function outboxWords(item) {
  if (outbox.isSending(item.client_id)) return _("Sending…");
  if (item.state === "failed") return fmt("Not sent: %(reason)s", { reason: item.message });
  return item.message || _("Waiting for the network… It will be sent by itself.");
}

function renderEntered() {
  const waiting = outbox.items();
  const rows = [
    ...waiting.map((item) => ({ kind: "outbox", key: item.client_id, item })),
    ...entered.slice(-ENTERED_SHOWN).reverse().map((entry) => ({ kind: "entered", key: entry.client_id, entry })),
  ];
  keyedList(byTestId("clerk-entered"), rows, {
    key: (row) => row.key,
    create: () => h("li", { class: "q-item" }),
    update: (element, row) => {
      element.dataset.clientId = row.key;
      if (row.kind === "outbox") {
        const { item } = row;
        element.dataset.status = outbox.isSending(item.client_id) ? "sending" : item.state;
        fill(element,
          h("p", { class: "q-text" }, item.body.text),
          h("p", { class: `q-status outbox-${item.state}`, "data-testid": "clerk-status" }, outboxWords(item)),
          item.state === "failed" ? h("div", { class: "q-actions" },
            h("button", { type: "button", class: "primary", disabled: state ? !acceptsQuestions(state) : false, onclick: () => outbox.retry(item.client_id) }, _("Send again")),
            h("button", { type: "button", class: "secondary", onclick: () => editPending(item) }, _("Edit")),
            h("button", { type: "button", class: "secondary", onclick: () => outbox.remove(item.client_id) }, _("Delete")),
          ) : null,
        );
        return;
      }
      const { entry } = row;
      const status = enteredStatus(entry);
      element.dataset.status = status;
      element.dataset.question = entry.id ?? "";
      fill(element,
        h("p", { class: "q-text" }, entry.text),
        h("p", { class: `q-status status-${status}`, "data-testid": "clerk-status" },
          entry.id != null ? `#${entry.id} · ` : "", enteredWords(entry), entry.created ? ` · ${shortClock(entry.created)}` : ""),
      );
    },
  });
  byTestId("clerk-entered-empty").hidden = rows.length > 0;
  const count = waiting.length;
  const badge = bound("clerk-waiting");
  badge.hidden = count === 0;
  badge.textContent = fmt("%(count)s not sent yet", { count });
  badge.dataset.failed = String(waiting.some((item) => item.state === "failed"));
}

function editPending(item) {
  outbox.remove(item.client_id);
  clerkForm.load(item.body);
  clerkForm.saveDraft();
  clerkForm.fields.text.focus();
}

const outbox = new Outbox({
  key: keys.outbox,
  api,
  onChange: () => renderEntered(),
  onSent: (item, answer) => {
    const question = answer?.question;
    entered = entered.filter((entry) => entry.client_id !== item.client_id);
    entered.push({
      client_id: item.client_id,
      id: question?.id ?? null,
      text: question?.text ?? item.body.text,
      status: question?.status ?? "submitted",
      reason: question?.reject_reason ?? null,
      into: question?.merged_into ?? null,
      created: question?.created_at ?? new Date().toISOString(),
    });
    keepEntered();
    if (stream.seq !== null) storage.set(keys.seen, stream.seq);
  },
});

// A public event about a question this kiosk entered says its new status (and why).
function noteQuestionEvent(event) {
  const payload = event.payload || {};
  if (payload.question == null || !payload.status) return false;
  const entry = entered.find((each) => each.id === payload.question);
  if (!entry) return false;
  entry.status = payload.status;
  if (payload.reason !== undefined) entry.reason = payload.reason;
  if (payload.into !== undefined) entry.into = payload.into;
  return true;
}

// After a snapshot (a reload, or a long gap) the events that told of rejections and merges
// were not replayed to us: read them from the record, from where this kiosk stopped.
let catchingUp = false;

async function catchUp() {
  const seen = storage.get(keys.seen);
  if (catchingUp || !Number.isInteger(seen) || !entered.some((entry) => OPEN_STATUSES.has(entry.status))) return;
  catchingUp = true;
  try {
    let since = seen;
    let changed = false;
    for (let page = 0; page < 20; page += 1) {
      const answer = await api.get(`/events?since=${since}&limit=500`, { timeout: 30000 });
      for (const event of answer.events) changed = noteQuestionEvent(event) || changed;
      if (answer.events.length) since = answer.events[answer.events.length - 1].seq;
      if (!answer.more) break;
    }
    if (changed) keepEntered();
    storage.set(keys.seen, since);
  } catch (error) {
    // The next snapshot tries again.
  } finally {
    catchingUp = false;
  }
}

const clerkForm = new QuestionForm(byTestId("clerk-form"), {
  draftKey: keys.draft,
  onSend: (body) => {
    outbox.add(body);
    clerkForm.say(_("Saved on this kiosk and sent to the moderators. Type the next one."), "info");
    clerkForm.fields.text.focus();
  },
});

const drawer = byTestId("clerk-drawer");
const opener = byTestId("clerk-open");

function openDrawer() {
  drawer.hidden = false;
  opener.setAttribute("aria-expanded", "true");
  clerkForm.fields.text.focus();
}

function closeDrawer() {
  drawer.hidden = true;
  opener.setAttribute("aria-expanded", "false");
  opener.focus();
}

opener.addEventListener("click", () => (drawer.hidden ? openDrawer() : closeDrawer()));
drawer.querySelector('[data-action="clerk-close"]').addEventListener("click", closeDrawer);
document.addEventListener("keydown", (key) => {
  if (key.key === "Escape" && !drawer.hidden) {
    key.preventDefault();
    closeDrawer();
    return;
  }
  const typing = key.target.closest?.("input, textarea, select, [contenteditable]");
  if (typing || key.ctrlKey || key.metaKey || key.altKey || !drawer.hidden) return;
  if ((key.key === "q" || key.key === "Q") && !opener.hidden) {
    key.preventDefault();
    openDrawer();
  }
  // The operator turns the pages of a long question on air.
  const step = { PageDown: 1, ArrowRight: 1, PageUp: -1, ArrowLeft: -1 }[key.key];
  if (step && pages.turn(step)) key.preventDefault();
});

// --- the stream -----------------------------------------------------------------------------

let lastStatus = null;
const stream = new MeetingStream({
  wsPath: config.ws,
  link: config.link,
  session: () => hold.token,
  onState: (newState, event) => {
    state = newState;
    render();
    if (event === null) catchUp();
  },
  onEvent: (event) => {
    if (noteQuestionEvent(event)) keepEntered();
    if (entered.length) storage.set(keys.seen, event.seq);
    // Counts arrive every second in a busy conference; the hall's tally shows them already.
    if (event.type === "public.votes" || event.type === "public.tally") return;
    ticker.event(event, state, hallId, describeEvent);
  },
  onStatus: (status, code) => {
    if (status === "refused" && code === 4409) {
      hold.lost(); // another screen took over, or the studio ended this one
      return;
    }
    showConnection(status, code);
    if (status === "live" && lastStatus !== "live") outbox.flush();
    lastStatus = status;
    renderConnecting();
  },
});

// --- holding the hall -------------------------------------------------------------------------

let media = null; // the programme, the camera and the hand: while this screen holds the hall
const holdBox = byTestId("kiosk-hold");
const ALLOWED_SHOWN_MS = 3000;
const RESTART_MS = 2000;
let allowedTimer = null;
let restartTimer = null;

function showHold(phase) {
  holdBox.hidden = phase === null;
  holdBox.dataset.state = phase ?? "";
  for (const part of holdBox.querySelectorAll("[data-hold]")) part.hidden = part.dataset.hold !== phase;
  byTestId("ask-again").hidden = !["refused", "taken_over", "ended_by_staff", "gone"].includes(phase);
}

function holdChanged(session, previous) {
  document.body.dataset.hold = session?.state ?? "";
  if (hold.problem) {
    setText("hold-problem", hold.problem.message);
    showHold("problem");
    return;
  }
  if (!session) return;
  if (session.state === "holding") {
    clearTimeout(allowedTimer);
    if (previous === "asking") {
      showHold("allowed");
      allowedTimer = setTimeout(() => showHold(null), ALLOWED_SHOWN_MS);
    } else {
      showHold(null);
    }
    if (screenStarted && stream.stopped) {
      // The stream was refused, yet the session still holds the hall: connect again, calmly.
      clearTimeout(restartTimer);
      restartTimer = setTimeout(() => stream.start(), RESTART_MS);
    }
    startScreen();
    return;
  }
  if (session.state === "asking") {
    setText("hold-since", fmt("Asked at %(time)s. This screen starts by itself as soon as the studio allows it.", { time: shortClock(session.since) }));
    showHold("asking");
    return;
  }
  stopScreen();
  showHold(session.end_reason === "link_rotated" ? "taken_over" : session.end_reason || "ended_by_staff");
}

let screenStarted = false;

function startScreen() {
  if (screenStarted) return;
  screenStarted = true;
  media = kioskMedia({ api, stream, hallId, say, onLink: renderConnecting });
  stream.start();
  outbox.flush();
}

function stopScreen() {
  if (!screenStarted) return;
  stream.stop();
  media?.stop();
  showConnection("off");
}

byTestId("ask-again").addEventListener("click", async () => {
  const before = hold.token;
  await hold.claim();
  // A new session: start the page afresh from it (holding, or asking and waiting).
  if (hold.token !== before) location.reload();
});

// "Connecting to the studio…" on the bottom line while the screen is: until its stream is
// live and, when the conference has a programme, the programme plays (or cannot be had, which
// the top bar says).
function renderConnecting() {
  const connecting = lastStatus !== "live" || Boolean(media?.connecting());
  ticker.setStatus(connecting ? _("Connecting to the studio…") : null);
}

function tick() {
  setText("clock", conferenceTime(new Date(), timeZone()));
  if (state && media) {
    renderTimer(state);
    media.tick();
  }
}

// The stage changes size with the window and with the bottom bar (a "not sent yet" note, a
// ticker line that wraps): fit the question on air again.
const onAirBox = bound("on-air-text").parentElement;
let boxSize = "";
const refit = () => {
  const size = `${onAirBox.clientWidth}x${onAirBox.clientHeight}`;
  if (size === boxSize) return;
  boxSize = size;
  if (shownOnAir !== null) pages.refit();
};
if (typeof ResizeObserver === "function") new ResizeObserver(refit).observe(onAirBox);
else window.addEventListener("resize", refit);

tick();
setInterval(tick, 1000);
renderConnecting();
renderEntered();
showHold("claiming");
hold.begin();
