// How the screens word times, durations and the record's events.
import { _, fmt, lang } from "./i18n.js";

// Dates and times are written as the server writes them (meetings/formats): in English the
// month in words and the day first ("6 Dec 2026"), never "12/06/2026", which readers used to
// day-first dates take for 12 June; in Vietnamese as documents write them ("ngày 6 tháng 12 năm
// 2026"); times on the 24-hour clock in both.
const english = () => lang().startsWith("en");
const locale = () => (english() ? "en-GB" : "vi-VN");

function time(date, withSeconds) {
  const seconds = withSeconds ? { second: "2-digit" } : {};
  return date.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", ...seconds, hourCycle: "h23" });
}

export function clock(iso) {
  if (!iso) return "";
  return time(new Date(iso), true);
}

// "14:05": hours and minutes.
export function shortClock(iso) {
  if (!iso) return "";
  return time(new Date(iso), false);
}

// A day: "6 Dec 2026", "ngày 6 tháng 12 năm 2026".
export function calendarDate(date) {
  if (english()) return date.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
  return `ngày ${date.getDate()} tháng ${date.getMonth() + 1} năm ${date.getFullYear()}`;
}

// A date without a time ("2026-12-06"), read as a calendar day, not as UTC midnight.
export function dayDate(isoDate) {
  if (!isoDate) return "";
  const [year, month, day] = isoDate.split("-").map(Number);
  return calendarDate(new Date(year, month - 1, day));
}

// A moment with its date: "6 Dec 2026, 14:05", "14:05, ngày 6 tháng 12 năm 2026".
export function dateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return english() ? `${calendarDate(date)}, ${time(date, false)}` : `${time(date, false)}, ${calendarDate(date)}`;
}

export function duration(totalSeconds) {
  const sign = totalSeconds < 0 ? "−" : "";
  const seconds = Math.abs(Math.round(totalSeconds));
  const minutes = Math.floor(seconds / 60);
  return `${sign}${String(minutes).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
}

export const STATUS_LABELS = {
  draft: () => _("Draft"),
  scheduled: () => _("Scheduled"),
  live: () => _("Live"),
  ended: () => _("Ended"),
  archived: () => _("Archived"),
};

export const statusLabel = (status) => (STATUS_LABELS[status] || (() => status))();

export function runningItem(state) {
  return Object.values(state.agenda || {}).find((item) => item.started_at && !item.ended_at) || null;
}

// Remaining time of the running item against its allowance (negative once over time), or
// the elapsed time of an item without an allowance.
export function itemTimer(item, now = Date.now()) {
  if (!item || !item.started_at) return null;
  const elapsed = (now - Date.parse(item.started_at)) / 1000;
  if (item.allowance_seconds > 0) {
    const remaining = item.allowance_seconds - elapsed;
    return { text: duration(remaining), over: remaining < 0 };
  }
  return { text: duration(elapsed), over: false };
}

const hallName = (state, id) => state.halls?.[String(id)]?.name || fmt("hall %(id)s", { id });

const DESCRIBE = {
  "meeting.created": () => _("Conference created"),
  "meeting.updated": () => _("Conference details changed"),
  "meeting.status_changed": (p) => fmt("Conference is now: %(status)s", { status: statusLabel(p.to) }),
  "hall.added": (p, s) => fmt("Bridge point added: %(hall)s", { hall: hallName(s, p.hall) }),
  "hall.updated": (p, s) => fmt("Bridge point changed: %(hall)s", { hall: hallName(s, p.hall) }),
  "hall.contact_set": (p, s) => fmt("Operator contact set for %(hall)s", { hall: hallName(s, p.hall) }),
  "hall.attendance_set": (p, s) =>
    fmt("%(hall)s: %(count)s voters present", { hall: hallName(s, p.hall), count: p.count }),
  "hall.link_rotated": (p, s) =>
    fmt("New %(kind)s link for %(hall)s; the old one no longer works", {
      kind: p.kind === "operator" ? _("kiosk") : _("voter"),
      hall: hallName(s, p.hall),
    }),
  "hall.connected": (p, s) => fmt("%(hall)s kiosk connected", { hall: hallName(s, p.hall) }),
  "hall.disconnected": (p, s) => fmt("%(hall)s kiosk disconnected", { hall: hallName(s, p.hall) }),
  "candidate.added": (p, s) => fmt("Candidate added: %(name)s", { name: s.candidates?.[String(p.candidate)]?.name || "" }),
  "candidate.updated": (p, s) => fmt("Candidate details changed: %(name)s", { name: s.candidates?.[String(p.candidate)]?.name || "" }),
  "role.granted": (p) => fmt("%(user)s given a role: %(role)s", { user: p.user, role: p.role }),
  "role.revoked": (p) => fmt("%(user)s no longer has the role %(role)s", { user: p.user, role: p.role }),
  "agenda.item_added": (p, s) => fmt("Agenda item added: %(title)s", { title: s.agenda?.[String(p.item)]?.title || "" }),
  "agenda.item_started": (p) => fmt("Started: %(title)s", { title: p.title }),
  "agenda.item_ended": (p) => fmt("Ended: %(title)s (%(time)s)", { title: p.title, time: duration(p.seconds) }),
};

// --- the media plane: quality tiers, the programme's layouts, floor control ----------------

const TIER_WORDS = {
  // Translators: the best quality tier of the programme's video (high definition).
  high: () => _("HD"),
  // Translators: the reduced quality tier of the programme's video, for weak links.
  low: () => _("low"),
  audio: () => _("audio only"),
};

export const tierWords = (tier) => (TIER_WORDS[tier] || (() => tier || ""))();

export const LAYOUT_WORDS = {
  studio: () => _("Studio only"),
  inset: () => _("Studio with the hall inset"),
  hall: () => _("The hall full screen"),
  side_by_side: () => _("Side by side"),
};

export const layoutWords = (layout) => (LAYOUT_WORDS[layout] || (() => layout || ""))();

Object.assign(DESCRIBE, {
  "floor.requested": (p, s) => fmt("%(hall)s raised its hand", { hall: hallName(s, p.hall) }),
  "floor.request_withdrawn": (p, s) => fmt("%(hall)s lowered its hand", { hall: hallName(s, p.hall) }),
  "floor.granted": (p, s) => (p.seconds
    ? fmt("%(hall)s has the floor for %(time)s", { hall: hallName(s, p.hall), time: duration(p.seconds) })
    : fmt("%(hall)s has the floor", { hall: hallName(s, p.hall) })),
  "floor.revoked": (p, s) => (p.reason === "time_up"
    ? fmt("%(hall)s: the time on the floor is up", { hall: hallName(s, p.hall) })
    : fmt("%(hall)s no longer has the floor", { hall: hallName(s, p.hall) })),
  "programme.layout_set": (p) => fmt("Programme layout: %(layout)s", { layout: layoutWords(p.layout) }),
  "hall.tier_pinned": (p, s) => (p.tier
    ? fmt("%(hall)s kept on the quality %(tier)s", { hall: hallName(s, p.hall), tier: tierWords(p.tier) })
    : fmt("%(hall)s: quality follows the link again", { hall: hallName(s, p.hall) })),
  "recording.part_started": (p) => fmt("Recording started (part %(part)s)", { part: p.part }),
  "recording.part_closed": (p) => (p.status === "interrupted"
    ? fmt("Recording part %(part)s closed after an interruption", { part: p.part })
    : fmt("Recording part %(part)s closed", { part: p.part })),
  "clip.ready": (p) => fmt("The answer to question #%(id)s is recorded", { id: p.question }),
  "meeting.published": () => _("The conference's page and record are published"),
  "meeting.unpublished": () => _("The conference's page is no longer public"),
});

// --- kiosk sessions: which screen holds each hall ------------------------------------------

const END_REASON_WORDS = {
  taken_over: () => _("another screen took over"),
  ended_by_staff: () => _("ended by the studio"),
  refused: () => _("refused by the studio"),
  link_rotated: () => _("the operator link was replaced"),
  gone: () => _("it stopped asking"),
};

Object.assign(DESCRIBE, {
  "kiosk.session_started": (p, s) => (p.state === "holding"
    ? fmt("A screen now shows %(hall)s", { hall: hallName(s, p.hall) })
    : fmt("Another screen asks to show %(hall)s", { hall: hallName(s, p.hall) })),
  "kiosk.session_resumed": (p, s) => fmt("%(hall)s: its screen came back from another address or browser", { hall: hallName(s, p.hall) }),
  "kiosk.takeover_allowed": (p, s) => fmt("%(hall)s is now shown on another screen", { hall: hallName(s, p.hall) }),
  "kiosk.session_ended": (p, s) => fmt("%(hall)s: a screen's session ended (%(reason)s)", {
    hall: hallName(s, p.hall),
    reason: (END_REASON_WORDS[p.reason] || (() => p.reason))(),
  }),
});

// "Chrome 131 · Windows": what a screen's browser says it is, briefly (the whole string goes
// in a tooltip).
export function deviceWords(userAgent) {
  const agent = userAgent || "";
  const browsers = [
    [/Edg\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/(?:Chrome|Chromium)\/(\d+)/, "Chrome"],
    [/Firefox\/(\d+)/, "Firefox"],
    [/Version\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari/, "Safari"],
  ];
  const systems = [
    [/Windows/, "Windows"],
    [/Android/, "Android"],
    [/iPhone|iPad/, "iOS"],
    [/CrOS/, "ChromeOS"],
    [/Mac OS X/, "macOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.map(([pattern, name]) => [pattern.exec(agent), name]).find(([match]) => match);
  const system = systems.find(([pattern]) => pattern.test(agent));
  const parts = [];
  if (browser) parts.push(`${browser[1]} ${browser[0][1]}`);
  if (system) parts.push(system[1]);
  return parts.length ? parts.join(" · ") : _("unknown browser");
}

// --- the question queue's events -------------------------------------------------------------

const REJECT_REASON_WORDS = {
  off_topic: () => _("outside the conference's business"),
  inappropriate: () => _("inappropriate language"),
  personal_data: () => _("private details of other people"),
  unclear: () => _("not clear enough"),
  already_answered: () => _("already answered"),
  other: () => _("other reason"),
};

const ANSWER_KIND_WORDS = {
  live: () => _("answered live"),
  written: () => _("written answer to follow"),
  referred: () => _("referred to an agency"),
};

const SOURCE_WORDS = {
  phone: () => _("by phone"),
  paper: () => _("on paper"),
  floor: () => _("from the floor"),
};

const words = (table, key) => (table[key] || (() => key || ""))();

function shorten(text, length = 60) {
  return text.length > length ? `${text.slice(0, length - 1).trimEnd()}…` : text;
}

// "#12 “Khi nào sửa đường…”": the text from the moderators' view, else the public one; just
// the number for a question this viewer may not read.
function questionRef(state, id) {
  const question = state.moderation?.[String(id)] || state.questions?.[String(id)];
  return question ? fmt("#%(id)s “%(text)s”", { id, text: shorten(question.text) }) : `#${id}`;
}

const QUESTION_DESCRIBE = {
  submitted: (p, s) => fmt("New question %(question)s from %(hall)s, %(source)s", {
    question: questionRef(s, p.question), hall: hallName(s, p.hall), source: words(SOURCE_WORDS, p.source),
  }),
  approved: (p, s) => fmt("Approved into the queue: %(question)s", { question: questionRef(s, p.question) }),
  rejected: (p, s) => fmt("Not accepted (%(reason)s): %(question)s", {
    reason: words(REJECT_REASON_WORDS, p.reason), question: questionRef(s, p.question),
  }),
  merged: (p, s) => fmt("%(question)s merged into #%(into)s", { question: questionRef(s, p.question), into: p.into }),
  unmerged: (p, s) => fmt("Merge undone: %(question)s is separate from #%(other)s again", {
    question: questionRef(s, p.question), other: p.from,
  }),
  withdrawn: (p, s) => fmt("Withdrawn by the voter: %(question)s", { question: questionRef(s, p.question) }),
  edited: (p, s) => fmt("Wording corrected: %(question)s", { question: questionRef(s, p.question) }),
  topic_set: (p, s) => (p.topic
    ? fmt("Topic of %(question)s: %(topic)s", { question: questionRef(s, p.question), topic: topicName(s, p.topic) })
    : fmt("Topic removed from %(question)s", { question: questionRef(s, p.question) })),
  addressed: (p, s) => (p.candidate
    ? fmt("%(question)s addressed to %(name)s", { question: questionRef(s, p.question), name: s.candidates?.[String(p.candidate)]?.name || "" })
    : fmt("%(question)s addressed to any candidate", { question: questionRef(s, p.question) })),
  on_air: (p, s) => fmt("On air: %(question)s", { question: questionRef(s, p.question) }),
  returned: (p, s) => fmt("Back to the queue: %(question)s", { question: questionRef(s, p.question) }),
  answered: (p, s) => fmt("Answered, %(kind)s: %(question)s", {
    kind: words(ANSWER_KIND_WORDS, p.kind), question: questionRef(s, p.question),
  }),
  followed_up: (p, s) => fmt("Written answer attached: %(question)s", { question: questionRef(s, p.question) }),
};

function topicName(state, code) {
  const topic = state.topics?.[code];
  if (!topic) return code;
  return lang().startsWith("en") && topic.label_en ? topic.label_en : topic.label;
}

Object.assign(DESCRIBE, {
  "public.votes": (p) => fmt("Votes counted for %(count)s questions", { count: Object.keys(p.votes || {}).length }),
  "moderation.supports": (p) => fmt("Supports by hall counted for %(count)s questions", { count: Object.keys(p.supports || {}).length }),
  "public.tally": (p) => fmt("Question counts updated for %(count)s halls", { count: Object.keys(p.tally || {}).length }),
  "public.queue_reordered": () => _("The queue was reordered"),
  "topics.created": (p) => fmt("%(count)s question topics set up", { count: (p.topics || []).length }),
  "meeting.questions_opened": () => _("Questions are open: voters can send them"),
  "meeting.questions_closed": () => _("Questions are closed"),
});
// Staff get question.<action> with the moderators' view; everyone gets public.<action> when
// the public can see the change. Both read the same.
for (const [action, describe] of Object.entries(QUESTION_DESCRIBE)) {
  DESCRIBE[`question.${action}`] = describe;
  DESCRIBE[`public.${action}`] ??= describe;
}

// What a staff feed leaves out: the public twins of the staff's question events (it shows the
// staff one), and moderation.supports, which comes with the public.votes it shows.
export const isPublicTwin = (type) =>
  (type.startsWith("public.") && type.slice(7) in QUESTION_DESCRIBE) || type === "moderation.supports";

export function describeEvent(event, state) {
  const describe = DESCRIBE[event.type];
  return describe ? describe(event.payload, state) : event.type;
}
