"""Image sets for training and evaluation, read from folders or archives in the CIFAR-10 image layout.

A *source* is a folder, a ``.tar.gz``/``.tgz`` or a ``.zip`` holding ``train/<class>/<file>`` and
``test/<class>/<file>`` (an archive may also wrap these in one top-level folder, ``cifar/train/...``).
Only image files (.jpg .jpeg .png .bmp .webp) are read; anything else is ignored. Each image is named
``<class>_<file>`` (``airplane_0000.jpg``), because file names repeat across class folders.

Decoding 60,000 small JPEGs takes seconds, so each (source, split, size) is decoded once into a cache
outside git (:func:`default_cache_dir`): a raw uint8 ``.npy`` for the pixels and a small ``.json`` for
the names, both read without pickle. The cache file names carry :func:`content_key`, so a changed
source is decoded afresh; a cache file that cannot be read or does not match is rebuilt.
Reading and decoding a source's files is :mod:`train.sources`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sources import ARCHIVE_SUFFIXES, IMAGE_SUFFIXES, SPLITS, DataError, check_source, decode_split, folder_files

# Bump when decoding changes (filter, colour conversion) so that older cache files are not reused.
CACHE_VERSION = 1


@dataclass(frozen=True)
class ImageSet:
    """Images of one split, pooled from one or more sources.

    names:   ``"<class>_<file>"`` per image, unique within the set
    images:  uint8 array, N x size x size x 3, RGB in 0..255, C-contiguous
    sources: per image the short name of its source (:func:`source_name`)
    """

    names: list[str]
    images: np.ndarray
    sources: list[str]

    def __post_init__(self):
        if not len(self.names) == len(self.sources) == len(self.images):
            raise ValueError(f"ImageSet: {len(self.names)} names, {len(self.sources)} sources, {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, indices) -> ImageSet:
        """The images at ``indices`` (a list or array of positions, a boolean mask or a slice), in that order."""
        index = np.arange(len(self))[indices]
        return ImageSet([self.names[i] for i in index], np.ascontiguousarray(self.images[index]),
                        [self.sources[i] for i in index])


def source_name(path) -> str:
    """Short name of a source: the archive's file name less its suffix, or the folder's name."""
    name = Path(os.path.abspath(path)).name  # abspath, not resolve: "." gets a name, symlinks keep theirs
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"  # the shared data sets: ../shared/data beside the repo


def default_cache_dir() -> Path:
    """``$COLORIZER_CACHE`` if set, else ``~/.cache/colorizer`` (outside the repository)."""
    env = os.environ.get("COLORIZER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "colorizer"


def default_corpus(archive: str = "corpus") -> Path:
    """Where ``python -m train.corpus`` writes a 128 px archive of the corpus by default (``corpus``,
    or a later one such as ``gcompris``; the 64 px ones and ``corpus.json`` lie beside it)."""
    return default_cache_dir() / "corpus" / f"{archive}-128.tar.gz"


def content_key(path) -> str:
    """Hex sha256 identifying a source's content.

    Archive: the sha256 of its bytes. Folder: the sha256 over the sorted relative paths, sizes and
    ``mtime_ns`` of its image files (both splits), so an edited, added or removed image changes it
    without the cost of hashing every file.
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for rel, full in folder_files(path):
            if rel.lower().endswith(IMAGE_SUFFIXES):
                st = full.stat()
                digest.update(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        return digest.hexdigest()
    check_source(path)
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_source(path, split: str, size: int | None = 32, cache_dir=None) -> ImageSet:
    """The ``split`` ("train" or "test") of one source, sorted by (class, file name).

    Images are converted to RGB and resized to ``size`` x ``size`` where they differ (PIL LANCZOS,
    antialiased for downscaling); ``size=None`` keeps the native size, which must then be the same for
    every image of the split. Decoded once, then read from the cache in ``cache_dir`` (default:
    :func:`default_cache_dir`).
    """
    return _load(path, split, size, cache_dir)[0]


def load_sources(paths, split: str, size: int | None = 32, cache_dir=None) -> ImageSet:
    """:func:`load_source` of each path, concatenated in the given order.

    Names must be unique over all the sources: a clash raises :class:`DataError` naming both files.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise DataError("no data sources given")
    sets, seen = [], {}
    for path in paths:
        image_set, members = _load(path, split, size, cache_dir)
        for name, member in zip(image_set.names, members):
            where = f"{path}: {member}"
            if name in seen:
                raise DataError(f"image name {name!r} occurs twice: {seen[name]} and {where}; rename one of them")
            seen[name] = where
        sets.append(image_set)
    if len(sets) == 1:
        return sets[0]
    shapes = {s.images.shape[1:] for s in sets}
    if len(shapes) > 1:
        raise DataError(f"sources have different image sizes {sorted(shapes)}; pass a size to resize them")
    return ImageSet([n for s in sets for n in s.names], np.concatenate([s.images for s in sets]),
                    [n for s in sets for n in s.sources])


def class_indices(image_set: ImageSet, classes) -> list[int]:
    """Indices of the images of ``image_set`` whose class (the ``<class>`` of their
    ``<class>_<file>`` name) is in ``classes``. A class with no image raises DataError (a misspelt
    class would otherwise select nothing, silently)."""
    missing = [c for c in classes if not any(n.startswith(f"{c}_") for n in image_set.names)]
    if missing:
        raise DataError(f"no images of class {', '.join(map(repr, missing))} in the data")
    return [i for i, n in enumerate(image_set.names) if any(n.startswith(f"{c}_") for c in classes)]


def of_classes(image_set: ImageSet, classes) -> ImageSet:
    """The images of ``image_set`` whose class is in ``classes`` (:func:`class_indices`); all of
    them if ``classes`` is empty."""
    return image_set.subset(class_indices(image_set, classes)) if classes else image_set


def validation_images(sources, image_size, classes=(), val_limit=0) -> np.ndarray:
    """A run's validation pictures: the test split of its ``sources`` at ``image_size``, of its
    ``classes`` (all if empty), the first ``val_limit`` (0 = all): N x size x size x 3 uint8."""
    images = of_classes(load_sources(sources, "test", image_size), classes).images
    return images[:val_limit] if val_limit else images


# --- loading with the cache -------------------------------------------------------------------


def _load(path, split, size, cache_dir) -> tuple[ImageSet, list[str]]:
    """(ImageSet, member path of each image inside the source), from the cache or decoded afresh."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if size is not None:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise ValueError(f"size must be a positive int or None, not {size!r}")
        size = int(size)
    path = Path(path)
    check_source(path)
    key = content_key(path)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    stem = f"{source_name(path)}-{split}-{size or 'native'}-{key[:16]}"
    npy, meta_file = cache_dir / f"{stem}.npy", cache_dir / f"{stem}.json"

    cached = _read_cache(npy, meta_file, key, size)
    if cached is None:
        names, members, images = decode_split(path, split, size)
        meta = {"version": CACHE_VERSION, "source": str(path), "key": key, "split": split, "size": size,
                "shape": list(images.shape), "names": names, "members": members}
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            # Pixels first, then the JSON: a cache entry counts only once both are complete.
            _write_atomic(npy, lambda f: np.save(f, images, allow_pickle=False))
            _write_atomic(meta_file, lambda f: f.write(json.dumps(meta).encode()))
        except OSError as e:  # a read-only cache is slower, not wrong
            warnings.warn(f"could not write the data cache in {cache_dir}: {e}", stacklevel=3)
    else:
        names, members, images = cached
    return ImageSet(names, images, [source_name(path)] * len(names)), members


def _read_cache(npy: Path, meta_file: Path, key: str, size) -> tuple[list, list, np.ndarray] | None:
    """(names, members, images) from a cache entry, or None if it is missing, corrupt or stale."""
    try:
        meta = json.loads(meta_file.read_text())
        images = np.load(npy, allow_pickle=False)
        names, members = meta["names"], meta["members"]
        ok = (meta["version"] == CACHE_VERSION and meta["key"] == key and images.dtype == np.uint8
              and images.ndim == 4 and images.shape[3] == 3 and list(images.shape) == meta["shape"]
              and len(names) == len(members) == len(images)
              and (size is None or images.shape[1:3] == (size, size)) and images.flags.c_contiguous)
        return (names, members, images) if ok else None
    except (OSError, ValueError, KeyError, TypeError, EOFError):  # missing or corrupt: decode again
        return None


def _write_atomic(target: Path, write) -> None:
    """Write via a temporary file in the same folder and ``os.replace``, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
