// How the question screens of the staff word a question: its source, status, topic, age and
// answer. Shared by the moderators' console (queue.js) and the candidate's console
// (candidate.js); the voters' and halls' screens have theirs in questions.js.
import { dayDate } from "./format.js";
import { _, fmt, lang } from "./i18n.js";

// How a question came in, on its card.
const SOURCE_LABELS = {
  // Translators: how a question came in: sent from a voter's phone.
  phone: () => _("phone"),
  // Translators: how a question came in: handed in on paper at a hall.
  paper: () => _("paper"),
  // Translators: how a question came in: spoken from the floor of a hall.
  floor: () => _("floor"),
};

const STATUS_LABELS = {
  submitted: () => _("awaiting moderation"),
  approved: () => _("in the queue"),
  on_air: () => _("on air"),
  answered: () => _("answered"),
  rejected: () => _("not accepted"),
  merged: () => _("merged"),
  withdrawn: () => _("withdrawn"),
};

export const QUESTION_STATUSES = Object.keys(STATUS_LABELS);

export const sourceLabel = (source) => (SOURCE_LABELS[source] || (() => source))();
export const questionStatusLabel = (status) => (STATUS_LABELS[status] || (() => status))();

export function hallName(state, id) {
  return state.halls?.[String(id)]?.name || fmt("hall %(id)s", { id });
}

export function candidateName(state, id) {
  if (id === null || id === undefined) return "";
  return state.candidates?.[String(id)]?.name || fmt("candidate %(id)s", { id });
}

// Topics carry a Vietnamese name and an English one; English screens show the English one.
export function topicLabel(state, code) {
  if (!code) return "";
  const topic = state.topics?.[code];
  if (!topic) return code;
  return lang().startsWith("en") && topic.label_en ? topic.label_en : topic.label;
}

export const sortedTopics = (state) =>
  Object.entries(state.topics || {})
    .map(([code, topic]) => ({ ...topic, code }))
    .sort((a, b) => a.position - b.position || a.code.localeCompare(b.code));

export const sortedCandidates = (state) =>
  Object.values(state.candidates || {}).sort((a, b) => a.position - b.position || a.id - b.id);

// The studio first, then the halls in their order (as the server lists them).
export const sortedHalls = (state) =>
  Object.values(state.halls || {}).sort(
    (a, b) => Number(b.is_studio) - Number(a.is_studio) || a.position - b.position || a.id - b.id,
  );

// "just now", "4 min", "1 h 05": how long ago, for a card.
export function age(iso, now = Date.now()) {
  if (!iso) return "";
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  if (minutes < 1) return _("just now");
  if (minutes < 60) return fmt("%(n)s min", { n: minutes });
  return fmt("%(h)s h %(m)s", { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0") });
}

// A calendar day, as every screen writes it (format.js).
export const shortDate = dayDate;

// One line on how a question was answered: "Written answer to follow · due 5/12/2026".
export function answerLine(answer, kindLabels = {}) {
  if (!answer) return "";
  const parts = [kindLabels[answer.kind] || answer.kind];
  if (answer.kind !== "live" && answer.due_date) parts.push(fmt("due %(date)s", { date: shortDate(answer.due_date) }));
  if (answer.kind === "referred" && answer.agency) parts.push(fmt("to %(agency)s", { agency: answer.agency }));
  return parts.join(" · ");
}

// {value: label} from the server's choices (page config), already in the page's language.
export const labelsOf = (choices) => Object.fromEntries((choices || []).map((choice) => [choice.value, choice.label]));

// A question's client id: crypto.randomUUID exists only on secure pages (https, localhost);
// halls' LANs may serve plain http, so build a version-4 UUID from random bytes otherwise.
export function newClientId() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
