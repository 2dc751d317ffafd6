"""The virtual runner: a :class:`runform.sensors.motion.MotionSource` with exact ground truth.

    runner = VirtualRunner.from_profile("neutral", seed=1, overrides={"speed_mps": 3.5})
    acc_mps2, gyr_rps = runner.imu("left_foot", t_true_s)   # sensor frame, before clipping
    rows = runner.truth_strides(until_s=60.0)               # truth_strides.csv rows
    angles = runner.truth_angles("left", t_true_s)          # continuous truth (rad)

Kinematics: runform.sim.gait; sensor errors: runform.sim.sensor_model; truth:
runform.sim.truth; docs/virtual-runner.md explains the model and its sources.
"""

from __future__ import annotations

import numpy as np

from ..placements import PLACEMENTS, check_placement, leg_of, segment_of
from ..rotations import matrix_to_quat
from .gait import GaitModel, foot_sensor_site, shank_sensor_site
from .link import LinkEffects
from .profiles import RunnerParams, make_params
from .sensor_model import SensorInfo, SensorModel, sample_times_true
from .truth import standing_reference, truth_angles, truth_strides


class VirtualRunner:
    """A simulated runner wearing IMUs at ``placements``.

    * ``imu(placement, t_true_s)`` -> (specific force m/s^2 (n,3), angular velocity rad/s (n,3))
      in the sensor frame with mounting rotation, scale/cross-axis errors, bias, bias drift and
      noise; not clipped, not quantised, no clock (the firmware does that). Times must not
      decrease from one call to the next for the same placement (streaming; the noise and
      bias random walk are stateful). Generation is lazy, stride by stride.
    * ``imu_ideal(placement, t)``: the same physics without sensor errors, in the segment frame.
    * Ground truth: :meth:`truth_strides`, :meth:`truth_angles`, :meth:`segment_quaternions`.
    """

    #: with bounded memory, strides are forgotten once every placement has streamed this far past them (s)
    FORGET_AFTER_S = 20.0
    #: ... in steps of this many seconds of strides: forgetting computes the truth rows of what it
    #: forgets, ~1 ms per second of running; the live demo calls us in its event loop, where one
    #: 40-s step stalled the virtual link for 50-70 ms and delayed IC events by as much
    FORGET_EVERY_S = 5.0

    def __init__(self, params: RunnerParams, seed: int = 0, placements=PLACEMENTS, profile: str = "custom",
                 bounded_memory: bool = True, truth_history_s: float | None = None):
        self.params = params
        self.seed = int(seed)
        self.profile = profile
        self.placements: tuple[str, ...] = tuple(check_placement(p) for p in placements)
        ss = np.random.SeedSequence(self.seed)
        gait_ss, *children = ss.spawn(1 + 2 * len(PLACEMENTS))
        self.gait = GaitModel(params, gait_ss)
        self._sensors: dict[str, SensorModel] = {}
        for i, name in enumerate(PLACEMENTS):  # fixed order: a placement's stream never depends on the others
            if name in self.placements:
                self._sensors[name] = SensorModel(name, params, children[2 * i], children[2 * i + 1])
        self.link = LinkEffects.from_params(params)
        for leg in ("left", "right"):  # before anything can be forgotten
            standing_reference(self.gait, leg, f"{leg}_shank" in self.placements)
        self._truth_rows: list[dict] = []
        self._truth_done = {"left": 0, "right": 0}
        self._truth_until = -np.inf
        self._last_t = {name: -np.inf for name in self.placements}
        #: forget the kinematics of strides that every placement has streamed past (their truth rows
        #: are computed first and kept); off for offline use that goes back in time
        self.bounded_memory = bounded_memory
        #: keep truth rows of the last this many seconds only (None: all, ~13 MB per hour of running)
        self.truth_history_s = truth_history_s
        self._forgot_until = 0.0
        # look-ahead cache of error-free signals for the small blocks of the live path
        self._cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @classmethod
    def from_profile(cls, name: str = "neutral", seed: int = 0, overrides: dict | None = None,
                     placements=PLACEMENTS, bounded_memory: bool = True,
                     truth_history_s: float | None = None) -> "VirtualRunner":
        """A runner of a named profile (runform.sim.profiles.PROFILES) with ``overrides``."""
        return cls(make_params(name, overrides), seed=seed, placements=placements, profile=name,
                   bounded_memory=bounded_memory, truth_history_s=truth_history_s)

    # ------------------------------------------------------------ signals
    def _site(self, placement: str) -> np.ndarray:
        leg = leg_of(placement)
        return foot_sensor_site(leg) if segment_of(placement) == "foot" else shank_sensor_site(leg)

    def imu_ideal(self, placement: str, t_true_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Error-free (specific force m/s^2, angular velocity rad/s) in the SEGMENT frame."""
        t = np.asarray(t_true_s, dtype=float).reshape(-1)
        seg = segment_of(placement)
        kin = self.gait.kinematics(leg_of(placement), t, shank=seg == "shank", need_pos=False)
        return kin.specific_force(seg, self._site(placement)), kin.angular_velocity(seg).copy()

    def imu(self, placement: str, t_true_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MotionSource: sensor-frame (specific force m/s^2 (n,3), angular velocity rad/s (n,3))."""
        if placement not in self._sensors:
            raise KeyError(f"the virtual runner wears no sensor at {placement!r}; it has {', '.join(self.placements)}")
        t = np.asarray(t_true_s, dtype=float).reshape(-1)
        if t.size and t[0] < self._last_t[placement]:
            raise ValueError(f"{placement}: times went back from {self._last_t[placement]:.6f} to {t[0]:.6f} s")
        if t.size:
            self._last_t[placement] = float(t[-1])
        f, w = self._ideal_streaming(placement, t)
        out = self._sensors[placement].apply(t, f, w)
        if self.bounded_memory and t.size:
            self._maybe_forget()
        return out

    def _maybe_forget(self) -> None:
        t_all = min(self._last_t.values())
        if not np.isfinite(t_all):
            return
        until = t_all - self.FORGET_AFTER_S
        if until - self._forgot_until < self.FORGET_EVERY_S:
            return
        self.truth_strides(until)  # keep the truth of what is about to be forgotten
        self.gait.forget_before(until - 5.0)
        self._forgot_until = until

    #: requests up to this many samples use the look-ahead cache; it computes this far ahead (s)
    CACHE_MAX_REQUEST = 256
    CACHE_AHEAD_S = 0.5
    CACHE_TOLERANCE_S = 1e-9

    def _ideal_streaming(self, placement: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Error-free signals for a streaming request. The live path asks for a few samples
        at a time; evaluating the model has a fixed cost per call, so a short request also
        computes the next ``CACHE_AHEAD_S`` at the same sample spacing, and later requests whose
        times match those within ``CACHE_TOLERANCE_S`` (1 ns: far below one LSB of signal change)
        are served from it. Same call sequence -> same values."""
        n = t.size
        if n == 0 or n > self.CACHE_MAX_REQUEST:
            self._cache.pop(placement, None)
            return self.imu_ideal(placement, t)
        cached = self._cache.get(placement)
        if cached is not None:
            ct, cf, cw = cached
            i = int(np.searchsorted(ct, t[0] - self.CACHE_TOLERANCE_S))
            if i + n <= ct.size and np.all(np.abs(ct[i:i + n] - t) <= self.CACHE_TOLERANCE_S):
                return cf[i:i + n].copy(), cw[i:i + n].copy()
        if n >= 2:
            dt = (t[-1] - t[0]) / (n - 1)
            ahead = int(self.CACHE_AHEAD_S / dt) if dt > 0 else 0
            ext = np.concatenate([t, t[-1] + dt * np.arange(1, ahead + 1)])
        else:
            ext = t
        f, w = self.imu_ideal(placement, ext)
        self._cache[placement] = (ext, f, w)
        return f[:n].copy(), w[:n].copy()

    def sensor_info(self, placement: str) -> SensorInfo:
        """Mounting, ranges, clock and error constants of the sensor at ``placement``."""
        return self._sensors[placement].info

    def sample_times(self, placement: str, rate_hz: float, t_start_s: float, t_end_s: float) -> np.ndarray:
        """True times (s) at which that sensor, on its own clock, samples in [start, end)."""
        return sample_times_true(self.sensor_info(placement), rate_hz, t_start_s, t_end_s)

    # ------------------------------------------------------------ truth
    def segment_quaternions(self, placement: str, t_true_s: np.ndarray) -> np.ndarray:
        """True orientation (w, x, y, z) of the segment (segment -> world), (n, 4)."""
        kin = self.gait.kinematics(leg_of(placement), np.asarray(t_true_s, dtype=float))
        r = kin.r_foot if segment_of(placement) == "foot" else kin.r_shank
        return matrix_to_quat(r)

    def sensor_quaternions(self, placement: str, t_true_s: np.ndarray) -> np.ndarray:
        """True orientation of the sensor frame (sensor -> world), (n, 4)."""
        kin = self.gait.kinematics(leg_of(placement), np.asarray(t_true_s, dtype=float))
        r = kin.r_foot if segment_of(placement) == "foot" else kin.r_shank
        return matrix_to_quat(r @ self._sensors[placement].mount)

    def truth_angles(self, leg: str, t_true_s: np.ndarray) -> dict[str, np.ndarray]:
        """Continuous truth angles (rad, relative to standing) of ``leg``; see
        :func:`runform.sim.truth.truth_angles`."""
        return truth_angles(self.gait, leg, np.asarray(t_true_s, dtype=float),
                            use_shank=f"{leg}_shank" in self.placements)

    def truth_strides(self, until_s: float) -> list[dict]:
        """Truth rows (runform.core.schema.STRIDE_COLUMNS) of strides completed by ``until_s``
        (next IC <= until_s), ordered by IC. Incremental: earlier rows are computed once."""
        if until_s > self._truth_until:
            new = truth_strides(self.gait, until_s, self.placements, first_index=self._truth_done)
            for r in new:
                self._truth_done[r["leg"]] = max(self._truth_done[r["leg"]], r["stride_index"] + 1)
            self._truth_rows = sorted(self._truth_rows + new, key=lambda r: (r["ic_time_s"], r["leg"]))
            self._truth_until = until_s
            if self.truth_history_s is not None:
                self._truth_rows = [r for r in self._truth_rows if r["ic_time_s"] >= until_s - self.truth_history_s]
        return [r for r in self._truth_rows if r["ic_time_s"] + r["stride_time_ms"] / 1000.0 <= until_s]

    def events(self, leg: str, until_s: float) -> dict[str, np.ndarray]:
        """Exact ``ic`` and ``to`` times (s) of ``leg`` for strides completed by ``until_s``, from
        the first stride on: with bounded memory the strides already forgotten are not there any
        more, so this raises once anything was forgotten (as the kinematics do) instead of
        returning the rest; keep every stride with ``bounded_memory=False``
        (:meth:`truth_strides` keeps the rows of what it forgets)."""
        if self._forgot_until > 0.0:
            raise ValueError(f"{leg}: the strides before {self._forgot_until:.3f} s were forgotten to bound memory; "
                             f"see VirtualRunner(bounded_memory=...)")
        s = self.gait.strides(leg, until_s)
        return {"ic": s["ic"].copy(), "to": s["to"].copy()}

    def first_toe_off(self, leg: str) -> float:
        """True time (s) when ``leg`` leaves the ground for the first time (end of standing)."""
        return float(self.gait._legs[leg].first_toe_off)

    def first_step_time(self) -> float:
        """True time (s) of the first initial contact after standing."""
        return float(self.gait.ic_times("left", 1)[0])

    def effective_parameters(self) -> dict:
        return self.params.to_dict()
