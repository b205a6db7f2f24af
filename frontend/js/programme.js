// What the hall screens (kiosk and phone) show as "now": the running agenda item and its
// timer, or what the conference is waiting for.
import { bound, setText } from "./dom.js";
import { itemTimer, runningItem, statusLabel } from "./format.js";
import { _ } from "./i18n.js";

export function renderNow(state) {
  const item = runningItem(state);
  const status = state.meeting.status;
  setText("status", item ? _("Now") : statusLabel(status));
  let now;
  if (item) now = item.title;
  else if (status === "live") now = _("The conference will continue shortly");
  else if (status === "ended" || status === "archived") now = _("The conference has ended. Thank you.");
  else now = _("The conference has not started yet");
  setText("now", now);
  renderTimer(state);
}

export function renderTimer(state) {
  const timer = itemTimer(runningItem(state));
  const element = bound("running-timer");
  if (!element) return;
  element.textContent = timer ? timer.text : "";
  element.classList.toggle("over", Boolean(timer?.over));
}
