"""What the studio's Chromium sends as its camera and microphone (Chromium's
``--use-file-for-fake-video-capture`` / ``--use-file-for-fake-audio-capture`` loop them).

- Picture: a 640x360 test card at 25 fps with fine detail (so a keyframe costs what a real
  picture costs) and a moving, textured block the size of a head (so every frame costs bits
  and the tier encoders run at their bitrates, as with a person speaking).
- Sound: a voice-like signal that never goes silent: harmonics of a gliding 110-220 Hz pitch,
  at syllable rate (4 Hz) between 30% and 100% loudness. A steady sine would be taken for
  noise and removed by the microphone's noise suppression; silence would make concealment
  unmeasurable (concealed silence is counted apart, as ``silentConcealedSamples``).
Both loop seamlessly every ``SECONDS``.
"""

import wave
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FPS = 640, 360, 25
RATE = 48_000
SECONDS = 4


def write_video(path: Path) -> Path:
    rng = np.random.default_rng(6)
    x = np.linspace(0, 1, WIDTH)[None, :]
    y = np.linspace(0, 1, HEIGHT)[:, None]
    luma = 40 + 150 * x * (0.6 + 0.4 * y) + rng.integers(-20, 20, (HEIGHT, WIDTH))
    luma[::24, :] = 235  # a grid: edges everywhere
    luma[:, ::32] = 235
    bars = np.repeat(np.arange(8) * 32 + 16, WIDTH // 2 // 8)[None, :]
    chroma_u = np.broadcast_to(bars, (HEIGHT // 2, WIDTH // 2))
    chroma_v = np.broadcast_to(bars[:, ::-1], (HEIGHT // 2, WIDTH // 2))
    block = rng.integers(16, 235, (120, 96))
    frames = SECONDS * FPS
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            phase = 2 * np.pi * n / frames
            picture = luma.copy()
            left = int(260 + 180 * np.sin(phase))
            top = int(120 + 60 * np.sin(2 * phase))
            picture[top : top + 120, left : left + 96] = np.roll(block, n * 3, axis=1)
            picture[330:350, 20 + (n % 25) * 20 : 40 + (n % 25) * 20] = 16  # a ticking mark
            out.write(b"FRAME\n")
            out.write(np.clip(picture, 16, 235).astype(np.uint8).tobytes())
            out.write(np.ascontiguousarray(chroma_u, dtype=np.uint8).tobytes())
            out.write(np.ascontiguousarray(chroma_v, dtype=np.uint8).tobytes())
    return path


def write_audio(path: Path) -> Path:
    t = np.arange(SECONDS * RATE) / RATE
    # Pitch glides 110..220 Hz once per loop; the phase is the pitch's integral, and whole
    # numbers of cycles per loop make the loop seamless.
    pitch = 165 - 55 * np.cos(2 * np.pi * t / SECONDS)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 9))
    envelope = 0.65 - 0.35 * np.cos(2 * np.pi * 4 * t)
    samples = voice * envelope
    samples = (samples / np.abs(samples).max() * 0.5 * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path
