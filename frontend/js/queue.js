// The moderators' console: questions coming in, the queue in order, the question on air and
// what is done, kept live over the meeting stream; every action goes through the JSON API with
// the version the moderator saw, so a moderator who acted on an outdated card is told so
// instead of overriding a colleague (docs/protocol.md, questions/api/endpoints.py).
//
// Cards are made once per question and updated in place (queue-card.js), and moved between
// columns without being rebuilt, so the keyboard focus, an open list or a half-edited wording
// survive the stream of other moderators' actions.
import { apiClient } from "./api.js";
import { bound, h, pageConfig, setText, toast } from "./dom.js";
import { duration, statusLabel } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import {
  can,
  candidateSelect,
  closeEditor,
  createCard,
  editorVersion,
  isEditing,
  openEditor,
  refreshAge,
  topicSelect,
  updateCard,
} from "./queue-card.js";
import { anyDialogOpen, setupDialogs } from "./queue-dialogs.js";
import {
  QUESTION_STATUSES,
  hallName,
  labelsOf,
  questionStatusLabel,
  sortedCandidates,
  sortedHalls,
  sortedTopics,
  topicLabel,
} from "./question-words.js";
import { showConnection } from "./status.js";

const config = pageConfig();
const api = apiClient({ base: config.api });
const readOnly = Boolean(config.read_only);
const labels = { reasons: labelsOf(config.reject_reasons), kinds: labelsOf(config.answer_kinds) };

// The lists cards live in; the middle column holds the question on air above the queue.
const LISTS = ["incoming", "on_air", "queue", "done"];
const NAVIGATION = [["incoming"], ["on_air", "queue"], ["done"]];
const DONE = new Set(["answered", "rejected", "merged", "withdrawn"]);

let state = null;
const cards = new Map(); // question id -> its card element
const enteredDone = new Map(); // question id -> order it reached "done", newest highest
let doneCounter = 0;
const filters = { hall: "", topic: "", status: "", candidate: "", search: "" };
let pendingAdvance = null; // {id, fromList, neighborId, follow}: see settleFocus()
let pendingFocusId = null; // a question this moderator just entered: focus it once it shows
let dragId = null;

const listElement = (name) => document.querySelector(`[data-list="${name}"]`);
const moderation = () => state?.moderation || {};
const question = (id) => moderation()[String(id)];
const publicView = (id) => state?.questions?.[String(id)];

function listOf(q) {
  if (q.status === "submitted") return "incoming";
  if (q.status === "approved") return "queue";
  if (q.status === "on_air") return "on_air";
  return "done";
}

function onAirQuestion() {
  return Object.values(moderation()).find((q) => q.status === "on_air") || null;
}

// --- talking to the server -----------------------------------------------------------------

async function call(request) {
  try {
    return { ok: true, data: await request() };
  } catch (error) {
    return { ok: false, error };
  }
}

const get = (path) => call(() => api.get(path));
const post = (path, body) => call(() => api.post(path, body));

// Every action on a question carries the version this moderator saw; a colleague's change in
// between makes it a 409 with the question as it is now.
function send(id, action, body = {}) {
  return call(() => api.post(`/questions/${id}/${action}`, { expected_version: question(id)?.version, ...body }));
}

function report(error, id = null) {
  if (!error) return;
  const message = error.message || _("The server could not do this.");
  toast(id ? fmt("#%(id)s: %(message)s", { id, message }) : message, "error");
  if (error.status === 409) {
    // The stream normally brings the winner's change at once; ask for it in case it was lost.
    stream.resume();
  }
}

// Questions with an action of this moderator under way: the id, and the version the server
// gave the question (0 until it answered). A shortcut pressed twice, or again before the stream
// has brought the change, would otherwise act on an outdated card and earn a conflict.
const inFlight = new Map();

function busy(id) {
  if (!inFlight.has(id)) return false;
  const awaited = inFlight.get(id);
  if (awaited && (question(id)?.version ?? 0) >= awaited) {
    inFlight.delete(id);
    return false;
  }
  return true;
}

// A command given on a question while an action on it is under way is not dropped: it waits
// (one per question, the latest) and runs once the question is free, checked again then
// against the question's state (a moderator who approves and at once puts on air means both).
const waiting = new Map();

function runWaiting() {
  for (const [id, command] of [...waiting]) {
    if (busy(id)) continue;
    waiting.delete(id);
    cards.get(id)?.removeAttribute("data-waiting");
    run(command, id);
  }
}

async function perform(id, action, body = {}, { follow = false } = {}) {
  startAction(id, { follow });
  inFlight.set(id, 0);
  setTimeout(() => { // never stuck, whatever happens to the stream
    inFlight.delete(id);
    runWaiting();
  }, 5000);
  const result = await send(id, action, body);
  if (result.ok && result.data?.version) {
    inFlight.set(id, result.data.version);
  } else {
    inFlight.delete(id);
    waiting.delete(id); // what was asked after a refused action is not meant any more
    cards.get(id)?.removeAttribute("data-waiting");
  }
  if (!result.ok) {
    pendingAdvance = null;
    report(result.error, id);
  }
  settleFocus();
  runWaiting();
  return result;
}

// --- commands --------------------------------------------------------------------------------

const COMMANDS = {
  approve: (id) => perform(id, "approve"),
  reject: (id) => dialogs.reject(question(id)),
  merge: (id) => dialogs.merge(question(id)),
  edit: (id) => {
    const card = cards.get(id);
    if (card && !isEditing(card)) openEditor(card, question(id));
  },
  on_air: (id) => {
    const q = question(id);
    const onAir = onAirQuestion();
    if (state.meeting.status !== "live") {
      toast(_("Questions go on air once the conference is open."), "error");
      return null;
    }
    if (onAir && onAir.id !== q.id) {
      toast(fmt("#%(id)s is on air: mark it answered or take it back to the queue first.", { id: onAir.id }), "error");
      return null;
    }
    return perform(id, "on-air", {}, { follow: true });
  },
  answer: (id) => dialogs.answer(question(id)),
  back: (id) => perform(id, "back-to-queue", {}, { follow: true }),
  unmerge: (id) => perform(id, "unmerge", {}, { follow: true }),
  topic: (id) => openSelect(topicSelect(cards.get(id))),
  candidate: (id) => openSelect(candidateSelect(cards.get(id))),
};

const COMMAND_PERMISSION = { topic: "edit", candidate: "edit" };

function run(command, id) {
  const q = question(id);
  if (readOnly || !q) return;
  if (busy(id)) {
    waiting.set(id, command);
    cards.get(id)?.setAttribute("data-waiting", command);
    return;
  }
  if (!can(COMMAND_PERMISSION[command] || command, q)) {
    toast(fmt("Not possible for a question that is %(status)s.", { status: questionStatusLabel(q.status) }));
    return;
  }
  COMMANDS[command](id);
}

function openSelect(select) {
  if (!select) return;
  select.focus();
  try {
    select.showPicker();
  } catch {
    // Older browsers: the list is focused; arrow keys choose.
  }
}

async function changeField(id, action, body) {
  const result = await send(id, action, body);
  cards.get(id)?.focus({ preventScroll: true });
  if (!result.ok) {
    report(result.error, id);
    render(); // puts the list back to what the record says
  }
}

async function saveEdit(id, text) {
  const card = cards.get(id);
  if (card.dataset.saving) return;
  card.dataset.saving = "true";
  try {
    const result = await send(id, "edit", { text, expected_version: editorVersion(card) });
    if (result.ok || result.error?.status === 409) closeEditor(card, { focus: true });
    if (!result.ok) report(result.error, id);
  } finally {
    delete card.dataset.saving;
  }
}

async function moveInQueue(id, index) {
  const result = await post(`/questions/${id}/move`, { index });
  if (!result.ok) report(result.error, id);
}

function moveBy(id, step) {
  const order = queueOrder();
  const index = order.indexOf(id);
  const target = index + step;
  if (index < 0 || target < 0 || target >= order.length) return;
  moveInQueue(id, target);
}

// --- keeping the keyboard focus where the work is ----------------------------------------------

function visibleCards(name) {
  return [...listElement(name).children].filter((card) => !card.hidden);
}

function neighborOf(card) {
  const siblings = visibleCards(card.parentElement.dataset.list);
  const index = siblings.indexOf(card);
  return siblings[index + 1] || siblings[index - 1] || null;
}

// Called when this moderator acts on a question. Once the card leaves its column (approved out
// of Incoming, answered off air…), the focus stays in the column and moves to the next card,
// ready for the next shortcut; or follows the card (``follow``: put on air, back to the queue).
function startAction(id, { follow = false } = {}) {
  const card = cards.get(id);
  if (!card) return;
  pendingAdvance = {
    id,
    fromList: card.parentElement?.dataset.list,
    neighborId: Number(neighborOf(card)?.dataset.id) || null,
    follow,
  };
}

function settleFocus() {
  if (anyDialogOpen()) return;
  if (pendingFocusId !== null && cards.has(pendingFocusId)) {
    cards.get(pendingFocusId).focus();
    pendingFocusId = null;
    return;
  }
  const pending = pendingAdvance;
  if (!pending) return;
  const q = question(pending.id);
  if (!q) {
    pendingAdvance = null;
    return;
  }
  if (listOf(q) === pending.fromList) return; // the change has not arrived yet
  pendingAdvance = null;
  const card = cards.get(pending.id);
  const active = document.activeElement;
  if (active && active !== document.body && !card?.contains(active)) return; // they moved on
  if (pending.follow) {
    card?.focus();
    return;
  }
  focusNextIn(pending.fromList, pending.neighborId, card);
}

function focusNextIn(listName, neighborId, fallback) {
  const neighbor = cards.get(neighborId);
  const next = (neighbor && !neighbor.hidden && neighbor.parentElement?.dataset.list === listName ? neighbor : null)
    || visibleCards(listName)[0]
    || (listName === "on_air" ? visibleCards("queue")[0] : null)
    || fallback;
  next?.focus();
}

// --- drawing ----------------------------------------------------------------------------------

const sortBy = (items, key) => items.sort((a, b) => {
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < x.length; i += 1) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
});

function queueOrder() {
  const waiting = Object.values(moderation()).filter((q) => q.status === "approved");
  return sortBy(waiting, (q) => [publicView(q.id)?.position ?? Number.MAX_SAFE_INTEGER, q.id]).map((q) => q.id);
}

function orderedLists() {
  const all = Object.values(moderation());
  const lists = { incoming: [], on_air: [], queue: queueOrder(), done: [] };
  for (const q of sortBy(all.filter((q) => q.status === "submitted"), (q) => [q.created_at, q.id])) lists.incoming.push(q.id);
  for (const q of all) if (q.status === "on_air") lists.on_air.push(q.id);
  // Done: newest outcome first. What was already done when the page opened is ordered by its
  // time; what gets done while it is open goes on top as it happens.
  const done = all.filter((q) => DONE.has(q.status));
  for (const q of sortBy(done.filter((q) => !enteredDone.has(q.id)), (q) => [q.answered_at || q.created_at, q.id])) {
    doneCounter += 1;
    enteredDone.set(q.id, doneCounter);
  }
  for (const id of [...enteredDone.keys()]) if (!DONE.has(question(id)?.status)) enteredDone.delete(id);
  lists.done = done.map((q) => q.id).sort((a, b) => enteredDone.get(b) - enteredDone.get(a));
  return lists;
}

function cardFor(id) {
  let card = cards.get(id);
  if (!card) {
    card = createCard(id, {
      readOnly,
      onCommand: run,
      onTopic: (questionId, select) => changeField(questionId, "topic", { topic: select.value || null }),
      onCandidate: (questionId, select) =>
        changeField(questionId, "address", { candidate_id: select.value ? Number(select.value) : null }),
      onEditSave: saveEdit,
    });
    cards.set(id, card);
  }
  return card;
}

// Puts each list's cards in order, moving only those out of place.
function placeCards(list, ids) {
  let next = list.firstElementChild;
  for (const id of ids) {
    const card = cardFor(id);
    if (card === next) next = next.nextElementSibling;
    else list.insertBefore(card, next);
  }
}

function normalized(text) {
  return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
}

function matches(q) {
  if (filters.hall && String(q.hall_id) !== filters.hall) return false;
  if (filters.status && q.status !== filters.status) return false;
  if (filters.topic && (filters.topic === "none" ? q.topic : q.topic !== filters.topic)) return false;
  if (filters.candidate && (filters.candidate === "none" ? q.candidate_id : String(q.candidate_id) !== filters.candidate)) return false;
  if (filters.search) {
    const needle = normalized(filters.search.trim());
    if (needle.startsWith("#")) return String(q.id) === needle.slice(1);
    const haystack = normalized([q.text, q.original_text, q.asker_name, q.asker_group, `#${q.id}`].join(" "));
    if (!needle.split(/\s+/).every((word) => haystack.includes(word))) return false;
  }
  return true;
}

function render() {
  if (!state) return;
  const active = document.activeElement;
  const selection = active?.tagName === "TEXTAREA" ? [active.selectionStart, active.selectionEnd] : null;
  const lists = orderedLists();
  const onAir = onAirQuestion();
  const meetingLive = state.meeting.status === "live";
  const filtered = Object.values(filters).some(Boolean);

  for (const name of LISTS) {
    const element = listElement(name);
    placeCards(element, lists[name]);
    let shown = 0;
    lists[name].forEach((id, index) => {
      const card = cards.get(id);
      const q = question(id);
      updateCard(card, {
        question: q,
        pub: publicView(id),
        place: name === "queue" ? index + 1 : null,
        state,
        readOnly,
        labels,
        meetingLive,
        onAirId: onAir?.id ?? null,
      });
      card.hidden = !matches(q);
      if (!card.hidden) shown += 1;
    });
    const total = lists[name].length;
    const empty = document.querySelector(`[data-empty="${name}"]`);
    if (empty) {
      empty.hidden = shown > 0;
      if (name !== "on_air") {
        empty.dataset.text ??= empty.textContent;
        empty.textContent = total ? _("No question here matches the filters.") : empty.dataset.text;
      }
    }
    const count = bound(`count-${name}`);
    if (count) count.textContent = filtered ? fmt("%(shown)s of %(total)s", { shown, total }) : String(total);
  }
  for (const [id, card] of cards) {
    if (!question(id)) {
      card.remove();
      cards.delete(id);
    }
  }
  // A card moved between lists loses the focus with its move; give it back.
  if (active && active !== document.body && active.isConnected && document.activeElement !== active) {
    active.focus({ preventScroll: true });
    if (selection) active.setSelectionRange(...selection);
    if (active.classList.contains("qcard")) active.scrollIntoView({ block: "nearest" });
  }
  renderHead(onAir);
  renderHallStrip();
  renderFilters();
  settleFocus();
}

function renderHead(onAir) {
  const status = state.meeting.status;
  const badge = bound("status");
  badge.textContent = statusLabel(status);
  badge.className = `badge status-${status}`;
  const open = Boolean(state.meeting.questions_open);
  const intake = bound("intake");
  intake.textContent = open ? _("Questions open") : _("Questions closed");
  intake.className = `badge intake ${open ? "open" : "closed"}`;
  intake.dataset.open = String(open);
  const toggle = document.querySelector('[data-action="toggle-intake"]');
  if (toggle) {
    toggle.textContent = open ? _("Close the intake") : _("Open the intake");
    toggle.disabled = !open && !["scheduled", "live"].includes(status);
  }
  const empty = bound("on-air-empty");
  empty.textContent = status !== "live"
    ? _("Questions go on air once the conference is open.")
    : readOnly ? _("Nothing on air.") : _("Nothing on air. Put the first question of the queue on air (O).");
  document.querySelector(".on-air-panel").classList.toggle("active", Boolean(onAir));
  renderOnAirClock(onAir);
  // Halls asking for the floor are handled on the halls page; the count shows here too.
  const hands = Object.keys(state.floor_requests || {}).length;
  const handsBadge = bound("hands");
  handsBadge.hidden = hands === 0;
  handsBadge.textContent = fmt("raised hands: %(count)s", { count: hands });
}

function renderOnAirClock(onAir = onAirQuestion()) {
  const since = onAir?.on_air_at;
  setText("on-air-clock", since ? duration((Date.now() - Date.parse(since)) / 1000) : "");
}

function renderHallStrip() {
  const strip = bound("hall-strip");
  const halls = sortedHalls(state);
  const rows = new Map([...strip.children].map((item) => [item.dataset.hall, item]));
  let next = strip.firstElementChild;
  for (const hall of halls) {
    const key = String(hall.id);
    let item = rows.get(key);
    if (!item) {
      item = h("li", { "data-hall": key },
        h("button", { type: "button", class: "hall-chip", onclick: () => setFilter("hall", filters.hall === key ? "" : key) },
          h("span", { class: "hall-chip-name" }),
          h("span", { class: "hall-chip-counts" })));
    }
    rows.delete(key);
    if (item === next) next = next.nextElementSibling;
    else strip.insertBefore(item, next);
    const counts = state.tally?.[key] || { received: 0, pending: 0, approved: 0, answered: 0 };
    const button = item.firstElementChild;
    const [name, numbers] = button.children;
    name.textContent = hall.name;
    const signature = JSON.stringify([counts.received, counts.pending, counts.approved, counts.answered]);
    if (numbers.dataset.sig !== signature) {
      numbers.dataset.sig = signature;
      numbers.replaceChildren(
        count(counts.received, _("received")),
        count(counts.pending, _("waiting")),
        count(counts.approved, _("approved")),
        count(counts.answered, _("answered")),
      );
    }
    // A hall none of whose questions was taken yet stands out, so no hall is forgotten (the
    // studio only once it has sent some: its people can speak at any time).
    item.classList.toggle("none-approved", counts.approved === 0 && !(hall.is_studio && counts.received === 0));
    item.classList.toggle("waiting", counts.approved === 0 && counts.pending > 0);
    button.setAttribute("aria-pressed", String(filters.hall === key));
    button.title = counts.approved === 0
      ? _("No question from this hall has been approved yet.")
      : _("Show only this hall's questions");
    item.dataset.approved = counts.approved;
  }
  for (const stale of rows.values()) stale.remove();
}

function count(value, label) {
  return h("span", { class: "hall-count" }, h("strong", {}, String(value)), " ", label);
}

function fillSelect(name, options) {
  const select = document.querySelector(`[data-filter="${name}"]`);
  const signature = JSON.stringify(options);
  if (select.dataset.sig !== signature) {
    select.dataset.sig = signature;
    select.replaceChildren(...options.map(([value, label]) => h("option", { value }, label)));
  }
  if (document.activeElement !== select) select.value = filters[name];
}

function renderFilters() {
  fillSelect("hall", [["", _("All halls")], ...sortedHalls(state).map((hall) => [String(hall.id), hall.name])]);
  fillSelect("topic", [["", _("All topics")], ["none", _("No topic yet")],
    ...sortedTopics(state).map((topic) => [topic.code, topicLabel(state, topic.code)])]);
  fillSelect("status", [["", _("Every status")], ...QUESTION_STATUSES.map((status) => [status, questionStatusLabel(status)])]);
  fillSelect("candidate", [["", _("All candidates")], ["none", _("Not addressed")],
    ...sortedCandidates(state).map((candidate) => [String(candidate.id), candidate.name])]);
}

function setFilter(name, value) {
  filters[name] = value;
  const input = document.querySelector(`[data-filter="${name}"]`);
  if (input && input.value !== value) input.value = value;
  render();
}

// --- round robin ------------------------------------------------------------------------------

let suggestion = null;

async function suggestOrder() {
  const result = await get("/queue/round-robin");
  if (!result.ok) {
    report(result.error);
    return;
  }
  suggestion = result.data.order;
  const panel = bound("round-robin");
  const list = bound("round-robin-list");
  const same = suggestion.join() === queueOrder().join();
  list.replaceChildren(...(suggestion.length
    ? suggestion.map((id) => {
      const q = question(id);
      return h("li", { "data-id": id },
        h("span", { class: "mono" }, `#${id}`), " ",
        h("strong", {}, hallName(state, q?.hall_id)), " · ",
        h("span", { class: "round-robin-text" }, q?.text || ""));
    })
    : [h("li", { class: "muted" }, _("The queue is empty."))]));
  panel.querySelector('[data-action="apply-order"]').disabled = same || !suggestion.length;
  panel.querySelector(".muted").textContent = same
    ? _("The queue already takes the halls in turn.")
    : _("One question from each hall in turn, each hall's own questions keeping their order. Nothing changes until you apply it.");
  panel.hidden = false;
}

async function applyOrder() {
  if (!suggestion) return;
  const result = await post("/queue/order", { order: suggestion });
  if (!result.ok) {
    report(result.error);
    if (result.error.status === 409) suggestOrder();
    return;
  }
  bound("round-robin").hidden = true;
  suggestion = null;
  toast(_("The queue now takes the halls in turn."));
}

// --- the keyboard -----------------------------------------------------------------------------

const KEYS = { a: "approve", r: "reject", e: "edit", m: "merge", o: "on_air", t: "topic", c: "candidate", d: "answer", b: "back", u: "unmerge" };

function navigationColumn(card) {
  const list = card.parentElement.dataset.list;
  return NAVIGATION.findIndex((lists) => lists.includes(list));
}

function columnCards(index) {
  return NAVIGATION[index].flatMap(visibleCards);
}

function focusStep(card, step) {
  const column = columnCards(navigationColumn(card));
  const next = column[column.indexOf(card) + step];
  next?.focus();
}

function focusColumn(card, step) {
  const from = navigationColumn(card);
  const row = columnCards(from).indexOf(card);
  for (let index = from + step; index >= 0 && index < NAVIGATION.length; index += step) {
    const column = columnCards(index);
    if (column.length) {
      column[Math.min(row, column.length - 1)].focus();
      return;
    }
  }
}

function firstVisibleCard() {
  for (let index = 0; index < NAVIGATION.length; index += 1) {
    const column = columnCards(index);
    if (column.length) return column[0];
  }
  return null;
}

function onKeydown(event) {
  if (anyDialogOpen() || event.ctrlKey || event.metaKey) return;
  const target = event.target;
  if (target.closest("input, textarea, select, [contenteditable]")) return;
  if (event.key === "?") {
    event.preventDefault();
    dialogs.help();
    return;
  }
  if (event.key === "/") {
    event.preventDefault();
    document.querySelector('[data-filter="search"]').focus();
    return;
  }
  const card = target.closest(".qcard");
  if (!card) {
    if (["j", "k", "ArrowDown"].includes(event.key) && target === document.body) {
      event.preventDefault();
      firstVisibleCard()?.focus();
    }
    return;
  }
  if (isEditing(card)) return;
  const id = Number(card.dataset.id);
  if (event.altKey) {
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      if (!readOnly && can("move", question(id))) moveBy(id, event.key === "ArrowUp" ? -1 : 1);
    }
    return;
  }
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const moves = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 };
  if (key in moves) {
    event.preventDefault();
    focusStep(card, moves[key]);
  } else if (key === "ArrowLeft" || key === "ArrowRight") {
    event.preventDefault();
    focusColumn(card, key === "ArrowLeft" ? -1 : 1);
  } else if (key === "Home" || key === "End") {
    event.preventDefault();
    const column = columnCards(navigationColumn(card));
    (key === "Home" ? column[0] : column[column.length - 1])?.focus();
  } else if (KEYS[key] && !readOnly && !event.shiftKey) {
    event.preventDefault();
    run(KEYS[key], id);
  }
}

// --- dragging in the queue --------------------------------------------------------------------

function wireDragging() {
  const list = listElement("queue");
  let marker = null;
  const clearMarker = () => {
    marker?.classList.remove("drop-before", "drop-after");
    marker = null;
  };
  // The card after the pointer, among the others (null: the end of the queue).
  const cardAfter = (y) => [...list.children].find((card) => {
    if (card.hidden || Number(card.dataset.id) === dragId) return false;
    const box = card.getBoundingClientRect();
    return y < box.top + box.height / 2;
  }) || null;

  // Only the handle starts a drag, so that the card's text can still be selected.
  list.addEventListener("pointerdown", (event) => {
    const card = event.target.closest(".qcard");
    if (card && event.target.closest(".drag-handle")) card.draggable = true;
  });
  list.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(".qcard");
    if (!card || readOnly) return;
    dragId = Number(card.dataset.id);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", `#${dragId}`);
    card.classList.add("dragging");
  });
  list.addEventListener("dragover", (event) => {
    if (dragId === null) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarker();
    const after = cardAfter(event.clientY);
    const visible = visibleCards("queue").filter((card) => Number(card.dataset.id) !== dragId);
    marker = after || visible[visible.length - 1] || null;
    marker?.classList.add(after ? "drop-before" : "drop-after");
  });
  list.addEventListener("dragleave", (event) => {
    if (!list.contains(event.relatedTarget)) clearMarker();
  });
  list.addEventListener("drop", (event) => {
    if (dragId === null) return;
    event.preventDefault();
    const id = dragId;
    const after = cardAfter(event.clientY);
    const others = queueOrder().filter((other) => other !== id);
    const index = after ? others.indexOf(Number(after.dataset.id)) : others.length;
    clearMarker();
    if (index >= 0 && index !== queueOrder().indexOf(id)) moveInQueue(id, index);
    cards.get(id)?.focus({ preventScroll: true });
  });
  list.addEventListener("dragend", (event) => {
    const card = event.target.closest?.(".qcard");
    card?.classList.remove("dragging");
    if (card) card.draggable = false;
    clearMarker();
    dragId = null;
  });
  document.addEventListener("pointerup", () => {
    if (dragId === null) for (const card of list.children) card.draggable = false;
  });
}

// --- the page ---------------------------------------------------------------------------------

const dialogs = setupDialogs({
  state: () => state,
  send,
  get,
  post,
  report,
  startAction,
  settleFocus,
  focusQuestion: (id) => {
    pendingFocusId = id;
    if (state) render();
  },
});

function wirePage() {
  document.addEventListener("keydown", onKeydown);
  const form = document.querySelector('[data-testid="filters"]');
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("input", (event) => {
    const name = event.target.dataset.filter;
    if (name) setFilter(name, event.target.value);
  });
  form.addEventListener("reset", () => {
    for (const name of Object.keys(filters)) filters[name] = "";
    setTimeout(render);
  });
  bound("columns").addEventListener("click", (event) => {
    const show = event.target.closest("button[data-show]");
    if (!show) return;
    const target = cards.get(Number(show.dataset.show));
    if (target?.hidden) form.reset();
    setTimeout(() => target?.focus());
  });
  const click = (action, handler) => document.querySelector(`[data-action="${action}"]`)?.addEventListener("click", handler);
  click("help", () => dialogs.help());
  click("floor-question", () => dialogs.floor());
  click("toggle-intake", async () => {
    const result = await post("/questions/intake", { open: !state.meeting.questions_open });
    if (!result.ok) report(result.error);
  });
  click("suggest-order", suggestOrder);
  click("apply-order", applyOrder);
  click("dismiss-order", () => {
    bound("round-robin").hidden = true;
    suggestion = null;
  });
  const doneColumn = document.querySelector('[data-column="done"]');
  const doneToggle = document.querySelector('[data-action="toggle-done"]');
  const setDoneOpen = (open) => {
    doneColumn.classList.toggle("collapsed", !open);
    doneToggle.setAttribute("aria-expanded", String(open));
    bound("columns").classList.toggle("done-collapsed", !open);
    localStorage.setItem("queue.doneCollapsed", open ? "" : "1");
  };
  doneToggle.addEventListener("click", () => setDoneOpen(doneColumn.classList.contains("collapsed")));
  setDoneOpen(!localStorage.getItem("queue.doneCollapsed"));
  if (!readOnly) wireDragging();
}

const stream = new MeetingStream({
  wsPath: config.ws,
  onState: (newState) => {
    state = newState;
    render();
    runWaiting();
  },
  onStatus: showConnection,
});

wirePage();
stream.start();
setInterval(() => state && renderOnAirClock(), 1000);
setInterval(() => {
  for (const [id, card] of cards) if (question(id)) refreshAge(card, question(id));
}, 20000);
