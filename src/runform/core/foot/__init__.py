"""Foot-IMU processing: gait events (IC, toe-off, mid-stance), foot orientation and stride
length, streaming. Pure (no I/O); input samples are in the foot segment frame.

Public API: :class:`FootTracker`, :class:`FootParams`, :class:`FootEvent`, :class:`FootStride`,
:func:`principal_rotation_axis` (in :mod:`runform.core.foot.axes`).
"""

from .axes import principal_rotation_axis
from .outputs import FootEvent, FootOutput, FootStride
from .params import FootParams
from .tracker import FootTracker

__all__ = [
    "FootEvent",
    "FootOutput",
    "FootParams",
    "FootStride",
    "FootTracker",
    "principal_rotation_axis",
]
