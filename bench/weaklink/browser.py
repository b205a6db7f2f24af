"""The kiosks in Chromium: the studio's on the server's side (a test card and a voice-like sound
from files), the hall's inside the weak link's namespace (Chromium started through
``ip netns exec``, via a wrapper handed to Playwright as ``executable_path``).

What a kiosk receives is read from its own ``RTCPeerConnection.getStats()``: the kiosk exposes
its media link as ``window.__media`` (frontend/js/kiosk-media.js), with the connection as
``.pc`` and the hub's last ``media.status`` (tier, loss, rtt) as ``.figures``.
"""

import time
from pathlib import Path

from tests import chromium
from tests.chromium import CHROMIUM

ARGS = [
    *chromium.ARGS,
    # The programme's sound plays without a click, as on a kiosk someone has touched once.
    "--autoplay-policy=no-user-gesture-required",
]

INBOUND_AUDIO = [
    "packetsReceived",
    "packetsLost",
    "packetsDiscarded",
    "fecPacketsReceived",
    "fecPacketsDiscarded",
    "bytesReceived",
    "headerBytesReceived",
    "jitter",
    "jitterBufferDelay",
    "jitterBufferEmittedCount",
    "totalSamplesReceived",
    "concealedSamples",
    "silentConcealedSamples",
    "concealmentEvents",
    "insertedSamplesForDeceleration",
    "removedSamplesForAcceleration",
    "totalAudioEnergy",
    "totalSamplesDuration",
    "nackCount",
]
INBOUND_VIDEO = [
    "packetsReceived",
    "packetsLost",
    "bytesReceived",
    "headerBytesReceived",
    "framesReceived",
    "framesDecoded",
    "framesDropped",
    "keyFramesDecoded",
    "frameWidth",
    "frameHeight",
    "framesPerSecond",
    "freezeCount",
    "totalFreezesDuration",
    "pauseCount",
    "totalPausesDuration",
    "nackCount",
    "pliCount",
    "firCount",
    "jitter",
]
PAIR = ["bytesReceived", "bytesSent", "packetsReceived", "packetsSent", "currentRoundTripTime"]

SAMPLE = f"""async () => {{
  const pick = (report, names) =>
    report ? Object.fromEntries(names.map((n) => [n, report[n] ?? null])) : null;
  const link = window.__media;
  const video = document.querySelector('[data-bind="programme"]');
  // readyState and currentTime: whether the programme element plays at all (its sound too).
  const out = {{ at: Date.now(), link: Boolean(link), element: video ? {{ muted: video.muted,
    paused: video.paused, ready_state: video.readyState, current_time: video.currentTime,
    width: video.videoWidth, height: video.videoHeight }} : null }};
  if (!link) return out;
  const sound = link.sound;  // the programme's sound has an element of its own
  if (sound) out.sound = {{ muted: sound.muted, paused: sound.paused,
    current_time: sound.currentTime }};
  Object.assign(out, {{ state: link.state, rebuilds: link.rebuilds, figures: link.figures,
    retry_reason: link.lastRetryReason ?? null, sound_blocked: link.soundBlocked }});
  const pc = link.pc;
  if (!pc) return out;
  pc.__bench ??= Math.random().toString(36).slice(2);  // tells one connection from the next
  out.pc = pc.__bench;
  // The hub's figures of this connection, or ones left from the connection before?
  if (link.figures) link.figures.__pc ??= out.pc;
  out.figures_fresh = Boolean(link.figures) && link.figures.__pc === out.pc;
  out.connection = pc.connectionState;
  const stats = await pc.getStats();
  let pairId = null;
  stats.forEach((report) => {{
    const inbound = report.type === "inbound-rtp";
    if (inbound && report.kind === "audio") out.audio = pick(report, {INBOUND_AUDIO});
    if (inbound && report.kind === "video") out.video = pick(report, {INBOUND_VIDEO});
    if (report.type === "transport") pairId = report.selectedCandidatePairId ?? pairId;
  }});
  if (pairId) out.pair = pick(stats.get(pairId), {PAIR});
  return out;
}}"""

SENDING = """async () => {
  const link = window.__media;
  if (!link?.pc) return 0;
  let sent = 0;
  (await link.pc.getStats()).forEach((r) => {
    if (r.type === "outbound-rtp") sent += r.bytesSent || 0;
  });
  return sent;
}"""


# The payload types the hub answered with: names the RTP streams the link counted by type.
RTPMAP = """() => {
  const sdp = window.__media?.pc?.remoteDescription?.sdp || "";
  const names = {};
  for (const match of sdp.matchAll(/^a=rtpmap:(\\d+) ([^\\s/]+)/gm)) names[match[1]] = match[2];
  return names;
}"""


def launch_studio(playwright, video: Path, audio: Path):
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *ARGS,
            f"--use-file-for-fake-video-capture={video}",
            f"--use-file-for-fake-audio-capture={audio}",
        ],
    )


def launch_hall(playwright, wrapper: Path, origin: str):
    return playwright.chromium.launch(
        executable_path=str(wrapper),
        headless=True,
        args=[
            *ARGS,
            # The server is reached at the link's address over plain HTTP: let the kiosk use
            # its camera and microphone there as it would on https (or it would hide its ICE
            # addresses behind mDNS names).
            f"--unsafely-treat-insecure-origin-as-secure={origin}",
        ],
    )


def open_studio(browser, url: str, timeout: float = 60):
    """The studio's kiosk, once it sends its camera and microphone to the hub."""
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.goto(url)
    deadline = time.monotonic() + timeout
    first = None
    while time.monotonic() < deadline:
        sent = page.evaluate(SENDING)
        if first is None and sent:
            first = sent
        elif first is not None and sent > first:
            return page
        page.wait_for_timeout(500)
    raise SystemExit("weaklink: the studio's kiosk did not start sending to the hub")


def sample(page) -> dict:
    return page.evaluate(SAMPLE)


# A chair's websocket (in a page of the studio's browser, on no weak link): the hub sends
# staff its own figures for every hall every ~2 s (`media.halls`), so the hub's decisions are
# seen when it takes them, not when the weak link lets the hall's own status through.
OBSERVE = """(path) => {
  window.__halls = [];
  const socket = new WebSocket(`ws://${location.host}${path}`);
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello" }));
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "media.halls") window.__halls.push({ at: Date.now(), halls: frame.halls });
  };
  const ping = () => socket.readyState === 1 && socket.send(JSON.stringify({ type: "ping" }));
  setInterval(ping, 10000);
  window.__observer = socket;
}"""
TAKE = "() => window.__halls.splice(0)"


def open_observer(browser, base_url: str, slug: str, cookie: dict):
    context = browser.new_context()
    context.add_cookies([{**cookie, "url": base_url}])
    page = context.new_page()
    page.goto(base_url + "/healthz")
    page.evaluate(OBSERVE, f"/ws/meetings/{slug}/")
    return page


def hub_figures(observer) -> list[dict]:
    """The hub's figures received since the last call: ``{at, halls}``, ``at`` in ms."""
    return observer.evaluate(TAKE)
