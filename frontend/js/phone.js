// A voter's phone page: ask a question, follow your own questions, support the queued ones,
// see what is on air. Questions are kept on the phone until the server has them (outbox.js),
// so a weak or dropped link loses nothing and a retry never makes a second question.
import { apiClient } from "./api.js";
import { PhoneDevice, phoneApi } from "./device.js";
import { bound, h, pageConfig, setText, toast } from "./dom.js";
import { clock, shortClock } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import { keepForOffline } from "./offline-page.js";
import { renderNow, renderTimer } from "./programme.js";
import { Outbox, storage, storageKey } from "./outbox.js";
import {
  QuestionForm,
  acceptsQuestions,
  answerWords,
  candidateName,
  fill,
  hallName,
  keyedList,
  onAirQuestion,
  queueInOrder,
  rejectReasonWords,
  statusWords,
  topicLabel,
} from "./questions.js";
import { showConnection } from "./status.js";

const config = pageConfig();
// The id the server issued this phone for its hall (device.js): every call below carries it.
const hallApi = apiClient({ base: config.api, link: config.link });
const device = new PhoneDevice({ api: hallApi, key: storageKey(config.slug, "device", config.viewer.hall) });
const api = phoneApi(hallApi, device);
storage.remove("meetings.device"); // the id the page used to make up itself, which the server never knew
const keys = {
  outbox: storageKey(config.slug, "outbox"),
  mine: storageKey(config.slug, "mine"),
  voted: storageKey(config.slug, "voted"),
  draft: storageKey(config.slug, "draft"),
  now: storageKey(config.slug, "now"),
};
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const PUBLIC = new Set(["approved", "on_air", "answered"]);

let state = null;
let mine = storage.get(keys.mine, []); // the last answer of GET /questions/mine
const voted = new Set(storage.get(keys.voted, []));
const confirming = new Set(); // keys of items showing "are you sure?"

// --- my questions ------------------------------------------------------------------------

const myIds = () => new Set(mine.map((question) => question.id));

function keepMine(list) {
  mine = list;
  storage.set(keys.mine, mine);
  renderMine();
}

function upsertMine(question) {
  const others = mine.filter((each) => each.id !== question.id);
  keepMine([...others, question].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id));
}

let mineRequest = null;
let mineAgain = false;

// GET /questions/mine, one request at a time; a request asked for meanwhile runs after it.
async function refreshMine() {
  if (mineRequest) {
    mineAgain = true;
    return;
  }
  mineRequest = api.get("/questions/mine", { timeout: 30000 });
  try {
    keepMine(await mineRequest);
  } catch (error) {
    // Offline: the list from last time stays on screen.
    if (!error.retryable) console.warn("my questions", error.message);
  } finally {
    mineRequest = null;
  }
  if (mineAgain) {
    mineAgain = false;
    refreshMine();
  }
}

// What the state says now wins over the list fetched earlier; a question that was public and
// is no longer (merged) keeps its old word until the list is fetched again.
function currentStatus(question) {
  return state?.questions?.[String(question.id)]?.status || question.status;
}

function queuePlace(questionId) {
  if (!state) return null;
  const index = queueInOrder(state).findIndex((question) => question.id === questionId);
  return index >= 0 ? index + 1 : null;
}

function statusLine(question) {
  const status = currentStatus(question);
  const parts = [];
  if (status === "approved") {
    const place = queuePlace(question.id);
    parts.push(place ? fmt("Approved: number %(place)s in the queue", { place }) : statusWords(status));
  } else if (status === "rejected") {
    parts.push(fmt("Not accepted: %(reason)s", { reason: rejectReasonWords(question.reject_reason) }));
  } else {
    parts.push(statusWords(status));
  }
  if (status === "answered") {
    const answer = state?.questions?.[String(question.id)]?.answer;
    if (answer) parts.push(answerWords(answer));
  }
  if (status === "merged") parts.push(...joinedStatus(question));
  return parts.join(" · ");
}

// A merged question is answered with the question it joined (the end of the chain, when that
// one was merged in turn): what became of that one is what its asker wants to know.
function joinedStatus(question) {
  const into = question.merged_into;
  if (into == null) return [];
  const target = state?.questions?.[String(into)];
  const status = target?.status || question.merged_into_status;
  if (!status || status === "merged") return [];
  if (status === "approved") {
    const place = queuePlace(into);
    return [place ? fmt("Approved: number %(place)s in the queue", { place }) : statusWords(status)];
  }
  if (status === "answered" && target?.answer) return [statusWords(status), answerWords(target.answer)];
  return [statusWords(status)];
}

function mergedLink(question) {
  const into = question.merged_into;
  if (into == null) return null;
  const target = state?.questions?.[String(into)];
  if (myIds().has(into) && !target) {
    return h("a", { href: `#mine-${into}`, "data-testid": "merged-link" }, _("See the question it joined, among yours"));
  }
  if (target) {
    return h("a", { href: `#question-${into}`, "data-testid": "merged-link" }, _("See the question it joined"));
  }
  if (question.merged_into_status && question.merged_into_status !== "submitted") return null;
  return h("span", { class: "muted" }, _("The question it joined is waiting for the moderators."));
}

function mineActions(question) {
  if (currentStatus(question) !== "submitted") return null;
  const key = `withdraw-${question.id}`;
  if (confirming.has(key)) {
    return h("div", { class: "q-actions confirm" },
      h("span", {}, _("Withdraw this question?")),
      h("button", { type: "button", class: "danger", "data-action": "withdraw-yes", onclick: () => withdraw(question) }, _("Yes, withdraw")),
      h("button", { type: "button", class: "secondary", onclick: () => { confirming.delete(key); renderMine(); } }, _("No")),
    );
  }
  return h("div", { class: "q-actions" },
    h("button", { type: "button", class: "secondary", "data-action": "withdraw", onclick: () => { confirming.add(key); renderMine(); } }, _("Withdraw")),
  );
}

async function withdraw(question) {
  confirming.delete(`withdraw-${question.id}`);
  try {
    upsertMine(await api.post(`/questions/${question.id}/withdraw`));
  } catch (error) {
    toast(error.message, "error");
    refreshMine();
  }
}

function renderMine() {
  const list = byTestId("mine");
  keyedList(list, mine, {
    key: (question) => question.id,
    create: () => h("li", { class: "q-item" }),
    update: (element, question) => {
      const status = currentStatus(question);
      element.id = `mine-${question.id}`;
      element.dataset.question = question.id;
      element.dataset.status = status;
      const meta = [
        topicLabel(state || {}, question.topic),
        question.candidate_id ? fmt("to %(name)s", { name: candidateName(state || {}, question.candidate_id) }) : "",
        question.created_at ? fmt("sent %(time)s", { time: shortClock(question.created_at) }) : "",
      ].filter(Boolean).join(" · ");
      fill(element,
        h("p", { class: "q-text" }, question.text),
        h("p", { class: `q-status status-${status}`, "data-testid": "mine-status" }, statusLine(question)),
        status === "rejected" && question.reject_note
          ? h("p", { class: "q-note", "data-testid": "mine-note" }, fmt("The moderators' note: %(note)s", { note: question.reject_note }))
          : null,
        status === "merged" ? h("p", { class: "q-note" }, mergedLink(question)) : null,
        meta ? h("p", { class: "q-meta" }, meta) : null,
        mineActions(question),
      );
    },
  });
  byTestId("mine-empty").hidden = mine.length > 0;
}

// --- the outbox ----------------------------------------------------------------------------

// A question the server said to send later (a rate limit): the server's reason, and that the
// phone keeps it and sends it by itself, and when, so that the voter does not type it again.
function waitWords(item) {
  const kept = item.retry_at
    ? fmt("Your question is kept on this phone and will be sent by itself at %(time)s. You do not need to send it again.", {
      time: shortClock(new Date(item.retry_at).toISOString()),
    })
    : _("Your question is kept on this phone and will be sent by itself. You do not need to send it again.");
  return item.message ? `${item.message} ${kept}` : kept;
}

function outboxStatus(item) {
  if (outbox.isSending(item.client_id)) return _("Sending…");
  if (item.state === "failed") return fmt("Not sent: %(reason)s", { reason: item.message });
  if (item.retry_at) return waitWords(item); // a rate limit: it waits, then goes by itself
  return _("Waiting for the network… It will be sent by itself.");
}

function outboxActions(item) {
  const key = `delete-${item.client_id}`;
  if (outbox.isSending(item.client_id)) return null;
  if (confirming.has(key)) {
    return h("div", { class: "q-actions confirm" },
      h("span", {}, _("Delete this question from your phone?")),
      h("button", { type: "button", class: "danger", "data-action": "delete-yes", onclick: () => { confirming.delete(key); outbox.remove(item.client_id); } }, _("Yes, delete")),
      h("button", { type: "button", class: "secondary", onclick: () => { confirming.delete(key); renderOutbox(); } }, _("No")),
    );
  }
  const open = state ? acceptsQuestions(state) : true;
  return h("div", { class: "q-actions" },
    item.state === "failed"
      ? [
        h("button", { type: "button", class: "primary", "data-action": "resend", disabled: !open, onclick: () => outbox.retry(item.client_id) }, _("Send again")),
        h("button", { type: "button", class: "secondary", "data-action": "edit", disabled: !open, onclick: () => edit(item) }, _("Edit")),
      ]
      : null,
    h("button", { type: "button", class: "secondary", "data-action": "delete", onclick: () => { confirming.add(key); renderOutbox(); } }, _("Delete")),
  );
}

function edit(item) {
  outbox.remove(item.client_id);
  form.load(item.body);
  form.saveDraft();
  form.say(_("Correct your question, then send it again."), "info");
  document.getElementById("ask").scrollIntoView({ behavior: "smooth", block: "start" });
  form.fields.text.focus({ preventScroll: true });
}

function renderOutbox() {
  const items = outbox.items();
  keyedList(byTestId("outbox"), items, {
    key: (item) => item.client_id,
    create: () => h("li", { class: "q-item" }),
    update: (element, item) => {
      element.dataset.clientId = item.client_id;
      element.dataset.state = outbox.isSending(item.client_id) ? "sending" : item.state;
      fill(element,
        h("p", { class: "q-text" }, item.body.text),
        h("p", { class: `q-status outbox-${item.state}`, "data-testid": "outbox-status" }, outboxStatus(item)),
        outboxActions(item),
      );
    },
  });
  byTestId("outbox-card").hidden = items.length === 0;
}

const outbox = new Outbox({
  key: keys.outbox,
  api,
  onChange: () => renderOutbox(),
  onSent: (_item, answer) => {
    if (answer?.question) upsertMine(answer.question);
    form.say(_("Thank you: your question was received. Follow it under “My questions”."), "info");
    refreshMine();
  },
  onWait: (item) => form.say(waitWords(item), "info"),
});

// --- the queue and what is on air ------------------------------------------------------------

// A vote goes over the page's websocket (a frame, not a request: the cheapest thing a phone can
// send); over HTTP when the socket is down or does not answer in time.
async function sendVote(questionId) {
  try {
    return await device.send((id) => stream.request({ type: "vote", question: questionId, device: id }, { answer: "voted" }));
  } catch (error) {
    if (!error.retryable) throw error;
    return api.post(`/questions/${questionId}/vote`);
  }
}

async function vote(question) {
  try {
    await sendVote(question.id);
    voted.add(question.id);
    storage.set(keys.voted, [...voted]);
    renderQueue();
  } catch (error) {
    toast(error.message, "error");
  }
}

function describeOrigin(question) {
  const halls = [question.hall_id, ...(question.also_from_halls || [])].map((id) => hallName(state, id));
  const origin = question.asker
    ? fmt("%(name)s, %(hall)s", { name: question.asker, hall: halls[0] })
    : fmt("A voter at %(hall)s", { hall: halls[0] });
  return [
    origin,
    halls.length > 1 ? fmt("also asked at %(halls)s", { halls: halls.slice(1).join(", ") }) : "",
    question.candidate_id ? fmt("to %(name)s", { name: candidateName(state, question.candidate_id) }) : "",
    topicLabel(state, question.topic),
  ].filter(Boolean).join(" · ");
}

function renderQueue() {
  const queue = queueInOrder(state);
  const mineNow = myIds();
  keyedList(byTestId("queue"), queue, {
    key: (question) => question.id,
    create: (question) => h("li", { class: "q-item queue-item" },
      h("span", { class: "q-place" }),
      h("div", { class: "q-body" }, h("p", { class: "q-text" }), h("p", { class: "q-meta" })),
      h("button", { type: "button", class: "vote", "data-action": "vote", onclick: () => vote(question) },
        h("span", { class: "vote-word" }), h("span", { class: "q-votes", "data-testid": "votes" })),
    ),
    update: (element, question) => {
      const place = queue.indexOf(question) + 1;
      element.id = `question-${question.id}`;
      element.dataset.question = question.id;
      element.classList.toggle("mine", mineNow.has(question.id));
      element.querySelector(".q-place").textContent = String(place);
      element.querySelector(".q-text").textContent = question.text;
      element.querySelector(".q-meta").textContent = describeOrigin(question);
      const button = element.querySelector("button.vote");
      const done = voted.has(question.id);
      button.disabled = done;
      button.setAttribute("aria-pressed", String(done));
      button.querySelector(".vote-word").textContent = done ? _("Supported") : _("Support");
      button.querySelector(".q-votes").textContent = String(question.votes || 0);
      button.setAttribute("aria-label", fmt("%(action)s (%(count)s votes so far)", {
        action: done ? _("Supported") : _("Support"), count: question.votes || 0,
      }));
    },
  });
  byTestId("queue-empty").hidden = queue.length > 0;
}

function renderOnAir() {
  const question = onAirQuestion(state);
  const card = byTestId("on-air");
  card.hidden = !question;
  if (!question) return;
  byTestId("on-air-mine").hidden = !myIds().has(question.id);
  bound("on-air-text").textContent = question.text;
  bound("on-air-meta").textContent = describeOrigin(question);
}

// --- the form and the page -----------------------------------------------------------------

function renderIntake() {
  const open = acceptsQuestions(state);
  byTestId("ask-form").hidden = !open;
  byTestId("ask-closed").hidden = open;
}

function renderAgenda() {
  const items = Object.values(state.agenda || {}).sort((a, b) => a.position - b.position);
  bound("agenda").replaceChildren(
    ...items.map((item) =>
      h("li", { class: `agenda-item${item.started_at && !item.ended_at ? " running" : ""}${item.ended_at ? " done" : ""}` },
        h("span", { class: "agenda-title" }, item.title),
        item.started_at ? h("span", { class: "muted" }, clock(item.started_at)) : null),
    ),
  );
}

// What is on now, from the last snapshot: a page opened again with no network (phone-sw.js)
// shows it, marked as possibly out of date, until the stream is back.
let keptNow = null;

function keepNow() {
  const now = JSON.stringify({ meeting: { status: state.meeting.status }, agenda: state.agenda || {} });
  if (now === keptNow) return;
  keptNow = now;
  storage.set(keys.now, { ...JSON.parse(now), saved: new Date().toISOString() });
}

function showLastNow() {
  const last = storage.get(keys.now);
  if (state || !last?.meeting) return;
  renderNow(last);
  setText("running-timer", ""); // a timer from then would tick as if nothing had changed
  const stale = byTestId("now-stale");
  stale.textContent = fmt("As of %(time)s, when this phone was last connected: it may have changed since.", {
    time: shortClock(last.saved),
  });
  stale.hidden = false;
}

function render() {
  renderNow(state);
  byTestId("now-stale").hidden = true;
  keepNow();
  renderOnAir();
  renderIntake();
  form.fillChoices(state);
  renderQueue();
  renderMine();
  renderOutbox();
  renderAgenda();
}

const form = new QuestionForm(byTestId("ask-form"), {
  draftKey: keys.draft,
  onSend: (body) => {
    outbox.add(body);
    form.say(navigator.onLine === false
      ? _("Kept on this phone: it will be sent when the network returns.")
      : _("Sending your question…"), "info");
  },
});

function showOffline(offline) {
  byTestId("offline-banner").hidden = !offline;
}

let lastStatus = null;
const stream = new MeetingStream({
  wsPath: config.ws,
  link: config.link,
  onState: (newState) => {
    state = newState;
    render();
  },
  onEvent: (event) => {
    // Something happened to one of my questions, or to the question one of mine was merged
    // into (it names the questions merged into it, at any depth): ask what became of them.
    const named = [event.payload?.question, ...(event.payload?.merged_in || [])];
    const ids = myIds();
    if (named.some((question) => question != null && ids.has(question))) refreshMine();
  },
  onStatus: (status, code) => {
    showConnection(status, code);
    showOffline(status === "offline" || navigator.onLine === false);
    if (status === "live" && lastStatus !== "live") {
      // Back in touch: send what waited, and catch up on my questions.
      outbox.flush();
      refreshMine();
    }
    lastStatus = status;
  },
});

window.addEventListener("offline", () => showOffline(true));
window.addEventListener("online", () => showOffline(false));
showOffline(navigator.onLine === false);
renderMine();
renderOutbox();
showLastNow();
setInterval(() => state && renderTimer(state), 1000);
stream.start();
// The phone's id is asked for at once, not at its first question or vote: by then it has one,
// and the sooner it has one the sooner it counts as established (docs/questions.md).
device.id().catch((error) => console.warn("device id", error.message));
outbox.flush();
refreshMine();
keepForOffline(config.service_worker);
