"""The independent evaluation pictures (train.independent) from a tiny fake wheel: no downloads."""

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from train import independent


def _fake_wheel(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, image in members.items():
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            archive.writestr(name, buffer.getvalue())
    return path


def test_extract_flattens_alpha_onto_white_and_names_the_file_by_kind(tmp_path):
    rgba = np.zeros((30, 50, 4), dtype=np.uint8)
    rgba[10:20, 10:40] = (200, 30, 30, 255)  # an opaque red bar on a transparent page
    wheel = _fake_wheel(tmp_path / "pkg-1.0-py3-none-any.whl", {"pkg/data/bar.png": Image.fromarray(rgba, "RGBA")})
    out = tmp_path / "out"
    out.mkdir()
    entry = independent.extract(wheel, "pkg/data/bar.png", "pkg", "clipart", out)
    assert entry["file"] == "clipart_pkg-bar.png" and (entry["width"], entry["height"]) == (50, 30)
    rgb = np.asarray(Image.open(out / entry["file"]))
    assert rgb.shape == (30, 50, 3)  # native size, RGB
    assert tuple(rgb[0, 0]) == (255, 255, 255) and tuple(rgb[15, 20]) == (200, 30, 30)


def test_kinds_lists_files_per_kind_only_once_written(tmp_path):
    assert independent.kinds(tmp_path) == {}
    for name in ("photo_a-x.png", "photo_b-y.png", "clipart_c-z.png"):
        Image.new("RGB", (8, 8)).save(tmp_path / name)
    assert independent.kinds(tmp_path) == {}  # no manifest: not written by main
    (tmp_path / "independent.json").write_text(json.dumps({}))
    found = independent.kinds(tmp_path)
    assert list(found) == ["photo", "clipart"] and [p.name for p in found["photo"]] == ["photo_a-x.png", "photo_b-y.png"]


def test_a_wheel_in_the_cache_is_not_downloaded_again(tmp_path, monkeypatch):
    wheel = tmp_path / "wheels" / "scikit_image-0.26.0-cp311-cp311-manylinux.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"")

    def no_pip(*args, **kwargs):
        raise AssertionError("pip must not run")

    monkeypatch.setattr(independent.subprocess, "run", no_pip)
    assert independent.fetch_wheel("scikit-image", "0.26.0", tmp_path) == wheel


def test_every_listed_picture_has_a_known_kind_and_a_distinct_file():
    assert set(independent.KINDS) == {"photo", "science", "clipart"}
    assert {package for package, _, _ in independent.PICTURES} == set(independent.WHEELS)  # a version for each
    names = [f"{kind}_{package}-{member.rsplit('/', 1)[1].rsplit('.', 1)[0]}" for package, member, kind in independent.PICTURES]
    assert len(set(names)) == len(names)
    # the app's examples are emoji and the corpus has openclipart: neither may come in as independent
    assert not any("emoji" in member.lower() or "Minduka" in member for _, member, _ in independent.PICTURES)


@pytest.mark.parametrize("kind", ["photo", "science", "clipart"])
def test_each_kind_has_pictures(kind):
    assert any(k == kind for *_, k in independent.PICTURES)


def test_a_failed_download_is_one_error_line_and_no_manifest(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORIZER_CACHE", str(tmp_path / "cache"))

    class Failed:
        returncode, stdout, stderr = 1, "", "ERROR: No matching distribution found for scikit-image==0.26.0"

    monkeypatch.setattr(independent.subprocess, "run", lambda *a, **k: Failed())
    assert independent.main(["--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: scikit-image") and "No matching distribution" in err and "\n" not in err
    assert independent.kinds(tmp_path / "out") == {}
