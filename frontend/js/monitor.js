// A programme monitor on a console (the moderators' halls page, the candidate's console): the
// programme in a <video>, muted at first (consoles sit beside the studio's loudspeakers and
// microphones) with a button to hear it, and the link's quality. The page's elements:
// [data-bind="monitor"] (the video), [data-action="monitor-sound"], [data-bind="monitor-link"].
import { bound } from "./dom.js";
import { _ } from "./i18n.js";
import { MediaLink, linkSummary } from "./media.js";

export function programmeMonitor({ stream, api, send = {}, onChange = () => {} }) {
  const video = bound("monitor");
  const sound = document.querySelector('[data-action="monitor-sound"]');

  function render() {
    sound.textContent = link.muted ? _("Unmute") : _("Mute");
    sound.setAttribute("aria-pressed", String(!link.muted));
    const element = bound("monitor-link");
    element.dataset.state = link.state;
    let words = "";
    if (link.state === "live") words = linkSummary(link.figures);
    else if (link.state === "retrying") words = _("reconnecting…");
    else if (link.state === "connecting") words = _("connecting…");
    else if (link.state === "refused") words = _("not available");
    element.textContent = words;
    onChange(link);
  }

  const link = new MediaLink({ stream, api, video, send, onChange: render, muted: true });
  window.__media = link; // for tests and for diagnosis from the browser's console
  sound.addEventListener("click", () => {
    if (link.muted) link.unmute();
    else link.muted = true;
    render();
  });
  render();
  return link;
}
