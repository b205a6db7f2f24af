// Voters' questions on the hall screens (a voter's phone and a hall's kiosk): what the state
// says about them, the words for a question's status, and the question form. What keeps a
// question on the device until the server has it is outbox.js.
//
// Text from voters always goes into the page as text (dom.js h(), textContent), never as markup.
import { bound, h } from "./dom.js";
import { dayDate, shortClock } from "./format.js";
import { _, fmt, lang } from "./i18n.js";
import { storage } from "./outbox.js";

export const MAX_TEXT = 1000; // as meetings/questions/models/question.py
export const MAX_NAME = 100;

// --- reading the state --------------------------------------------------------------------------

export const hallName = (state, id) => state.halls?.[String(id)]?.name || fmt("hall %(id)s", { id });
export const candidateName = (state, id) => (id == null ? "" : state.candidates?.[String(id)]?.name || "");

export function topicLabel(state, code) {
  const topic = code ? state.topics?.[code] : null;
  if (!topic) return "";
  return lang().startsWith("en") ? topic.label_en || topic.label : topic.label;
}

export function onAirQuestion(state) {
  return Object.values(state.questions || {}).find((question) => question.status === "on_air") || null;
}

// The approved questions in queue order (place 1 goes on air next).
export function queueInOrder(state) {
  return Object.values(state.questions || {})
    .filter((question) => question.status === "approved")
    .sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity) || a.id - b.id);
}

export function acceptsQuestions(state) {
  const meeting = state.meeting || {};
  return Boolean(meeting.questions_open) && (meeting.status === "scheduled" || meeting.status === "live");
}

// --- words -------------------------------------------------------------------------------------

export const STATUS_WORDS = {
  submitted: () => _("Received, waiting for the moderators"),
  approved: () => _("Approved, in the queue"),
  on_air: () => _("On air now"),
  answered: () => _("Answered"),
  rejected: () => _("Not accepted"),
  merged: () => _("Merged with a similar question"),
  withdrawn: () => _("Withdrawn"),
};

export const statusWords = (status) => (STATUS_WORDS[status] || (() => status))();

// The reasons of meetings/questions/models/question.py RejectReason, as voters read them.
export const REJECT_REASONS = {
  off_topic: () => _("Outside the conference's business"),
  inappropriate: () => _("Offensive or inappropriate language"),
  personal_data: () => _("Names or private details of other people"),
  unclear: () => _("Not clear enough to answer"),
  already_answered: () => _("Already answered at this conference"),
  other: () => _("Other reason"),
};

export const rejectReasonWords = (code) => (REJECT_REASONS[code] || (() => code || ""))();

// "14:05": when a question was sent (format.js).
export { shortClock };

const dateWords = dayDate;

export function answerWords(answer) {
  if (!answer) return "";
  if (answer.kind === "written") return fmt("A written answer is due by %(date)s", { date: dateWords(answer.due_date) });
  if (answer.kind === "referred") return fmt("Referred to %(agency)s", { agency: answer.agency });
  return _("Answered at the conference");
}

// --- text --------------------------------------------------------------------------------------

// As the server tidies a question (meetings/questions/text.py), near enough to count it.
export function tidyText(value) {
  return String(value || "")
    .normalize("NFC")
    .replace(/\r\n?/g, "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "")
    .split("\n")
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

// Characters as the server counts them (code points, not UTF-16 units).
export const textLength = (value) => Array.from(tidyText(value)).length;

// --- lists updated in place ------------------------------------------------------------------

// replaceChildren, skipping absent children as h() does (replaceChildren would write "null").
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

// Brings `container`'s children in line with `items` (each keyed by `key`), reusing the
// element of each key: lists redraw on every event, and a rebuilt button would swallow a tap.
export function keyedList(container, items, { key, create, update }) {
  const existing = new Map([...container.children].filter((child) => child.dataset.key).map((child) => [child.dataset.key, child]));
  let next = container.firstElementChild;
  for (const item of items) {
    const id = String(key(item));
    let element = existing.get(id);
    if (element) existing.delete(id);
    else {
      element = create(item);
      element.dataset.key = id;
    }
    update(element, item);
    if (element === next) next = next.nextElementSibling;
    else container.insertBefore(element, next);
  }
  for (const stale of existing.values()) stale.remove();
  for (const other of [...container.children]) if (!other.dataset.key) other.remove();
}

// --- the form ------------------------------------------------------------------------------

// A question form (the phone's, the kiosk's clerk entry): the fields of the template
// rooms/_question_fields.html. Keeps a draft in the device's storage so that a reload or a
// closed tab does not lose a half-written question.
export class QuestionForm {
  constructor(form, { draftKey = null, onSend }) {
    this.form = form;
    this.draftKey = draftKey;
    this.onSend = onSend;
    this.choices = "";
    this.wanted = null;
    this.fields = form.elements;
    this.counter = bound("counter", form);
    this.message = bound("form-message", form);
    form.addEventListener("input", () => {
      // A note about the question just sent gives way to the next one.
      if (this.message?.dataset.kind === "info") this.say("");
      this.refresh();
      this.saveDraft();
    });
    form.addEventListener("change", () => {
      this.refresh();
      this.saveDraft();
    });
    form.addEventListener("submit", (submit) => {
      submit.preventDefault();
      this.submit();
    });
    if (draftKey) {
      const draft = storage.get(draftKey);
      if (draft) this.load(draft);
    }
    this.refresh();
  }

  // Topics and candidates come from the state; rebuilt only when they change.
  fillChoices(state) {
    const topics = Object.values(state.topics || {}).sort((a, b) => a.position - b.position || a.code.localeCompare(b.code));
    const candidates = Object.values(state.candidates || {}).sort((a, b) => a.position - b.position || a.id - b.id);
    const signature = JSON.stringify([topics, candidates.map((c) => [c.id, c.name]), lang()]);
    if (signature === this.choices) return;
    this.choices = signature;
    const topic = this.fields.topic;
    const chosenTopic = topic.value || this.wanted?.topic || "";
    topic.replaceChildren(
      h("option", { value: "" }, _("Choose a topic (optional)")),
      ...topics.map((each) => h("option", { value: each.code }, topicLabel(state, each.code))),
    );
    topic.value = topics.some((each) => each.code === chosenTopic) ? chosenTopic : "";
    const candidate = this.fields.candidate_id;
    const chosenCandidate = candidate.value || this.wanted?.candidate || "";
    candidate.replaceChildren(
      h("option", { value: "" }, _("Any candidate")),
      ...candidates.map((each) => h("option", { value: String(each.id) }, each.name)),
    );
    candidate.value = candidates.some((each) => String(each.id) === chosenCandidate) ? chosenCandidate : "";
    candidate.closest("label").hidden = candidates.length === 0;
    this.wanted = null;
  }

  read() {
    const candidate = this.fields.candidate_id.value;
    const name = this.fields.asker_name.value.trim();
    return {
      text: this.fields.text.value,
      topic: this.fields.topic.value || null,
      candidate_id: candidate ? Number(candidate) : null,
      asker_name: name,
      asker_group: this.fields.asker_group.value.trim(),
      named_publicly: Boolean(name) && this.fields.named_publicly.checked,
    };
  }

  load(body) {
    const candidate = body.candidate_id == null ? "" : String(body.candidate_id);
    // The choices may not be there yet (before the first snapshot): fillChoices applies them.
    this.wanted = this.choices ? null : { topic: body.topic || "", candidate };
    this.fields.text.value = body.text || "";
    this.fields.topic.value = body.topic || "";
    this.fields.candidate_id.value = candidate;
    this.fields.asker_name.value = body.asker_name || "";
    this.fields.asker_group.value = body.asker_group || "";
    this.fields.named_publicly.checked = Boolean(body.named_publicly);
    this.refresh();
  }

  // The counter, and the "named publicly" box, which means nothing without a name.
  refresh() {
    const length = textLength(this.fields.text.value);
    if (this.counter) {
      this.counter.textContent = fmt("%(count)s / %(max)s characters", { count: length, max: MAX_TEXT });
      this.counter.dataset.over = String(length > MAX_TEXT);
    }
    const named = this.fields.named_publicly;
    named.disabled = !this.fields.asker_name.value.trim();
    if (named.disabled) named.checked = false;
  }

  saveDraft() {
    if (!this.draftKey) return;
    const body = this.read();
    if (body.text.trim() || body.asker_name || body.asker_group) storage.set(this.draftKey, body);
    else storage.remove(this.draftKey);
  }

  // The server decides; these are the refusals a device can tell without it.
  check(body) {
    const length = textLength(body.text);
    if (length === 0) return _("Please write your question.");
    if (length > MAX_TEXT) {
      return fmt("A question can be at most %(max)s characters; yours has %(n)s.", { max: MAX_TEXT, n: length });
    }
    if (Array.from(body.asker_name).length > MAX_NAME || Array.from(body.asker_group).length > MAX_NAME) {
      return fmt("A name or residential group can be at most %(max)s characters.", { max: MAX_NAME });
    }
    return null;
  }

  say(text, kind = "error") {
    if (!this.message) return;
    this.message.textContent = text || "";
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }

  submit() {
    const body = this.read();
    const problem = this.check(body);
    if (problem) {
      this.say(problem, "error");
      this.fields.text.focus({ preventScroll: true });
      this.message?.scrollIntoView({ block: "nearest" });
      return;
    }
    this.say("");
    this.onSend(body);
    // What onSend said is by the text box: bring it into view from the Send button.
    if (this.message && !this.message.hidden) this.message.scrollIntoView({ block: "nearest" });
    // Name and group stay for the next question; the text and choices start afresh.
    this.fields.text.value = "";
    this.fields.topic.value = "";
    this.fields.candidate_id.value = "";
    this.refresh();
    this.saveDraft();
  }
}
