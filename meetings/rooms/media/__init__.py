"""The media hub: halls and the studio linked through a mixer that encodes once per tier.

See docs/architecture.md ("The media plane"). The parts:

- tiers.py       the quality tiers and their encoder settings
- encoders.py    one VP8 encoder per video tier, one Opus encoder per audio stream
- compositor.py  the programme picture, composed on YUV planes
- mixer.py       the programme sound, and the mix-minus for a hall that is heard
- tracks.py      what each peer connection sends (shared packets) and how inputs are read
- adaptation.py  moving a hall between tiers by its loss and round-trip time
- ice.py         ICE servers for browsers and the hub, and the hub's host addresses
- hub.py         one meeting's hub: peers, the clock, keyframes, the floor
- manager.py     the hubs of a process, and the messages that drive them
- gateway.py     how a web node reaches the hubs: a thread of its own, or a media worker
"""
