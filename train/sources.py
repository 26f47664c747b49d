"""Reading one source's image files: a folder, ``.tar.gz``/``.tgz`` or ``.zip`` laid out as
``train|test/<class>/<file>`` (optionally inside one top-level folder), decoded to uint8 RGB.

``train.data`` caches what this decodes; nothing here knows about the cache.
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


class DataError(ValueError):
    """A source cannot be read as an image set (missing, wrong layout, corrupt image, name clash).

    A ``ValueError`` so that callers which already report bad arguments report this too."""


def check_source(path: Path) -> None:
    """A ``DataError`` unless ``path`` exists and is a folder or an archive we read."""
    if not path.exists():
        raise DataError(f"data source not found: {path}")
    if not path.is_dir() and not path.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise DataError(f"data source {path} is not a folder, .tar.gz, .tgz or .zip")


def folder_files(root: Path):
    """(relative posix path, full path) of every file under ``root``, in sorted order."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = Path(folder, name)
            yield full.relative_to(root).as_posix(), full


def _members(path: Path):
    """(member path, function returning its bytes) for each file of a source, streaming archives.

    The tar is read front to back in one pass (``r:gz``), so a member's bytes must be read before
    the next member is asked for.
    """
    if path.is_dir():
        for rel, full in folder_files(path):
            yield rel, full.read_bytes
    elif path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, lambda info=info: zf.read(info)
    else:
        with tarfile.open(path, mode="r:gz") as tf:
            for member in tf:
                if member.isfile():
                    yield member.name, lambda member=member: tf.extractfile(member).read()


def _place(member: str) -> tuple[str, str, str, str] | None:
    """(top folder or "", split, class, file) of an image member, None for anything else."""
    parts = [p for p in PurePosixPath(member).parts if p not in ("", ".", "/")]
    # Hidden files and macOS archive junk (__MACOSX/, ._x.jpg) are not images of the set.
    if not parts or not parts[-1].lower().endswith(IMAGE_SUFFIXES) or any(p.startswith((".", "__MACOSX")) for p in parts):
        return None
    if len(parts) == 3 and parts[0] in SPLITS:
        return ("", *parts)
    if len(parts) == 4 and parts[1] in SPLITS:
        return (parts[0], *parts[1:])
    return None


def _decode(data: bytes, size: int | None) -> np.ndarray:
    """size x size x 3 uint8 RGB (native size for None) from encoded image bytes."""
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("RGB")  # palette, gray and RGBA (alpha dropped) all become plain RGB
        if size is not None and im.size != (size, size):
            # LANCZOS widens its kernel by the scale factor, so downscaling is antialiased.
            im = im.resize((size, size), Image.Resampling.LANCZOS)
        return np.asarray(im, dtype=np.uint8)


def decode_split(path: Path, split: str, size: int | None) -> tuple[list[str], list[str], np.ndarray]:
    """(names, member paths, images N x H x W x 3 uint8) of one split, sorted by (class, file)."""
    found, tops = [], {}
    for member, read in _members(path):
        place = _place(member)
        if place is None:
            continue
        top, member_split, cls, file = place
        tops.setdefault(top, member)
        if len(tops) > 1:
            a, b = list(tops.values())[:2]
            raise DataError(f"{path}: images under more than one top-level folder ({a} and {b}); "
                            "expected train|test/<class>/<file>, optionally inside one folder")
        if member_split != split:
            continue
        try:
            pixels = _decode(read(), size)
        except Exception as e:  # PIL raises OSError, SyntaxError, ValueError ... for broken files
            raise DataError(f"{path}: cannot decode image {member}: {e}") from e
        found.append((cls, file, member, pixels))
    if not found:
        raise DataError(f"{path}: no images for split {split!r} (expected {split}/<class>/<file>)")

    found.sort(key=lambda item: (item[0], item[1]))
    names, members, seen = [], [], {}
    for cls, file, member, _ in found:
        name = f"{cls}_{file}"
        if name in seen:
            raise DataError(f"image name {name!r} occurs twice in {path}: {seen[name]} and {member}")
        seen[name] = member
        names.append(name)
        members.append(member)
    shapes = {}
    for _, _, member, pixels in found:
        shapes.setdefault(pixels.shape, member)
    if len(shapes) > 1:
        (s1, m1), (s2, m2) = list(shapes.items())[:2]
        raise DataError(f"{path}: images differ in size ({m1}: {s1[1]}x{s1[0]}, {m2}: {s2[1]}x{s2[0]}); "
                        "pass a size to resize them")
    images = np.stack([pixels for *_, pixels in found])
    return names, members, np.ascontiguousarray(images, dtype=np.uint8)
