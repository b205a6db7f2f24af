// A candidate's console, on the studio desk: the question on air, large; the approved
// questions addressed to this candidate in queue order; what they answered; and their own
// speaking time. It reads only the public view of the questions (the `questions` section), so
// it shows a candidate exactly what the halls see. Beside them the programme itself, and for a
// candidate away from the studio desk their own camera, previewed and sent on request.
import { apiClient } from "./api.js";
import { bound, h, pageConfig, setText } from "./dom.js";
import { duration, itemTimer, runningItem, statusLabel } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import { openLocalMedia, stopStream } from "./media.js";
import { programmeMonitor } from "./monitor.js";
import { answerLine, candidateName, hallName, labelsOf, topicLabel } from "./question-words.js";
import { showConnection } from "./status.js";

const config = pageConfig();
const api = apiClient({ base: config.api });
const me = config.candidate;
const kindLabels = labelsOf(config.answer_kinds);
let state = null;

const questions = () => Object.values(state.questions || {});
const byPosition = (a, b) => (a.position ?? Infinity) - (b.position ?? Infinity) || a.id - b.id;

function askedAt(q) {
  const halls = [q.hall_id, ...(q.also_from_halls || [])].map((id) => hallName(state, id));
  return halls.join(", ");
}

function details(q) {
  return [
    askedAt(q),
    q.asker ? fmt("asked by %(name)s", { name: q.asker }) : null,
    q.topic ? topicLabel(state, q.topic) : null,
    fmt("votes: %(n)s", { n: q.votes }),
  ].filter(Boolean).join(" · ");
}

function renderOnAir() {
  const q = questions().find((question) => question.status === "on_air");
  const meta = bound("on-air-meta");
  if (!q) {
    setText("on-air-text", state.meeting.status === "live" ? _("No question is on air.") : statusLabel(state.meeting.status));
    bound("on-air-text").classList.add("stage-empty");
    meta.replaceChildren();
    return;
  }
  bound("on-air-text").classList.remove("stage-empty");
  setText("on-air-text", q.text);
  const addressee = q.candidate_id === me
    ? h("span", { class: "for-you" }, _("Addressed to you"))
    : q.candidate_id ? fmt("Addressed to %(name)s", { name: candidateName(state, q.candidate_id) }) : _("For any candidate");
  meta.replaceChildren(addressee, " · ", details(q));
}

function renderClock() {
  const q = questions().find((question) => question.status === "on_air");
  setText("on-air-clock", q?.on_air_at ? duration((Date.now() - Date.parse(q.on_air_at)) / 1000) : "");
  renderTimer();
}

function questionItem(q, { place = null, extra = [] } = {}) {
  return h("li", { "data-id": q.id },
    h("div", { class: "q-head" },
      place ? h("span", { class: "place", title: _("place in the whole queue") }, String(place)) : null,
      h("span", { class: "mono" }, `#${q.id}`),
      h("span", {}, details(q))),
    h("p", { class: "q-text" }, q.text),
    ...extra);
}

function renderLists() {
  const waiting = questions().filter((q) => q.status === "approved").sort(byPosition);
  const places = new Map(waiting.map((q, index) => [q.id, index + 1]));
  const mine = waiting.filter((q) => q.candidate_id === me);
  bound("mine").replaceChildren(...(mine.length
    ? mine.map((q) => questionItem(q, { place: places.get(q.id) }))
    : [h("li", { class: "muted" }, _("No question in the queue is addressed to you."))]));
  setText("count-mine", String(mine.length));
  const open = waiting.filter((q) => q.candidate_id === null).length;
  setText("others", open ? fmt("%(n)s more questions in the queue are for any candidate.", { n: open }) : "");

  const answered = questions()
    .filter((q) => q.status === "answered" && (q.candidate_id === me || q.answer?.candidate_id === me))
    .sort((a, b) => (b.answered_at || "").localeCompare(a.answered_at || ""));
  bound("answered").replaceChildren(...(answered.length
    ? answered.map((q) => questionItem(q, { extra: [
      h("p", { class: "q-answer" }, h("strong", {}, answerLine(q.answer, kindLabels)),
        q.answer?.summary ? ` · ${q.answer.summary}` : ""),
    ] }))
    : [h("li", { class: "muted" }, _("Nothing answered yet."))]));
  setText("count-answered", String(answered.length));
}

// The running agenda item's timer, large when it is this candidate's presentation.
function renderTimer() {
  const card = bound("timer-card");
  const running = runningItem(state);
  const mine = Object.values(state.agenda || {})
    .filter((item) => item.kind === "presentation" && item.candidate_id === me)
    .sort((a, b) => a.position - b.position)[0];
  const speaking = Boolean(running && mine && running.id === mine.id);
  card.classList.toggle("mine", speaking);
  const timer = bound("timer");
  if (speaking) {
    const clock = itemTimer(running);
    setText("timer-title", running.title);
    timer.textContent = clock.text;
    timer.classList.toggle("over", clock.over);
    setText("timer-note", clock.over ? _("Over your time: please conclude.") : _("Time left in your presentation."));
    return;
  }
  timer.classList.remove("over");
  if (!mine) {
    setText("timer-title", _("No presentation of yours is on the agenda."));
    timer.textContent = "";
  } else if (mine.ended_at) {
    const used = (Date.parse(mine.ended_at) - Date.parse(mine.started_at)) / 1000;
    setText("timer-title", mine.title);
    timer.textContent = duration(used);
    setText("timer-note", fmt("Used of %(allowed)s.", { allowed: duration(mine.allowance_seconds) }));
    return;
  } else {
    setText("timer-title", mine.title);
    timer.textContent = duration(mine.allowance_seconds);
  }
  const now = running ? itemTimer(running) : null;
  setText("timer-note", running
    ? fmt("Now: %(title)s (%(time)s)", { title: running.title, time: now.text })
    : _("Not started yet."));
}

function render() {
  if (!state) return;
  const badge = bound("status");
  badge.textContent = statusLabel(state.meeting.status);
  badge.className = `badge status-${state.meeting.status}`;
  renderOnAir();
  renderLists();
  renderClock();
}

// --- the programme, and the candidate's own camera ------------------------------------------

const stream = new MeetingStream({
  wsPath: config.ws,
  onState: (newState) => {
    state = newState;
    render();
  },
  onStatus: showConnection,
});
const link = programmeMonitor({ stream, api });
let camera = null; // camera and microphone, previewed or sent
let sending = false;
let cameraBusy = false;

function renderCamera() {
  const send = document.querySelector('[data-action="send-camera"]');
  if (!send) return; // staff looking at a candidate's console only watch
  const preview = document.querySelector('[data-action="preview-camera"]');
  preview.textContent = camera ? _("Turn my camera off") : _("Preview my camera");
  preview.disabled = cameraBusy || sending;
  send.textContent = sending ? _("Stop sending my camera") : _("Send my camera");
  send.setAttribute("aria-pressed", String(sending));
  send.disabled = cameraBusy;
  const self = bound("self");
  self.hidden = !camera;
  self.classList.toggle("sending", sending);
  setText("self-caption", sending
    ? _("On the programme: the halls see and hear you.")
    : _("Preview: only you see this."));
}

async function openCamera() {
  if (camera) return true;
  cameraBusy = true;
  renderCamera();
  const opened = await openLocalMedia({ audio: true, video: true });
  cameraBusy = false;
  const error = bound("camera-error");
  error.hidden = !opened.error;
  error.textContent = opened.error || "";
  if (!opened.error) {
    camera = opened.stream;
    bound("self-video").srcObject = camera;
  }
  renderCamera();
  return Boolean(camera);
}

function closeCamera() {
  stopStream(camera);
  camera = null;
  bound("self-video").srcObject = null;
  renderCamera();
}

async function toggleSending() {
  if (sending) {
    sending = false;
    link.setTracks({ audio: null, video: null });
    link.setSend({ audio: false, video: false });
  } else if (await openCamera()) {
    sending = true;
    link.setTracks({ audio: camera.getAudioTracks()[0] || null, video: camera.getVideoTracks()[0] || null });
    // A sending candidate is another role at the hub: the link is offered again.
    link.setSend({ audio: true, video: true });
  }
  renderCamera();
}

document.querySelector('[data-action="preview-camera"]')?.addEventListener("click", () => {
  if (camera) closeCamera();
  else openCamera();
});
document.querySelector('[data-action="send-camera"]')?.addEventListener("click", toggleSending);

renderCamera();
stream.start();
link.start();
setInterval(() => state && renderClock(), 1000);
