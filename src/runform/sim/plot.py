"""A picture of a few strides of the virtual runner: signals and truth, for a person to check.

    runform simulate --duration 20 --out /tmp/sim --plot /tmp/sim/strides.png

Top to bottom, for the left leg: foot gyroscope and accelerometer in the sensor frame (what
raw_left_foot.csv holds, before quantisation), the shank's axial specific force (truth, g),
the foot sagittal angle and tibial inclination, rearfoot eversion and tibial internal rotation
(truth, deg). Solid vertical lines: initial contacts; dashed: toe-offs; shaded: stance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2
from .runner import VirtualRunner


def plot_strides(runner: VirtualRunner, path: Path, t_start_s: float | None = None, n_strides: int = 3,
                 rate_hz: float = 400.0, leg: str = "left") -> Path:
    """Draw ``n_strides`` strides of ``leg`` from ``t_start_s`` (default: after the ramp-up)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = runner.gait
    if t_start_s is None:
        t_start_s = g.t_go + g.ramp_time + 2.0
    ev = runner.events(leg, t_start_s + 10.0 * g.stride_time0)
    k0 = int(np.searchsorted(ev["ic"], t_start_s))
    t0 = ev["ic"][k0] - 0.1
    t1 = ev["ic"][min(k0 + n_strides, ev["ic"].size - 1)] + 0.05
    t = np.arange(t0, t1, 1.0 / rate_hz)
    # a fresh runner with the same settings, so plotting never disturbs a streaming one
    fresh = VirtualRunner(runner.params, seed=runner.seed, placements=runner.placements, profile=runner.profile)
    panels = []
    foot = f"{leg}_foot"
    if foot in fresh.placements:
        acc, gyr = fresh.imu(foot, t)
        panels.append(("foot gyroscope, sensor frame (deg/s)", [(gyr[:, i] * DEG_PER_RAD, "xyz"[i]) for i in range(3)]))
        panels.append(("foot accelerometer, sensor frame (m/s²)", [(acc[:, i], "xyz"[i]) for i in range(3)]))
    a = fresh.truth_angles(leg, t)
    panels.append(("tibial axial specific force, truth (g)", [(a["tibial_axial_accel"] / STANDARD_GRAVITY_MPS2, "axial")]))
    panels.append(("sagittal angles, truth (deg)", [(a["foot_sagittal"] * DEG_PER_RAD, "foot (toes up +)"),
                                                   (a["tibial_inclination"] * DEG_PER_RAD, "tibial inclination")]))
    panels.append(("eversion and tibial rotation, truth (deg)", [(a["eversion"] * DEG_PER_RAD, "eversion"),
                                                                 (a["shank_internal_rotation"] * DEG_PER_RAD, "tibial int. rotation"),
                                                                 (a["shank_frontal"] * DEG_PER_RAD, "shank frontal")]))
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.1 * len(panels)), sharex=True)
    sel = (ev["ic"] < t1) & (ev["to"] > t0)
    for ax, (title, lines) in zip(axes, panels):
        for y, label in lines:
            ax.plot(t, y, lw=1.0, label=label)
        for ic, to in zip(ev["ic"][sel], ev["to"][sel]):
            ax.axvspan(ic, to, color="0.9", zorder=0)
            ax.axvline(ic, color="k", lw=0.7)
            ax.axvline(to, color="k", lw=0.7, ls="--")
        ax.set_title(title, fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="upper right", ncol=3)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("session time (s)")
    fig.suptitle(f"virtual runner '{runner.profile}', seed {runner.seed}, {leg} leg", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
