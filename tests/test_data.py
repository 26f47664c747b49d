"""Tests of train.data on tiny generated sources (folders, .tar.gz, .zip); never reads ../shared/data."""

import io
import json
import tarfile
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from train import data
from train.data import DataError, ImageSet, content_key, default_cache_dir, load_source, load_sources, source_name

CIFAR_CLASSES = {"cat": 3, "dog": 3}  # files 0000.jpg .. 0002.jpg in each class, both splits
LINNAEUS_FILES = {"train": ["1_32.png", "2_32.png", "3_32.png"], "test": ["7_32.png", "8_32.png", "9_32.png"]}


def pattern(seed, width=32, height=32):
    """A smooth colourful uint8 RGB image (JPEG keeps it close), height x width x 3."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    phase = rng.random(3) * 6
    rgb = 0.5 + 0.5 * np.sin(4 * xx[..., None] + 3 * yy[..., None] + phase)
    return (rgb * 255).astype(np.uint8)


def make_cifar(root):
    """CIFAR-like tree: <split>/<class>/0000.jpg, names repeat across classes; train/dog/0001.jpg is 40x24."""
    for split in ("train", "test"):
        for c, (cls, n) in enumerate(CIFAR_CLASSES.items()):
            (root / split / cls).mkdir(parents=True)
            for i in range(n):
                size = (40, 24) if (split, cls, i) == ("train", "dog", 1) else (32, 32)
                Image.fromarray(pattern(100 * c + i + (split == "test") * 50, *size)).save(root / split / cls / f"{i:04d}.jpg", quality=95)
    (root / "README.txt").write_text("not an image")
    (root / "train" / "cat" / "labels.csv").write_text("ignored")
    return root


def make_linnaeus(root):
    """Linnaeus-like tree: <split>/<class>/N_32.png, one palette and one gray-with-alpha image."""
    for split, files in LINNAEUS_FILES.items():
        for c, cls in enumerate(("berry", "bird")):
            (root / split / cls).mkdir(parents=True)
            for i, name in enumerate(files):
                im = Image.fromarray(pattern(1000 + 10 * c + i))
                im = im.convert("P") if i == 1 else im.convert("LA") if i == 2 else im
                im.save(root / split / cls / name)
    return root


def make_tar(folder, target, top=""):
    """A .tar.gz of ``folder`` with directory entries, optionally inside one top-level folder."""
    with tarfile.open(target, "w:gz") as tf:
        tf.add(folder, arcname=top or ".", recursive=True)
    return target


def make_zip(folder, target, top=""):
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(folder.rglob("*")):
            arcname = "/".join(filter(None, [top, path.relative_to(folder).as_posix()]))
            zf.write(path, arcname + ("/" if path.is_dir() else ""))
    return target


@pytest.fixture
def cifar(tmp_path):
    return make_cifar(tmp_path / "cifar")


@pytest.fixture
def linnaeus(tmp_path):
    return make_linnaeus(tmp_path / "linnaeus")


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_names_shapes_and_order(cifar, cache):
    s = load_source(cifar, "train", cache_dir=cache)
    assert s.names == ["cat_0000.jpg", "cat_0001.jpg", "cat_0002.jpg", "dog_0000.jpg", "dog_0001.jpg", "dog_0002.jpg"]
    assert s.images.shape == (6, 32, 32, 3) and s.images.dtype == np.uint8 and s.images.flags.c_contiguous
    assert s.sources == ["cifar"] * 6 and len(s) == 6
    # JPEG at quality 95 stays close to the pixels it was made from
    assert np.abs(s.images[0].astype(int) - pattern(0)).mean() < 4


def test_split_selection(cifar, linnaeus, cache):
    test = load_source(cifar, "test", cache_dir=cache)
    assert len(test) == 6 and not np.array_equal(test.images, load_source(cifar, "train", cache_dir=cache).images)
    assert load_source(linnaeus, "test", cache_dir=cache).names[:3] == ["berry_7_32.png", "berry_8_32.png", "berry_9_32.png"]


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_bad_split_is_a_value_error(cifar, cache, split):
    with pytest.raises(ValueError, match="split"):
        load_source(cifar, split, cache_dir=cache)
    assert not cache.exists()


@pytest.mark.parametrize("kind", ["tar", "tar-top", "zip", "zip-top", "tgz"])
def test_archives_match_the_folder(tmp_path, cifar, linnaeus, cache, kind):
    for folder in (cifar, linnaeus):
        top = "wrapped" if kind.endswith("-top") else ""
        suffix = {"tar": ".tar.gz", "zip": ".zip", "tgz": ".tgz"}[kind.split("-")[0]]
        archive = tmp_path / f"{folder.name}{suffix}"
        (make_zip if suffix == ".zip" else make_tar)(folder, archive, top)
        for split in ("train", "test"):
            a, b = load_source(folder, split, cache_dir=cache), load_source(archive, split, cache_dir=cache)
            assert a.names == b.names and np.array_equal(a.images, b.images)
            assert b.sources == [folder.name] * len(b)


def test_resize_and_native_size(cifar, linnaeus, cache):
    odd = Image.open(cifar / "train" / "dog" / "0001.jpg").convert("RGB")
    assert odd.size == (40, 24)
    s = load_source(cifar, "train", cache_dir=cache)
    assert np.array_equal(s.images[4], np.asarray(odd.resize((32, 32), Image.Resampling.LANCZOS)))
    small = load_source(linnaeus, "train", size=16, cache_dir=cache)
    assert small.images.shape == (6, 16, 16, 3)
    # the 2x reduction is antialiased: close to the 2x2 block mean
    full = load_source(linnaeus, "train", cache_dir=cache).images.astype(float)
    blocks = full.reshape(6, 16, 2, 16, 2, 3).mean(axis=(2, 4))
    assert np.abs(small.images - blocks).mean() < 3
    # native size: fine when all agree, a DataError naming both sizes when not
    assert load_source(linnaeus, "train", size=None, cache_dir=cache).images.shape == (6, 32, 32, 3)
    with pytest.raises(DataError, match="40x24"):
        load_source(cifar, "train", size=None, cache_dir=cache)
    assert load_source(cifar, "test", size=None, cache_dir=cache).images.shape == (6, 32, 32, 3)


def test_modes_become_rgb(linnaeus, cache):
    s = load_source(linnaeus, "train", cache_dir=cache)
    gray = s.images[s.names.index("berry_3_32.png")]  # saved as LA
    assert np.array_equal(gray[..., 0], gray[..., 1]) and np.array_equal(gray[..., 1], gray[..., 2])


def test_pooled_order(cifar, linnaeus, cache):
    a, b = load_source(cifar, "train", cache_dir=cache), load_source(linnaeus, "train", cache_dir=cache)
    pooled = load_sources([linnaeus, cifar], "train", cache_dir=cache)
    assert pooled.names == b.names + a.names
    assert pooled.sources == ["linnaeus"] * 6 + ["cifar"] * 6
    assert np.array_equal(pooled.images, np.concatenate([b.images, a.images])) and pooled.images.flags.c_contiguous
    sub = pooled.subset([7, 0])
    assert sub.names == [a.names[1], b.names[0]] and np.array_equal(sub.images[0], a.images[1])


def test_pooled_collision_names_both_files(tmp_path, cifar, cache):
    copy = make_tar(cifar, tmp_path / "copy.tar.gz", top="cifar")
    with pytest.raises(DataError) as err:
        load_sources([cifar, copy], "train", cache_dir=cache)
    message = str(err.value)
    assert "cat_0000.jpg" in message and str(cifar) in message and str(copy) in message
    assert "train/cat/0000.jpg" in message and "cifar/train/cat/0000.jpg" in message


def test_collision_within_a_source(tmp_path, cache):
    root = tmp_path / "clash"
    for cls, file in (("a_b", "c.png"), ("a", "b_c.png")):
        (root / "train" / cls).mkdir(parents=True)
        Image.fromarray(pattern(1)).save(root / "train" / cls / file)
    with pytest.raises(DataError, match=r"a_b_c\.png") as err:
        load_source(root, "train", cache_dir=cache)
    assert "train/a_b/c.png" in str(err.value) and "train/a/b_c.png" in str(err.value)


def test_cache_hit_is_fast_and_identical(cifar, cache, monkeypatch):
    archive = make_tar(cifar, cifar.parent / "cifar.tar.gz")
    first = load_source(archive, "train", cache_dir=cache)
    files = sorted(p.name for p in cache.iterdir())
    key = content_key(archive)[:16]
    assert files == [f"cifar-train-32-{key}.json", f"cifar-train-32-{key}.npy"]
    assert np.load(cache / files[1], allow_pickle=False).shape == (6, 32, 32, 3)

    def no_decoding(*args):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(data, "decode_split", no_decoding)
    start = time.perf_counter()
    second = load_source(archive, "train", cache_dir=cache)
    assert time.perf_counter() - start < 1.0
    assert second.names == first.names and np.array_equal(second.images, first.images)
    assert second.images.flags.writeable  # read into memory, not a read-only map


def test_changed_archive_is_decoded_afresh(tmp_path, cifar, cache):
    archive = make_tar(cifar, tmp_path / "cifar.tar.gz")
    key, before = content_key(archive), load_source(archive, "train", cache_dir=cache)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(cifar / "train" / "cat" / "0000.jpg")
    make_tar(cifar, archive)
    assert content_key(archive) != key
    after = load_source(archive, "train", cache_dir=cache)
    assert after.images[0].max() < 10 and before.images[0].max() > 100
    assert np.array_equal(after.images[1:], before.images[1:])
    assert len(list(cache.glob("*.npy"))) == 2


def test_folder_key_follows_its_images(cifar):
    key = content_key(cifar)
    (cifar / "notes.md").write_text("not an image")
    assert content_key(cifar) == key
    (cifar / "train" / "cat" / "0003.png").write_bytes((cifar / "train" / "cat" / "0000.jpg").read_bytes())
    assert content_key(cifar) != key


@pytest.mark.parametrize("damage", ["garbage", "truncate", "json", "shape"])
def test_corrupt_cache_is_rebuilt(cifar, cache, damage):
    good = load_source(cifar, "train", cache_dir=cache)
    npy, meta = next(cache.glob("*.npy")), next(cache.glob("*.json"))
    if damage == "garbage":
        npy.write_bytes(b"\x93NUMPY nonsense")
    elif damage == "truncate":
        npy.write_bytes(npy.read_bytes()[:1000])
    elif damage == "json":
        meta.write_text("{")
    else:
        np.save(npy, np.zeros((2, 32, 32, 3), np.uint8))
    again = load_source(cifar, "train", cache_dir=cache)
    assert again.names == good.names and np.array_equal(again.images, good.images)
    assert np.array_equal(np.load(npy, allow_pickle=False), good.images)  # rewritten
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*"))


@pytest.mark.parametrize("as_archive", [False, True])
def test_corrupt_image_names_the_member(tmp_path, cifar, cache, as_archive):
    (cifar / "train" / "dog" / "0002.jpg").write_bytes(b"this is no jpeg")
    source = make_zip(cifar, tmp_path / "bad.zip") if as_archive else cifar
    with pytest.raises(DataError, match="train/dog/0002.jpg"):
        load_source(source, "train", cache_dir=cache)
    assert len(load_source(source, "test", cache_dir=cache)) == 6  # the other split is fine


def test_truncated_jpeg_is_a_data_error(cifar, cache):
    path = cifar / "test" / "cat" / "0001.jpg"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="test/cat/0001.jpg"):
        load_source(cifar, "test", cache_dir=cache)


def test_missing_or_unsupported_sources(tmp_path, cache):
    with pytest.raises(DataError, match="not found"):
        load_source(tmp_path / "nowhere.tar.gz", "train", cache_dir=cache)
    (tmp_path / "x.rar").write_bytes(b"")
    with pytest.raises(DataError, match="not a folder"):
        load_source(tmp_path / "x.rar", "train", cache_dir=cache)
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(DataError, match="no images"):
        load_source(tmp_path / "empty", "train", cache_dir=cache)
    with pytest.raises(DataError, match="no data sources"):
        load_sources([], "train", cache_dir=cache)


def test_two_top_level_folders_are_refused(tmp_path, cifar, cache):
    archive = tmp_path / "two.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for top in ("a", "b"):
            data_bytes = (cifar / "train" / "cat" / "0000.jpg").read_bytes()
            info = tarfile.TarInfo(f"{top}/train/cat/0000.jpg")
            info.size = len(data_bytes)
            tf.addfile(info, io.BytesIO(data_bytes))
    with pytest.raises(DataError, match="top-level"):
        load_source(archive, "train", cache_dir=cache)


def test_names_and_defaults(tmp_path, monkeypatch):
    assert source_name("/x/cifar10-images.tar.gz") == "cifar10-images"
    assert source_name("l5.tgz") == "l5" and source_name("a/b.zip") == "b" and source_name("/data/linnaeus/") == "linnaeus"
    monkeypatch.setenv("COLORIZER_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("COLORIZER_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "colorizer")


def test_image_set_checks_lengths():
    with pytest.raises(ValueError):
        ImageSet(["a"], np.zeros((2, 4, 4, 3), np.uint8), ["s"])


def test_cache_meta_has_no_pickle(cifar, cache):
    load_source(cifar, "test", cache_dir=cache)
    meta = json.loads(next(cache.glob("*.json")).read_text())
    assert meta["members"][0] == "test/cat/0000.jpg" and meta["names"][0] == "cat_0000.jpg"
