"""The corpus builder (train.corpus, train.corpus_images) on a tiny fake Debian package: no downloads."""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile

import numpy as np
import pytest
from PIL import Image

from colorizer.metrics import colorfulness
from train import corpus
from train.debian import fetch
from train.corpus_images import (MIN_COLORFULNESS, MIN_CONTENT, background_for, dhash, near_duplicate, prepare,
                                 split_of)
from train.data import load_source

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")


def _smooth(seed, size=160):
    """A colorful, smooth size x size RGB image (a random 6 x 6 color grid, bilinearly enlarged)."""
    grid = np.random.default_rng(seed).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(grid).resize((size, size), Image.Resampling.BILINEAR))


def _png(array, mode=None):
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def _cutout(size=200, radius=60, color=(220, 30, 30)):
    """RGBA: an opaque disc of ``color`` on a fully transparent square."""
    yy, xx = np.mgrid[:size, :size]
    inside = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < radius**2
    rgba = np.zeros((size, size, 4), dtype=np.uint8)
    rgba[inside] = (*color, 255)
    return rgba


def test_split_depends_on_the_content_hash_only():
    low, high = "00000000" + "f" * 56, "ffffffff" + "0" * 56
    assert split_of(low, 0.1) == "test" and split_of(high, 0.1) == "train"
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(4000)]
    splits = [split_of(h, 0.1) for h in hashes]
    assert splits == [split_of(h, 0.1) for h in hashes]  # deterministic
    assert 0.08 < splits.count("test") / len(splits) < 0.12  # about the asked fraction
    # a larger fraction only moves files from train to test, never back
    assert all(split_of(h, 0.4) == "test" for h, s in zip(hashes, splits) if s == "test")


def test_colorful_opaque_image_is_kept_as_one_square():
    prepared = prepare(_png(_smooth(0)), 64)
    assert prepared.reason is None and len(prepared.images) == 1
    assert prepared.images[0].shape == (64, 64, 3) and prepared.images[0].dtype == np.uint8


def test_near_gray_and_tiny_images_are_dropped():
    gray = np.repeat(_smooth(1)[..., :1], 3, axis=-1)
    assert prepare(_png(gray), 64).reason == "near_gray"
    faint = (gray.astype(int) + [3, 0, -2]).clip(0, 255).astype(np.uint8)  # a barely tinted gray
    assert colorfulness(faint) < MIN_COLORFULNESS and prepare(_png(faint), 64).reason == "near_gray"
    small = MIN_CONTENT - 1
    assert prepare(_png(_smooth(2, small)), 64).reason == "tiny"
    # a tiny object on a large transparent canvas is tiny too: what counts is the visible content
    assert prepare(_png(_cutout(size=300, radius=small // 2 - 1), "RGBA"), 64).reason == "tiny"
    assert prepare(_png(np.zeros((100, 100, 4), np.uint8), "RGBA"), 64).reason == "empty"
    assert prepare(b"not an image", 64).reason == "undecodable"


def test_alpha_is_flattened_onto_the_seeded_background():
    data = _png(_cutout(), "RGBA")
    sha = hashlib.sha256(data).hexdigest()
    prepared = prepare(data, 64, sha256_hex=sha)
    assert prepared.transparent and prepared.reason is None
    image = prepared.images[0]
    assert prepared.background == background_for(sha)
    assert tuple(image[0, 0]) == prepared.background  # corner: background only
    assert np.abs(image[32, 32].astype(int) - (220, 30, 30)).max() <= 2  # centre: the opaque disc, unchanged
    # cropped to the disc, padded by a small margin: the disc fills most of the square
    assert (np.abs(image.astype(int) - (220, 30, 30)).max(axis=-1) <= 2).mean() > 0.6
    # the background is white for about half of the files and plain random colors otherwise, the same every time
    backgrounds = [background_for(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(400)]
    assert backgrounds == [background_for(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(400)]
    assert 0.4 < backgrounds.count((255, 255, 255)) / 400 < 0.6 and len(set(backgrounds)) > 150


def test_large_photos_give_multiscale_crops():
    photo = np.asarray(Image.fromarray(_smooth(3)).resize((1200, 600)))
    images = prepare(_png(photo), 32, crops=True).images
    # sides 600 (2 x 1 grid) and 300 (4 x 2); 150 is below the smallest crop side
    assert len(images) == 2 + 8
    assert len(prepare(_png(photo), 32).images) == 2  # without crops: squares along the long side


def test_near_duplicates_are_found_by_the_gray_hash():
    image = _smooth(4)
    brighter = (image.astype(int) + 2).clip(0, 255).astype(np.uint8)
    kept = np.stack([np.frombuffer(dhash(im), dtype=np.uint8) for im in (_smooth(5), image)])
    assert near_duplicate(dhash(brighter), kept) == 1
    assert near_duplicate(dhash(_smooth(6)), kept) == -1
    assert near_duplicate(dhash(image), kept[:0]) == -1


def _fake_package(tmp_path):
    """A .deb built with dpkg-deb holding 12 colorful pictures, one exact and one near duplicate, a gray,
    a tiny and a transparent image, and a file outside the include pattern."""
    root = tmp_path / "pkg"
    pictures = root / "usr/share/pics"
    (pictures / "sub").mkdir(parents=True)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text("Package: fake-art\nVersion: 1.0-1\nArchitecture: all\n"
                                         "Maintainer: Nobody <nobody@example.org>\nDescription: test pictures\n")
    for i in range(12):
        (pictures / f"p{i:02d}.png").write_bytes(_png(_smooth(10 + i)))
    (pictures / "sub/copy.png").write_bytes(_png(_smooth(10)))  # exact duplicate of p00
    (pictures / "sub/brighter.png").write_bytes(_png((_smooth(11).astype(int) + 2).clip(0, 255).astype(np.uint8)))
    (pictures / "gray.png").write_bytes(_png(np.repeat(_smooth(40)[..., :1], 3, axis=-1)))
    (pictures / "tiny.png").write_bytes(_png(_smooth(41, 20)))
    (pictures / "cutout.png").write_bytes(_png(_cutout(), "RGBA"))
    (root / "usr/share/icon.png").write_bytes(_png(_smooth(42)))  # not under the include pattern
    cache = tmp_path / "cache"
    (cache / "debs").mkdir(parents=True)
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(cache / "debs/fake-art_1.0-1_all.deb")],
                   check=True, capture_output=True)
    return cache, corpus.Source("fake-art", "clipart", "test", ("usr/share/pics/**.png",), test_fraction=0.3)


@needs_dpkg
def test_build_from_a_fake_deb_writes_what_the_loader_reads(tmp_path):
    cache, source = _fake_package(tmp_path)
    root, version = fetch("fake-art", cache)  # the .deb is there already: nothing is downloaded
    assert version == "1.0-1" and (root / "usr/share/pics/p00.png").exists()
    items, stats = corpus.build([source], {"fake-art": root}, 32, workers=1, log=lambda *a: None)
    count = stats["fake-art"]
    assert count["files"] == 17
    assert (count["exact_duplicate"], count["near_duplicate"], count["near_gray"], count["tiny"]) == (1, 1, 1, 1)
    assert count["kept"] == 13 == count["train_files"] + count["test_files"] == len(items)
    assert count["test_files"] > 0 and count["train_files"] > 0
    # each file's split is its content hash's, whatever else is in the package
    for split, package, stem, _ in items:
        file_hash = next(hashlib.sha256(p.read_bytes()).hexdigest() for p in (root / "usr/share/pics").rglob("*.png")
                         if hashlib.sha256(p.read_bytes()).hexdigest().startswith(stem))
        assert split == split_of(file_hash, 0.3) and package == "fake-art"

    archive = tmp_path / "corpus-32.tar.gz"
    corpus.write_archive(items, archive)
    first = archive.read_bytes()
    corpus.write_archive(items, archive)
    assert archive.read_bytes() == first  # a rebuild is byte-identical
    for split in ("train", "test"):
        loaded = load_source(archive, split, 32, cache_dir=tmp_path / "data-cache")
        expected = sorted(f"fake-art_{stem}.png" for s, _, stem, _ in items if s == split)
        assert loaded.names == expected and loaded.images.shape == (len(expected), 32, 32, 3)
    small = tmp_path / "corpus-16.tar.gz"
    corpus.write_archive(items, small, 16)
    assert load_source(small, "train", None, cache_dir=tmp_path / "data-cache").images.shape[1:] == (16, 16, 3)


@needs_dpkg
def test_main_writes_archives_and_a_manifest(tmp_path, monkeypatch, capsys):
    cache, source = _fake_package(tmp_path)
    monkeypatch.setenv("COLORIZER_CACHE", str(cache))
    monkeypatch.setattr(corpus, "SOURCES", (source,))
    assert corpus.main(["--out", str(tmp_path / "out"), "--sizes", "32", "16", "--workers", "1"]) == 0
    manifest = json.loads((tmp_path / "out/corpus.json").read_text())
    entry = manifest["sources"]["fake-art"]
    assert entry["version"] == "1.0-1" and entry["kind"] == "clipart" and entry["kept"] == 13
    with tarfile.open(tmp_path / "out/corpus-16.tar.gz") as tar:
        assert len(tar.getnames()) == 13
    assert "| fake-art | clipart | 1.0-1 |" in capsys.readouterr().out


@needs_dpkg
def test_sketch_eval_prepares_the_clip_art_test_files_at_a_size_the_archives_lack(tmp_path, monkeypatch):
    from train.sketch_eval import corpus_clip_art

    cache, source = _fake_package(tmp_path)
    monkeypatch.setenv("COLORIZER_CACHE", str(cache))
    monkeypatch.setattr(corpus, "SOURCES", (source,))
    root, _ = fetch("fake-art", cache)
    items, _ = corpus.build([source], {"fake-art": root}, 48, workers=1, log=lambda *a: None)
    expected = np.stack([image for split, _, _, image in items if split == "test"])
    assert not (cache / "corpus/corpus-48.tar.gz").exists()
    images = corpus_clip_art(48)  # no archive of that size: the same test files, prepared at 48 px
    assert images.shape == expected.shape and np.array_equal(images, expected)
    assert len(corpus_clip_art(48, limit=1)) == 1


def test_kinds_name_the_photo_and_clipart_sources():
    photos, cliparts = corpus.sources_of_kind("photo"), corpus.sources_of_kind("clipart")
    assert photos and cliparts and not set(photos) & set(cliparts)
    assert set(photos) | set(cliparts) == {s.package for s in corpus.SOURCES}
    with pytest.raises(ValueError):
        corpus.sources_of_kind("emoji")


@needs_dpkg
def test_a_later_archive_leaves_the_corpus_as_it_was_and_reads_qt_bundles(tmp_path, monkeypatch):
    from .test_rcc import _bundle

    cache, source = _fake_package(tmp_path)
    root = tmp_path / "bundled"
    (root / "usr/share/app").mkdir(parents=True)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text("Package: fake-bundled\nVersion: 2.0-1\nArchitecture: all\n"
                                         "Maintainer: Nobody <nobody@example.org>\nDescription: bundled pictures\n")
    pictures = {f"app/pics/b{i}.png": _png(_smooth(60 + i)) for i in range(4)}
    pictures["app/pics/copy.png"] = _png(_smooth(10))  # the corpus's p00: an exact duplicate across archives
    (root / "usr/share/app/pics.rcc").write_bytes(_bundle(pictures, compress={"app/pics/b0.png"}))
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(cache / "debs/fake-bundled_2.0-1_all.deb")],
                   check=True, capture_output=True)
    later = corpus.Source("fake-bundled", "photo", "test", ("*/app/pics/*.png",), archive="later", rcc=True)
    monkeypatch.setenv("COLORIZER_CACHE", str(cache))
    monkeypatch.setattr(corpus, "SOURCES", (source,))
    assert corpus.main(["--out", str(tmp_path / "alone"), "--sizes", "16", "--workers", "1"]) == 0
    monkeypatch.setattr(corpus, "SOURCES", (source, later))
    assert corpus.archives() == ["corpus", "later"]
    assert corpus.main(["--out", str(tmp_path / "both"), "--sizes", "16", "--workers", "1"]) == 0
    assert (tmp_path / "both/corpus-16.tar.gz").read_bytes() == (tmp_path / "alone/corpus-16.tar.gz").read_bytes()
    with tarfile.open(tmp_path / "both/later-16.tar.gz") as tar:
        assert len(tar.getnames()) == 4 and all("/fake-bundled/" in name for name in tar.getnames())
    entry = json.loads((tmp_path / "both/corpus.json").read_text())["sources"]["fake-bundled"]
    assert (entry["archive"], entry["kept"], entry["exact_duplicate"]) == ("later", 4, 1)
