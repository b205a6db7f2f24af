// The words for the state of a screen's connection.
import { bound } from "./dom.js";
import { _ } from "./i18n.js";

export function connectionText(status, code) {
  switch (status) {
    case "live": return _("● live");
    case "connecting": return _("connecting…");
    case "offline": return _("offline – reconnecting…");
    case "off": return "";
    case "refused":
      return code === 4403
        ? _("This link no longer works. Ask the organisers for the new one.")
        : _("Not admitted to this conference.");
    default: return status;
  }
}

// Shows the connection's state in the page's [data-bind="connection"] element; data-state
// carries the state itself, for styles and tests, whatever the language.
export function showConnection(status, code) {
  const element = bound("connection");
  if (!element) return;
  element.textContent = connectionText(status, code);
  element.dataset.state = status;
}
