"""Piecewise quintic Hermite curves with value, slope and curvature at each knot.

Every kinematic channel of the virtual runner (segment angles, the swing path of the foot)
is such a curve: it passes through the knots with the given first and second derivatives, so
it is C2 (continuous angular acceleration, hence continuous gyroscope and accelerometer
signals), unless a knot is given a different curvature on each side (``PiecewiseQuintic``:
C1 there), and its derivatives are exact polynomials, not finite differences.

Basis: the standard quintic Hermite basis on u in [0, 1] (e.g. Farin, *Curves and Surfaces for
CAGD*, 5th ed., ch. 7). Slopes that are not given are taken from the neighbouring knots
(Catmull-Rom / finite-difference tangents for non-uniform knots).
"""

from __future__ import annotations

import numpy as np


def fill_slopes(t: np.ndarray, v: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Slopes at knots: ``d`` where finite, else the three-point non-uniform estimate.

    ``t`` (m,) knot times (s), ``v`` (m, c) values, ``d`` (m, c) slopes (per s) with NaN where
    free. End knots with free slopes use one-sided differences.
    """
    t = np.asarray(t, dtype=float)
    v = np.asarray(v, dtype=float)
    d = np.array(d, dtype=float, copy=True)
    m = t.size
    est = np.empty_like(v)
    if m >= 3:
        h0 = (t[1:-1] - t[:-2])[:, None]
        h1 = (t[2:] - t[1:-1])[:, None]
        s0 = (v[1:-1] - v[:-2]) / h0
        s1 = (v[2:] - v[1:-1]) / h1
        # weighted three-point derivative (exact for quadratics)
        est[1:-1] = (h1 * s0 + h0 * s1) / (h0 + h1)
    est[0] = (v[1] - v[0]) / (t[1] - t[0])
    est[-1] = (v[-1] - v[-2]) / (t[-1] - t[-2])
    free = ~np.isfinite(d)
    d[free] = est[free]
    return d


def quintic_basis(u: np.ndarray, h: np.ndarray):
    """Basis weights for value/slope/curvature at both ends and their 1st/2nd derivatives
    with respect to time, for local parameter ``u`` and interval length ``h`` (s).

    Returns three arrays of shape (n, 6) (value, d/dt, d2/dt2), columns
    ``[p0, d0, a0, a1, d1, p1]``; slope columns already multiplied by ``h`` and curvature
    columns by ``h**2``.
    """
    u2 = u * u
    u3 = u2 * u
    u4 = u3 * u
    u5 = u4 * u
    hh = h * h
    b = np.stack(
        [
            1 - 10 * u3 + 15 * u4 - 6 * u5,
            h * (u - 6 * u3 + 8 * u4 - 3 * u5),
            hh * (0.5 * u2 - 1.5 * u3 + 1.5 * u4 - 0.5 * u5),
            hh * (0.5 * u3 - u4 + 0.5 * u5),
            h * (-4 * u3 + 7 * u4 - 3 * u5),
            10 * u3 - 15 * u4 + 6 * u5,
        ],
        axis=-1,
    )
    db = np.stack(
        [
            (-30 * u2 + 60 * u3 - 30 * u4) / h,
            1 - 18 * u2 + 32 * u3 - 15 * u4,
            h * (u - 4.5 * u2 + 6 * u3 - 2.5 * u4),
            h * (1.5 * u2 - 4 * u3 + 2.5 * u4),
            -12 * u2 + 28 * u3 - 15 * u4,
            (30 * u2 - 60 * u3 + 30 * u4) / h,
        ],
        axis=-1,
    )
    ddb = np.stack(
        [
            (-60 * u + 180 * u2 - 120 * u3) / hh,
            (-36 * u + 96 * u2 - 60 * u3) / h,
            1 - 9 * u + 18 * u2 - 10 * u3,
            3 * u - 12 * u2 + 10 * u3,
            (-24 * u + 84 * u2 - 60 * u3) / h,
            (60 * u - 180 * u2 + 120 * u3) / hh,
        ],
        axis=-1,
    )
    return b, db, ddb


def evaluate(
    knot_t: np.ndarray,
    knot_v: np.ndarray,
    knot_d: np.ndarray,
    t: np.ndarray,
    knot_a: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value, first and second time derivative at times ``t`` (n,) of the curve through knots.

    ``knot_t`` (m,) increasing; ``knot_v``, ``knot_d`` (and optionally ``knot_a``) (m, c).
    Times outside the knot range are evaluated on the first/last interval (extrapolation);
    callers keep their times inside. Returns three (n, c) arrays.
    """
    knot_t = np.asarray(knot_t, dtype=float)
    t = np.asarray(t, dtype=float)
    i = np.clip(np.searchsorted(knot_t, t, side="right") - 1, 0, knot_t.size - 2)
    h = knot_t[i + 1] - knot_t[i]
    u = (t - knot_t[i]) / h
    b, db, ddb = quintic_basis(u, h)
    if knot_a is None:
        knot_a = np.zeros_like(knot_v)
    # coefficients (n, 6, c)
    coef = np.stack([knot_v[i], knot_d[i], knot_a[i], knot_a[i + 1], knot_d[i + 1], knot_v[i + 1]], axis=1)
    val = np.einsum("nk,nkc->nc", b, coef)
    d1 = np.einsum("nk,nkc->nc", db, coef)
    d2 = np.einsum("nk,nkc->nc", ddb, coef)
    return val, d1, d2


# power-basis coefficients of the quintic Hermite basis: b_k(u) = sum_j _P[k, j] u^j
_P = np.array([
    [1, 0, 0, -10, 15, -6],
    [0, 1, 0, -6, 8, -3],
    [0, 0, 0.5, -1.5, 1.5, -0.5],
    [0, 0, 0, 0.5, -1, 0.5],
    [0, 0, 0, -4, 7, -3],
    [0, 0, 0, 10, -15, 6],
], dtype=float)


class PiecewiseQuintic:
    """The curve of :func:`evaluate` in power form per interval, for fast repeated evaluation
    (Horner's scheme). ``extend`` appends knots without changing earlier intervals."""

    def __init__(self) -> None:
        self.t = np.zeros(0)
        self.coef = np.zeros((6, 0, 0))  # (power 0..5, intervals, channels), in u

    def set_knots(self, knot_t: np.ndarray, knot_v: np.ndarray, knot_d: np.ndarray,
                  knot_a: np.ndarray | None = None, knot_a_end: np.ndarray | None = None) -> None:
        """Rebuild the coefficients of the intervals after the ones already built.

        ``knot_a``: curvature at each knot as the start of the interval after it;
        ``knot_a_end``: as the end of the interval before it (default ``knot_a``). Where the two
        differ the curve is C1 there, with one-sided curvatures (a jump of the second
        derivative); ``__call__`` at exactly that knot gives the interval after it."""
        knot_t = np.asarray(knot_t, dtype=float)
        done = max(self.t.size - 1, 0)
        m = knot_t.size
        if knot_a is None:
            knot_a = np.zeros_like(knot_v)
        if knot_a_end is None:
            knot_a_end = knot_a
        i = np.arange(done, m - 1)
        h = (knot_t[i + 1] - knot_t[i])[:, None]
        # Hermite data scaled to u: slopes * h, curvatures * h^2
        data = np.stack([knot_v[i], knot_d[i] * h, knot_a[i] * h * h, knot_a_end[i + 1] * h * h,
                         knot_d[i + 1] * h, knot_v[i + 1]], axis=1)  # (k, 6 data, c)
        new = np.einsum("kj,nkc->jnc", _P, data)  # (power, interval, channel)
        self.coef = np.concatenate([self.coef[:, :done], new], axis=1) if self.coef.size else new
        self.t = knot_t.copy()

    def __call__(self, t: np.ndarray, before: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Value, first and second time derivative (n, c) at times ``t``. A time exactly at a
        knot is evaluated on the interval after it, or with ``before`` on the one before it
        (the two differ only in the second derivative, where the knot's curvatures do)."""
        t = np.asarray(t, dtype=float)
        i = np.clip(np.searchsorted(self.t, t, side="left" if before else "right") - 1, 0, self.t.size - 2)
        h = (self.t[i + 1] - self.t[i])[:, None]
        u = ((t - self.t[i]) / h[:, 0])[:, None]
        c0, c1, c2, c3, c4, c5 = (self.coef[j][i] for j in range(6))
        val = ((((c5 * u + c4) * u + c3) * u + c2) * u + c1) * u + c0
        d1 = (((5 * c5 * u + 4 * c4) * u + 3 * c3) * u + 2 * c2) * u + c1
        d2 = ((20 * c5 * u + 12 * c4) * u + 6 * c3) * u + 2 * c2
        return val, d1 / h, d2 / (h * h)
