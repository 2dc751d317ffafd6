"""Vectorised strapdown orientation: gyroscope integration as a parallel prefix product.

A sequential filter (one Python step per sample) is far too slow for our budget of
>= 1 M samples/s, so the increments ``dq_i = exp(w_i dt_i / 2)`` are chained with a
vectorised parallel scan (:func:`prefix_products`: Hillis-Steele within blocks of 8, then over
the block totals). Quaternion multiplication is
associative, so the result equals the sequential product up to rounding.

Increments use the mid-point rate ``(w_i + w_{i+1}) / 2`` over ``dt_i = t_{i+1} - t_i``
(second-order accurate for smooth motion; Savage 1998, Strapdown Inertial Navigation
Integration Algorithm Design, J Guid Control Dyn 21:19).
"""

from __future__ import annotations

import math

import numpy as np

from ..rotations import quat_from_rotvec, quat_from_two_vectors


def planes(a: np.ndarray) -> np.ndarray:
    """The component planes of ``a`` (n, c) as a C-contiguous (c, n) array (free when ``a`` is
    already stored component-major, i.e. a transposed view as the functions here return); a
    single vector (c,) is returned as it is (its components broadcast as scalars).

    Why component-major: numpy's arithmetic on a column of a row-major (n, 4) array reads every
    4th number (no SIMD, a quarter of each cache line); on contiguous planes the same operations
    run 3-6x faster for stride-sized batches. Element-wise arithmetic does not depend on the
    memory layout, so the results are bit-identical either way."""
    a = np.asarray(a, float)
    if a.ndim == 1:
        return a
    return np.ascontiguousarray(a.T)


def positions_in_runs(lens: np.ndarray) -> np.ndarray:
    """For runs of ``lens`` elements laid one after the other: each element's position within
    its run (0, 1, ..., lens[0] - 1, 0, 1, ...), as intp."""
    lens = np.asarray(lens, np.intp)
    return np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)


def take_rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The rows ``a[idx]`` of an (n, c) array, in the layout of ``a``: a component-major array
    (a transposed view) is gathered plane by plane (``take`` of a non-C-contiguous array first
    copies all of it), a row-major one by ``take(axis=0)`` (~10x faster than fancy indexing)."""
    if a.ndim == 2 and not a.flags.c_contiguous and a.T.flags.c_contiguous:
        return a.T.take(idx, axis=1).T
    return a.take(idx, axis=0)


def qmul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p * q`` of float arrays (n, 4) or (4,), bit-identical to
    :func:`runform.rotations.quat_mul` (same expressions, same order) but without its
    per-call axis shuffling, computed on component planes (:func:`planes`) and returned
    component-major ((n, 4) view of a (4, n) array)."""
    return _qprod_planes(*planes(p), *planes(q)).T


def prefix_product(dq: np.ndarray) -> np.ndarray:
    """Cumulative Hamilton products ``p_i = dq_0 * dq_1 * ... * dq_i`` of (n, 4) quaternions."""
    return prefix_products([dq])[0]


# Hamilton product as 16 pairwise products p_j q_k, summed four at a time per component in the
# order (and with the signs) of the expressions in :func:`qmul`: ``_PP_IDX`` picks j * 4 + k
_PP_TERMS = (
    ((0, 0, 1.0), (1, 1, -1.0), (2, 2, -1.0), (3, 3, -1.0)),  # w = pw qw - px qx - py qy - pz qz
    ((0, 1, 1.0), (1, 0, 1.0), (2, 3, 1.0), (3, 2, -1.0)),  # x = pw qx + px qw + py qz - pz qy
    ((0, 2, 1.0), (1, 3, -1.0), (2, 0, 1.0), (3, 1, 1.0)),  # y = pw qy - px qz + py qw + pz qx
    ((0, 3, 1.0), (1, 2, 1.0), (2, 1, -1.0), (3, 0, 1.0)),  # z = pw qz + px qy - py qx + pz qw
)
_PP_IDX = np.array([j * 4 + k for row in _PP_TERMS for j, k, _ in row])
_PP_SGN = np.array([s for row in _PP_TERMS for _, _, s in row]).reshape(16, 1, 1)
#: rows x length up to which a scan step is computed in 4 numpy calls (16 products, sign, sum)
#: instead of 28 component-wise ones: faster while numpy's per-call cost dominates (stride-sized
#: arrays); above it the 16 temporaries cost more than the calls saved
_PP_FEW_CALLS_MAX = 1200


def _qprod_cm(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p * q`` of component-major arrays (4, ...) (broadcast over the rest),
    the expressions of :func:`qmul` term by term. Small arrays (<= ``_PP_FEW_CALLS_MAX``
    quaternions) form the 16 products ``p_j q_k`` in one broadcast, apply the signs and sum
    each component's four terms along an axis (numpy adds them one after the other, in the
    order of :func:`qmul`'s expressions, and ``a - b == a + (-b)`` exactly): the same numbers
    in 4 numpy calls instead of 28. Larger arrays accumulate each component in place (the same
    operations in the same order, fewer temporaries)."""
    shape = np.broadcast_shapes(p.shape[1:], q.shape[1:])
    if math.prod(shape) <= _PP_FEW_CALLS_MAX:
        terms = (p[:, None] * q[None, :]).reshape((16,) + shape)[_PP_IDX]
        terms *= _PP_SGN.reshape((16,) + (1,) * len(shape))
        return terms.reshape((4, 4) + shape).sum(axis=1)
    return _qprod_planes(*p, *q)


def _qprod_planes(pw, px, py, pz, qw, qx, qy, qz) -> np.ndarray:
    """Hamilton product of quaternions given as component planes (broadcast): (4, ...). Each
    component accumulated in place: the same operations in the same order as
    ``pw * qw - px * qx - py * qy - pz * qz`` etc., fewer temporaries."""
    out = np.empty((4,) + np.broadcast_shapes(np.shape(pw), np.shape(qw)))
    w, x, y, z = out
    np.multiply(pw, qw, out=w)
    w -= px * qx
    w -= py * qy
    w -= pz * qz
    np.multiply(pw, qx, out=x)
    x += px * qw
    x += py * qz
    x -= pz * qy
    np.multiply(pw, qy, out=y)
    y -= px * qz
    y += py * qw
    y += pz * qx
    np.multiply(pw, qz, out=z)
    z += px * qy
    z -= py * qx
    z += pz * qw
    return out


def _scan_axis1(p: np.ndarray) -> None:
    """Inclusive Hillis-Steele scan (Hamilton products) along axis 1 of a component-major
    (4, n, m) array, in place: element ``i`` only ever meets elements ``<= i`` of its column,
    and the products it takes part in do not depend on ``n`` beyond ``i``."""
    n = p.shape[1]
    shift = 1
    while shift < n:
        p[:, shift:] = _qprod_cm(p[:, :-shift], p[:, shift:])
        shift *= 2


#: samples per block of the two-level scan in :func:`prefix_products`
SCAN_BLOCK = 8


def prefix_products(seqs: list[np.ndarray]) -> list[np.ndarray]:
    """:func:`prefix_product` of several sequences (each (n_k, 4)) in one batched scan.

    Two-level scan (work ~ (log2 B + 1) n instead of n log2 n, B = ``SCAN_BLOCK``): each
    sequence, padded with the identity to whole blocks of B, is scanned within its blocks
    (Hillis-Steele, all blocks of all sequences at once in a component-major (4, B, blocks)
    array, so every step works on long contiguous planes), then the block totals are scanned
    (Hillis-Steele), and each block after the first is left-multiplied by the total of the
    blocks before it. Every product involves only elements of the same sequence at or before
    the result's position, in an order fixed by the position alone, so each result is
    bit-identical whatever else is in the batch and however long the batch's longest
    sequence is. Unnormalised; equal to the sequential product up to rounding."""
    k = len(seqs)
    lens = [int(s.shape[0]) for s in seqs]
    if max(lens, default=0) == 0:
        return [np.zeros((0, 4)) for _ in range(k)]
    a = _scan_blocks([np.asarray(s, float).T for s in seqs], lens)
    k_, nb = a.shape[3], a.shape[2]
    res = a.transpose(0, 3, 2, 1).reshape(4, k_, nb * SCAN_BLOCK)
    return [res[:, r, : lens[r]].T for r in range(k)]


def prefix_products_into(src: np.ndarray, starts: np.ndarray, lens: np.ndarray, out: np.ndarray, dest: np.ndarray,
                         reverse: bool = False) -> None:
    """:func:`prefix_products` of the sequences ``src[:, s : s + n]`` (component-major (4, N)
    quaternions; ``reverse``: taken backwards, ``src[:, s + n - 1]`` first) for each ``s, n`` of
    ``starts``, ``lens``, written to ``out[:, dest]`` (the results of all sequences one after
    the other, in element order; ``dest`` of that length). The same scan (bit-identical
    results), with the sequences gathered into its layout and the results out of it by one
    ``take`` each instead of a copy per sequence."""
    starts = np.asarray(starts, np.intp)
    lens = np.asarray(lens, np.intp)
    k = lens.shape[0]
    n = int(lens.max()) if k else 0
    if n == 0:
        return
    if k == 1:  # live (one stride): fewer numpy calls than the gathers below; the same scan
        s0 = int(starts[0])
        seq = src[:, s0 : s0 + n][:, ::-1] if reverse else src[:, s0 : s0 + n]
        a = _scan_blocks([seq], [n])
        out[:, dest] = a.transpose(0, 3, 2, 1).reshape(4, -1)[:, :n]
        return
    b = SCAN_BLOCK
    nb = -(-n // b)
    # element i = blk * b + j of sequence r sits at [:, j, blk, r] of the scan's layout
    i = (np.arange(b)[:, None, None] + b * np.arange(nb)[None, :, None]).astype(np.intp)  # (b, nb, 1)
    pos = starts + lens - 1 - i if reverse else starts + i  # (b, nb, k)
    pad = i >= lens  # beyond a sequence's end: the identity
    a = src.take(np.where(pad, 0, pos).ravel(), axis=1).reshape(4, b, nb, k)
    if pad.any():
        for c, v in enumerate((1.0, 0.0, 0.0, 0.0)):  # plane by plane: ~2x faster than a[:, pad]
            a[c][pad] = v
    _scan_layout(a)
    el = positions_in_runs(lens)  # element index within its sequence
    row = np.repeat(np.arange(k), lens)
    res = a.reshape(4, -1).take((el % b) * (nb * k) + (el // b) * k + row, axis=1)
    for c in range(4):  # plane by plane: ~2x faster than out[:, dest] = res
        out[c][dest] = res[c]


def _scan_blocks(planes_list: list[np.ndarray], lens: list[int]) -> np.ndarray:
    """The scan of :func:`prefix_products` on sequences given as (4, n) planes: returns the
    (4, B, blocks, sequences) array of results."""
    k = len(planes_list)
    n = max(lens)
    b = SCAN_BLOCK
    nb = -(-n // b)
    p = np.zeros((4, k, nb * b))
    p[0] = 1.0
    for r, s in enumerate(planes_list):
        if lens[r]:
            p[:, r, : lens[r]] = s
    # (4, k, nb, b) -> (4, b, nb, k): position within the block first, every block a column,
    # and the blocks of one index j of all sequences side by side (the block totals and the
    # final products then work on contiguous planes)
    a = np.ascontiguousarray(p.reshape(4, k, nb, b).transpose(0, 3, 2, 1))
    _scan_layout(a)
    return a


def _scan_layout(a: np.ndarray) -> None:
    """The two-level scan, in place, of a (4, B, blocks, sequences) array (identity padded)."""
    b, nb, k = a.shape[1], a.shape[2], a.shape[3]
    _scan_axis1(a.reshape(4, b, nb * k))
    if nb > 1:
        tot = a[:, b - 1].copy()  # (4, nb, k) block totals
        _scan_axis1(tot)
        # element i of block j >= 1: (total of blocks 0..j-1) * (its product within block j)
        a[:, :, 1:] = _qprod_cm(tot[:, None, :-1], a[:, :, 1:])


def rotvec_quats(v: np.ndarray) -> np.ndarray:
    """Quaternions (n, 4) of rotation vectors (n, 3): the formulas of
    :func:`runform.rotations.quat_from_rotvec` (same arithmetic) with the norm written out and
    one output array (no ``linalg.norm``/``concatenate`` dispatch; the strapdown hot path), on
    component planes, returned component-major."""
    x, y, z = planes(v)
    angle = np.sqrt(x * x + y * y + z * z)
    half = 0.5 * angle
    small = angle < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sin(half)
        scale /= angle
    if small.any():  # rare: the series expansion there (and no 0 / 0)
        scale[small] = 0.5 - angle[small] ** 2 / 48.0
    out = np.empty((4, angle.shape[0]))
    np.cos(half, out=out[0])
    np.multiply(x, scale, out=out[1])
    np.multiply(y, scale, out=out[2])
    np.multiply(z, scale, out=out[3])
    return out.T


def qrotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (n, 3) by quaternions ``q`` (n, 4) or (4,): the formula of
    :func:`runform.rotations.quat_rotate` (``v + w t + u x t``, ``t = 2 u x v``) written out per
    component (no ``np.cross`` dispatch; equal up to rounding), on component planes, returned
    component-major."""
    w, x, y, z = planes(q)
    vx, vy, vz = planes(v)
    tx = 2.0 * (y * vz - z * vy)
    ty = 2.0 * (z * vx - x * vz)
    tz = 2.0 * (x * vy - y * vx)
    out = np.empty((3,) + np.broadcast_shapes(np.shape(w), np.shape(vx)))
    np.add(vx + w * tx, y * tz - z * ty, out=out[0])
    np.add(vy + w * ty, z * tx - x * tz, out=out[1])
    np.add(vz + w * tz, x * ty - y * tx, out=out[2])
    return out.T


def qnormalize(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (n, 4) or (4,) (as :func:`runform.rotations.quat_normalize`, without the
    ``linalg.norm`` dispatch; equal up to rounding), on component planes, returned
    component-major. The squared norm is summed as ``(w^2 + y^2) + (x^2 + z^2)``, the order of
    numpy's ``einsum("...i,...i")`` over 4 components (which this replaced: bit-identical)."""
    c = planes(q)
    w, x, y, z = c
    s = w * w
    s += y * y
    xz = x * x
    xz += z * z
    s += xz
    return (c / np.sqrt(s)).T


def qmatrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) of unit quaternions (n, 4) (as
    :func:`runform.rotations.quat_to_matrix`, same expressions), on component planes, returned
    as an (n, 3, 3) view of a (3, 3, n) array (each element ``m[:, i, j]`` contiguous)."""
    return np.moveaxis(qmatrix_planes(*planes(q)), (0, 1), (-2, -1))


def qmatrix_planes(w, x, y, z) -> np.ndarray:
    """Rotation matrices of unit quaternions given as component planes (n,) each: (3, 3, n),
    the expressions of :func:`runform.rotations.quat_to_matrix`."""
    m = np.empty((3, 3) + np.shape(w))
    m[0, 0] = 1 - 2 * (y * y + z * z)
    m[0, 1] = 2 * (x * y - w * z)
    m[0, 2] = 2 * (x * z + w * y)
    m[1, 0] = 2 * (x * y + w * z)
    m[1, 1] = 1 - 2 * (x * x + z * z)
    m[1, 2] = 2 * (y * z - w * x)
    m[2, 0] = 2 * (x * z - w * y)
    m[2, 1] = 2 * (y * z + w * x)
    m[2, 2] = 1 - 2 * (x * x + y * y)
    return m


def integrate_gyro(q0: np.ndarray, time_s: np.ndarray, gyr_rps: np.ndarray) -> np.ndarray:
    """Orientations (n, 4) at each sample, body-to-reference, starting at ``q0`` at sample 0.

    gyr_rps (n, 3): body-frame angular velocity, bias removed. time_s (n,) in s.
    """
    t = np.asarray(time_s, float)
    w = np.asarray(gyr_rps, float)
    n = t.shape[0]
    q = np.empty((n, 4))
    if n == 0:
        return q
    q[0] = q0
    if n == 1:
        return q
    dt = np.diff(t)[:, None]
    dq = quat_from_rotvec(0.5 * (w[1:] + w[:-1]) * dt)
    q[1:] = qmul(np.asarray(q0, float), prefix_product(dq))
    return qnormalize(q)


def tilt_correction(q: np.ndarray, acc_mps2: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The world-frame rotation (4,) that takes the mean world specific force of ``q`` and
    ``acc_mps2`` (samples selected by ``mask``) onto +z. Left-multiply orientations by it."""
    f = qrotate(q, acc_mps2)
    if mask is not None:
        f = f[mask]
    m = f.mean(axis=0) if f.shape[0] else np.array([0.0, 0.0, 1.0])
    return quat_from_two_vectors(m, np.array([0.0, 0.0, 1.0]))


def yaw_of(q: np.ndarray) -> np.ndarray:
    """Heading (rad) of orientations (..., 4): yaw of ``R = Rz Ry Rx``."""
    q = np.asarray(q, float)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.arctan2(2 * (x * y + w * z), 1 - 2 * (y * y + z * z))


def rotate_heading(q: np.ndarray, yaw_rad: float) -> np.ndarray:
    """Orientations turned about the world vertical by ``yaw_rad``."""
    h = np.array([np.cos(0.5 * yaw_rad), 0.0, 0.0, np.sin(0.5 * yaw_rad)])
    return qmul(h, np.asarray(q, float))


def interp_quat(t_new: np.ndarray, t: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Orientations at times ``t_new`` by component-wise linear interpolation of sign-continuous
    quaternions, renormalised (accurate at sample spacing)."""
    q = np.array(q, float, copy=True)
    if q.shape[0] > 1:
        flip = np.cumsum(np.sum(q[1:] * q[:-1], axis=1) < 0) % 2 == 1
        q[1:][flip] *= -1
    t_new = np.asarray(t_new, float)
    out = np.empty(t_new.shape + (4,))
    for k in range(4):
        out[..., k] = np.interp(t_new, t, q[:, k])
    return qnormalize(out)
