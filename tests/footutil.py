"""A helper shared by the foot tracker's tests: its samples streamed in pushes as a live session
receives them."""

from __future__ import annotations

import numpy as np

from runform.core.foot import FootEvent, FootTracker


def ic_pushes(t, acc, gyr, rate: float, block: int) -> np.ndarray:
    """(IC time s, decided sample index, publication time s) of every IC when the samples arrive
    ``block`` at a time: publication is the time of the last sample of the push that published
    the IC (what a live user waits for, the block's own length included)."""
    tr = FootTracker(rate)
    out = []
    for s in range(0, len(t), block):
        e = min(len(t), s + block)
        out += [(o.time_s, o.decided_sample_index, t[e - 1]) for o in tr.push(t[s:e], acc[s:e], gyr[s:e])
                if isinstance(o, FootEvent) and o.kind == "ic"]
    return np.array(out, dtype=float).reshape(-1, 3)
