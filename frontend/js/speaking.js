// Speaking time per candidate, as GET /speaking-time counts it (presentations against the equal
// allowance, and answers from "on air" to "answered"), kept current on a screen: asked again
// when an agenda item starts or ends or a question is answered, and ticking between answers
// for the candidate whose presentation is running.
import { duration, runningItem } from "./format.js";
import { fmt } from "./i18n.js";

// The events after which the counts change.
const CHANGES = /^(agenda\.|question\.answered$|public\.answered$)/;
// Staff receive question.answered and public.answered for one answer: one request serves both.
const SETTLE_MS = 150;

export class SpeakingTimes {
  constructor({ api, onChange = () => {}, onError = () => {} }) {
    this.api = api;
    this.onChange = onChange;
    this.onError = onError;
    this.times = null; // [{candidate_id, name, presentation_seconds, ...}] in the candidates' order
    this.asked = 0; // the number of the latest request: an older answer that arrives late is ignored
    this.runningAtRequest = null; // the presentation running when the counts were asked for
    this.requestedAt = 0;
    this.timer = null;
  }

  // Asks again; `state` is the page's meeting state as it stands now.
  refresh(state) {
    const number = ++this.asked;
    const running = presentationRunning(state);
    const requestedAt = Date.now();
    this.api.get("/speaking-time").then(
      (times) => {
        if (number !== this.asked) return;
        this.times = times;
        this.runningAtRequest = running;
        this.requestedAt = requestedAt;
        this.onChange();
      },
      (error) => {
        if (number === this.asked) this.onError(error);
      },
    );
  }

  // Called with each event the page applies.
  eventApplied(event, state) {
    if (!CHANGES.test(event.type)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(state), SETTLE_MS);
  }

  // The counts now: the running presentation grows by the time since the counts were asked
  // for, while the page's state says it still runs.
  current(state) {
    if (!this.times) return null;
    const running = presentationRunning(state);
    const ticking = running && this.runningAtRequest && running.id === this.runningAtRequest.id ? running : null;
    const extra = ticking ? Math.max(0, (Date.now() - this.requestedAt) / 1000) : 0;
    return this.times.map((time) => {
      const speaking = Boolean(ticking && ticking.candidate_id === time.candidate_id);
      const presentation = time.presentation_seconds + (speaking ? extra : 0);
      return {
        ...time,
        speaking,
        presentation_seconds: presentation,
        total_seconds: presentation + time.answer_seconds,
        over: time.allowance_seconds > 0 && presentation > time.allowance_seconds,
      };
    });
  }
}

// The running agenda item, if it is a candidate's presentation.
export function presentationRunning(state) {
  const item = state ? runningItem(state) : null;
  return item && item.kind === "presentation" && item.candidate_id ? item : null;
}

// "03:12 of 05:00", or the time alone when the candidate has no allowance.
export function presentationWords(time) {
  return time.allowance_seconds > 0
    ? fmt("%(used)s of %(allowed)s", { used: duration(time.presentation_seconds), allowed: duration(time.allowance_seconds) })
    : duration(time.presentation_seconds);
}

// "01:30 (2 answers)".
export function answerWords(time) {
  return fmt("%(time)s (%(count)s answered)", { time: duration(time.answer_seconds), count: time.answers });
}
