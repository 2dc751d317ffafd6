"""Settings of the foot processor, all in SI units; recorded with every session."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .strapdown import SENSOR_HEIGHT_M


@dataclass(frozen=True)
class FootParams:
    """Named parameters of :class:`runform.core.foot.FootTracker`.

    Event detection (pitch rate ``w`` = foot-frame ``gyr_y``, rad/s, positive = toes down):

    * ``swing_rate_rps``: the foot is in swing when ``w < -swing_rate_rps`` (toes-up rotation of
      the swinging foot). Walking swing reaches about -5 rad/s, running about -8 rad/s.
    * ``swing_angle_rad``: a swing must turn the foot toes-up by at least this much (rad) before
      the pitch rate returns to zero; shorter negative bursts inside a stance are ignored.
    * ``min_contact_s``: no swing can start earlier than this after an initial contact (keeps the
      heel drop of forefoot strikers inside the stance).
    * ``min_swing_s``: no initial contact earlier than this after a toe-off.
    * ``max_stance_s``: a stance longer than this (standing still) is abandoned; the stride chain
      restarts with the next swing.
    * ``max_stride_s``: an IC-to-IC interval longer than this is not a stride.
    * ``gap_factor``: a time step larger than ``gap_factor / rate_hz`` is a packet gap.
    * ``ic_confirm_rate_rps``: a pitch-rate zero crossing is an initial contact once ``w``
      reaches ``+ic_confirm_rate_rps`` afterwards; if ``w`` first falls back to
      ``-ic_confirm_rate_rps`` it was a late-swing wobble (forefoot strikers rotate the foot
      toes-down for a moment before landing) and the search goes on.
    * ``ic_confirm_max_s``: ... or once this long has passed after the crossing with ``w`` still
      between the two rates: it bounds the IC's decision latency (the live goal is 60 ms after
      the IC sample arrives; one slow gaitmap heel strike took 71 ms to reach +1 rad/s), and a
      late-swing wobble reverses sooner (a toes-down turn in the air is a brief oscillation).
    * ``impact_jerk_mps3``: an initial contact is also recognised by its impact: the specific
      force magnitude rising faster than this (m/s^3; 3000 = 3 g in 10 ms) in late swing, i.e.
      after the swing's peak toes-up rotation rate. Needed for forefoot strikes, whose pitch rate
      does not cross zero at contact (the heel drops first). Half of it is the floor below
      200 Hz (``impact_rise_s``) and, with the heel's drop as evidence, the threshold of the
      weaker landing whose heel then drops (:class:`PitchRateEventDetector`). ``None`` disables it.
    * ``impact_onset``: where that impact began: the last sample before the steepest ``|f|``
      rise whose rise rate is below 20 % of the rise, the rise measured from the rate at which
      the climb to the steepest rate began when ``|f|`` was falling there (``"trend"``: the late
      swing's own deceleration is not part of the impact), or from zero (``"rule20"``, the rule
      until the eighth shift).
    * ``impact_rise_s``: how long an impact's ``|f|`` rise lasts (a few ms). The threshold is
      applied to the rise rate over one sample interval; an interval longer than this sees only
      the rise over ``impact_rise_s`` (the whole rise falls into one interval or is split over
      two: 9 -> 32 -> 54 m/s^2 at 100 Hz on the virtual runner, 2,300 m/s^3 per interval), so
      the rate threshold is ``impact_jerk_mps3 x min(1, impact_rise_s x rate)``, never below
      half of ``impact_jerk_mps3`` (the late swing's own ``|f|`` trend reaches ~1,000 m/s^3:
      pyshoe 2017-11-27-11-18-11 resampled to 60 Hz). Unchanged at >= 200 Hz.

    * ``to_feature``: ``"push_off_end"`` (toe-off at the onset of the decline that takes the
      pitch rate out of its push-off plateau: the end of the forefoot pivot; see
      :meth:`PitchRateEventDetector._push_off_end`) or ``"pitch_peak"`` (the push-off maximum of
      the pitch rate itself; 19-22 ms before force-plate toe-off in running).
    * ``pushoff_plateau_frac``: the push-off plateau ends where the pitch rate first falls below
      this fraction of its peak. On the real mean running stride (Dorschky et al. 2019) the
      plateau stays within 3.3 % of the peak and falls 22 % in the sample after toe-off; 0.9
      leaves a 3x margin to the plateau's spread and keeps the later swing reversal out (on the
      real per-stride recordings without a TO reference, pyshoe and HuGaDB, TO then moves 0-25
      ms / 0-68 ms from the peak; with no level the swing reversal was taken, up to 90-200 ms).

    Mid-stance and integration:

    * ``midstance_window_s``: half-width of the window whose mean specific force gives the tilt
      at mid-stance (the tilt reset of the foot orientation).
    * ``midstance_acc_weight_s2``: weight of ``(|a| - g)`` (m/s^2) against ``|w|`` (rad/s) in the
      stillness measure whose minimum is mid-stance (s^2/m^2 * m/s^2 -> rad/s).
    * ``tilt_method``: ``"velocity"`` (tilt error estimated from the velocity left at the next
      mid-stance; robust in running where the foot is never still) or ``"gravity"`` (tilt reset
      from gravity at both mid-stances, error spread linearly); see
      :func:`runform.core.foot.strapdown.integrate_stride`.
    * ``turn_threshold_rad``: heading change between consecutive mid-stances above which the
      stride is flagged ``turn``.
    * ``sensor_height_m``: height (m) of the foot sensor above the ground contact. At mid-stance
      the contact point under the sensor is still, not the sensor: the strapdown integration
      takes the sensor's velocity there as ``w x (0, 0, h)`` (foot frame) instead of zero (the
      foot rolls and pivots through a running mid-stance); 0 is the classic zero-velocity update.
      Default 0.08 m (a sensor on the laces; measured from the IMU alone on pyshoe_dev's
      push-offs: 0.085-0.090 m); see :func:`runform.core.foot.strapdown.integrate_stride`.

    Clipping (optional, in the sensor's own terms): ``acc_range_mps2``, ``gyr_range_rps``; a sample
    whose vector norm reaches ``clip_fraction`` of the range is flagged. Exact per-sample flags from
    the sensor frame can also be passed to :meth:`FootTracker.push`.
    """

    swing_rate_rps: float = 1.0
    swing_angle_rad: float = 0.5
    min_contact_s: float = 0.08
    min_swing_s: float = 0.10
    max_stance_s: float = 2.5
    max_stride_s: float = 3.0
    gap_factor: float = 2.5
    impact_jerk_mps3: float | None = 3000.0
    impact_onset: str = "trend"
    impact_rise_s: float = 0.005
    ic_confirm_rate_rps: float = 1.0
    ic_confirm_max_s: float = 0.05
    to_feature: str = "push_off_end"
    pushoff_plateau_frac: float = 0.9
    midstance_window_s: float = 0.01
    midstance_acc_weight_s2: float = 0.05
    turn_threshold_rad: float = 0.35
    tilt_method: str = "velocity"
    sensor_height_m: float = SENSOR_HEIGHT_M
    acc_range_mps2: float | None = None
    gyr_range_rps: float | None = None
    clip_fraction: float = 0.98

    def __post_init__(self) -> None:
        if self.to_feature not in ("push_off_end", "pitch_peak"):
            raise ValueError(f"to_feature must be 'push_off_end' or 'pitch_peak', got {self.to_feature!r}")
        if self.impact_onset not in ("trend", "rule20"):
            raise ValueError(f"impact_onset must be 'trend' or 'rule20', got {self.impact_onset!r}")
        if not 0.0 < self.pushoff_plateau_frac < 1.0:
            raise ValueError(f"pushoff_plateau_frac must be in (0, 1), got {self.pushoff_plateau_frac!r}")

    def to_dict(self) -> dict:
        return asdict(self)
