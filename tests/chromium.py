"""How the browser tests, the fault tests and the weak-link benchmark start Debian's Chromium.

Chromium is the system one (``/usr/bin/chromium``, or ``CHROMIUM``); nothing is downloaded. It
runs headless as root on a machine with no outside network: without the background-networking
flags it keeps trying to reach Google's hosts. WebRTC uses a fake camera and microphone,
granted without asking.
"""

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]

# ICE over loopback, for a hub that offers 127.0.0.1 (aioice leaves loopback addresses out
# of its host candidates). Not for a browser in a network namespace of its own, which reaches
# the hub over its link.
LOOPBACK_ARGS = [*ARGS, "--allow-loopback-in-peer-connection"]
