"""Within-leg clock refinement: align foot and shank with the impact transient both feel.

The per-sensor clock fit (:mod:`runform.clock`, lower envelope of arrival - sensor time) cannot
see a latency that is constant on one link (a controller that always delivers one link later,
a different connection interval): it shifts that sensor's whole time base. Foot and shank of
one leg are hit by the same foot strike within about a millisecond (the shock reaches the tibia
1-3 ms after the heel; Lafortune et al. 1995, J. Biomech. 28(9):1007-1014 report tibial peak
acceleration 2-4 ms after heel impact), so the lag that best lines up the two sensors' jerk
(first difference of the specific-force magnitude) over a window of strides is the residual
clock offset between them. Method: cross-correlation of the z-scored jerk on a common uniform
grid, restricted to +-``max_lag_s``, with parabolic interpolation of the peak for sub-sample
resolution (the usual time-delay estimation; Knapp & Carter 1976, IEEE TASSP 24(4):320-327,
without their frequency weighting).

Pure numpy; times in s, accelerations in m/s^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LagEstimate:
    lag_s: float  # add to the second sensor's times to align it with the first
    correlation: float  # normalised peak correlation, 0..1; below ~0.3 the estimate is not trusted
    samples: int  # grid samples used


def _jerk_on_grid(t: np.ndarray, acc: np.ndarray, grid: np.ndarray) -> np.ndarray:
    mag = np.linalg.norm(np.asarray(acc, dtype=float), axis=1)
    g = np.interp(grid, np.asarray(t, dtype=float), mag)
    j = np.diff(g, prepend=g[0])
    s = j.std()
    return (j - j.mean()) / s if s > 0 else j * 0.0


def impact_lag(t_a: np.ndarray, acc_a: np.ndarray, t_b: np.ndarray, acc_b: np.ndarray, *,
               rate_hz: float = 1000.0, max_lag_s: float = 0.02) -> LagEstimate:
    """The lag (s) to add to sensor b's session times so that its impacts line up with a's.

    ``t_*`` session times (s, increasing), ``acc_*`` (n, 3) specific force (m/s^2). Both
    recordings should cover several strides (a few seconds); only their overlap is used."""
    start, end = max(t_a[0], t_b[0]) + max_lag_s, min(t_a[-1], t_b[-1]) - max_lag_s
    if end - start < 10 * max_lag_s:
        return LagEstimate(0.0, 0.0, 0)
    dt = 1.0 / rate_hz
    grid = np.arange(start, end, dt)
    ja = _jerk_on_grid(t_a, acc_a, grid)
    k = int(round(max_lag_s * rate_hz))
    lags = np.arange(-k, k + 1)
    # b shifted by lag L: b(t + L*dt) against a(t)
    n = len(ja)
    jb_wide = _jerk_on_grid(t_b, acc_b, start + (np.arange(n + 2 * k) - k) * dt)
    c = np.array([np.dot(ja, jb_wide[k + L : k + L + n]) for L in lags]) / n
    i = int(np.argmax(c))
    frac = 0.0
    if 0 < i < len(c) - 1:
        den = c[i - 1] - 2 * c[i] + c[i + 1]
        if den < 0:
            frac = 0.5 * (c[i - 1] - c[i + 1]) / den
    # b(t + L dt) matches a(t): b's clock reads L dt late, so subtract it
    return LagEstimate(lag_s=-(lags[i] + frac) * dt, correlation=float(max(0.0, c[i])), samples=n)
