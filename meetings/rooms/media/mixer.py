"""The programme sound: the studio, the hall holding the floor and the moderator's microphone
mixed every 20 ms; a hall that is heard gets the mix without its own voice (mix-minus), so it
hears no echo of itself."""

from collections import deque

import av
import numpy as np

from meetings.rooms.media.tiers import AUDIO_FRAME_SAMPLES, AUDIO_RATE

# Sound a source may have buffered before the oldest is dropped: jitter is absorbed up to here,
# beyond it latency would grow.
MAX_BUFFERED_FRAMES = 10
SILENCE = np.zeros(AUDIO_FRAME_SAMPLES, np.int16)


class AudioInput:
    """Sound arriving from one peer, as 20 ms chunks of mono int16 at 48 kHz."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        self._pending = np.zeros(0, np.int16)
        self._chunks: deque[np.ndarray] = deque(maxlen=MAX_BUFFERED_FRAMES)

    def push(self, frame: av.AudioFrame) -> None:
        for resampled in self._resampler.resample(frame):
            samples = resampled.to_ndarray().reshape(-1)
            self._pending = np.concatenate([self._pending, samples])
        while len(self._pending) >= AUDIO_FRAME_SAMPLES:
            self._chunks.append(self._pending[:AUDIO_FRAME_SAMPLES])
            self._pending = self._pending[AUDIO_FRAME_SAMPLES:]

    def take(self) -> np.ndarray | None:
        """The next 20 ms, or None when nothing has arrived (the source is silent)."""
        return self._chunks.popleft() if self._chunks else None


def mix(chunks: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The mix of every source, and for each source the mix without it."""
    if not chunks:
        return SILENCE, {}
    if len(chunks) == 1:  # one voice (the studio's, most of the time): nothing to add
        ((name, chunk),) = chunks.items()
        return chunk, {name: SILENCE}
    wide = {name: chunk.astype(np.int32) for name, chunk in chunks.items()}
    total = sum(wide.values())
    minus = {name: _clip(total - own) for name, own in wide.items()}
    return _clip(total), minus


def _clip(samples: np.ndarray) -> np.ndarray:
    return np.clip(samples, -32768, 32767).astype(np.int16)
