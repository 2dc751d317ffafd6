"""Anatomical angle definitions shared by the gait core and the virtual runner.

Frames (right-handed, the same for both legs; docs/conventions.md has the figure in words):

* World frame: z up (against gravity), x along the running direction, y to the left.
* Segment frame of the foot and of the shank, in the standing pose: x anterior, y to the
  left, z up (for the shank: along the tibia towards the knee). A segment orientation ``R``
  maps segment-frame vectors to the world frame.

Segment angles use the Tait-Bryan sequence ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``; the
foot-relative-to-shank (ankle) angles use ``R_shank.T @ R_foot = Ry(flexion) @ Rx(ev) @ Rz(rot)``,
the order of the ISB joint coordinate system (Wu et al. 2002): flexion about the tibia's
mediolateral axis, inversion/eversion about the floating anterior axis, rotation about the
foot's vertical axis.

Mirroring so that one sign means one anatomical motion on both legs (``s = +1`` left,
``s = -1`` right, :func:`runform.placements.mirror_sign`):

* eversion (rolling inward, medial border down) = ``s * roll``
* shank frontal angle (knee medial of the ankle, the valgus direction) = ``s * roll``
* internal rotation (anterior surface turning medially) = ``-s * yaw``
* foot sagittal angle (toes up, dorsiflexion) = ``-pitch``; tibial inclination (ankle in
  front of the knee) = ``-pitch``. No mirroring: the sagittal plane is shared.

All functions take radians and return radians.
"""

from __future__ import annotations

import numpy as np

from .placements import mirror_sign


def tait_bryan_zyx(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yaw, pitch, roll) in rad of rotation matrices ``r`` (..., 3, 3), ``R = Rz Ry Rx``."""
    r = np.asarray(r, dtype=float)
    pitch = np.arcsin(np.clip(-r[..., 2, 0], -1.0, 1.0))
    roll = np.arctan2(r[..., 2, 1], r[..., 2, 2])
    yaw = np.arctan2(r[..., 1, 0], r[..., 0, 0])
    return yaw, pitch, roll


def joint_yxz(r_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flexion, ev, rot) in rad of relative rotations ``r_rel = Ry Rx Rz`` (..., 3, 3)."""
    r_rel = np.asarray(r_rel, dtype=float)
    ev = np.arcsin(np.clip(-r_rel[..., 1, 2], -1.0, 1.0))
    flexion = np.arctan2(r_rel[..., 0, 2], r_rel[..., 2, 2])
    rot = np.arctan2(r_rel[..., 1, 0], r_rel[..., 1, 1])
    return flexion, ev, rot


def foot_sagittal_angle(r_foot: np.ndarray) -> np.ndarray:
    """Foot sagittal angle (rad), positive toes up, of foot orientations (..., 3, 3)."""
    _, pitch, _ = tait_bryan_zyx(r_foot)
    return -pitch


def segment_frontal_angle(r_segment: np.ndarray, leg: str) -> np.ndarray:
    """Frontal-plane angle (rad) of a segment: positive = eversion for the foot, knee medial
    of the ankle for the shank, on both legs."""
    _, _, roll = tait_bryan_zyx(r_segment)
    return mirror_sign(leg) * roll


def segment_internal_rotation(r_segment: np.ndarray, leg: str) -> np.ndarray:
    """Rotation about the vertical (rad), positive internal (anterior surface medially)."""
    yaw, _, _ = tait_bryan_zyx(r_segment)
    return -mirror_sign(leg) * yaw


def tibial_inclination(r_shank: np.ndarray) -> np.ndarray:
    """Shank sagittal inclination from vertical (rad), positive with the ankle anterior to
    the knee (as at initial contact when overstriding)."""
    _, pitch, _ = tait_bryan_zyx(r_shank)
    return -pitch


def rearfoot_eversion(r_shank: np.ndarray, r_foot: np.ndarray, leg: str) -> np.ndarray:
    """Rearfoot eversion (rad): foot relative to shank about the floating anterior axis,
    positive = eversion (pronation) on both legs."""
    r_rel = np.swapaxes(np.asarray(r_shank, dtype=float), -1, -2) @ np.asarray(r_foot, dtype=float)
    _, ev, _ = joint_yxz(r_rel)
    return mirror_sign(leg) * ev
