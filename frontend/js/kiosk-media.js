// The kiosk's part of the media plane: the programme full screen behind the texts, the hall's
// camera and microphone (sent while the hall holds the floor; always from the studio), the
// floor's holder and countdown, the hall's raised hand, the link's quality, and a small
// picture of the camera for the moderators every few seconds.
import { bound, setText } from "./dom.js";
import { duration, tierWords } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MediaLink, ThumbnailSender, linkSummary, openLocalMedia, stopStream } from "./media.js";
import { followInset } from "./programme-inset.js";
import { hallName } from "./questions.js";

// The programme runs from the moment the conference is scheduled (for the halls' technical
// checks) until it ends.
const MEDIA_STATUSES = new Set(["scheduled", "live"]);
// The text-only look comes back only after the programme has been missing this long, so that
// a quick reconnection does not make the screen jump.
const PROGRAMME_GONE_MS = 5000;

// say(text): tells the hall on the bottom line; onLink(): the programme's link changed.
export function kioskMedia({ api, stream, hallId, say, onLink = () => {} }) {
  const hall = Number(hallId);
  const programme = bound("programme");
  const selfVideo = bound("self-video");
  followInset(programme);
  let state = null;
  let camera = null; // the hall's camera and microphone, once allowed
  let deviceError = null;
  let opening = null;
  let goneTimer = null;
  let handBusy = false;
  let stopped = false; // the screen lost its hold on the hall

  const link = new MediaLink({
    stream,
    api,
    video: programme,
    // Offered sendrecv from the start, so the floor switches the tracks without renegotiating.
    send: { audio: true, video: true },
    onChange: renderLink,
  });
  window.__media = link; // for tests and for diagnosis from the browser's console
  const thumbnails = new ThumbnailSender({ stream, source: selfVideo });

  const isStudio = () => Boolean(state?.halls?.[hallId]?.is_studio);
  const holdsFloor = () => state?.programme?.floor_hall_id === hall;
  const onProgramme = () => isStudio() || holdsFloor();

  async function openCamera() {
    if (stopped) return null;
    if (opening) return opening;
    bound("device").hidden = true;
    opening = (async () => {
      const { stream: media, error } = await openLocalMedia({ audio: true, video: true });
      opening = null;
      if (stopped) {
        if (media) stopStream(media);
        return;
      }
      if (error) {
        deviceError = error;
        console.warn("kiosk: no camera or microphone:", error);
        setText("device-text", fmt("No camera or microphone: %(reason)s This screen still shows the programme.", { reason: error }));
        bound("device").hidden = false;
        renderFloor();
        return;
      }
      deviceError = null;
      camera = media;
      for (const track of camera.getTracks()) {
        track.addEventListener("ended", () => lostCamera(media));
      }
      selfVideo.srcObject = camera;
      selfVideo.play().catch(() => {});
      thumbnails.start();
      applySending();
    })();
    return opening;
  }

  function lostCamera(media) {
    if (camera !== media) return;
    stopStream(media);
    camera = null;
    deviceError = _("The camera or microphone stopped (unplugged?).");
    setText("device-text", deviceError);
    bound("device").hidden = false;
    applySending();
  }

  // The tracks go on the programme only while the hub takes them: the studio always, a hall
  // while it holds the floor. Otherwise nothing leaves the hall but the small pictures.
  function applySending() {
    const on = onProgramme() && camera;
    link.setTracks(on
      ? { audio: camera.getAudioTracks()[0] || null, video: camera.getVideoTracks()[0] || null }
      : { audio: null, video: null });
    const self = bound("self");
    self.hidden = !camera;
    self.classList.toggle("on-programme", Boolean(on));
    setText("self-caption", on ? _("on the programme") : "");
    self.title = isStudio()
      ? _("The studio's camera: always on the programme")
      : on ? _("This hall's camera: on the programme") : _("This hall's camera: sent only while the hall has the floor");
    renderFloor();
  }

  function renderLink() {
    const element = bound("media-link");
    element.dataset.state = link.state;
    const figures = link.figures;
    let words = "";
    // Live, the tier alone (HD, low, audio only): the hall reads it from afar; the figures
    // (round trip, loss) are for the operator, in the title, and on the studio's halls console.
    if (link.state === "live" && figures?.tier) {
      words = figures.pinned ? fmt("%(tier)s (fixed)", { tier: tierWords(figures.tier) }) : tierWords(figures.tier);
    } else if (link.state === "live") words = _("programme: live");
    else if (link.state === "connecting") words = _("programme: connecting…");
    else if (link.state === "retrying") words = _("programme: reconnecting…");
    else if (link.state === "refused") words = _("programme not available");
    else if (link.state === "replaced") words = _("programme: shown in another window of this screen");
    element.textContent = words;
    element.dataset.title ??= element.title;
    element.title = (link.state === "live" && linkSummary(figures)) || element.dataset.title;
    element.dataset.figures = link.state === "live" ? linkSummary(figures) || "" : "";
    bound("sound").hidden = !link.soundBlocked;
    // The picture behind the texts, unless the link carries sound only.
    const showing = link.state === "live" && figures?.tier !== "audio";
    if (showing) {
      clearTimeout(goneTimer);
      goneTimer = null;
      document.body.classList.add("has-programme");
    } else if (!goneTimer && document.body.classList.contains("has-programme")) {
      goneTimer = setTimeout(() => {
        goneTimer = null;
        document.body.classList.remove("has-programme");
      }, PROGRAMME_GONE_MS);
    }
    onLink();
  }

  function renderFloor() {
    if (!state) return;
    const box = bound("floor");
    const holder = state.programme?.floor_hall_id ?? null;
    box.hidden = holder === null;
    // The hall on the floor is inset in the picture: the panels leave it free (hall.css).
    document.body.classList.toggle("programme-inset", holder !== null && state.programme.layout === "inset");
    if (holder === null) return;
    const mine = holder === hall;
    box.classList.toggle("mine", mine);
    const text = bound("floor-text");
    if (mine) {
      text.replaceChildren(
        Object.assign(document.createElement("strong"), { textContent: _("Your hall has the floor") }),
        " — ",
        _("speak now"),
      );
    } else {
      text.textContent = fmt("%(hall)s has the floor", { hall: hallName(state, holder) });
    }
    let note = "";
    if (mine && camera) note = _("Your camera and microphone are on the programme.");
    else if (mine && deviceError) note = fmt("The studio cannot see or hear you: %(reason)s", { reason: deviceError });
    else if (mine) note = _("Starting the camera and microphone…");
    setText("floor-note", note);
    renderCountdown();
  }

  function renderCountdown() {
    const until = state?.programme?.floor_until;
    const element = bound("floor-countdown");
    if (!until || state.programme.floor_hall_id === null) {
      element.textContent = "";
      return;
    }
    const left = Math.max(0, (Date.parse(until) - Date.now()) / 1000);
    element.textContent = duration(left);
    element.classList.toggle("ending", left <= 15);
  }

  function raisedHands() {
    return Object.entries(state?.floor_requests || {})
      .map(([id, request]) => ({ id: Number(id), at: request.requested_at }))
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id - b.id));
  }

  function renderHand() {
    const box = bound("hand");
    if (!box) return; // the studio does not ask for the floor
    const live = state.meeting.status === "live";
    box.hidden = !live || holdsFloor();
    const hands = raisedHands();
    const place = hands.findIndex((request) => request.id === hall) + 1;
    const button = box.querySelector('[data-action="hand"]');
    button.setAttribute("aria-pressed", String(place > 0));
    button.disabled = handBusy;
    setText("hand-label", place ? _("Lower hand") : _("Raise hand"));
    let words = "";
    if (place) words = fmt("Hand raised: place %(place)s of %(count)s", { place, count: hands.length });
    else if (hands.length) words = fmt("Halls waiting for the floor: %(count)s", { count: hands.length });
    setText("hand-place", words);
  }

  async function toggleHand() {
    if (!state || handBusy || bound("hand")?.hidden !== false) return;
    const raised = hallId in (state.floor_requests || {});
    handBusy = true;
    renderHand();
    try {
      await api.post(`/halls/${hallId}/floor/${raised ? "withdraw" : "request"}`);
      say(raised ? _("Hand lowered.") : _("Hand raised: the moderators see it."));
    } catch (error) {
      say(error.message);
    } finally {
      handBusy = false;
      renderHand();
    }
  }

  // --- wiring --------------------------------------------------------------------------------

  document.querySelector('[data-action="hand"]')?.addEventListener("click", toggleHand);
  document.querySelector('[data-action="start-sound"]').addEventListener("click", () => link.unmute());
  document.querySelector('[data-action="device-retry"]').addEventListener("click", () => openCamera());
  // Any click or key on the kiosk lets the browser play sound: use the first one.
  const firstGesture = () => link.soundBlocked && link.unmute();
  document.addEventListener("pointerdown", firstGesture);
  document.addEventListener("keydown", firstGesture);
  document.addEventListener("keydown", (key) => {
    const typing = key.target.closest?.("input, textarea, select, [contenteditable]");
    const drawerOpen = !document.querySelector('[data-testid="clerk-drawer"]').hidden;
    if (typing || drawerOpen || key.ctrlKey || key.metaKey || key.altKey) return;
    if (key.key === "h" || key.key === "H") {
      key.preventDefault();
      toggleHand();
    }
  });
  openCamera();

  return {
    render(newState) {
      if (stopped) return;
      state = newState;
      const wanted = MEDIA_STATUSES.has(state.meeting.status);
      if (wanted && !link.started && link.state !== "refused") link.start();
      else if (!wanted && link.started) link.stop();
      applySending();
      renderHand();
    },
    tick() {
      renderCountdown();
    },
    // Whether the programme is still on its way: wanted for this conference's status, and
    // neither playing nor refused (nor shown in another window of this screen).
    connecting() {
      if (stopped || !state || !MEDIA_STATUSES.has(state.meeting.status)) return false;
      return !["live", "refused", "replaced"].includes(link.state);
    },
    // This screen no longer holds its hall: nothing of the hall leaves it any more.
    stop() {
      stopped = true;
      link.stop();
      thumbnails.stop();
      if (camera) stopStream(camera);
      camera = null;
      selfVideo.srcObject = null;
      bound("self").hidden = true;
    },
  };
}
