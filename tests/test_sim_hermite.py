"""The piecewise quintic Hermite curves behind every channel of the virtual runner."""

from __future__ import annotations

import numpy as np

from runform.sim import hermite


def _curve(seed=0, m=12, c=3):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.02, 0.3, m))
    v = rng.normal(size=(m, c))
    d = np.where(rng.random((m, c)) < 0.3, rng.normal(size=(m, c)), np.nan)
    return t, v, hermite.fill_slopes(t, v, d), d


def test_passes_through_knots_with_given_slopes_and_zero_curvature():
    t, v, d, given = _curve()
    val, d1, d2 = hermite.evaluate(t, v, d, t[:-1])
    np.testing.assert_allclose(val, v[:-1], atol=1e-12)
    np.testing.assert_allclose(d1, d[:-1], atol=1e-9)
    np.testing.assert_allclose(d2, 0.0, atol=1e-7)
    ok = np.isfinite(given)
    np.testing.assert_array_equal(d[ok], given[ok])  # explicit slopes are kept


def test_derivatives_are_exact_and_curve_is_c2():
    t, v, d, _ = _curve(1)
    x = np.linspace(t[0] + 1e-3, t[-1] - 1e-3, 2000)
    h = 1e-6
    val, d1, d2 = hermite.evaluate(t, v, d, x)
    vp, d1p, _ = hermite.evaluate(t, v, d, x + h)
    vm, d1m, _ = hermite.evaluate(t, v, d, x - h)
    np.testing.assert_allclose(d1, (vp - vm) / (2 * h), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d2, (d1p - d1m) / (2 * h), rtol=1e-4, atol=1e-3)
    eps = 1e-9  # both sides of every inner knot: no jump in value, slope or curvature
    left = hermite.evaluate(t, v, d, t[1:-1] - eps)
    right = hermite.evaluate(t, v, d, t[1:-1] + eps)
    for a, b, full in zip(left, right, (val, d1, d2)):
        # a break would jump by the order of the quantity itself; 2 eps of the next derivative is ~1e-5 of it
        np.testing.assert_allclose(a, b, atol=1e-4 * np.abs(full).max())


def test_fast_power_form_equals_reference_and_extends_without_changing_the_past():
    t, v, d, _ = _curve(2, m=20)
    x = np.linspace(t[0], t[-1] - 1e-9, 777)
    ref = hermite.evaluate(t, v, d, x)
    curve = hermite.PiecewiseQuintic()
    curve.set_knots(t[:8], v[:8], d[:8])
    early = curve(x[x < t[6]])
    curve.set_knots(t, v, d)  # extend
    got = curve(x)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(curve(x[x < t[6]])[0], early[0], atol=1e-12)


def test_one_sided_curvatures_make_a_c1_knot():
    """A knot with different curvatures on its two sides (the foot's push-off release at TO):
    value and slope continuous, the second derivative jumps from the end curvature to the
    start curvature; ``before`` evaluates a time at the knot on the interval that ends there."""
    t, v, d, _ = _curve(3, m=6, c=2)
    a = np.zeros_like(v)
    a_end = np.zeros_like(v)
    a[2, 0], a_end[2, 0] = 400.0, -30.0  # knot 2, channel 0
    pq = hermite.PiecewiseQuintic()
    pq.set_knots(t, v, d, a, a_end)
    after, before = pq(t[2:3]), pq(t[2:3], before=True)
    np.testing.assert_allclose(after[0], before[0], atol=1e-12)
    np.testing.assert_allclose(after[1], before[1], atol=1e-9)
    np.testing.assert_allclose(after[2][0], [400.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(before[2][0], [-30.0, 0.0], atol=1e-6)
    # the reference evaluation with one curvature per knot agrees on each side
    ref_after = hermite.evaluate(t, v, d, t[2:3] + 1e-12, knot_a=a)
    np.testing.assert_allclose(after[2], ref_after[2], atol=1e-3)
    # elsewhere the curve is the C2 one
    x = np.linspace(t[3] + 1e-3, t[-1] - 1e-3, 50)
    c2 = hermite.PiecewiseQuintic()
    c2.set_knots(t, v, d)
    np.testing.assert_array_equal(pq(x)[0], c2(x)[0])
