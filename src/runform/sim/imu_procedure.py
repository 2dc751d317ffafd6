"""What a virtual sensor reads during the IMU (table) calibration procedure.

The procedure (``runform imu-calibrate``, estimator :mod:`runform.core.imu_calibration`): the
sensor is laid still on a table in many orientations (its six faces, then tilted on its corners
and edges), ``hold_s`` each, and turned by hand between them in ``move_s``.

The readings are built directly in the SENSOR frame, not through the runner's mounting:
``reading = (I + S) x + b(t) + n`` with ``x`` the sensor-frame specific force (m/s^2) or angular
velocity (rad/s), sharing the sensor model's scale/cross-axis matrices ``S`` (``acc_err``,
``gyr_err``), its noise densities and its bias random walks
(:class:`runform.sim.sensor_model.SensorModel`). The procedure is done on another day than the
run: with ``new_turn_on_bias`` the turn-on biases are a new draw of the same distribution,
otherwise the session's turn-on biases (``sensor.info``). The samples are then saturated and
quantised to int16 codes at the sensor's ranges by the firmware's scaling
(:func:`runform.sensors.quantize.quantize_imu`) and returned in SI.

Motion: while held, nothing moves (exactly zero angular velocity and acceleration). A move
from orientation ``R_a`` to ``R_b`` is ``R(tau) = R_a exp(s(tau) phi) exp(w(tau) psi)`` with
``phi`` the body-frame rotation vector of ``R_a^T R_b``, ``s`` the minimum-jerk profile
``10 tau^3 - 15 tau^4 + 6 tau^5`` (Flash & Hogan 1985, J Neurosci 5:1688) and a wobble about a
random axis ``psi`` (``w = 64 tau^3 (1 - tau)^3``, up to ``WOBBLE_DEG``) so that the axis of
rotation is not fixed during a move; the body angular velocity is then exactly
``exp(-w psi) phi s' + psi w'``. The hand also carries the sensor: a minimum-jerk displacement
of up to ``CARRY_M`` and a lift of up to ``LIFT_M`` (accelerations well under 1 m/s^2).

Times are the sensor's own clock at exactly ``rate_hz`` (no clock offset or drift: the estimator
works on the sensor's timestamps). The runner's own streams are not touched: every draw comes
from a generator seeded by ``seed``.
"""

from __future__ import annotations

import numpy as np

from ..rotations import (quat_conj, quat_from_rotvec, quat_from_two_vectors, quat_mul, quat_normalize, quat_rotate,
                         quat_to_rotvec)
from ..sensors.quantize import dequantize_imu, quantize_imu
from ..units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from .sensor_model import SensorModel

#: amplitude of the wobble about a random axis during a move (deg)
WOBBLE_DEG = 15.0
#: the hand's horizontal displacement during a move (m, up to) and its lift (m, up to)
CARRY_M = 0.25
LIFT_M = 0.08
#: hand placement is not exact: each pose is tilted by up to this much from its nominal face (deg)
PLACEMENT_JITTER_DEG = 3.0


def nominal_gravity_directions() -> np.ndarray:
    """The 26 nominal directions of gravity in the sensor frame, unit (26, 3): the six faces,
    then the eight corners, then the twelve edges."""
    faces = np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], float)
    corners = np.array([[x, y, z] for x in (1, -1) for y in (1, -1) for z in (1, -1)], float) / np.sqrt(3.0)
    edges = []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        for a in (1, -1):
            for b in (1, -1):
                v = np.zeros(3)
                v[i], v[j] = a, b
                edges.append(v / np.sqrt(2.0))
    return np.concatenate([faces, corners, np.array(edges)])


def pose_orientations(n_poses: int, rng: np.random.Generator) -> np.ndarray:
    """Sensor-to-world quaternions (n_poses, 4) of the held poses: the six faces, then corners,
    then edges (each group in a random order), each tilted by up to PLACEMENT_JITTER_DEG and
    turned to a random heading; beyond 26 poses, random directions. Deterministic for ``rng``."""
    dirs = nominal_gravity_directions()
    groups = [dirs[:6], dirs[6:14], dirs[14:]]
    ordered = np.concatenate([g[rng.permutation(len(g))] for g in groups])
    if n_poses > len(ordered):
        extra = rng.standard_normal((n_poses - len(ordered), 3))
        ordered = np.concatenate([ordered, extra / np.linalg.norm(extra, axis=1, keepdims=True)])
    d = ordered[:n_poses]
    # the rotation taking the sensor-frame gravity direction onto world up, then heading and jitter
    q_up = quat_from_two_vectors(d, np.broadcast_to([0.0, 0.0, 1.0], d.shape))
    jitter_axis = rng.standard_normal((n_poses, 3))
    jitter_axis[:, 2] = 0.0
    jitter_axis /= np.maximum(np.linalg.norm(jitter_axis, axis=1, keepdims=True), 1e-12)
    jitter = quat_from_rotvec(jitter_axis * rng.uniform(0.0, PLACEMENT_JITTER_DEG * RAD_PER_DEG, (n_poses, 1)))
    heading = quat_from_rotvec(np.stack([np.zeros(n_poses), np.zeros(n_poses),
                                         rng.uniform(-np.pi, np.pi, n_poses)], axis=1))
    return quat_normalize(quat_mul(heading, quat_mul(jitter, q_up)))


def _bump(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``64 tau^3 (1-tau)^3`` (0 at both ends, 1 in the middle) and its first two derivatives."""
    u = tau * (1.0 - tau)
    du = 1.0 - 2.0 * tau
    return 64.0 * u**3, 192.0 * u**2 * du, 192.0 * (2.0 * u * du**2 - 2.0 * u**2)


def _min_jerk(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-jerk profile from 0 to 1 and its first two derivatives (per unit tau)."""
    return (10 * tau**3 - 15 * tau**4 + 6 * tau**5, 30 * tau**2 - 60 * tau**3 + 30 * tau**4,
            60 * tau - 180 * tau**2 + 120 * tau**3)


def procedure_motion(orientations_wxyz: np.ndarray, time_s: np.ndarray, hold_s: float, move_s: float,
                     rng: np.random.Generator, carry: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Error-free sensor-frame specific force (m/s^2) and angular velocity (rad/s), (n, 3) each,
    of the held poses ``orientations_wxyz`` (sensor -> world) and the moves between them."""
    q_pose = quat_normalize(np.asarray(orientations_wxyz, float))
    n_poses = len(q_pose)
    n_moves = max(n_poses - 1, 0)
    phi = quat_to_rotvec(quat_mul(quat_conj(q_pose[:-1]), q_pose[1:])) if n_moves else np.zeros((0, 3))
    psi = rng.standard_normal((n_moves, 3))
    psi *= (rng.uniform(0.3, 1.0, (n_moves, 1)) * WOBBLE_DEG * RAD_PER_DEG
            / np.maximum(np.linalg.norm(psi, axis=1, keepdims=True), 1e-12))
    carry_vec = np.concatenate([rng.uniform(-1.0, 1.0, (n_moves, 2)) * CARRY_M / np.sqrt(2.0),
                                np.zeros((n_moves, 1))], axis=1)
    lift = rng.uniform(0.3, 1.0, n_moves) * LIFT_M
    if not carry:
        carry_vec[:] = 0.0
        lift[:] = 0.0

    period = hold_s + move_s
    k = np.minimum(np.floor(time_s / period).astype(int), n_poses - 1)
    local = time_s - k * period
    moving = (local > hold_s) & (k < n_poses - 1)
    q = q_pose[k].copy()
    omega = np.zeros((time_s.size, 3))
    acc_world = np.zeros((time_s.size, 3))
    if np.any(moving):
        km = k[moving]
        tau = np.clip((local[moving] - hold_s) / move_s, 0.0, 1.0)
        s, ds, _ = _min_jerk(tau)
        w, dw, _ = _bump(tau)
        q_b = quat_from_rotvec(w[:, None] * psi[km])
        q[moving] = quat_mul(quat_mul(q_pose[km], quat_from_rotvec(s[:, None] * phi[km])), q_b)
        omega[moving] = (quat_rotate(quat_conj(q_b), phi[km] * (ds / move_s)[:, None])
                         + psi[km] * (dw / move_s)[:, None])
        _, _, dds = _min_jerk(tau)
        _, _, ddw = _bump(tau)
        acc_world[moving] = carry_vec[km] * (dds / move_s**2)[:, None]
        acc_world[moving, 2] += lift[km] * ddw / move_s**2
    up = np.array([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    f_sensor = quat_rotate(quat_conj(q), acc_world + up)
    return f_sensor, omega


def simulate_imu_procedure(sensor: SensorModel, rate_hz: float = 400.0, n_poses: int = 18, hold_s: float = 2.5,
                           move_s: float = 1.5, seed: int = 0, new_turn_on_bias: bool = True, *,
                           orientations_wxyz: np.ndarray | None = None, carry: bool = True,
                           accel_range_g: float | None = None,
                           gyro_range_dps: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time_s (n,), acc_mps2 (n, 3), gyr_rps (n, 3))`` that ``sensor`` reads during the
    calibration procedure: ``n_poses`` held poses of ``hold_s`` joined by moves of ``move_s``,
    at ``rate_hz`` on the sensor's clock, saturated and quantised at the sensor's ranges
    (``accel_range_g`` / ``gyro_range_dps`` override them, e.g. to make it clip).

    ``orientations_wxyz`` (m, 4), sensor -> world, replaces the generated poses (then
    ``n_poses`` is ignored), e.g. poses that are not spread. ``carry=False``: the moves only
    rotate. Deterministic for ``seed``; the sensor's own random streams are not used."""
    if rate_hz <= 0 or hold_s <= 0 or move_s <= 0:
        raise ValueError(f"rate_hz, hold_s and move_s must be positive, got {rate_hz}, {hold_s}, {move_s}")
    pose_ss, bias_ss, noise_ss, move_ss = np.random.SeedSequence(int(seed)).spawn(4)
    if orientations_wxyz is None:
        if n_poses < 1:
            raise ValueError(f"n_poses must be at least 1, got {n_poses}")
        q_pose = pose_orientations(int(n_poses), np.random.default_rng(pose_ss))
    else:
        q_pose = np.asarray(orientations_wxyz, float).reshape(-1, 4)
    m = len(q_pose)
    duration = m * hold_s + (m - 1) * move_s
    n = int(round(duration * rate_hz))
    t = np.arange(n) / rate_hz
    f, w = procedure_motion(q_pose, t, hold_s, move_s, np.random.default_rng(move_ss), carry=carry)

    if new_turn_on_bias:
        brng = np.random.default_rng(bias_ss)
        acc_bias = brng.standard_normal(3) * sensor.acc_bias_sd_mps2
        gyr_bias = brng.standard_normal(3) * sensor.gyr_bias_sd_rps
    else:
        acc_bias = np.asarray(sensor.info.acc_bias_mps2, float)
        gyr_bias = np.asarray(sensor.info.gyr_bias_dps, float) * RAD_PER_DEG
    noise = sensor.noise_parameters()
    dt = 1.0 / rate_hz
    z = np.random.default_rng(noise_ss).standard_normal((n, 12))
    band = np.sqrt(0.5 / dt)  # white noise of density d over the Nyquist band: sigma = d sqrt(1 / (2 dt))
    acc = (f @ (np.eye(3) + sensor.acc_err).T + acc_bias
           + np.cumsum(noise["acc_walk_mps2_per_rts"] * np.sqrt(dt) * z[:, 0:3], axis=0)
           + noise["acc_noise_mps2_per_rthz"] * band * z[:, 6:9])
    gyr = (w @ (np.eye(3) + sensor.gyr_err).T + gyr_bias
           + np.cumsum(noise["gyr_walk_rps_per_rts"] * np.sqrt(dt) * z[:, 3:6], axis=0)
           + noise["gyr_noise_rps_per_rthz"] * band * z[:, 9:12])
    a_range = sensor.info.accel_range_g if accel_range_g is None else float(accel_range_g)
    g_range = sensor.info.gyro_range_dps if gyro_range_dps is None else float(gyro_range_dps)
    acc_codes, gyr_codes = quantize_imu(acc, gyr, a_range, g_range)
    acc_q, gyr_q_dps = dequantize_imu(acc_codes, gyr_codes, a_range, g_range)
    return t, acc_q, gyr_q_dps * RAD_PER_DEG
