"""Runner profiles: named parameter sets of the virtual runner, each overridable by key.

Parameters are user-facing (CLI ``--set key=value``), so angles are in degrees and
accelerations in g, with the unit in the name; the model converts to SI. Where the default
numbers come from: docs/virtual-runner.md.

Per-leg differences: ``leg_overrides = {"right": {"peak_eversion_deg": 13.0}}`` (CLI
``--set right.peak_eversion_deg=13``). Slow change over the session (fatigue):
``drift = {"peak_eversion_deg": 5.0}`` adds up to that much, growing linearly from the end of
the ramp-up to ``drift_time_s`` after it and then staying (CLI ``--set drift.peak_eversion_deg=5``).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunnerParams:
    """All settings of a virtual runner. Units are in the names; ``_frac`` is a fraction."""

    # ---- gait timing and speed
    gait: str = "running"  # "running" or "walking" (documentation; the shapes come from the numbers)
    speed_mps: float = 3.2
    cadence_spm: float = 168.0
    duty_factor: float = 0.34  # contact time / stride time (running ~0.3-0.4, walking ~0.6)
    foot_flat_frac: float = 0.33  # foot flat, fraction of stance after IC
    heel_off_frac: float = 0.45  # heel rise starts, fraction of stance
    standing_s: float = 4.0  # standing still at the start (calibration)
    ramp_strides: int = 4  # strides over which speed and impacts ramp up after standing
    # ---- foot (sagittal: positive toes up, relative to standing)
    foot_strike_angle_deg: float = 15.0
    toe_off_foot_angle_deg: float = -60.0  # foot to ground (the ankle joint is at ~ -25 then)
    early_swing_foot_angle_deg: float = -95.0  # at 35 % of swing
    mid_swing_foot_angle_deg: float = -58.0  # at 65 % of swing
    toe_off_foot_rate_factor: float = 1.53  # foot pitch rate at TO / mean rate from heel-off to TO
    # the release: the foot's pitch deceleration just after TO / its pitch rate at TO (1/s; 0:
    # the rate runs on smoothly through TO, C2). 35: fitted to the Dorschky running stride's
    # pitch rate from TO to TO + 35 ms (docs/virtual-runner.md, "Push-off release")
    toe_off_foot_release_per_s: float = 35.0
    # the foot's turn in swing about the horizontal direction of its standing toes (deg, toes out
    # and heel in +; 0 = none; the foot hangs toes-down, so it reads mostly about its sole
    # normal): out over [0, out_frac] of swing, held, back over [back_frac, end_frac]. Shape from
    # the Dorschky running stride's foot gyroscope (docs/virtual-runner.md, "Swing rotation")
    swing_foot_external_rotation_deg: float = 15.0
    swing_foot_rotation_out_frac: float = 0.55
    swing_foot_rotation_back_frac: float = 0.65
    swing_foot_rotation_end_frac: float = 0.95
    toe_roll_start_frac: float = 0.82  # the toes start to roll onto their tips, fraction of stance
    toe_roll_angle_at_to_deg: float = 12.0  # toe segment to the ground at TO (0: rigid pivot to TO)
    late_swing_extra_foot_angle_deg: float = -8.0  # at 90 % of swing, relative to the strike angle
    toe_out_deg: float = 6.0
    swing_height_m: float = 0.15  # extra height of the foot at mid-swing above the straight path
    step_width_m: float = 0.10
    # ---- rearfoot eversion (foot relative to shank), positive = eversion
    eversion_at_ic_deg: float = -3.0
    peak_eversion_deg: float = 9.0
    peak_eversion_frac: float = 0.40  # time of the peak, fraction of stance
    eversion_at_to_deg: float = -4.0
    eversion_return_power: float = 2.5  # after the peak: peak - (peak - at_to) * x**power, x = 0 at the peak, 1 at TO
    swing_eversion_deg: float = -4.0
    # ---- shank
    tibial_inclination_at_ic_deg: float = 6.0
    tibial_inclination_at_to_deg: float = -38.0
    shank_stance_power: float = 3.0  # stance progress IC->TO = 1 - (1 - t/Tc)^power (front-loaded)
    early_swing_tibial_inclination_deg: float = -88.0  # at 35 % of swing
    mid_swing_tibial_inclination_deg: float = -60.0  # at 65 % of swing
    late_swing_tibial_inclination_deg: float = 9.0  # at 90 % of swing
    shank_frontal_at_ic_deg: float = 1.0
    peak_shank_frontal_angle_deg: float = 3.0
    ev_tir_ratio: float = 1.3  # eversion excursion / tibial internal rotation excursion
    # ---- impact at initial contact
    peak_tibial_accel_g: float = 8.0
    impact_rise_ms: float = 12.0  # IC to the peak of the transient
    impact_decay_ms: float = 6.0  # peak to half amplitude
    # the ground always stops the foot: its contact point lands at least this fast (m/s), even
    # where the leg's own motion already reaches the tibial target (docs/virtual-runner.md)
    min_touchdown_speed_mps: float = 0.2
    # ---- stride-to-stride variability (standard deviations / coefficients of variation)
    stride_time_cv: float = 0.02
    speed_cv: float = 0.02
    duty_factor_sd: float = 0.008
    angle_sd_deg: float = 1.0
    peak_tibial_accel_cv: float = 0.10
    # ---- sensors (see runform.sim.sensor_model)
    foot_accel_range_g: float = 16.0
    shank_accel_range_g: float = 32.0
    gyro_range_dps: float = 2000.0
    mounting: str = "random"  # "random" (uniform over all rotations) or "aligned" (sensor = segment)
    sensor_error_scale: float = 1.0  # multiplies noise, bias, drift, scale and cross-axis errors; 0 = ideal
    acc_noise_ug_per_rthz: float = 150.0
    gyr_noise_mdps_per_rthz: float = 8.0
    acc_bias_sd_mps2: float = 0.05
    gyr_bias_sd_dps: float = 0.4
    acc_bias_walk_mps2_per_rts: float = 0.0005
    gyr_bias_walk_dps_per_rts: float = 0.005
    scale_error_sd: float = 0.005
    cross_axis_sd: float = 0.003
    clock_offset_max_s: float = 5.0  # sensor clock reading at session start, uniform in [0, max)
    clock_drift_sd_ppm: float = 20.0
    # ---- link effects for the live path (applied by the virtual firmware / live source)
    link_jitter_ms: float = 0.0  # standard deviation of the notification delivery delay
    link_frame_loss_probability: float = 0.0  # each protocol frame lost independently
    link_disconnect_every_s: float = 0.0  # mean time between disconnections (0 = never)
    link_disconnect_duration_s: float = 2.0  # mean length of a disconnection
    # ---- structured settings
    leg_overrides: dict[str, dict[str, float]] = field(default_factory=dict)
    drift: dict[str, float] = field(default_factory=dict)
    drift_time_s: float = 600.0

    def for_leg(self, leg: str) -> "RunnerParams":
        """A copy with that leg's overrides applied (used by the kinematic model)."""
        p = copy.deepcopy(self)
        for key, value in self.leg_overrides.get(leg, {}).items():
            setattr(p, key, value)
        return p

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: names of parameters that may drift or differ per leg (numeric fields)
NUMERIC_FIELDS = tuple(f.name for f in dataclasses.fields(RunnerParams) if f.type in ("float", "int"))

PROFILES: dict[str, dict[str, Any]] = {
    # rearfoot striker with typical eversion; sagittal curves from Dorschky et al. 2019 (docs)
    "neutral": {},
    # larger, later-ending eversion and more tibial rotation; shock like neutral
    "overpronator": {
        "eversion_at_ic_deg": -5.0,
        "peak_eversion_deg": 15.0,
        "eversion_at_to_deg": -2.0,
        "peak_shank_frontal_angle_deg": 5.0,
    },
    # long stride, lower cadence, steep heel strike, tibia ahead of the knee, high shock
    "overstrider": {
        "cadence_spm": 152.0,
        "foot_strike_angle_deg": 20.0,
        "tibial_inclination_at_ic_deg": 10.0,
        "late_swing_tibial_inclination_deg": 14.0,
        "peak_tibial_accel_g": 12.0,
        "impact_rise_ms": 10.0,
    },
    # lands on the forefoot, heel drops after contact; low, slower tibial transient
    "forefoot": {
        "foot_strike_angle_deg": -8.0,
        "late_swing_extra_foot_angle_deg": -4.0,
        "tibial_inclination_at_ic_deg": 1.0,
        "late_swing_tibial_inclination_deg": 5.0,
        "duty_factor": 0.32,
        "foot_flat_frac": 0.30,
        "heel_off_frac": 0.50,
        "eversion_at_ic_deg": -6.0,
        "peak_eversion_deg": 7.0,
        "peak_tibial_accel_g": 4.5,
        "impact_rise_ms": 20.0,
        "impact_decay_ms": 12.0,
    },
    # walking: heel strike, long stance with double support, small impacts
    "walker": {
        "gait": "walking",
        "speed_mps": 1.3,
        "cadence_spm": 110.0,
        "duty_factor": 0.61,
        "foot_flat_frac": 0.20,
        "heel_off_frac": 0.65,
        "foot_strike_angle_deg": 22.0,
        "toe_off_foot_angle_deg": -65.0,
        "early_swing_foot_angle_deg": -57.0,
        "mid_swing_foot_angle_deg": -9.0,
        "late_swing_extra_foot_angle_deg": -4.0,
        "toe_off_foot_rate_factor": 2.0,
        "toe_off_foot_release_per_s": 0.0,  # the real walking stride's pitch rate has no feature at TO
        # the real walking stride's turn in swing is earlier and smaller (docs/virtual-runner.md)
        "swing_foot_external_rotation_deg": 6.0,
        "swing_foot_rotation_out_frac": 0.2,
        "swing_foot_rotation_back_frac": 0.55,
        "swing_height_m": 0.04,
        "step_width_m": 0.12,
        "eversion_at_ic_deg": -2.0,
        "peak_eversion_deg": 6.0,
        "peak_eversion_frac": 0.30,
        "eversion_at_to_deg": -3.0,
        "tibial_inclination_at_ic_deg": 12.0,
        "tibial_inclination_at_to_deg": -45.0,
        "shank_stance_power": 1.2,
        "early_swing_tibial_inclination_deg": -50.0,
        "mid_swing_tibial_inclination_deg": -16.0,
        "late_swing_tibial_inclination_deg": 17.0,
        "peak_shank_frontal_angle_deg": 2.0,
        "peak_tibial_accel_g": 2.5,
        "impact_rise_ms": 20.0,
        "impact_decay_ms": 15.0,
    },
    # pronation and tibial shock grow over the session
    "fatiguing": {
        "drift": {"peak_eversion_deg": 5.0, "eversion_at_to_deg": 2.0, "peak_tibial_accel_g": 3.0,
                  "foot_strike_angle_deg": 3.0},
        "drift_time_s": 600.0,
    },
    # the right leg differs: more eversion, longer contact, harder and flatter landing
    "asymmetric": {
        "leg_overrides": {
            "right": {"peak_eversion_deg": 13.0, "duty_factor": 0.38, "peak_tibial_accel_g": 10.5,
                      "foot_strike_angle_deg": 10.0, "tibial_inclination_at_ic_deg": 8.0}
        }
    },
}


class ProfileError(ValueError):
    """Unknown profile or parameter, or a value of the wrong type."""


def _coerce(name: str, value: Any, template: Any) -> Any:
    if isinstance(template, bool):
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(template, int) and not isinstance(template, bool):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            raise ProfileError(f"parameter {name!r} needs an integer, got {value!r}") from None
    if isinstance(template, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ProfileError(f"parameter {name!r} needs a number, got {value!r}") from None
    return value


def make_params(profile: str = "neutral", overrides: dict[str, Any] | None = None) -> RunnerParams:
    """Parameters of a named profile with ``overrides`` applied.

    Override keys: any field of :class:`RunnerParams`; ``left.<field>`` / ``right.<field>`` for
    one leg; ``drift.<field>`` for the change over ``drift_time_s``.
    """
    if profile not in PROFILES:
        raise ProfileError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    params = RunnerParams()
    settings = copy.deepcopy(PROFILES[profile])
    for key, value in settings.items():
        setattr(params, key, value)
    defaults = RunnerParams()
    for key, value in (overrides or {}).items():
        prefix, _, rest = key.partition(".")
        if rest:
            if rest not in NUMERIC_FIELDS:
                raise ProfileError(f"{key!r}: {rest!r} is not a numeric parameter")
            number = _coerce(key, value, getattr(defaults, rest))
            if prefix in ("left", "right"):
                params.leg_overrides.setdefault(prefix, {})[rest] = number
            elif prefix == "drift":
                params.drift[rest] = float(number)
            else:
                raise ProfileError(f"{key!r}: prefix must be left., right. or drift.")
            continue
        if not hasattr(defaults, key) or key in ("leg_overrides", "drift"):
            known = ", ".join(f.name for f in dataclasses.fields(RunnerParams) if f.name not in ("leg_overrides", "drift"))
            raise ProfileError(f"unknown parameter {key!r}; known: {known}")
        setattr(params, key, _coerce(key, value, getattr(defaults, key)))
    if params.mounting not in ("random", "aligned"):
        raise ProfileError(f"mounting must be 'random' or 'aligned', got {params.mounting!r}")
    if not 0.05 < params.duty_factor < 0.95:
        raise ProfileError(f"duty_factor must be in (0.05, 0.95), got {params.duty_factor}")
    if not 0 < params.foot_flat_frac < params.peak_eversion_frac < params.heel_off_frac < 1:
        raise ProfileError("need 0 < foot_flat_frac < peak_eversion_frac < heel_off_frac < 1")
    return params
