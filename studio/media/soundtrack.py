"""The Preview soundtrack: an ambience bed shaped by the prompt, a light music and
effects layer, and the dialogue spoken by espeak-ng (or tones timed to the words when it
is not installed), mixed to exactly the clip's length.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from studio.media.storyboard import SAMPLE_RATE, AnimaticSpec, Cue, stable_seed, word_list

# --- sound ---------------------------------------------------------------------------------


def mix_soundtrack(spec: AnimaticSpec, cues: tuple[Cue, ...]) -> np.ndarray:
    """The mixed stereo track, float32 (2, duration x rate), exactly as long as the video:
    trimming here is what keeps the AAC stream from outlasting the picture."""
    n = spec.duration * SAMPLE_RATE
    rng = np.random.default_rng(stable_seed(spec.ambience))
    bed = _ambience(spec.ambience, n, rng) * _ducking(cues, n)
    centre = _music(spec.music, n) + _effects(spec.sound_effects, n, rng) + _voice_track(cues, n)
    # A small delay on the right decorrelates the bed into a wide, cheap stereo image.
    mix = np.stack((bed + centre, np.roll(bed, 331) + centre))
    peak = float(np.abs(mix).max())
    if peak > 0.89:  # headroom for the AAC encoder, so nothing clips
        mix *= 0.89 / peak
    fade = min(n // 2, SAMPLE_RATE // 50)
    ramp = np.linspace(0.0, 1.0, fade)
    mix[:, :fade] *= ramp
    mix[:, n - fade :] *= ramp[::-1]
    return mix.astype(np.float32)


def _ducking(cues: tuple[Cue, ...], n: int) -> np.ndarray:
    """Gain for the bed: down to half while someone speaks, with short ramps, as a
    mixer would ride it so lines stay clear over rain or a crowd."""
    speaking = np.zeros(n)
    for cue in cues:
        speaking[int(cue.start * SAMPLE_RATE) : int(cue.end * SAMPLE_RATE)] = 1.0
    # A moving average (via cumsum, O(n)) turns the on/off steps into 0.15 s ramps.
    width = int(0.15 * SAMPLE_RATE)
    total = np.cumsum(np.concatenate((np.zeros(width), speaking)))
    return 1.0 - 0.5 * (total[width:] - total[:-width]) / width


def _band_noise(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    """Noise with a soft band-pass between ``low`` and ``high`` Hz, at unit RMS.

    Shaping the spectrum with one FFT is far cheaper than a sample-by-sample filter in
    Python, and numpy is all we have.
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    freqs[0] = 1.0
    gain = 1 / (1 + (low / freqs) ** 4) / (1 + (freqs / high) ** 4)
    noise = np.fft.irfft(spectrum * gain, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _slow_wobble(rng: np.random.Generator, n: int, rates: tuple[float, ...]) -> np.ndarray:
    """A smooth random curve in 0..1 made of a few slow sines."""
    t = np.arange(n) / SAMPLE_RATE
    curve = sum(np.sin(2 * np.pi * (r * t + rng.random())) for r in rates)
    return 0.5 + 0.5 * curve / len(rates)


def _envelope(length: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(length) / SAMPLE_RATE
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / decay)


def _add(track: np.ndarray, grain: np.ndarray, at: float) -> None:
    start = int(at * SAMPLE_RATE)
    if 0 <= start < len(track):
        stop = min(len(track), start + len(grain))
        track[start:stop] += grain[: stop - start]


def _tone(freq: float | np.ndarray, length: int, harmonics: int = 1) -> np.ndarray:
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(freq, (length,))) / SAMPLE_RATE
    return sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))


def _events(rng: np.random.Generator, n: int, per_second: float) -> np.ndarray:
    return np.sort(rng.uniform(0, n / SAMPLE_RATE, rng.poisson(per_second * n / SAMPLE_RATE)))


def _rain(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.03 * _band_noise(rng, n, 800, 9000)
    for at in _events(rng, n, 18):
        length = int(0.03 * SAMPLE_RATE)
        freq = rng.uniform(1800, 4500) * np.linspace(1.0, 0.8, length)
        _add(track, rng.uniform(0.02, 0.08) * _tone(freq, length) * _envelope(length, 0, 0.006), at)
    return track


def _wind(rng: np.random.Generator, n: int) -> np.ndarray:
    return 0.05 * _band_noise(rng, n, 60, 700) * _slow_wobble(rng, n, (0.11, 0.23, 0.37)) ** 2


def _ocean(rng: np.random.Generator, n: int) -> np.ndarray:
    swell = _slow_wobble(rng, n, (0.13, 0.17)) ** 3
    return (
        0.06 * _band_noise(rng, n, 80, 1500) * (0.25 + swell)
        + 0.015 * _band_noise(rng, n, 2000, 8000) * swell
    )


def _city(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.05 * _band_noise(rng, n, 30, 220) + 0.008 * _band_noise(rng, n, 300, 3000)
    for at in _events(rng, n, 0.25):
        length = int(rng.uniform(0.3, 0.6) * SAMPLE_RATE)
        horn = _tone(rng.choice((349.0, 392.0, 440.0)), length, 5) + _tone(466.0, length, 5)
        _add(track, 0.015 * horn * _envelope(length, 0.02, 0.5), at)
    return track


def _forest(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.012 * _band_noise(rng, n, 400, 3000) * _slow_wobble(rng, n, (0.2, 0.31))
    for at in _events(rng, n, 1.2):
        for k in range(rng.integers(2, 5)):  # birds call in short bursts
            length = int(rng.uniform(0.05, 0.11) * SAMPLE_RATE)
            freq = np.linspace(rng.uniform(2800, 4200), rng.uniform(4200, 6000), length)
            grain = 0.03 * _tone(freq, length) * np.hanning(length)
            _add(track, grain, at + k * 0.13)
    return track


def _cafe(rng: np.random.Generator, n: int) -> np.ndarray:
    # Babble: speech-band noise pulsing at syllable rate, in a few overlapping "voices".
    t = np.arange(n) / SAMPLE_RATE
    track = np.zeros(n)
    for rate in (3.7, 4.9, 5.6):
        syllables = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.random() * 6) ** 2
        track += 0.012 * _band_noise(rng, n, 250, 2500) * syllables
    for at in _events(rng, n, 0.6):
        length = int(0.25 * SAMPLE_RATE)
        base = rng.uniform(1800, 3200)
        clink = sum(_tone(base * r, length) for r in (1.0, 2.76, 5.4))
        _add(track, 0.012 * clink * _envelope(length, 0, 0.06), at)
    return track


def _fire(rng: np.random.Generator, n: int) -> np.ndarray:
    track = 0.03 * _band_noise(rng, n, 40, 500) * _slow_wobble(rng, n, (0.4, 0.7))
    for at in _events(rng, n, 9):
        length = int(0.006 * SAMPLE_RATE)
        crackle = rng.standard_normal(length) * _envelope(length, 0, 0.0015)
        _add(track, rng.uniform(0.015, 0.06) * np.diff(crackle, prepend=0.0), at)
    return track


def _room_tone(rng: np.random.Generator, n: int) -> np.ndarray:
    return 0.006 * _band_noise(rng, n, 40, 900)


# Whole words (with their plurals) pick a texture; several can layer.
_AMBIENCES: tuple[tuple[str, Callable[[np.random.Generator, int], np.ndarray]], ...] = (
    ("rain rainy raining drizzle downpour storm rainstorm", _rain),
    ("wind windy breeze gust gusts gale", _wind),
    ("ocean sea seaside wave waves beach shore surf", _ocean),
    ("city traffic street streets car cars urban downtown", _city),
    ("forest woods bird birds birdsong jungle park meadow", _forest),
    ("cafe café restaurant crowd crowds bar pub chatter diner murmur", _cafe),
    ("fire campfire fireplace crackling crackle bonfire", _fire),
)


def _ambience(text: str, n: int, rng: np.random.Generator) -> np.ndarray:
    words = set(word_list(text))
    layers = [make(rng, n) for keywords, make in _AMBIENCES if words & set(keywords.split())]
    return sum(layers[:3]) if layers else _room_tone(rng, n)


_DARK_MUSIC = "sad dark tense melancholic suspense suspenseful eerie somber minor horror ominous"


def _music(text: str, n: int) -> np.ndarray:
    """A soft pad cycling through four chords (minor when the music sounds dark)."""
    if not text.strip():
        return np.zeros(n)
    minor = bool(set(word_list(text)) & set(_DARK_MUSIC.split()))
    # Semitones above A2 for each chord's notes.
    chords = (
        ((0, 3, 7, 12), (8, 12, 15, 20), (3, 7, 10, 15), (10, 14, 17, 22))
        if minor
        else ((3, 7, 10, 15), (0, 3, 7, 12), (8, 12, 15, 20), (10, 14, 17, 22))
    )
    track = np.zeros(n)
    span = n / len(chords)
    fade = int(0.4 * SAMPLE_RATE)
    for i, chord in enumerate(chords):
        start, stop = max(0, int(i * span) - fade), min(n, int((i + 1) * span) + fade)
        length = stop - start
        window = np.minimum(1.0, np.minimum(np.arange(length), length - np.arange(length)) / fade)
        for semitone in chord:
            freq = 110.0 * 2 ** (semitone / 12)
            voice = _tone(freq, length, 3) + _tone(freq * 1.003, length, 3)
            track[start:stop] += 0.006 * voice * window
    return track


def _effects(text: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A short transient per listed effect, spread over the clip."""
    phrases = [p.strip() for p in re.split(r"[,;]| and ", text) if p.strip()][:4]
    track = np.zeros(n)
    duration = n / SAMPLE_RATE
    for k, phrase in enumerate(phrases):
        at = duration * (k + 1) / (len(phrases) + 1)
        words = set(word_list(phrase))
        if words & {"footstep", "footsteps", "steps", "walking", "knock", "knocks", "knocking"}:
            for step in range(4):
                _add(track, _thud(rng, 0.1), at + step * 0.35)
        elif words & {"whoosh", "swish", "swoosh", "passing", "flyby", "swipe"}:
            length = int(0.6 * SAMPLE_RATE)
            _add(track, 0.15 * _band_noise(rng, length, 300, 3000) * np.hanning(length), at)
        elif words & {"bell", "chime", "ding", "ping", "notification", "ring"}:
            length = int(1.2 * SAMPLE_RATE)
            bell = sum(_tone(880 * r, length) for r in (1.0, 2.0, 2.76))
            _add(track, 0.08 * bell * _envelope(length, 0.002, 0.35), at)
        else:  # doors, slams, hits, thunder, anything else: an impact
            _add(track, _thud(rng, 0.25), at)
    return track


def _thud(rng: np.random.Generator, level: float) -> np.ndarray:
    length = int(0.3 * SAMPLE_RATE)
    body = _tone(np.linspace(120, 55, length), length, 2) * _envelope(length, 0.002, 0.06)
    click = _band_noise(rng, length, 500, 4000) * _envelope(length, 0, 0.01)
    return level * (body + 0.3 * click)


# --- voice ---------------------------------------------------------------------------------


def find_espeak() -> str | None:
    """The espeak-ng binary on PATH, or None: then dialogue is voiced with tones."""
    return shutil.which("espeak-ng")


ESPEAK_SPEED = 160  # words per minute: unhurried, like film dialogue
_ESPEAK_VARIANTS = ("m3", "f3", "m7", "f2", "m1", "f4")
_ESPEAK_PITCH = (40, 58, 28, 66, 48, 52)
_LANGUAGES = {
    "french": "fr",
    "spanish": "es",
    "german": "de",
    "italian": "it",
    "portuguese": "pt",
    "japanese": "ja",
    "mandarin": "cmn",
    "chinese": "cmn",
    "korean": "ko",
    "hindi": "hi",
    "russian": "ru",
    "arabic": "ar",
    "dutch": "nl",
    "polish": "pl",
    "czech": "cs",
    "turkish": "tr",
    "swedish": "sv",
}
VOICE_RMS, VOICE_PEAK = 0.12, 0.8
_TONE_PITCH = (120.0, 215.0, 95.0, 250.0, 150.0, 185.0)


def _voice_track(cues: tuple[Cue, ...], n: int) -> np.ndarray:
    """Each line spoken at its subtitle's time and cut to its slot."""
    track = np.zeros(n)
    espeak = find_espeak()
    for cue in cues:
        slot = cue.end - cue.start
        speech = _espeak(espeak, cue, slot) if espeak else None
        if speech is None:  # no espeak-ng, or it failed on this line
            speech = _tone_speech(cue, slot)
        speech = speech[: int(slot * SAMPLE_RATE)]
        fade = min(len(speech), SAMPLE_RATE // 40)
        speech[len(speech) - fade :] *= np.linspace(1.0, 0.0, fade)
        if len(speech) and np.any(speech):
            # Dialogue sits well above the bed (about -18 dBFS RMS); a soft limiter tames
            # the synthesiser's spiky peaks instead of turning the whole line down.
            loudness = float(np.sqrt(np.mean(speech**2)))
            limited = VOICE_PEAK * np.tanh(speech * (VOICE_RMS / loudness / VOICE_PEAK))
            _add(track, limited, cue.start)
    return track


def _trim_silence(speech: np.ndarray) -> np.ndarray:
    """Without the synthesiser's lead-in and tail, speech starts with its subtitle."""
    loud = np.flatnonzero(np.abs(speech) > 0.02 * (np.abs(speech).max() if len(speech) else 0))
    return speech[loud[0] : loud[-1] + 1] if len(loud) else speech


def _espeak(binary: str, cue: Cue, slot: float) -> np.ndarray | None:
    """The line spoken by espeak-ng at a natural pace, or faster when that would overrun
    its slot (rather than cutting it off); None if the synthesiser fails."""
    speech = _run_espeak(binary, cue, ESPEAK_SPEED)
    target = max(0.5, slot - 0.15)
    if speech is not None and len(speech) > target * SAMPLE_RATE:
        faster = ESPEAK_SPEED * len(speech) / (target * SAMPLE_RATE) * 1.05
        quicker = _run_espeak(binary, cue, min(450, round(faster)))
        speech = speech if quicker is None else quicker
    return speech


def _run_espeak(binary: str, cue: Cue, speed: int) -> np.ndarray | None:
    delivery = set(word_list(cue.delivery))
    language = next((code for word, code in _LANGUAGES.items() if word in delivery), "en-us")
    whisper = delivery & {"whisper", "whispering", "whispered", "whispers"}
    variant = "whisper" if whisper else _ESPEAK_VARIANTS[cue.voice % len(_ESPEAK_VARIANTS)]
    with tempfile.TemporaryDirectory(prefix="studio-voice-") as tmp:
        wav = Path(tmp) / "line.wav"
        command = [
            binary,
            "--stdin",  # the line goes through stdin, never the argument list
            "-w",
            str(wav),
            "-v",
            f"{language}+{variant}",
            "-p",
            str(_ESPEAK_PITCH[cue.voice % len(_ESPEAK_PITCH)]),
            "-s",
            str(speed),
        ]
        try:
            subprocess.run(  # noqa: S603 - fixed binary and arguments, text on stdin
                command, input=cue.line.encode(), capture_output=True, timeout=20, check=True
            )
            speech = _read_wav(wav)
        except (OSError, subprocess.SubprocessError, wave.Error, EOFError):
            return None
    return None if speech is None else _trim_silence(speech)


def _read_wav(path: Path) -> np.ndarray | None:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnframes() == 0:
            return None
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    mono = samples.reshape(-1, channels).mean(axis=1) / 32768
    # espeak-ng speaks at 22.05 kHz; linear interpolation is plenty for a draft voice.
    times = np.arange(int(len(mono) * SAMPLE_RATE / rate)) / SAMPLE_RATE
    return np.interp(times, np.arange(len(mono)) / rate, mono)


def _tone_speech(cue: Cue, slot: float) -> np.ndarray:
    """Voice-like blips, one per word, sized by word length: a line you can see and hear
    even without a speech synthesiser."""
    words = cue.line.split() or ["…"]
    rng = np.random.default_rng(stable_seed(cue.line))
    lengths = np.array([min(0.45, 0.08 + 0.035 * len(w)) for w in words])
    gap = 0.06
    scale = min(1.0, (slot - 0.1) / (lengths.sum() + gap * len(words)))
    base = _TONE_PITCH[cue.voice % len(_TONE_PITCH)]
    pieces = []
    for length in lengths * scale:
        size = max(1, int(length * SAMPLE_RATE))
        glide = base * rng.uniform(0.9, 1.15) * np.linspace(1.05, 0.92, size)
        envelope = np.minimum(1.0, np.minimum(np.arange(size), size - np.arange(size)) / 480)
        pieces += [_tone(glide, size, 6) * envelope, np.zeros(int(gap * scale * SAMPLE_RATE))]
    return np.concatenate(pieces)
