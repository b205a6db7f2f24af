// The moderators' console's dialogs: reject with a reason, mark answered, merge into a similar
// question, enter a question from the floor, and the keyboard help. Each dialog is in the page's
// template (its fixed labels are translated there); this fills in what changes.
import { h } from "./dom.js";
import { _, fmt } from "./i18n.js";
import {
  hallName,
  newClientId,
  questionStatusLabel,
  sortedCandidates,
  sortedHalls,
  sortedTopics,
  topicLabel,
} from "./question-words.js";

const dialogOf = (name) => document.querySelector(`dialog[data-dialog="${name}"]`);
const inDialog = (dialog, name) => dialog.querySelector(`[data-bind="${name}"]`);

export const anyDialogOpen = () => Boolean(document.querySelector("dialog[open]"));

function showError(dialog, message) {
  const error = inDialog(dialog, "dialog-error");
  error.textContent = message || "";
  error.hidden = !message;
}

function fillOptions(select, options, selected) {
  select.replaceChildren(...options.map(([value, label]) => h("option", { value }, label)));
  select.value = selected === null || selected === undefined ? "" : String(selected);
}

// ``ctx``: {state(); send(id, action, body), get(path) and post(path, body), which return
// {ok, data, error} and show nothing; report(error, id), which shows an error; startAction(id),
// settleFocus() and focusQuestion(id), which keep the keyboard focus where work goes on}. A dialog closes when its action
// succeeded or lost a race (the toast says so and the card shows the current state); an
// input the server refused keeps it open with the message.
export function setupDialogs(ctx) {
  let current = null; // {name, question, version, clientId}

  function open(name, question = null, extra = {}) {
    const dialog = dialogOf(name);
    if (!dialog) return null;
    current = { name, question, version: question?.version, ...extra };
    const form = dialog.querySelector("form");
    form.reset();
    showError(dialog, "");
    const quote = inDialog(dialog, "dialog-question");
    if (quote) quote.textContent = question ? `#${question.id} · ${question.text}` : "";
    dialog.showModal();
    return dialog;
  }

  function finish(dialog, result) {
    const question = current?.question;
    // A conflict on a question: someone else acted first and the card shows what they did.
    // Anything else (a refused input, a closed intake) keeps the dialog and what was typed.
    if (result.ok || (question && result.error?.status === 409)) {
      dialog.close();
      current = null;
      if (!result.ok) ctx.report(result.error, question?.id);
      ctx.settleFocus();
      return;
    }
    showError(dialog, result.error?.message);
  }

  for (const dialog of document.querySelectorAll("dialog[data-dialog]")) {
    dialog.addEventListener("click", (event) => {
      if (event.target.closest('[data-action="close-dialog"]')) dialog.close();
    });
    dialog.addEventListener("close", () => { current = null; });
    const form = dialog.querySelector("form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!current || current.busy) return;
      const handler = SUBMIT[current.name];
      if (!handler) { dialog.close(); return; }
      const buttons = form.querySelectorAll("button");
      current.busy = true;
      buttons.forEach((button) => { button.disabled = true; });
      try {
        await finish(dialog, await handler(new FormData(form), current));
      } finally {
        if (current) current.busy = false;
        buttons.forEach((button) => { button.disabled = false; });
      }
    });
  }

  const SUBMIT = {
    reject: (form, { question, version }) => {
      ctx.startAction(question.id);
      return ctx.send(question.id, "reject", {
        reason: form.get("reason"), note: form.get("note") || "", expected_version: version,
      });
    },
    answer: (form, { question, version }) => {
      const kind = form.get("kind");
      const candidate = form.get("candidate_id");
      ctx.startAction(question.id);
      return ctx.send(question.id, "answer", {
        kind,
        summary: form.get("summary") || "",
        due_date: kind === "written" || kind === "referred" ? form.get("due_date") || null : null,
        agency: kind === "referred" ? form.get("agency") || "" : "",
        candidate_id: candidate ? Number(candidate) : null,
        expected_version: version,
      });
    },
    merge: (form, { question, version }) => {
      const into = Number(form.get("into"));
      if (!into) return { ok: false, error: { message: _("Pick a question to merge into.") } };
      ctx.startAction(question.id);
      return ctx.send(question.id, "merge", { into, expected_version: version });
    },
    floor: async (form, extra) => {
      const topic = form.get("topic");
      const candidate = form.get("candidate_id");
      const result = await ctx.post("/questions", {
        client_id: extra.clientId,
        hall_id: Number(form.get("hall_id")),
        source: form.get("source"),
        text: form.get("text"),
        asker_name: form.get("asker_name") || "",
        asker_group: form.get("asker_group") || "",
        named_publicly: form.get("named_publicly") === "on",
        topic: topic || null,
        candidate_id: candidate ? Number(candidate) : null,
      });
      if (result.ok && result.data?.question) ctx.focusQuestion(result.data.question.id);
      return result;
    },
  };

  // Written answers and referrals need a due date, referrals an agency; a field the kind does
  // not need is hidden.
  const answerDialog = dialogOf("answer");
  function showKindFields() {
    const kind = answerDialog.querySelector('input[name="kind"]:checked')?.value;
    for (const field of answerDialog.querySelectorAll("[data-when-kind]")) {
      const shown = field.dataset.whenKind.split(" ").includes(kind);
      field.hidden = !shown;
      field.querySelector("input").required = shown;
    }
  }
  answerDialog?.addEventListener("change", (event) => {
    if (event.target.name === "kind") showKindFields();
  });

  return {
    isOpen: anyDialogOpen,

    reject(question) {
      const dialog = open("reject", question);
      dialog?.querySelector('input[name="reason"]')?.focus();
    },

    answer(question) {
      const dialog = open("answer", question);
      if (!dialog) return;
      const state = ctx.state();
      fillOptions(dialog.querySelector('select[name="candidate_id"]'),
        [["", _("— not recorded —")], ...sortedCandidates(state).map((c) => [c.id, c.name])],
        question.candidate_id);
      dialog.querySelector('input[name="due_date"]').min = new Date().toISOString().slice(0, 10);
      showKindFields();
      dialog.querySelector('input[name="kind"]:checked')?.focus();
    },

    async merge(question) {
      const dialog = open("merge", question);
      if (!dialog) return;
      const list = inDialog(dialog, "similar");
      list.replaceChildren(h("li", { class: "muted" }, _("Looking for similar questions…")));
      const result = await ctx.get(`/questions/${question.id}/similar`);
      if (current?.question?.id !== question.id) return; // closed or reopened meanwhile
      if (!result.ok) {
        list.replaceChildren(h("li", { class: "error" }, result.error.message));
        return;
      }
      const state = ctx.state();
      const suggestions = result.data;
      list.replaceChildren(...(suggestions.length
        ? suggestions.map((s) => h("li", { class: "similar-item", "data-similar": s.id },
          h("span", { class: "score mono", title: _("how alike the two read, out of 100") }, `${s.score}%`),
          h("span", { class: "similar-body" },
            h("span", { class: "similar-meta" },
              h("span", { class: "mono" }, `#${s.id}`), " · ", hallName(state, s.hall_id), " · ", questionStatusLabel(s.status)),
            h("span", { class: "similar-text" }, s.text)),
          // Not a submit button: Enter in the number field must merge into the number typed.
          h("button", {
            type: "button",
            class: "secondary small",
            "data-testid": "merge-into",
            onclick: () => {
              const form = dialog.querySelector("form");
              form.elements.into.value = s.id;
              form.requestSubmit();
            },
          }, fmt("Merge into #%(id)s", { id: s.id })),
        ))
        : [h("li", { class: "muted" }, _("No similar question found. You can still give a question's number below."))]));
      list.querySelector("button")?.focus();
    },

    floor() {
      const state = ctx.state();
      // One id per question being entered: sending again after a lost answer is safe.
      const dialog = open("floor", null, { clientId: newClientId() });
      if (!dialog) return;
      const halls = sortedHalls(state);
      fillOptions(dialog.querySelector('select[name="hall_id"]'),
        halls.map((hall) => [hall.id, hall.name]), halls.find((hall) => !hall.is_studio)?.id ?? halls[0]?.id);
      fillOptions(dialog.querySelector('select[name="topic"]'),
        [["", _("— none —")], ...sortedTopics(state).map((t) => [t.code, topicLabel(state, t.code)])], "");
      fillOptions(dialog.querySelector('select[name="candidate_id"]'),
        [["", _("— any candidate —")], ...sortedCandidates(state).map((c) => [c.id, c.name])], "");
      dialog.querySelector('select[name="hall_id"]').focus();
    },

    help() {
      const dialog = dialogOf("help");
      if (dialog && !dialog.open) dialog.showModal();
    },
  };
}
