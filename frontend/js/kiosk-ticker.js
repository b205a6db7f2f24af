// The kiosk's bottom line: what the people in the hall need to know, read from the back rows.
//
// Only news for the hall goes there: the conference opening or ending, the agenda, the floor,
// the questions taken, answered or put on air, this hall's attendance, and what the operator
// just did. The record's technical entries (a recording part closed, a kiosk connected, a
// session, a quality tier, a layout) are for the studio's consoles: here they go to the
// browser's console, for whoever diagnoses the hall's PC. The line says "connecting" only
// while the screen really is: until its stream is live and the programme plays.
//
// The line holds two lines of text at most (its height, hall.css). A longer message is cut after its last whole word
// that fits, with an ellipsis; the whole message stays in the element's title.
import { statusLabel } from "./format.js";
import { _, fmt } from "./i18n.js";
import { hallName } from "./questions.js";

// "#12 “Khi nào sửa đường…”", whole: the line is fitted at a word boundary afterwards.
function questionWords(state, id) {
  const question = state?.questions?.[String(id)];
  return question ? fmt("#%(id)s “%(text)s”", { id, text: question.text }) : `#${id}`;
}

const ANSWER_KIND_WORDS = {
  live: () => _("answered live"),
  written: () => _("written answer to follow"),
  referred: () => _("referred to an agency"),
};

// The events the hall is told of, in the same words as the other screens' feeds.
const NEWS = {
  "meeting.status_changed": (p) => fmt("Conference is now: %(status)s", { status: statusLabel(p.to) }),
  "meeting.questions_opened": () => _("Questions are open: voters can send them"),
  "meeting.questions_closed": () => _("Questions are closed"),
  "meeting.published": () => _("The conference's page and record are published"),
  "agenda.item_started": (p) => fmt("Started: %(title)s", { title: p.title }),
  "floor.granted": (p, s) => fmt("%(hall)s has the floor", { hall: hallName(s, p.hall) }),
  "floor.revoked": (p, s) => (p.reason === "time_up"
    ? fmt("%(hall)s: the time on the floor is up", { hall: hallName(s, p.hall) })
    : fmt("%(hall)s no longer has the floor", { hall: hallName(s, p.hall) })),
  "public.approved": (p, s) => fmt("Approved into the queue: %(question)s", { question: questionWords(s, p.question) }),
  "public.on_air": (p, s) => fmt("On air: %(question)s", { question: questionWords(s, p.question) }),
  "public.answered": (p, s) => fmt("Answered, %(kind)s: %(question)s", {
    kind: (ANSWER_KIND_WORDS[p.kind] || (() => p.kind || ""))(),
    question: questionWords(s, p.question),
  }),
  "hall.attendance_set": (p, s, hallId) => (String(p.hall) === String(hallId)
    ? fmt("%(hall)s: %(count)s voters present", { hall: hallName(s, p.hall), count: p.count })
    : null),
};

// What the hall is told of an event, or null for an entry that is not for the hall.
export function hallNews(event, state, hallId) {
  const words = NEWS[event.type];
  return words ? words(event.payload || {}, state, hallId) : null;
}

export class Ticker {
  constructor(element) {
    this.element = element;
    this.text = ""; // the whole message shown (the element may show its start)
    this.status = null; // the screen's own state ("connecting"), while there is one
    this.showingStatus = false;
    this.news = ""; // the last news, shown again when the screen's state is gone
    if (typeof ResizeObserver === "function") {
      let width = element.clientWidth;
      new ResizeObserver(() => {
        if (element.clientWidth !== width) {
          width = element.clientWidth;
          this.fit();
        }
      }).observe(element);
    }
  }

  // News for the hall, or what the operator just did.
  say(text) {
    this.news = text || "";
    this.showingStatus = false;
    this.show(this.news);
  }

  // An event of the record: news for the hall, or a line in the console.
  event(event, state, hallId, describe) {
    const news = hallNews(event, state, hallId);
    if (news) this.say(news);
    else console.debug(`kiosk: ${event.type}: ${describe(event, state)}`);
  }

  // The screen's own state: shown while it lasts; then the last news again, if any.
  setStatus(text) {
    if (text === this.status) return;
    this.status = text;
    if (text) {
      this.showingStatus = true;
      this.show(text);
    } else if (this.showingStatus) {
      this.showingStatus = false;
      this.show(this.news);
    }
  }

  show(text) {
    this.text = text || "";
    this.element.title = this.text;
    this.element.dataset.full = this.text;
    this.fit();
  }

  // The whole text when it fits in two lines; else as many whole words as fit, and "…".
  fit() {
    const element = this.element;
    element.textContent = this.text;
    if (!this.text || this.fits()) return;
    const words = this.text.split(/\s+/).filter(Boolean);
    let low = 0; // words[0, low) fit with an ellipsis
    let high = words.length;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      element.textContent = `${words.slice(0, middle).join(" ")}…`;
      if (this.fits()) low = middle;
      else high = middle;
    }
    // Not one word fits (a word longer than the line): cut it, there is nothing else to do.
    element.textContent = low > 0 ? `${words.slice(0, low).join(" ")}…` : `${words[0].slice(0, 40)}…`;
  }

  // The element is two lines high (hall.css): what is taller overflows it.
  fits() {
    return this.element.scrollHeight <= this.element.clientHeight;
  }
}
