"""Physical constants and unit conversions used at the edges.

Inside runform everything is SI: s, m, m/s^2, rad/s, rad. Degrees and g appear only at the
edges (CSV columns, dashboard, CLI), and then the unit is part of the name.
"""

from __future__ import annotations

import math

#: standard gravity, m/s^2 (used to convert g <-> m/s^2 everywhere)
STANDARD_GRAVITY_MPS2 = 9.80665
DEG_PER_RAD = 180.0 / math.pi
RAD_PER_DEG = math.pi / 180.0
US_PER_S = 1_000_000
MS_PER_S = 1000.0
