// One question's card on the moderators' console. A card is made once per question and then
// updated in place on every live change, part by part: a moderator may be typing in its
// editor, have its topic list open or its button focused while other moderators' actions
// arrive, and none of that may be lost to a redraw.
import { clock } from "./format.js";
import { _, fmt } from "./i18n.js";
import { h } from "./dom.js";
import {
  age,
  answerLine,
  candidateName,
  hallName,
  questionStatusLabel,
  sortedCandidates,
  sortedTopics,
  sourceLabel,
  topicLabel,
} from "./question-words.js";

// What a moderator may do to a question in each status; the same moves as the server's
// transition table (meetings/questions/transitions.py), so buttons match what will succeed.
export const ALLOWED = {
  approve: new Set(["submitted"]),
  reject: new Set(["submitted"]),
  merge: new Set(["submitted", "approved"]),
  edit: new Set(["submitted", "approved", "on_air"]),
  on_air: new Set(["approved"]),
  answer: new Set(["on_air"]),
  back: new Set(["on_air"]),
  unmerge: new Set(["merged"]),
  move: new Set(["approved"]),
};
export const can = (action, question) => Boolean(question && ALLOWED[action].has(question.status));

// The buttons of each status, with the key that does the same on a focused card.
const BUTTONS = {
  submitted: [
    ["approve", "A", "primary", () => _("Approve")],
    ["reject", "R", "danger-outline", () => _("Reject…")],
    ["merge", "M", "", () => _("Merge…")],
    ["edit", "E", "", () => _("Edit")],
  ],
  approved: [
    ["on_air", "O", "primary", () => _("On air")],
    ["merge", "M", "", () => _("Merge…")],
    ["edit", "E", "", () => _("Edit")],
  ],
  on_air: [
    ["answer", "D", "primary", () => _("Answered…")],
    ["back", "B", "", () => _("Back to queue")],
    ["edit", "E", "", () => _("Edit")],
  ],
  merged: [["unmerge", "U", "", () => _("Undo merge")]],
};

function part(card, name) {
  return card.querySelector(`[data-part="${name}"]`);
}

// Writes only what changed: a rewrite would, among other things, drop a moderator's text
// selection in the card every time a vote is counted.
function put(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// Rebuilds an element's children only when what they show changed (``signature``).
function rebuildIf(element, signature, build) {
  if (element.dataset.sig === signature) return;
  element.dataset.sig = signature;
  element.replaceChildren(...build().filter((child) => child !== null && child !== undefined && child !== false));
}

export function createCard(id, { readOnly, onCommand, onTopic, onCandidate, onEditSave }) {
  const editor = h("textarea", { rows: 4, maxlength: 1000, "data-part": "editor-text", "aria-label": _("Question text") });
  const card = h("li", { class: "qcard", tabindex: 0, "data-id": id, "data-testid": "question-card" },
    h("div", { class: "qcard-head" },
      readOnly ? null : h("span", { class: "drag-handle", "data-part": "handle", title: _("Drag to reorder"), "aria-hidden": "true" }, "⠿"),
      h("span", { class: "qcard-place mono", "data-part": "place" }),
      h("span", { class: "qcard-num mono" }, `#${id}`),
      h("span", { class: "qcard-hall", "data-part": "hall" }),
      h("span", { class: "chip", "data-part": "source" }),
      h("span", { class: "chip status", "data-part": "status" }),
      h("span", { class: "qcard-spacer" }),
      h("span", { class: "qcard-votes", "data-part": "votes", title: _("votes from voters' phones") }),
      h("time", { class: "qcard-age muted", "data-part": "age" }),
    ),
    h("p", { class: "qcard-text", "data-part": "text", "data-testid": "question-text" }),
    h("p", { class: "qcard-original", "data-part": "original" }),
    h("p", { class: "qcard-asker", "data-part": "asker" }),
    h("p", { class: "qcard-supports", "data-part": "supports", "data-testid": "supports" }),
    h("div", { class: "qcard-meta", "data-part": "meta" }),
    h("div", { class: "qcard-outcome", "data-part": "outcome" }),
    h("ul", { class: "qcard-merged", "data-part": "merged", "data-testid": "merged-list" }),
    h("div", { class: "qcard-editor", "data-part": "editor", hidden: true },
      editor,
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary small", "data-testid": "edit-save", onclick: () => onEditSave(id, editor.value) }, _("Save wording")),
        h("button", { type: "button", class: "small", onclick: () => closeEditor(card, { focus: true }) }, _("Cancel")),
        h("span", { class: "muted small-print" }, _("Ctrl+Enter saves · Esc cancels")),
      ),
    ),
    h("div", { class: "qcard-actions", "data-part": "actions" }),
  );
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onEditSave(id, editor.value);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeEditor(card, { focus: true });
    }
  });
  card.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-command]");
    if (button && card.contains(button)) {
      onCommand(button.dataset.command, Number(button.dataset.question || id));
    }
  });
  card.addEventListener("change", (event) => {
    const select = event.target;
    if (select.dataset.part === "topic") onTopic(id, select);
    else if (select.dataset.part === "candidate") onCandidate(id, select);
  });
  card.addEventListener("keydown", (event) => {
    // Esc in the card's lists goes back to the card itself, for the next shortcut.
    if (event.key === "Escape" && event.target.tagName === "SELECT") {
      event.preventDefault();
      card.focus();
    }
  });
  return card;
}

export function openEditor(card, question) {
  const editor = part(card, "editor");
  const text = part(card, "editor-text");
  text.value = question.text;
  // The wording the moderator starts from: saving over someone else's newer edit is refused.
  editor.dataset.version = question.version;
  editor.hidden = false;
  card.classList.add("editing");
  text.focus();
  text.setSelectionRange(text.value.length, text.value.length);
}

export function closeEditor(card, { focus = false } = {}) {
  part(card, "editor").hidden = true;
  card.classList.remove("editing");
  if (focus) card.focus();
}

export const editorVersion = (card) => Number(part(card, "editor").dataset.version) || undefined;
export const isEditing = (card) => card.classList.contains("editing");
export const topicSelect = (card) => part(card, "topic");
export const candidateSelect = (card) => part(card, "candidate");

// ``view``: {question (moderation view), pub (public view or undefined), place (1-based
// place in the queue or null), state, readOnly, labels, meetingLive, onAirId}.
export function updateCard(card, view) {
  const { question: q, pub, state, readOnly, labels } = view;
  card.dataset.status = q.status;
  card.classList.toggle("has-handle", !readOnly && q.status === "approved");
  card.setAttribute("aria-label", fmt("Question %(id)s from %(hall)s: %(text)s", { id: q.id, hall: hallName(state, q.hall_id), text: q.text }));

  put(part(card, "place"), view.place ? String(view.place) : "");
  put(part(card, "hall"), hallName(state, q.hall_id));
  const source = part(card, "source");
  put(source, sourceLabel(q.source));
  source.dataset.source = q.source;
  const status = part(card, "status");
  const showStatus = ["answered", "rejected", "merged", "withdrawn"].includes(q.status);
  status.hidden = !showStatus;
  put(status, showStatus ? questionStatusLabel(q.status) : "");
  status.dataset.status = q.status;
  const votes = part(card, "votes");
  votes.hidden = !pub;
  // Translators: a question's votes from voters' phones, e.g. "▲ 12".
  put(votes, pub ? fmt("▲ %(n)s", { n: pub.votes }) : "");
  updateSupports(card, view);
  const ageElement = part(card, "age");
  if (ageElement.dateTime !== q.created_at) {
    ageElement.dateTime = q.created_at;
    ageElement.title = clock(q.created_at);
  }
  put(ageElement, age(q.created_at));

  put(part(card, "text"), q.text);
  const original = part(card, "original");
  const edited = q.original_text && q.original_text !== q.text;
  original.hidden = !edited;
  rebuildIf(original, edited ? q.original_text : "", () =>
    edited ? [h("span", { class: "muted" }, _("As sent: ")), q.original_text] : []);

  const asker = part(card, "asker");
  const askerParts = [q.asker_name, q.asker_group].filter(Boolean);
  asker.hidden = askerParts.length === 0;
  rebuildIf(asker, JSON.stringify([askerParts, q.asker_named_publicly]), () => [
    askerParts.join(" · "),
    q.asker_named_publicly ? h("span", { class: "chip subtle" }, _("may be named")) : null,
  ]);

  updateMeta(card, view);
  updateOutcome(card, view);
  updateMerged(card, view);
  updateActions(card, view);
}

// Where the votes came from: each hall's phones' supports, most first (the staff view's
// `supports`, announced with the votes).
function updateSupports(card, { question: q, pub, state }) {
  const line = part(card, "supports");
  const halls = Object.entries((pub && q.supports) || {})
    .filter(([, n]) => n > 0)
    .sort(([a, m], [b, n]) => n - m || Number(a) - Number(b));
  line.hidden = halls.length === 0;
  const text = halls.length
    ? fmt("Supports by hall: %(halls)s", {
      halls: halls.map(([hall, n]) => fmt("%(hall)s: %(n)s", { hall: hallName(state, Number(hall)), n })).join(" · "),
    })
    : "";
  put(line, text);
  part(card, "votes").title = text || _("votes from voters' phones");
}

function updateMeta(card, { question: q, state, readOnly }) {
  const meta = part(card, "meta");
  const editable = !readOnly && ["submitted", "approved", "on_air"].includes(q.status);
  const topics = sortedTopics(state);
  const candidates = sortedCandidates(state);
  const signature = JSON.stringify([editable, editable ? [topics, candidates.map((c) => [c.id, c.name])] : [q.topic, q.candidate_id]]);
  rebuildIf(meta, signature, () => {
    if (!editable) {
      return [
        q.topic ? h("span", { class: "chip topic" }, topicLabel(state, q.topic)) : null,
        q.candidate_id ? h("span", { class: "chip candidate" }, fmt("→ %(name)s", { name: candidateName(state, q.candidate_id) })) : null,
      ];
    }
    return [
      h("label", { class: "meta-field" },
        h("span", { class: "muted" }, _("Topic")),
        h("select", { "data-part": "topic", "aria-keyshortcuts": "T", "data-testid": "topic-select" },
          h("option", { value: "" }, _("— none —")),
          topics.map((topic) => h("option", { value: topic.code }, topicLabel(state, topic.code)))),
      ),
      h("label", { class: "meta-field" },
        // Translators: label of the list choosing the candidate a question is addressed to.
        h("span", { class: "muted" }, _("For")),
        h("select", { "data-part": "candidate", "aria-keyshortcuts": "C", "data-testid": "candidate-select" },
          h("option", { value: "" }, _("— any candidate —")),
          candidates.map((candidate) => h("option", { value: candidate.id }, candidate.name))),
      ),
    ];
  });
  // A list the moderator has open keeps their choice until they make it.
  for (const [name, value] of [["topic", q.topic || ""], ["candidate", q.candidate_id ?? ""]]) {
    const select = part(meta, name);
    if (select && document.activeElement !== select) select.value = String(value);
  }
}

function updateOutcome(card, { question: q, state, labels }) {
  const outcome = part(card, "outcome");
  let lines = [];
  if (q.status === "answered" && q.answer) {
    const who = q.answer.candidate_id ? candidateName(state, q.answer.candidate_id) : "";
    lines = [
      h("strong", {}, answerLine(q.answer, labels.kinds)),
      who ? h("span", { class: "muted" }, fmt("answered by %(name)s", { name: who })) : null,
      q.answer.summary ? h("span", { class: "summary" }, q.answer.summary) : null,
    ];
  } else if (q.status === "rejected") {
    lines = [
      h("strong", {}, labels.reasons[q.reject_reason] || q.reject_reason || ""),
      q.reject_note ? h("span", { class: "summary" }, fmt("Note to the voter: %(note)s", { note: q.reject_note })) : null,
    ];
  } else if (q.status === "merged") {
    lines = [
      h("span", {}, fmt("Merged into #%(id)s", { id: q.merged_into }),
        " ", h("button", { type: "button", class: "link", "data-show": q.merged_into }, _("show"))),
    ];
  } else if (q.status === "withdrawn") {
    lines = [h("span", {}, _("Withdrawn by the voter before moderation."))];
  } else if (q.status === "on_air" && q.on_air_at) {
    lines = [h("span", { class: "muted" }, fmt("on air since %(time)s", { time: clock(q.on_air_at) }))];
  }
  const signature = JSON.stringify([q.status, q.answer, q.reject_reason, q.reject_note, q.merged_into, q.on_air_at,
    q.answer?.candidate_id ? candidateName(state, q.answer.candidate_id) : ""]);
  rebuildIf(outcome, signature, () => lines);
  outcome.hidden = lines.filter(Boolean).length === 0;
}

function updateMerged(card, { question: q, state, readOnly }) {
  const list = part(card, "merged");
  // Every question merged into this one, at any depth (one merged into a question that was
  // merged here in turn asked the same); only a direct merge is undone from this card.
  const merged = [];
  const visit = (ids) => ids.forEach((id) => {
    const m = state.moderation?.[String(id)];
    if (!m || merged.includes(m)) return;
    merged.push(m);
    visit(m.merged_from || []);
  });
  visit(q.merged_from || []);
  list.hidden = merged.length === 0;
  const signature = JSON.stringify(merged.map((m) => [m.id, m.text, m.hall_id, m.version, m.status]));
  rebuildIf(list, signature, () => [
    h("li", { class: "merged-head muted" }, fmt("Also asked (%(n)s merged here):", { n: merged.length })),
    ...merged.map((m) => h("li", { class: "merged-item", "data-merged": m.id },
      h("span", { class: "mono" }, `#${m.id}`),
      h("span", { class: "merged-hall" }, hallName(state, m.hall_id)),
      h("span", { class: "merged-text" }, m.text),
      readOnly || m.status !== "merged" || m.merged_into !== q.id ? null
        : h("button", { type: "button", class: "link", "data-command": "unmerge", "data-question": m.id, "data-testid": "undo-merge" }, _("Undo")),
    )),
  ]);
}

function updateActions(card, { question: q, readOnly, meetingLive, onAirId }) {
  const actions = part(card, "actions");
  const buttons = readOnly ? [] : BUTTONS[q.status] || [];
  const blockedOnAir = q.status === "approved" && (!meetingLive || (onAirId !== null && onAirId !== q.id));
  rebuildIf(actions, JSON.stringify([q.status, readOnly]), () =>
    buttons.map(([command, key, style, label]) =>
      h("button", { type: "button", class: `small ${style}`, "data-command": command, "aria-keyshortcuts": key, "data-testid": `action-${command}` },
        label(), h("kbd", { "aria-hidden": "true" }, key))),
  );
  actions.hidden = buttons.length === 0;
  const onAir = actions.querySelector('[data-command="on_air"]');
  if (onAir) {
    onAir.disabled = blockedOnAir;
    onAir.title = !meetingLive
      ? _("Questions go on air once the conference is open.")
      : blockedOnAir ? _("Another question is on air: mark it answered or take it back first.") : "";
  }
}

export function refreshAge(card, question) {
  put(part(card, "age"), age(question.created_at));
}
