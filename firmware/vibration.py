"""A rotary machine's accelerometer, from physics: what a sensing virtual device reads.

Each window is 1.28 s (4096 samples at 3.2 kHz) of radial acceleration in g, made of:

* shaft rotation harmonics (1x, 2x, 3x of the shaft speed, the 1x growing with load) and a
  blade-pass tone;
* a structural resonance (the mounting) excited by broadband flow and friction noise whose
  level grows with load;
* bearing-defect impulses: a train of impacts at the outer-race (BPFO), inner-race (BPFI)
  or ball-spin (BSF) frequency of the bearing's geometry, each ringing the structural
  resonance as a decaying sinusoid; inner-race and ball impulses are modulated by the shaft
  and the cage rotation; their amplitude follows the fault's severity;
* imbalance (a larger 1x) as a non-bearing fault;
* white sensor noise.

Operating conditions (speed, load, mounting resonance, noise level) drift between two
:class:`Conditions` over a ramp (:class:`Scenario`), and a fault appears at a known window
with a severity: the ground truth rides with every window (:class:`Window`). Window ``k`` of
a source is made from the seed and ``k`` alone, so any window is reproducible without the
others.

:func:`features` gives the 64 log band energies the ``vibration-ae`` models read (the same
computation as ``vibration_features`` in ``kg_data/train_models.py``), and :func:`statistics`
the input statistics telemetry reports for the drift test (RMS, kurtosis, crest factor,
coarse band energies, the envelope energy at the bearing-defect frequencies). Only numpy.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

__all__ = [
    "BANDS",
    "DRIFTED",
    "FAULTS",
    "FS",
    "WINDOW",
    "Bearing",
    "Conditions",
    "MachineSource",
    "Scenario",
    "Window",
    "features",
    "inject_fault",
    "statistics",
    "synthesise",
]

FS = 3200.0
"""Sampling rate in Hz."""
WINDOW = 4096
"""Samples per window (1.28 s): 7 half-overlapping 1024-sample Welch segments."""
BANDS = 64
"""Log band energies the model reads (25 Hz each, 0-1600 Hz)."""
_NFFT = 1024
_SEGMENTS = 7
_LOG_FLOOR = 1e-8
_COARSE = 8  # coarse bands of telemetry (200 Hz each)

FAULTS = ("none", "bearing-outer", "bearing-inner", "bearing-ball", "imbalance")
"""Fault kinds; ``none`` is a healthy machine."""


@dataclass(frozen=True)
class Bearing:
    """A rolling-element bearing's geometry, which sets its defect frequencies.

    Attributes:
        balls: Number of rolling elements.
        ball_diameter_mm: Ball diameter.
        pitch_diameter_mm: Pitch diameter.
        contact_angle_deg: Contact angle.

    """

    balls: int = 9
    ball_diameter_mm: float = 7.94
    pitch_diameter_mm: float = 39.04
    contact_angle_deg: float = 0.0

    def _ratio(self) -> float:
        return (
            self.ball_diameter_mm
            / self.pitch_diameter_mm
            * float(np.cos(np.radians(self.contact_angle_deg)))
        )

    def bpfo(self, shaft_hz: float) -> float:
        """Ball-pass frequency of the outer race."""
        return self.balls / 2 * shaft_hz * (1 - self._ratio())

    def bpfi(self, shaft_hz: float) -> float:
        """Ball-pass frequency of the inner race."""
        return self.balls / 2 * shaft_hz * (1 + self._ratio())

    def bsf(self, shaft_hz: float) -> float:
        """Ball spin frequency."""
        r = self._ratio()
        return self.pitch_diameter_mm / (2 * self.ball_diameter_mm) * shaft_hz * (1 - r * r)

    def ftf(self, shaft_hz: float) -> float:
        """Fundamental train (cage) frequency."""
        return shaft_hz / 2 * (1 - self._ratio())


@dataclass(frozen=True)
class Conditions:
    """How the machine runs, and its fault.

    Attributes:
        speed_hz: Shaft speed.
        load: Load, 0 (idle) to 1 (full): raises the 1x and the broadband excitation.
        resonance_hz: The structural (mounting) resonance the impulses ring.
        noise_g: Standard deviation of the sensor noise.
        fault: One of :data:`FAULTS`.
        severity: Fault severity, 0 to 1.

    """

    speed_hz: float = 25.0
    load: float = 0.5
    resonance_hz: float = 900.0
    noise_g: float = 0.004
    fault: str = "none"
    severity: float = 0.0

    def blend(self, other: Conditions, share: float) -> Conditions:
        """Operating conditions ``share`` of the way to ``other`` (fault: the nearer one's)."""
        s = float(np.clip(share, 0.0, 1.0))

        def mix(a: float, b: float) -> float:
            return a + (b - a) * s

        near = other if s >= 0.5 else self
        return Conditions(
            speed_hz=mix(self.speed_hz, other.speed_hz),
            load=mix(self.load, other.load),
            resonance_hz=mix(self.resonance_hz, other.resonance_hz),
            noise_g=mix(self.noise_g, other.noise_g),
            fault=near.fault,
            severity=near.severity,
        )


DRIFTED = Conditions(speed_hz=25.0, load=0.9, resonance_hz=480.0, noise_g=0.015)
"""Drifted operating conditions of the loop's examples: heavier load, a softer mounting
(the structural resonance down from 900 to 480 Hz) and a noisier sensor; no fault."""


@dataclass(frozen=True)
class Scenario:
    """Conditions over time: ``before`` until ``onset``, then a ramp to ``after``.

    Attributes:
        before: Conditions at the start.
        after: Conditions once the drift is complete (``None``: no drift).
        onset: The first window of the drift.
        ramp: Windows the drift takes.
        fault: A fault that appears (``none``: no fault).
        fault_onset: The first faulty window.
        severity: The fault's severity.

    """

    before: Conditions = Conditions()
    after: Conditions | None = None
    onset: int = 0
    ramp: int = 1
    fault: str = "none"
    fault_onset: int = 0
    severity: float = 0.0

    def at(self, index: int) -> Conditions:
        """The conditions of window ``index``."""
        c = self.before
        if self.after is not None and index >= self.onset:
            c = c.blend(self.after, (index - self.onset + 1) / max(1, self.ramp))
        if self.fault != "none" and index >= self.fault_onset:
            c = replace(c, fault=self.fault, severity=self.severity)
        return c


@dataclass(frozen=True)
class Window:
    """One window of acceleration and its ground truth.

    Attributes:
        index: The window's number in its source.
        signal: Acceleration in g, shape (4096,).
        truth: The conditions that made it.
        drifted: Whether the operating conditions had left ``before``.

    """

    index: int
    signal: np.ndarray
    truth: Conditions
    drifted: bool

    def truth_dict(self) -> dict[str, Any]:
        """The ground truth as JSON-ready data."""
        return {**asdict(self.truth), "drifted": self.drifted, "index": self.index}


class MachineSource:
    """The accelerometer on one machine: reproducible windows under a scenario.

    Args:
        seed: The machine's seed (window ``k`` depends on it and ``k`` only).
        scenario: Its operating conditions and fault over time.
        bearing: The bearing's geometry.

    """

    def __init__(
        self, seed: int, scenario: Scenario | None = None, bearing: Bearing | None = None
    ) -> None:
        self.seed = seed
        self.scenario = scenario or Scenario()
        self.bearing = bearing or Bearing()
        machine = np.random.default_rng([seed, 0xB1])
        # fixed traits of this machine: harmonic mix, blade count, phases
        self._a2 = float(machine.uniform(0.1, 0.4))
        self._a3 = float(machine.uniform(0.05, 0.2))
        self._blades = int(machine.integers(5, 10))
        self._blade_amp = float(machine.uniform(0.003, 0.02))

    def window(self, index: int) -> Window:
        """Window ``index``."""
        conditions = self.scenario.at(index)
        rng = np.random.default_rng([self.seed, index])
        signal = synthesise(
            rng, conditions, self.bearing, self._a2, self._a3, self._blades, self._blade_amp
        )
        drifted = self.scenario.after is not None and index >= self.scenario.onset
        return Window(index, signal, conditions, drifted)


def synthesise(
    rng: np.random.Generator,
    c: Conditions,
    bearing: Bearing,
    a2: float = 0.25,
    a3: float = 0.1,
    blades: int = 7,
    blade_amp: float = 0.01,
) -> np.ndarray:
    """One window of radial acceleration (g) under conditions ``c``.

    Args:
        rng: Random generator (jitter, phases, noise).
        c: The conditions.
        bearing: The bearing's geometry.
        a2: The 2x amplitude relative to the 1x.
        a3: The 3x amplitude relative to the 1x.
        blades: The blade count (blade-pass order).
        blade_amp: The blade-pass tone's amplitude (g).

    Returns:
        Shape (4096,).

    """
    n = WINDOW
    t = np.arange(n) / FS
    f0 = c.speed_hz * (1 + rng.normal(0, 0.01))
    f_r = f0 * (1 + 0.004 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
    shaft = 2 * np.pi * np.cumsum(f_r) / FS + rng.uniform(0, 2 * np.pi)
    a1 = (0.03 + 0.03 * c.load) * rng.uniform(0.9, 1.1)
    if c.fault == "imbalance":
        a1 *= 1.0 + 4.0 * c.severity
    x = a1 * np.sin(shaft + rng.uniform(0, 2 * np.pi))
    x += a1 * a2 * np.sin(2 * shaft + rng.uniform(0, 2 * np.pi))
    x += a1 * a3 * np.sin(3 * shaft + rng.uniform(0, 2 * np.pi))
    x += blade_amp * np.sin(blades * shaft + rng.uniform(0, 2 * np.pi))
    # the mounting's resonance, excited by broadband noise that grows with load
    freqs = np.fft.rfftfreq(n, 1 / FS)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    resonance = np.fft.irfft(spectrum / (1 + ((freqs - c.resonance_hz) / 60.0) ** 2), n)
    level = (0.002 + 0.008 * c.load) * rng.uniform(0.8, 1.2)
    x += resonance / (np.std(resonance) + 1e-12) * level
    if c.fault.startswith("bearing-") and c.severity > 0:
        x += _impulses(rng, c, bearing, shaft, t)
    return x + rng.normal(0, c.noise_g, n)


def _impulses(
    rng: np.random.Generator, c: Conditions, bearing: Bearing, shaft: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Defect impacts ringing the structural resonance (decaying sinusoids)."""
    f = {
        "bearing-outer": bearing.bpfo,
        "bearing-inner": bearing.bpfi,
        "bearing-ball": bearing.bsf,
    }[c.fault](c.speed_hz)
    period = 1 / f
    impacts = np.arange(rng.uniform(0, period), t[-1], period)
    impacts = impacts + rng.normal(0, 0.01 * period, impacts.size)  # slip
    ring_hz = c.resonance_hz * rng.uniform(1.05, 1.3)
    decay = rng.uniform(150, 400)
    span = int(min(FS * 5 / decay, t.size))  # the ringing has died after 5 time constants
    tail = np.arange(span) / FS
    kernel = np.exp(-decay * tail) * np.sin(2 * np.pi * ring_hz * tail)
    pulses = np.zeros(t.size)
    np.add.at(pulses, np.clip(np.round(impacts * FS).astype(int), 0, t.size - 1), 1.0)
    ring = np.convolve(pulses, kernel)[: t.size]
    if c.fault == "bearing-inner":
        ring *= 0.6 + 0.4 * np.cos(shaft)
    elif c.fault == "bearing-ball":
        ring *= 0.6 + 0.4 * np.cos(2 * np.pi * bearing.ftf(c.speed_hz) * t)
    return np.asarray(ring * (0.01 + 0.12 * c.severity))


def features(signal: np.ndarray) -> np.ndarray:
    """The 64 log10 band energies the vibration autoencoders read.

    Welch average over 7 half-overlapping Hann-windowed 1024-sample segments of the squared
    single-sided amplitude spectrum in g, summed over 64 bands of 8 bins (25 Hz, DC bin
    excluded), then ``log10(energy + 1e-8)``.

    Args:
        signal: Shape (4096,) or (N, 4096).

    Returns:
        float32, shape (64,) or (N, 64).

    """
    batch = np.atleast_2d(signal)
    window = np.hanning(_NFFT + 1)[:-1]
    idx = np.arange(_SEGMENTS)[:, None] * (_NFFT // 2) + np.arange(_NFFT)[None, :]
    amp = 2 * np.abs(np.fft.rfft(batch[:, idx] * window, axis=-1)) / window.sum()
    power = np.mean(amp[..., 1:] ** 2, axis=1)
    bands = power.reshape(batch.shape[0], BANDS, -1).sum(axis=-1)
    out = np.log10(bands + _LOG_FLOOR).astype(np.float32)
    return out[0] if np.ndim(signal) == 1 else out


def statistics(signal: np.ndarray, bearing: Bearing | None = None) -> dict[str, Any]:
    """Input statistics of one window, as telemetry reports them.

    Args:
        signal: Shape (4096,), in g.
        bearing: The bearing whose defect frequencies the envelope is read at.

    Returns:
        ``rms`` and ``peak`` (g), ``crest`` (peak / RMS), ``kurtosis`` (Pearson, 3 for a
        Gaussian), ``shaft_hz`` (the strongest peak between 8 and 70 Hz), ``bands`` (8
        log10 energies of 200 Hz bands) and ``envelope_defect``: the envelope spectrum's
        energy at BPFO, BPFI and BSF of that shaft speed over its median (impulsive bearing
        content raises it; operating conditions barely do).

    """
    bearing = bearing or Bearing()
    x = np.asarray(signal, dtype=np.float64)
    x = x - x.mean()
    rms = float(np.sqrt(np.mean(x * x)))
    peak = float(np.max(np.abs(x)))
    kurt = float(np.mean(x**4) / (np.mean(x * x) ** 2 + 1e-30))
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / FS)
    low = (freqs >= 8) & (freqs <= 70)
    shaft_hz = float(freqs[low][np.argmax(spec[low])])
    power = spec**2
    edges = np.linspace(0, FS / 2, _COARSE + 1)
    coarse = [
        float(np.log10(power[(freqs > lo) & (freqs <= hi)].sum() / x.size + _LOG_FLOOR))
        for lo, hi in itertools.pairwise(edges)
    ]
    # envelope of the band around the resonances (400-1500 Hz), by the analytic signal
    full = np.fft.fft(x)
    f_all = np.fft.fftfreq(x.size, 1 / FS)
    band = np.where((f_all > 400) & (f_all < 1500), 2 * full, 0)
    envelope = np.abs(np.fft.ifft(band))
    env_spec = np.abs(np.fft.rfft(envelope - envelope.mean()))
    median = float(np.median(env_spec[(freqs > 5) & (freqs < 400)])) + 1e-12
    targets = [bearing.bpfo(shaft_hz), bearing.bpfi(shaft_hz), bearing.bsf(shaft_hz)]
    resolution = freqs[1]
    ratio = max(
        float(env_spec[(np.abs(freqs - f) <= 2 * resolution + 0.02 * f)].max()) / median
        for f in targets
    )
    return {
        "rms": rms,
        "peak": peak,
        "crest": peak / (rms + 1e-12),
        "kurtosis": kurt,
        "shaft_hz": shaft_hz,
        "bands": coarse,
        "envelope_defect": ratio,
    }


def inject_fault(
    signal: np.ndarray,
    rng: np.random.Generator,
    fault: str,
    severity: float,
    shaft_hz: float,
    resonance_hz: float = 900.0,
    bearing: Bearing | None = None,
) -> np.ndarray:
    """A recorded window with a bearing fault's impulses added (for testing a detector).

    Args:
        signal: The recorded window, shape (4096,).
        rng: Random generator.
        fault: ``bearing-outer``, ``bearing-inner`` or ``bearing-ball``.
        severity: 0 to 1.
        shaft_hz: The shaft speed (e.g. telemetry's ``shaft_hz``).
        resonance_hz: The resonance the impacts ring.
        bearing: The bearing's geometry.

    Returns:
        The faulty window.

    """
    t = np.arange(signal.size) / FS
    shaft = 2 * np.pi * shaft_hz * t + rng.uniform(0, 2 * np.pi)
    c = Conditions(speed_hz=shaft_hz, resonance_hz=resonance_hz, fault=fault, severity=severity)
    return np.asarray(signal + _impulses(rng, c, bearing or Bearing(), shaft, t))
