"""Turning one source image file into the corpus's square training images, and the filters.

Pure functions of the file's bytes (plus a few constants), so that a file always gives the same
images and a test can feed them small fixtures. :mod:`train.corpus` does the fetching, the
bookkeeping and the writing.

Square images, not the long side: the loader (:mod:`train.data`) resizes every image to a square,
so a non-square one would be squashed. How a file becomes squares:

- with transparency (clip-art, stamps, sprites): cropped to the bounding box of its visible pixels,
  padded to a centred square (a margin of 4% of the long side) and flattened onto a plain background;
  the whole object stays in view;
- opaque and nearly square (long / short <= 1.25): the centred square;
- opaque and elongated: squares of the short side, evenly spaced along the long side (at most 4);
- ``crops=True`` (large photographs and paintings: few files, many pixels): squares at every scale
  side = short side / 2**k down to :data:`MIN_CROP` px, on an evenly spaced grid of at most 4 x 4 per
  scale, so one 5120 x 2880 wallpaper gives 42 crops from the whole scene down to details.

Each square is resized with PIL's LANCZOS (antialiased) to the largest corpus size; smaller sizes are
made from that one.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

from colorizer.color import to_gray
from colorizer.metrics import colorfulness

__all__ = ["Prepared", "prepare", "background_for", "split_of", "dhash", "near_duplicate",
           "MIN_CONTENT", "MIN_COLORFULNESS", "MAX_PIXELS", "MIN_CROP", "NEAR_BITS", "HASH_SIDE"]

MIN_CONTENT = 64  # tiny icons: visible content whose long side is below this (px) is dropped
# Near-gray: Hasler-Suesstrunk colorfulness (0 = gray; CIFAR-10 images average ~30) of the image
# flattened onto white, below which it is dropped. 5 keeps faintly tinted drawings, drops gray
# line art, black-and-white photos and sepia-like washes (looked at on the contact sheets).
MIN_COLORFULNESS = 5.0
MAX_PIXELS = 50_000_000  # larger files (a few huge clip-art PNGs) are skipped: 200+ MB each to decode
MIN_CROP = 256  # smallest crop side of a photo (px): at least a 2x downscale to 128
MAX_GRID = 4  # at most MAX_GRID x MAX_GRID crops per scale
ALPHA_VISIBLE = 8  # alpha above this counts as visible when finding the content's bounding box
PAD = 0.04  # margin around a cut-out object, as a fraction of its long side
# dHash size: 16 x 16 = 256 bits; near duplicates differ in at most NEAR_BITS of them. Looked at on
# openclipart pairs: up to ~16 bits apart are the same drawing (recolored, resized, retouched),
# from ~20 on different drawings of a series (smileys, icon people), from ~25 unrelated objects of
# a similar outline. (An 8 x 8 hash at 4 bits merged a bottle with a church: too coarse for cut-outs.)
HASH_SIDE = 16
NEAR_BITS = 16
BACKGROUND_SEED = 17  # mixed into each file's hash to choose its background: fixed, so builds repeat


@dataclass
class Prepared:
    """What one file gave: ``images`` (list of S x S x 3 uint8 RGB), or why it gave none.

    reason:     None if kept, else one word: "huge", "undecodable", "empty", "tiny", "near_gray"
    transparent: whether the file had transparent pixels (then flattened onto ``background``)
    background: the (R, G, B) a transparent file was flattened onto
    hash_bits:  dHash (packed bytes) of the first image flattened onto white, for near-duplicate search
    """

    images: list
    reason: str | None = None
    transparent: bool = False
    background: tuple = (255, 255, 255)
    hash_bits: bytes = b""


def split_of(sha256_hex: str, test_fraction: float) -> str:
    """"test" or "train" from a file's content hash: its first 32 bits as a fraction of 2**32.

    Depends on the bytes only, so a file keeps its split whatever else is added or removed."""
    return "test" if int(sha256_hex[:8], 16) / 2**32 < test_fraction else "train"


def background_for(sha256_hex: str) -> tuple:
    """Background of a transparent file: white for about half the files, else a uniformly random
    plain RGB color, seeded by the file's hash (so a rebuild gives the same corpus)."""
    seed = int(hashlib.sha256(f"{BACKGROUND_SEED}:{sha256_hex}".encode()).hexdigest()[:16], 16)
    rng = np.random.default_rng(seed)
    if rng.random() < 0.5:
        return (255, 255, 255)
    return tuple(int(v) for v in rng.integers(0, 256, size=3))


def _squares(width: int, height: int, crops: bool) -> list[tuple[int, int, int]]:
    """(left, top, side) of the square crops of an opaque width x height image (see module doc)."""
    short, long_ = min(width, height), max(width, height)
    if crops:
        sides, side = [], short
        while side >= MIN_CROP or not sides:  # a small photo still gives its centred square
            sides.append(side)
            side //= 2
    elif long_ <= 1.25 * short:
        return [((width - short) // 2, (height - short) // 2, short)]
    else:
        sides = [short]
    boxes = []
    for side in sides:
        nx = 1 if crops is False and width < height else min(MAX_GRID, math.ceil(width / side))
        ny = 1 if crops is False and width >= height else min(MAX_GRID, math.ceil(height / side))
        xs = [(width - side) // 2] if nx == 1 else [round(i * (width - side) / (nx - 1)) for i in range(nx)]
        ys = [(height - side) // 2] if ny == 1 else [round(j * (height - side) / (ny - 1)) for j in range(ny)]
        boxes += [(x, y, side) for y in ys for x in xs]
    return boxes


def _resize(im: Image.Image, size: int) -> np.ndarray:
    """size x size x 3 uint8 of a square RGB image (LANCZOS; ``reducing_gap`` shrinks huge ones fast)."""
    return np.asarray(im.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0), dtype=np.uint8)


def dhash(rgb_uint8: np.ndarray) -> bytes:
    """Difference hash of an H x W x 3 uint8 image, 256 bits packed into 32 bytes: the signs of the
    horizontal steps of its gray (BT.601 Y) shrunk to 17 x 16. Color-blind on purpose: recolored
    copies of one drawing are near duplicates for a colorizer (the same gray, different answers)."""
    gray = Image.fromarray(np.clip(np.rint(to_gray(rgb_uint8)), 0, 255).astype(np.uint8))
    small = np.asarray(gray.resize((HASH_SIDE + 1, HASH_SIDE), Image.Resampling.BILINEAR), dtype=np.int16)
    return np.packbits(small[:, 1:] > small[:, :-1]).tobytes()


def near_duplicate(hash_bits: bytes, kept: np.ndarray) -> int:
    """Index in ``kept`` (K x 32 uint8, one :func:`dhash` a row) of the first hash within
    :data:`NEAR_BITS` bits of ``hash_bits``, else -1."""
    if len(kept) == 0:
        return -1
    distance = np.bitwise_count(kept ^ np.frombuffer(hash_bits, dtype=np.uint8)).sum(axis=1)
    hits = np.flatnonzero(distance <= NEAR_BITS)
    return int(hits[0]) if len(hits) else -1


def prepare(data: bytes, size: int, crops: bool = False, sha256_hex: str | None = None) -> Prepared:
    """The square size x size RGB images of one encoded image file (see the module doc), filtered.

    A file is dropped whole if it is larger than :data:`MAX_PIXELS`, cannot be decoded, has no
    visible pixel, or its content's long side is below :data:`MIN_CONTENT`. Single squares that are
    near gray (colorfulness on white below :data:`MIN_COLORFULNESS`) are dropped; the file's reason
    is "near_gray" if none is left.
    """
    sha256_hex = sha256_hex or hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            # PIL warns on opening images above ~90 M pixels and refuses them above ~180 M:
            # both are "huge" here, like anything above MAX_PIXELS
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.width * im.height > MAX_PIXELS:
                    return Prepared([], "huge")
                rgba = im.convert("RGBA")
    except Image.DecompressionBombError:
        return Prepared([], "huge")
    except Exception:  # PIL raises many kinds (OSError, SyntaxError, ValueError, DecompressionBomb...)
        return Prepared([], "undecodable")
    alpha = rgba.getchannel("A")
    transparent = alpha.getextrema()[0] < 255
    if transparent:
        box = alpha.point(lambda a: 255 if a > ALPHA_VISIBLE else 0).getbbox()
        if box is None:
            return Prepared([], "empty", transparent)
        rgba = rgba.crop(box)
        side = round(max(rgba.size) * (1 + 2 * PAD))
        if max(rgba.size) < MIN_CONTENT:
            return Prepared([], "tiny", transparent)
        square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        square.paste(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2))
        background = background_for(sha256_hex)
        on_white = Image.new("RGB", square.size, (255, 255, 255))
        on_white.paste(square, mask=square.getchannel("A"))
        white = _resize(on_white, size)
        if background == (255, 255, 255):
            image = white
        else:
            flat = Image.new("RGB", square.size, background)
            flat.paste(square, mask=square.getchannel("A"))
            image = _resize(flat, size)
        if colorfulness(white) < MIN_COLORFULNESS:
            return Prepared([], "near_gray", transparent, background)
        return Prepared([image], None, transparent, background, dhash(white))
    rgb = rgba.convert("RGB")
    if max(rgb.size) < MIN_CONTENT:
        return Prepared([], "tiny")
    images = [_resize(rgb.crop((x, y, x + s, y + s)), size) for x, y, s in _squares(rgb.width, rgb.height, crops)]
    hash_bits = dhash(images[0])
    images = [im for im in images if colorfulness(im) >= MIN_COLORFULNESS]
    if not images:
        return Prepared([], "near_gray")
    return Prepared(images, None, False, (255, 255, 255), hash_bits)
