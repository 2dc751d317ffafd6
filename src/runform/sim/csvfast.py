"""Fast, exact CSV writing of large numeric tables without per-row Python.

Numbers are written in fixed point with a given number of decimals. Every value becomes a
row of bytes in a padded matrix (NUL where a shorter number has no character), the columns
are joined with commas, and the NULs are dropped in one vectorised step. int16 sensor codes
go through a 65536-entry lookup table of their text. ``numpy.savetxt`` is ~20x slower
(benchmarks/bench_sim.py measures both).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
_COMMA = ord(",")
_NL = ord("\n")
_DOT = ord(".")
_MINUS = ord("-")


def fixed_point_bytes(values: np.ndarray, decimals: int, int_digits: int) -> np.ndarray:
    """(n, 1 + int_digits + 1 + decimals) uint8 text of ``values`` rounded to ``decimals``,
    NUL-padded on the left. Values must fit in ``int_digits`` integer digits."""
    scale = 10 ** decimals
    v = np.rint(np.asarray(values, dtype=float) * scale).astype(np.int64)
    neg = v < 0
    a = np.abs(v)
    ip = a // scale
    fp = a - ip * scale
    if np.any(ip >= 10 ** int_digits):
        raise ValueError(f"value too large for {int_digits} integer digits")
    n = v.size
    out = np.zeros((n, 1 + int_digits + 1 + decimals), dtype=np.uint8)
    # integer digits, most significant first; leading zeros become NUL (except the units)
    started = np.zeros(n, dtype=bool)
    for j in range(int_digits):
        p = 10 ** (int_digits - 1 - j)
        d = (ip // p) % 10
        started |= d > 0
        if j == int_digits - 1:
            started[:] = True
        out[:, 1 + j] = np.where(started, _DIGITS[d], 0)
    # sign just before the first digit: put it in column 0 (NULs between are dropped later)
    out[:, 0] = np.where(neg & (v != 0), _MINUS, 0)
    out[:, 1 + int_digits] = _DOT
    for j in range(decimals):
        p = 10 ** (decimals - 1 - j)
        out[:, 2 + int_digits + j] = _DIGITS[(fp // p) % 10]
    return out


@lru_cache(maxsize=16)
def code_table(lsb: float, decimals: int = 6) -> np.ndarray:
    """(65536, w) uint8 text of ``code * lsb`` for every int16 code (index = code + 32768)."""
    codes = np.arange(-32768, 32768)
    int_digits = max(1, len(str(int(abs(32768 * lsb)))))
    return fixed_point_bytes(codes * lsb, decimals, int_digits)


def join_columns(parts: list[np.ndarray]) -> bytes:
    """CSV text of row-aligned byte matrices (each (n, w_i)), NULs removed."""
    n = parts[0].shape[0]
    sep = np.full((n, 1), _COMMA, dtype=np.uint8)
    nl = np.full((n, 1), _NL, dtype=np.uint8)
    pieces: list[np.ndarray] = []
    for i, p in enumerate(parts):
        pieces.append(p)
        pieces.append(sep if i < len(parts) - 1 else nl)
    mat = np.concatenate(pieces, axis=1)
    flat = mat.reshape(-1)
    return flat[flat != 0].tobytes()


def imu_rows(time_s: np.ndarray, acc_codes: np.ndarray, gyr_codes: np.ndarray, acc_lsb_mps2: float,
             gyr_lsb_dps: float, time_decimals: int = 6) -> bytes:
    """CSV rows ``time_s,acc_x..z (m/s^2),gyr_x..z (deg/s)`` of int16 codes scaled by the LSBs."""
    ta = code_table(acc_lsb_mps2)
    tg = code_table(gyr_lsb_dps)
    parts = [fixed_point_bytes(time_s, time_decimals, 7)]
    parts += [ta[acc_codes[:, j].astype(np.int32) + 32768] for j in range(3)]
    parts += [tg[gyr_codes[:, j].astype(np.int32) + 32768] for j in range(3)]
    return join_columns(parts)


def float_rows(columns: list[np.ndarray], decimals: list[int], int_digits: list[int]) -> bytes:
    """CSV rows of float columns in fixed point."""
    return join_columns([fixed_point_bytes(c, d, k) for c, d, k in zip(columns, decimals, int_digits)])
