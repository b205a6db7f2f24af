// The media plane in the browser: one peer connection from this screen to the meeting's media
// hub, signalled over the meeting stream (docs/protocol.md, "Media").
//
// The hub composes the programme and sends it to every screen; it answers our offer and never
// offers itself, gathers all its candidates before answering (no trickle from its side), and
// knows no ICE restart. So a link that fails is rebuilt from scratch: a new peer connection, a
// new offer; the hub replaces our old connection with it. The floor, the layout and the
// question on air live in the database, so nothing is lost by rebuilding. When the hub's media
// worker was restarted (it crashed), the new one says so (`media.restarted`): our connection
// went with the old one, so we rebuild at once instead of waiting to notice.
//
// Sending is decided once per connection (`send`: which kinds this screen may send, offered
// sendrecv); what is actually sent can change at any time without renegotiating, by replacing
// the senders' tracks (a hall's kiosk sends its camera only while it holds the floor).
import { tierWords } from "./format.js";
import { _, fmt } from "./i18n.js";

const GATHER_MS = 2000; // wait this long for ICE gathering before offering what we have
const ANSWER_MS = 15000; // no answer by then: try again
const FIRST_MEDIA_MS = 12000; // from the offer to the first decoded frame
const STALL_MS = 4000; // no new frame for this long while receiving: rebuild
const DISCONNECTED_MS = 3000; // "disconnected" this long: rebuild
const WATCH_EVERY_MS = 1000;
const MAX_BACKOFF_MS = 30000;
const VIDEO_MAX_BITRATE = 700000; // a hall's uplink may be a mountain link

// What getUserMedia asks for: the hub composes at 640x360 and 25 fps.
const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 25, max: 30 } };
const MICROPHONE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export class MediaLink {
  // stream: the page's MeetingStream; api: its apiClient; video: the <video> that shows the
  // programme (or null); send: {audio, video}, the kinds this screen may send; onChange(link):
  // called whenever the state, the link figures or the sound's state change; muted: whether
  // the programme's sound starts muted (a console beside the studio's loudspeakers).
  constructor({ stream, api, video = null, send = {}, onChange = () => {}, muted = false }) {
    this.stream = stream;
    this.api = api;
    this.video = video;
    // The programme's sound plays from an element of its own, the picture muted in the
    // <video>: Chromium starts no <video> before its first frame, so a hall on the audio-only
    // tier, which gets no frame, would otherwise hear nothing.
    this.sound = video ? document.createElement("audio") : null;
    if (this.sound) this.sound.muted = muted;
    if (video) video.muted = true;
    this.send = { audio: Boolean(send.audio), video: Boolean(send.video) };
    this.onChange = onChange;
    this.tracks = { audio: null, video: null };
    this.state = "off"; // off, connecting, live, retrying, refused, replaced
    this.figures = null; // the hub's last media.status: {tier, pinned, loss, rtt, state}
    this.soundBlocked = false; // the browser would not play sound without a click
    this.pc = null;
    this.generation = 0;
    this.retries = 0;
    this.rebuilds = 0; // for tests and diagnosis
    this.started = false;
    this.timers = {};
    this.progress = null; // {count, at}: frames decoded (or audio packets), and when it last grew
    this.unsubscribe = [
      stream.on("welcome", () => this.started && this.build()),
      stream.on("media.answer", (frame) => this.answered(frame)),
      stream.on("media.candidate", (frame) => this.remoteCandidate(frame)),
      stream.on("media.status", (frame) => this.status(frame)),
      stream.on("media.error", () => this.retry("the hub failed")),
      stream.on("media.restarted", () => this.hubRestarted()),
      // The hub took a newer connection of this hall (this screen's, from another window):
      // offering again would only take it back.
      stream.on("media.replaced", () => this.replaced()),
      stream.on("error", (frame) => this.refusedMaybe(frame)),
    ];
    this.onPageHide = () => this.pause();
    this.onPageShow = (event) => event.persisted && this.started && this.build();
    window.addEventListener("pagehide", this.onPageHide);
    window.addEventListener("pageshow", this.onPageShow);
  }

  start() {
    this.started = true;
    if (this.stream.isOpen()) this.build();
    // else: the stream's welcome starts it
  }

  // Leave the hub for good (the screen no longer shows the programme).
  stop() {
    this.started = false;
    this.pause();
    this.setState("off");
  }

  destroy() {
    this.stop();
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    window.removeEventListener("pagehide", this.onPageHide);
    window.removeEventListener("pageshow", this.onPageShow);
  }

  // Which kinds this screen may send. A change needs a new offer (the hub gives a sending
  // screen another role), so the link is rebuilt.
  setSend(send) {
    const next = { audio: Boolean(send.audio), video: Boolean(send.video) };
    if (next.audio === this.send.audio && next.video === this.send.video) return;
    this.send = next;
    if (this.started) this.build();
  }

  get sending() {
    return this.send.audio || this.send.video;
  }

  // The tracks to send now (null: send nothing of that kind). No renegotiation.
  setTracks({ audio = null, video = null }) {
    this.tracks = { audio, video };
    this.applyTracks();
  }

  applyTracks() {
    if (!this.pc || this.pc.signalingState === "closed") return;
    for (const kind of ["audio", "video"]) {
      const transceiver = this.transceivers?.[kind];
      if (!transceiver || !this.send[kind]) continue;
      const track = this.tracks[kind];
      if (transceiver.sender.track === track) continue;
      transceiver.sender.replaceTrack(track).catch((error) => {
        console.warn("media: could not switch the", kind, "track", error);
      });
    }
  }

  // Whether the programme's sound is muted on this screen.
  get muted() {
    return this.sound ? this.sound.muted : true;
  }

  set muted(value) {
    if (this.sound) this.sound.muted = value;
  }

  // A click on "Start sound": the browser plays the programme's sound after a user gesture.
  unmute() {
    if (!this.sound) return;
    this.sound.muted = false;
    this.soundBlocked = false;
    this.sound.play().catch(() => {});
    this.onChange(this);
  }

  // --- building the connection ------------------------------------------------------------

  async build() {
    const generation = ++this.generation;
    this.teardown();
    this.rebuilds += 1;
    if (!this.stream.isOpen()) {
      this.setState("retrying"); // the stream's next welcome builds again
      return;
    }
    this.setState("connecting");
    let iceServers = [];
    try {
      // Fetched for every connection: TURN credentials expire.
      iceServers = (await this.api.get("/media/ice", { timeout: 10000 })).ice_servers || [];
    } catch (error) {
      if (generation !== this.generation) return;
      if (error.status === 403) {
        this.refuse();
        return;
      }
      this.retry("no ICE servers");
      return;
    }
    if (generation !== this.generation) return;
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    this.offered = false;
    this.progress = null;
    this.transceivers = {};
    for (const kind of ["audio", "video"]) {
      this.transceivers[kind] = pc.addTransceiver(kind, {
        direction: this.send[kind] ? "sendrecv" : "recvonly",
      });
    }
    this.applyTracks();
    pc.addEventListener("track", (event) => this.remoteTrack(pc, event.track));
    pc.addEventListener("icecandidate", (event) => this.localCandidate(pc, event.candidate));
    pc.addEventListener("connectionstatechange", () => this.connectionChanged(pc));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, GATHER_MS);
    } catch (error) {
      if (generation === this.generation) this.retry(`offer failed: ${error}`);
      return;
    }
    if (generation !== this.generation) return;
    const sent = this.stream.send({ type: "media.offer", sdp: pc.localDescription.sdp, send: this.sending });
    if (!sent) {
      this.teardown();
      this.setState("retrying");
      return;
    }
    this.offered = true;
    this.timers.answer = setTimeout(() => this.retry("no answer from the hub"), ANSWER_MS);
    this.timers.watch = setInterval(() => this.watch(pc), WATCH_EVERY_MS);
  }

  async answered(frame) {
    const pc = this.pc;
    if (!pc || pc.signalingState !== "have-local-offer") return;
    // An answer to an earlier offer of ours (one the restarted hub found waiting) would set up
    // a connection the hub has already replaced: wait for the answer to this one.
    if (frame.offer_ufrag && frame.offer_ufrag !== iceUfrag(pc.localDescription?.sdp)) return;
    clearTimeout(this.timers.answer);
    try {
      await pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
    } catch (error) {
      if (pc === this.pc) this.retry(`bad answer: ${error}`);
      return;
    }
    this.limitBitrate(pc);
  }

  async remoteCandidate(frame) {
    if (!this.pc || !frame.candidate) return;
    try {
      await this.pc.addIceCandidate(frame.candidate);
    } catch (error) {
      console.warn("media: a candidate from the hub was refused", error);
    }
  }

  // Candidates found after the offer left (gathering took longer than GATHER_MS) are trickled.
  localCandidate(pc, candidate) {
    if (pc !== this.pc || !this.offered || !candidate || !candidate.candidate) return;
    this.stream.send({
      type: "media.candidate",
      candidate: {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      },
    });
  }

  remoteTrack(pc, track) {
    if (pc !== this.pc || !this.video) return;
    const element = track.kind === "audio" ? this.sound : this.video;
    element.srcObject = new MediaStream([track]);
    this.play();
  }

  async play() {
    // The picture is muted, which every browser lets play without a click.
    if (this.video?.srcObject) this.video.play().catch(() => {});
    const sound = this.sound;
    if (!sound?.srcObject) return;
    try {
      await sound.play();
    } catch (error) {
      if (error.name !== "NotAllowedError") return; // AbortError: a newer source took over
      // Sound needs a click on this page first; until then it plays muted.
      sound.muted = true;
      this.soundBlocked = true;
      this.onChange(this);
      sound.play().catch(() => {});
    }
  }

  async limitBitrate(pc) {
    const sender = this.transceivers?.video?.sender;
    if (!this.send.video || !sender) return;
    try {
      const parameters = sender.getParameters();
      if (!parameters.encodings?.length) return;
      parameters.encodings[0].maxBitrate = VIDEO_MAX_BITRATE;
      await sender.setParameters(parameters);
    } catch (error) {
      // Not every browser lets this change; the default rate then applies.
    }
  }

  // --- watching it -------------------------------------------------------------------------

  connectionChanged(pc) {
    if (pc !== this.pc) return;
    clearTimeout(this.timers.disconnected);
    const state = pc.connectionState;
    if (state === "failed") {
      this.retry("connection failed");
    } else if (state === "disconnected") {
      this.timers.disconnected = setTimeout(() => this.retry("disconnected"), DISCONNECTED_MS);
    }
  }

  // Frames decoded (audio packets on the sound-only tier) must keep coming: a connection that
  // looks fine but delivers nothing is rebuilt too.
  async watch(pc) {
    if (pc !== this.pc) return;
    if (pc.signalingState === "closed") {
      this.retry("connection closed"); // closed under us: close() fires no state change
      return;
    }
    let stats = null;
    try {
      stats = await pc.getStats();
    } catch {
      // counts as no progress
    }
    if (pc !== this.pc) return;
    const expectVideo = this.figures?.tier !== "audio";
    let count = 0;
    stats?.forEach((report) => {
      if (report.type !== "inbound-rtp") return;
      if (expectVideo && report.kind === "video") count += report.framesDecoded || 0;
      if (!expectVideo && report.kind === "audio") count += report.packetsReceived || 0;
    });
    const now = Date.now();
    const progress = this.progress;
    if (!progress || progress.expectVideo !== expectVideo) {
      const flowing = count > 0 || (progress?.flowing ?? false);
      this.progress = { count, at: now, expectVideo, flowing };
      if (count > 0) this.setState("live");
      return;
    }
    if (count > progress.count) {
      Object.assign(progress, { count, at: now, flowing: true });
      this.retries = 0;
      this.setState("live");
      return;
    }
    if (now - progress.at > (progress.flowing ? STALL_MS : FIRST_MEDIA_MS)) {
      this.retry(progress.flowing ? "no new frames" : "no media arrived");
    }
  }

  status(frame) {
    this.figures = {
      tier: frame.tier,
      pinned: frame.pinned,
      loss: frame.loss,
      rtt: frame.rtt,
      state: frame.state,
    };
    this.onChange(this);
  }

  // An error frame refusing our offer (a voter's page, or a role the server does not admit).
  refusedMaybe(frame) {
    if (frame.code === "forbidden" && this.pc && this.offered && this.pc.signalingState === "have-local-offer") {
      this.refuse();
    }
  }

  refuse() {
    this.started = false;
    this.pause();
    this.setState("refused");
  }

  replaced() {
    if (!this.started) return;
    this.started = false;
    this.generation += 1;
    this.teardown();
    this.setState("replaced");
  }

  // --- rebuilding --------------------------------------------------------------------------

  // The hub's worker started again: whatever connection we have (or offer we sent) died with
  // the old one. Rebuild now, without backing off: the new worker is listening.
  hubRestarted() {
    if (!this.started) return;
    this.retries = 0;
    this.lastRetryReason = "the hub restarted";
    this.build();
  }

  retry(reason) {
    if (!this.started) return;
    this.teardown();
    this.generation += 1;
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.retries) * (0.5 + Math.random());
    this.retries += 1;
    this.lastRetryReason = reason;
    this.setState("retrying");
    this.timers.rebuild = setTimeout(() => this.build(), delay);
  }

  // Leave the hub and drop the connection (the page is hidden, or we stop).
  pause() {
    if (this.pc && this.offered) this.stream.send({ type: "media.leave" });
    this.generation += 1;
    this.teardown();
  }

  teardown() {
    for (const timer of Object.values(this.timers)) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    this.timers = {};
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close();
    }
    this.transceivers = null;
    this.offered = false;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onChange(this);
  }

  // Whether the programme is arriving (the screen may hide what it shows without it).
  get receiving() {
    return this.state === "live";
  }
}

function iceUfrag(sdp) {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp || "")?.[1] ?? null;
}

// Resolves when ICE gathering completes or after `ms`, whichever comes first.
function gathered(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// --- local devices ---------------------------------------------------------------------------

// The camera and/or microphone. Resolves to {stream} or {error: a sentence for the screen}.
export async function openLocalMedia({ audio = true, video = true } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { error: _("This browser cannot use a camera or microphone here (the page must be opened over HTTPS).") };
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: audio ? MICROPHONE : false,
      video: video ? CAMERA : false,
    });
    return { stream };
  } catch (error) {
    return { error: deviceErrorText(error, { audio, video }) };
  }
}

export function deviceErrorText(error, { audio = true, video = true } = {}) {
  const devices = audio && video ? _("camera and microphone") : video ? _("camera") : _("microphone");
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return fmt("The browser was not allowed to use the %(devices)s. Allow it in the browser's site settings, then try again.", { devices });
    case "NotFoundError":
    case "OverconstrainedError":
      return fmt("No %(devices)s found. Check that it is plugged in.", { devices });
    case "NotReadableError":
    case "AbortError":
      return fmt("The %(devices)s could not be started: another program may be using it.", { devices });
    default:
      return fmt("The %(devices)s could not be used (%(reason)s).", { devices, reason: error?.message || error?.name || "?" });
  }
}

export function stopStream(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

// --- the moderators' grid of halls: small pictures of each hall's camera -------------------

const THUMBNAIL_WIDTH = 160;
const THUMBNAIL_HEIGHT = 90;
const THUMBNAIL_MAX_CHARS = 40000; // the server refuses larger frames

// Sends a small JPEG of `source` (a <video> showing the local camera) every `every` ms.
export class ThumbnailSender {
  constructor({ stream, source, every = 5000 }) {
    this.stream = stream;
    this.source = source;
    this.every = every;
    this.canvas = document.createElement("canvas");
    this.canvas.width = THUMBNAIL_WIDTH;
    this.canvas.height = THUMBNAIL_HEIGHT;
    this.timer = null;
  }

  start() {
    if (this.timer) return;
    this.timer = setInterval(() => this.sendOne(), this.every);
    setTimeout(() => this.sendOne(), 1000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  sendOne() {
    const source = this.source;
    if (!source.srcObject || source.readyState < 2 || !this.stream.isOpen()) return;
    const context = this.canvas.getContext("2d");
    // Cover the 16:9 canvas with the middle of a 4:3 camera.
    const scale = Math.max(THUMBNAIL_WIDTH / source.videoWidth, THUMBNAIL_HEIGHT / source.videoHeight);
    const width = source.videoWidth * scale;
    const height = source.videoHeight * scale;
    context.drawImage(source, (THUMBNAIL_WIDTH - width) / 2, (THUMBNAIL_HEIGHT - height) / 2, width, height);
    let image = this.canvas.toDataURL("image/jpeg", 0.6);
    if (image.length > THUMBNAIL_MAX_CHARS) image = this.canvas.toDataURL("image/jpeg", 0.3);
    if (image.length <= THUMBNAIL_MAX_CHARS) this.stream.send({ type: "thumbnail", image });
  }
}

// --- words for the link ----------------------------------------------------------------------

// "HD · 35 ms · 0% loss": the hub's figures for one link, discreetly.
export function linkSummary(figures) {
  if (!figures) return "";
  const parts = [tierWords(figures.tier)];
  if (figures.pinned) parts[0] = fmt("%(tier)s (fixed)", { tier: parts[0] });
  if (typeof figures.rtt === "number") parts.push(fmt("%(ms)s ms", { ms: Math.round(figures.rtt * 1000) }));
  // Translators: packet loss on a hall's link, e.g. "3% loss".
  if (typeof figures.loss === "number") parts.push(fmt("%(percent)s loss", { percent: `${Math.round(figures.loss * 100)}%` }));
  return parts.join(" · ");
}
