"""The gait core: pure signal processing, no I/O, no asyncio.

Blocks of samples in, events and strides out. The same objects run live and offline.
Entry point: :class:`SessionProcessor` (with :class:`SensorSpec`, :class:`CoreParams`).
"""

from .params import CoreParams, SensorSpec
from .processor import CalibrationOutput, CoreOutput, EventOutput, SessionProcessor, ShockOutput, StrideOutput

__all__ = ["CalibrationOutput", "CoreOutput", "CoreParams", "EventOutput", "SensorSpec", "SessionProcessor", "ShockOutput", "StrideOutput"]
