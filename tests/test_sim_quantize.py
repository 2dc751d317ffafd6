"""Range saturation and int16 quantisation shared by the firmware and the simulator."""

from __future__ import annotations

import numpy as np

from runform.sensors.quantize import acc_lsb_mps2, dequantize_imu, gyr_lsb_dps, quantize_imu
from runform.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2


def test_scale_rounding_and_saturation():
    g = STANDARD_GRAVITY_MPS2
    acc = np.array([[1 * g, -1 * g, 0.0], [16 * g, -16 * g, 100 * g], [0.4 * acc_lsb_mps2(16), 0.6 * acc_lsb_mps2(16), np.nan]])
    gyr = np.array([[1000.0, -2000.0, 0.0], [5000.0, -5000.0, 0.0], [0.49 * gyr_lsb_dps(2000), -0.51 * gyr_lsb_dps(2000), 0.0]]) * RAD_PER_DEG
    ac, gc = quantize_imu(acc, gyr, 16, 2000)
    assert ac.dtype == np.int16 and gc.dtype == np.int16
    assert ac[0].tolist() == [2048, -2048, 0]
    assert ac[1].tolist() == [32767, -32768, 32767]  # saturation
    assert ac[2].tolist() == [0, 1, 0]  # round to nearest; NaN -> 0
    assert gc[0].tolist() == [16384, -32768, 0]
    assert gc[1].tolist() == [32767, -32768, 0]
    assert gc[2].tolist() == [0, -1, 0]


def test_dequantize_inverts_within_half_an_lsb():
    rng = np.random.default_rng(0)
    acc = rng.uniform(-30, 30, (1000, 3))
    gyr = rng.uniform(-20, 20, (1000, 3))
    ac, gc = quantize_imu(acc, gyr, 32, 2000)
    a, w_dps = dequantize_imu(ac, gc, 32, 2000)
    assert np.abs(a - acc).max() <= 0.5 * acc_lsb_mps2(32) + 1e-12
    assert np.abs(w_dps * RAD_PER_DEG - gyr).max() <= 0.5 * gyr_lsb_dps(2000) * RAD_PER_DEG + 1e-12
