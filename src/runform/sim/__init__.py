"""The virtual runner: a kinematic model of a runner's legs, the IMU signals it produces and
its exact ground truth. Drives ``runform simulate``, ``runform demo`` and the accuracy
benchmarks. docs/virtual-runner.md describes the model."""

from .link import LinkEffects
from .profiles import PROFILES, ProfileError, RunnerParams, make_params
from .runner import VirtualRunner
from .sensor_model import SensorInfo

__all__ = ["VirtualRunner", "RunnerParams", "PROFILES", "make_params", "ProfileError", "LinkEffects", "SensorInfo"]
