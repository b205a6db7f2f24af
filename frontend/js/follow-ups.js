// The follow-ups: every question answered "written answer to follow" or "referred to an
// agency", with its due date or agency, overdue ones marked, and the written answer once it is
// attached. Moderators attach it here; observers only read. The list comes from
// GET /follow-ups and is asked for again whenever a question is answered or followed up.
import { apiClient } from "./api.js";
import { bound, h, pageConfig, setText, toast } from "./dom.js";
import { dateTime } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import { candidateName, hallName, labelsOf, shortDate, topicLabel } from "./question-words.js";
import { showConnection } from "./status.js";

const config = pageConfig();
const api = apiClient({ base: config.api });
const canAttach = !config.read_only;
const kindLabels = labelsOf(config.answer_kinds);
const CHANGES = new Set([
  "question.answered", "question.followed_up", "question.due_date_moved", "question.edited",
]);
const MAX_WRITTEN = 10000;

let state = null;
let items = null;
let asked = 0; // the latest request: an older answer arriving late is ignored
// Each question's form, built once and kept across refreshes: a secretary typing an answer
// (with a Vietnamese input method mid-word) must not lose it when another question changes.
const forms = new Map();

async function load() {
  const number = ++asked;
  try {
    const list = await api.get("/follow-ups");
    if (number !== asked) return;
    items = list;
    render();
  } catch (error) {
    if (number === asked) toast(error.message, "error");
  }
}

const isDone = (item) => Boolean(item.written_answer);

// Overdue first, then those awaiting their answer, then the ones answered in writing; each
// group in the server's order (by due date).
function ordered(list) {
  const rank = (item) => (item.overdue ? 0 : isDone(item) ? 2 : 1);
  return list.map((item, index) => ({ item, index }))
    .sort((a, b) => rank(a.item) - rank(b.item) || a.index - b.index)
    .map(({ item }) => item);
}

function promise(item) {
  if (item.kind === "written") {
    return item.due_date ? fmt("Written answer due %(date)s", { date: shortDate(item.due_date) }) : kindLabels.written || _("Written answer to follow");
  }
  const referred = item.agency ? fmt("Referred to %(agency)s", { agency: item.agency }) : kindLabels.referred || _("Referred to an agency");
  return item.due_date ? `${referred} · ${fmt("due %(date)s", { date: shortDate(item.due_date) })}` : referred;
}

// Who answered for the agency and the day the answer came, when recorded.
function received(answer) {
  const parts = [];
  if (answer.written_answer_from) parts.push(fmt("from %(who)s", { who: answer.written_answer_from }));
  if (answer.written_answer_received) parts.push(fmt("received %(date)s", { date: shortDate(answer.written_answer_received) }));
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function details(item) {
  const question = item.question;
  const answer = question.answer || {};
  const who = answer.candidate_id ?? question.candidate_id;
  return h("div", { class: "follow-up-body" },
    h("div", { class: "q-head" },
      h("span", { class: "mono" }, `#${question.id}`),
      h("span", {}, hallName(state, question.hall_id)),
      question.topic ? h("span", { class: "badge subtle" }, topicLabel(state, question.topic)) : null,
      h("span", { class: "badge promise", "data-testid": "promise" }, promise(item)),
      item.overdue ? h("span", { class: "badge overdue", "data-testid": "overdue" }, _("overdue")) : null,
      isDone(item) ? h("span", { class: "badge done" }, _("answered in writing")) : null),
    h("p", { class: "q-text", "data-testid": "follow-up-text" }, question.text),
    h("p", { class: "q-answer" },
      who ? h("strong", {}, candidateName(state, who)) : h("strong", {}, _("No candidate named")),
      question.answered_at ? ` · ${fmt("answered at the conference on %(date)s", { date: dateTime(question.answered_at) })}` : "",
      answer.summary ? ` · ${answer.summary}` : ""),
    isDone(item)
      ? h("div", { class: "written-answer", "data-testid": "written-answer" },
        h("p", { class: "written-answer-head" }, answer.written_answer_at
          ? fmt("Written answer, attached %(date)s:", { date: dateTime(answer.written_answer_at) }) + received(answer)
          : _("Written answer:")),
        h("p", { class: "written-answer-text" }, item.written_answer))
      : null);
}

function formFor(id) {
  if (forms.has(id)) return forms.get(id);
  const fieldId = `written-${id}`;
  const textarea = h("textarea", { id: fieldId, rows: 4, maxlength: MAX_WRITTEN, "data-testid": "written-answer-input" });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "attach-written-answer" });
  const cancel = h("button", { type: "button", class: "link", hidden: true }, _("Cancel"));
  const correct = h("button", { type: "button", class: "link", "data-testid": "correct-written-answer" }, _("Correct the written answer"));
  const label = h("label", { for: fieldId });
  const answeredBy = h("input", { type: "text", name: "answered_by", maxlength: 200, "data-testid": "answered-by" });
  const receivedOn = h("input", { type: "date", name: "received_on", "data-testid": "received-on" });
  const fields = h("div", { class: "follow-up-fields" }, label, textarea,
    h("label", {}, _("Answered for the agency by"), answeredBy),
    h("label", {}, _("Received on (today if empty)"), receivedOn),
    h("div", { class: "follow-up-actions" }, submit, cancel));
  const move = moveForm(id);
  const form = h("form", { class: "follow-up-form", "data-question": id }, correct, fields);
  const parts = { form, move, textarea, answeredBy, receivedOn, submit, cancel, correct, label, fields, correcting: false, done: false };
  correct.addEventListener("click", () => {
    parts.correcting = true;
    textarea.value = parts.current || "";
    updateForm(parts);
    textarea.focus();
  });
  cancel.addEventListener("click", () => {
    parts.correcting = false;
    textarea.value = "";
    updateForm(parts);
  });
  form.addEventListener("submit", (submitEvent) => {
    submitEvent.preventDefault();
    attach(id, parts);
  });
  forms.set(id, parts);
  return parts;
}

// Moving the due date, with the reason, while the answer has not come.
function moveForm(id) {
  const date = h("input", { type: "date", name: "due_date", required: true, "data-testid": "new-due-date" });
  const reason = h("input", { type: "text", name: "reason", maxlength: 500, required: true, "data-testid": "due-date-reason" });
  const button = h("button", { type: "submit", class: "secondary", "data-testid": "move-due-date" }, _("Move the due date"));
  const form = h("form", { class: "follow-up-move" },
    h("label", {}, _("New due date"), date), h("label", {}, _("Reason"), reason), button);
  form.addEventListener("submit", async (submitEvent) => {
    submitEvent.preventDefault();
    button.disabled = true;
    try {
      await api.post(`/questions/${id}/due-date`, { due_date: date.value, reason: reason.value.trim() });
      date.value = "";
      reason.value = "";
      toast(_("The new due date is on the record."));
      await load();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function updateForm(parts) {
  // A written answer already attached is shown; its form opens only to correct it, or stays
  // open while it holds text typed before someone else attached an answer.
  const open = !parts.done || parts.correcting || parts.textarea.value.trim() !== "";
  parts.correct.hidden = !parts.done || open;
  parts.fields.hidden = !open;
  parts.cancel.hidden = !parts.correcting;
  parts.label.textContent = parts.correcting ? _("Corrected written answer") : _("The written answer, as the voters will read it");
  parts.submit.textContent = parts.correcting ? _("Save the correction") : _("Attach the written answer");
}

async function attach(id, parts) {
  const text = parts.textarea.value.trim();
  if (!text) {
    toast(_("Write the answer before attaching it."), "error");
    parts.textarea.focus();
    return;
  }
  parts.submit.disabled = true;
  try {
    await api.post(`/questions/${id}/written-answer`, {
      text, answered_by: parts.answeredBy.value.trim(), received_on: parts.receivedOn.value || null,
    });
    parts.textarea.value = "";
    parts.receivedOn.value = "";
    parts.correcting = false;
    toast(_("The written answer is on the record and on the public page."));
    await load();
  } catch (error) {
    toast(error.message, "error");
  } finally {
    parts.submit.disabled = false;
  }
}

function renderSummary() {
  const awaiting = items.filter((item) => !isDone(item)).length;
  const overdue = items.filter((item) => item.overdue).length;
  setText("summary", items.length
    ? fmt("Awaiting a written answer: %(awaiting)s (overdue: %(overdue)s). Answered in writing: %(done)s.", {
      awaiting, overdue, done: items.length - awaiting,
    })
    : "");
}

// Items are updated in place and moved only when their order changes, so a form being typed
// in keeps its focus while the list refreshes.
function render() {
  if (!items || !state) return;
  renderSummary();
  const list = bound("follow-ups");
  list.querySelector(":scope > li.empty")?.remove();
  const rows = new Map([...list.querySelectorAll(":scope > li[data-question]")].map((row) => [row.dataset.question, row]));
  let next = list.firstElementChild;
  for (const item of ordered(items)) {
    const id = String(item.question.id);
    let row = rows.get(id);
    rows.delete(id);
    if (!row) row = h("li", { "data-question": id }, h("div"));
    row.className = `follow-up${item.overdue ? " overdue" : ""}${isDone(item) ? " done" : ""}`;
    row.firstElementChild.replaceWith(details(item));
    if (canAttach) {
      const parts = formFor(item.question.id);
      parts.done = isDone(item);
      parts.current = item.written_answer;
      updateForm(parts);
      if (parts.form.parentNode !== row) row.append(parts.form);
      parts.move.hidden = parts.done;
      if (parts.move.parentNode !== row) row.append(parts.move);
    }
    if (row === next) next = next.nextElementSibling;
    else list.insertBefore(row, next);
  }
  for (const stale of rows.values()) stale.remove();
  if (!items.length) {
    list.append(h("li", { class: "empty muted" }, _("No question awaits a written answer or was referred to an agency.")));
  }
}

const stream = new MeetingStream({
  wsPath: config.ws,
  onState: (newState, event) => {
    state = newState;
    // A snapshot (the first, or after falling behind) may hide changes: ask for the list again.
    if (!event) load();
    else render();
  },
  onEvent: (event) => {
    if (CHANGES.has(event.type)) load();
  },
  onStatus: showConnection,
});

stream.start();
