"""A sensor's own calibration (scale, cross-axis, offsets) where the core and the commands use it:
the core's entry for any partition into pushes, the calibration file, ``runform analyze
--imu-calibration`` and the refusals of a file that is wrong or of another sensor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runform.cli import main
from runform.core import SensorSpec, SessionProcessor
from runform.core.imu_correction import ImuCorrection
from runform.imu_file import ImuEntry, ImuFileError, corrections_for, load_imu_file, save_imu_entries
from runform.store.sessiondir import write_raw_csv
from test_core_synth import make_recording

REC = make_recording(duration_s=14.0, seed=5, placements=("left_foot", "left_shank"))
ANGLES = ("peak_eversion_deg", "eversion_excursion_deg", "tibial_inclination_at_ic_deg", "foot_strike_angle_deg")


def distortion(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A sensor's (I + S) and offsets, a few times the size of a consumer part's."""
    rng = np.random.default_rng(seed)
    return (np.eye(3) + rng.normal(scale=0.02, size=(3, 3)), rng.normal(scale=0.3, size=3),
            np.eye(3) + rng.normal(scale=0.02, size=(3, 3)), rng.normal(scale=0.02, size=3))


DIST = {p: distortion(k) for k, p in enumerate(REC.raw)}


def distorted(p: str) -> tuple[np.ndarray, np.ndarray]:
    sa, ba, sg, bg = DIST[p]
    a, g = REC.raw[p]
    return a @ sa.T + ba, g @ sg.T + bg


def exact_correction(p: str) -> ImuCorrection:
    sa, ba, sg, bg = DIST[p]
    return ImuCorrection(np.linalg.inv(sa), ba, np.linalg.inv(sg), bg)


def strides(raw: dict, imu: dict | None = None, block: int | None = None, sizes=None) -> list[dict]:
    specs = {p: SensorSpec(rate_hz=REC.rate_hz, imu=(imu or {}).get(p)) for p in raw}
    proc = SessionProcessor(specs)
    n = REC.time_s.size
    rows, s, k = [], 0, 0
    while s < n:
        b = block or sizes[k % len(sizes)]
        for p, (a, g) in raw.items():
            rows += [o.row for o in proc.push(p, REC.time_s[s:s + b], a[s:s + b], g[s:s + b]) if hasattr(o, "row")]
        s, k = s + b, k + 1
    rows += [o.row for o in proc.finish() if hasattr(o, "row")]
    return rows


def angle_matrix(rows: list[dict]) -> np.ndarray:
    return np.array([[np.nan if r[c] is None else float(r[c]) for c in ANGLES] for r in rows if r["valid"]])


def test_the_core_undoes_a_sensor_error_it_is_given_the_correction_of():
    clean = strides(dict(REC.raw), block=400)
    bad = strides({p: distorted(p) for p in REC.raw}, block=400)
    fixed = strides({p: distorted(p) for p in REC.raw}, {p: exact_correction(p) for p in REC.raw}, block=400)
    assert len(clean) == len(fixed) >= 12
    a_clean, a_fixed, a_bad = angle_matrix(clean), angle_matrix(fixed), angle_matrix(bad)
    assert a_clean.shape == a_fixed.shape
    np.testing.assert_allclose(a_fixed, a_clean, atol=1e-6)
    # the distortion itself is visible without the correction (else this test could not fail)
    assert a_bad.shape != a_clean.shape or np.nanmax(np.abs(a_bad - a_clean)) > 0.2


def test_the_corrected_strides_do_not_depend_on_the_pushes():
    raw = {p: distorted(p) for p in REC.raw}
    imu = {p: exact_correction(p) for p in REC.raw}
    whole = strides(raw, imu, block=REC.time_s.size)
    ragged = strides(raw, imu, sizes=[1, 7, 3, 64, 2, 130])
    assert len(whole) == len(ragged) >= 12
    for a, b in zip(whole, ragged):
        assert a == b


def test_a_sample_is_corrected_the_same_in_any_block():
    rng = np.random.default_rng(2)
    c = exact_correction("left_foot")
    a, g = rng.normal(scale=30.0, size=(3001, 3)), rng.normal(scale=10.0, size=(3001, 3))
    whole_a, whole_g = c.apply(a, g)
    np.testing.assert_allclose(whole_a, (a - c.acc_bias_mps2) @ c.acc_matrix.T, rtol=0, atol=1e-12)
    cuts = np.cumsum(rng.integers(1, 40, size=200))
    parts = [c.apply(pa, pg) for pa, pg in zip(np.split(a, cuts[cuts < 3001]), np.split(g, cuts[cuts < 3001]))]
    assert np.array_equal(np.vstack([p[0] for p in parts]), whole_a)
    assert np.array_equal(np.vstack([p[1] for p in parts]), whole_g)


def test_status_says_which_correction_is_in_use():
    proc = SessionProcessor({"left_foot": SensorSpec(imu=exact_correction("left_foot")), "left_shank": SensorSpec()})
    st = proc.calibration_status()
    assert st["left_shank"]["imu_correction"] is None
    np.testing.assert_allclose(st["left_foot"]["imu_correction"]["acc_matrix"], exact_correction("left_foot").acc_matrix)


@pytest.mark.parametrize("field, value, words", [
    ("acc_matrix", [[1, 0], [0, 1]], "3x3"),
    ("gyr_matrix", [[57.3, 0, 0], [0, 57.3, 0], [0, 0, 57.3]], "from the identity"),
    ("acc_bias_mps2", [0, 0, float("nan")], "finite"),
    ("gyr_bias_rps", [0, 0, 5.0], "not a sensor offset"),
])
def test_an_implausible_correction_is_refused_with_its_field(field, value, words):
    d = ImuCorrection.identity().to_dict()
    d[field] = value
    with pytest.raises(ValueError, match=field) as e:
        ImuCorrection.from_dict(d)
    assert words in str(e.value)


def test_the_file_keeps_other_sensors_and_replaces_a_placement(tmp_path):
    path = tmp_path / "imu.json"
    c1, c2 = exact_correction("left_foot"), exact_correction("left_shank")
    save_imu_entries(path, {"left_foot": ImuEntry("left_foot", c1, "AA:BB", "t1")})
    save_imu_entries(path, {"left_shank": ImuEntry("left_shank", c2)})
    save_imu_entries(path, {"left_foot": ImuEntry("left_foot", c2, "AA:CC", "t2")})
    got = load_imu_file(path)
    assert sorted(got) == ["left_foot", "left_shank"]
    assert got["left_foot"].address == "AA:CC" and got["left_foot"].calibrated_at == "t2"
    np.testing.assert_allclose(got["left_foot"].correction.gyr_matrix, c2.gyr_matrix)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("text, words", [
    ("{not json", "not JSON"),
    (json.dumps({"sensors": {}}), "not a runform IMU calibration file"),
    (json.dumps({"format": "runform-imu-calibration", "version": 9, "sensors": {}}), "version 9"),
    (json.dumps({"format": "runform-imu-calibration", "version": 1, "sensors": {"left_knee": {}}}), "left_knee"),
    (json.dumps({"format": "runform-imu-calibration", "version": 1, "sensors": {"left_foot": {"correction": {"acc_matrix": [[1, 0, 0]] * 3}}}}),
     "gyr_matrix"),
    # an address that is not text (hand-edited) would crash the sensor check of every session
    (json.dumps({"format": "runform-imu-calibration", "version": 1,
                 "sensors": {"left_foot": {"address": 17, "correction": ImuCorrection.identity().to_dict()}}}), "left_foot.*address"),
])
def test_a_bad_file_is_refused_naming_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "imu.json"
    path.write_text(text)
    with pytest.raises(ImuFileError, match=words):
        load_imu_file(path)


def test_another_sensor_at_the_placement_is_refused():
    entries = {"left_foot": ImuEntry("left_foot", ImuCorrection.identity(), "AA:BB:CC:00:00:01")}
    assert corrections_for(entries, {"left_foot": "aa:bb:cc:00:00:01", "left_shank": None}, "f") == entries
    assert corrections_for(entries, {"left_foot": None}, "f") == entries  # raw CSV: no address to check
    with pytest.raises(ImuFileError, match="AA:BB:CC:00:00:02"):
        corrections_for(entries, {"left_foot": "AA:BB:CC:00:00:02"}, "f")


@pytest.fixture(scope="module")
def distorted_session(tmp_path_factory):
    d = tmp_path_factory.mktemp("imu") / "run1"
    d.mkdir()
    for p in REC.raw:
        a, g = distorted(p)
        write_raw_csv(d / f"raw_{p}.csv", REC.time_s, a, np.degrees(g))
    return d


def test_analyze_uses_the_file_and_says_which_sensor_it_had_none_for(distorted_session, tmp_path, capsys):
    imu = tmp_path / "imu.json"
    save_imu_entries(imu, {"left_foot": ImuEntry("left_foot", exact_correction("left_foot"), None, "t", "lab")})
    assert main(["analyze", str(distorted_session), "--out", str(tmp_path / "a"), "--imu-calibration", str(imu)]) == 0
    assert main(["analyze", str(distorted_session), "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "no IMU calibration for left_shank" in out
    s = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert sorted(s["imu_calibration"]) == ["left_foot"] and s["imu_calibration"]["left_foot"]["source"] == "lab"
    assert s["calibration"]["left_foot"]["imu_correction"] is not None and s["calibration"]["left_shank"]["imu_correction"] is None
    assert "imu_calibration" not in json.loads((tmp_path / "b" / "summary.json").read_text())
    # the correction changed the numbers
    assert (tmp_path / "a" / "strides.csv").read_text() != (tmp_path / "b" / "strides.csv").read_text()


def test_analyze_refuses_a_bad_file_or_another_sensor_before_writing(distorted_session, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["analyze", str(distorted_session), "--out", str(tmp_path / "o1"), "--imu-calibration", str(bad)]) == 2
    assert "not a runform IMU calibration file" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists()
    # a recorded session says which sensor was at each placement
    sess = tmp_path / "rec"
    sess.mkdir()
    for f in distorted_session.iterdir():
        (sess / f.name).write_bytes(f.read_bytes())
    (sess / "session.json").write_text(json.dumps({"sensors": [{"placement": "left_foot", "address": "AA:00"}]}))
    imu = tmp_path / "imu.json"
    save_imu_entries(imu, {"left_foot": ImuEntry("left_foot", exact_correction("left_foot"), "AA:01")})
    assert main(["analyze", str(sess), "--out", str(tmp_path / "o2"), "--imu-calibration", str(imu)]) == 2
    assert "is of sensor AA:01" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()
    assert main(["analyze", str(sess), "--out", str(tmp_path / "o3"), "--imu-calibration", str(imu), "--jobs", "1"]) == 2
    assert "is of sensor AA:01" in capsys.readouterr().err
