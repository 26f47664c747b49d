"""Odd and malformed inputs, made here: each gives a correct RGB result of the size a viewer
shows, or ImageInputError with a one-line message, through the library and through the CLI."""

import io
import os
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

import colorizer
from colorizer import ImageInputError

ROOT = Path(__file__).resolve().parents[1]


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_bomb(path, width, height):
    """A valid 1-bit gray PNG of all-black rows, a few hundred KB on disk: decoding it would
    take width * height bytes of memory. Written row block by row block, never held whole."""
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the packed bits
    deflate = zlib.compressobj(9)
    block = row * 1000
    idat = b"".join(deflate.compress(block) for _ in range(height // 1000))
    idat += deflate.compress(row * (height % 1000)) + deflate.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def gradient(width, height, top=255, dtype=np.uint8):
    """H x W left-to-right ramp from 0 to ``top``."""
    return np.tile(np.linspace(0, top, width), (height, 1)).astype(dtype)


def saved(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _rgb_noise(width, height, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def _animated_gif(path):
    frames = [Image.new("L", (24, 16), 0), Image.new("L", (24, 16), 255)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _exif_rotated(path):
    # Stored 40 wide x 20 high, left half dark; orientation 6 = "rotate 90 degrees clockwise
    # to view", so a viewer shows 20 x 40 with the dark half on top.
    stored = np.full((20, 40), 230, np.uint8)
    stored[:, :20] = 20
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, quality=95, exif=exif)


def _palette_transparent(path):
    image = Image.new("P", (16, 12), 0)
    image.putpalette([0, 0, 0] * 256)
    image.save(path, transparency=0)  # every pixel is transparent black: white paper


def _folder(path):
    path.mkdir()


# name -> (how to make the file at ``path``, expected): expected is the (width, height) a viewer
# shows, or the text the error message must contain.
def _corpus():
    png = saved(_rgb_noise(64, 48), "PNG")
    jpeg = saved(_rgb_noise(64, 48), "JPEG", quality=90)
    return {
        "zero_bytes.png": (lambda p: p.write_bytes(b""), "not an image file"),
        "truncated.png": (lambda p: p.write_bytes(png[: len(png) // 2]), "truncated"),
        "truncated.jpg": (lambda p: p.write_bytes(jpeg[: len(jpeg) // 2]), "truncated"),
        "bad_header_crc.png": (lambda p: p.write_bytes(png[:30] + bytes([png[30] ^ 0xFF]) + png[31:]), "damaged"),
        "text.png": (lambda p: p.write_text("just some text, not a picture\n"), "not an image file"),
        "html.jpg": (lambda p: p.write_text("<!doctype html><html><body>404</body></html>"), "not an image file"),
        "postscript.eps": (lambda p: p.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"), "not an image file"),
        "bomb.png": (lambda p: write_png_bomb(p, 30000, 30000), "too large"),
        "bomb_below_pil_limit.png": (lambda p: write_png_bomb(p, 5000, 5000), "too large"),
        "nan_float.tif": (lambda p: Image.fromarray(np.full((8, 8), np.nan, np.float32)).save(p), "NaN"),
        "folder.png": (_folder, "folder"),
        "missing.png": (lambda p: None, "no such file"),
        "gray16.png": (lambda p: Image.fromarray(gradient(40, 30, 65535, np.uint16)).save(p), (40, 30)),
        "int32.tif": (lambda p: Image.fromarray(gradient(40, 30, 1_000_000, np.int32)).save(p), (40, 30)),
        "float.tif": (lambda p: Image.fromarray(gradient(40, 30, 1.0, np.float32)).save(p), (40, 30)),
        "cmyk.jpg": (lambda p: Image.new("CMYK", (30, 20), (0, 0, 0, 0)).save(p), (30, 20)),
        "palette_transparent.png": (_palette_transparent, (16, 12)),
        "la.png": (lambda p: Image.new("LA", (20, 10), (0, 0)).save(p), (20, 10)),
        "rgba.png": (lambda p: Image.new("RGBA", (20, 10), (0, 0, 0, 0)).save(p), (20, 10)),
        "animated.gif": (_animated_gif, (24, 16)),
        "exif_rotated.jpg": (_exif_rotated, (20, 40)),
        "one_pixel.png": (lambda p: Image.new("L", (1, 1), 128).save(p), (1, 1)),
        "wide.png": (lambda p: Image.fromarray(gradient(3000, 1)).save(p), (3000, 1)),
        "tall.png": (lambda p: Image.fromarray(gradient(3000, 1).T.copy()).save(p), (1, 3000)),
        "one_bit.png": (lambda p: Image.fromarray(np.indices((16, 16)).sum(0) % 2 == 0).save(p), (16, 16)),
        "lossless.webp": (lambda p: _rgb_noise(20, 14).save(p, lossless=True), (20, 14)),
        "bitmap.bmp": (lambda p: _rgb_noise(21, 13).save(p), (21, 13)),
    }


CORPUS = _corpus()
GOOD = sorted(name for name, (_, expected) in CORPUS.items() if isinstance(expected, tuple))
BAD = sorted(name for name, (_, expected) in CORPUS.items() if isinstance(expected, str))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """{name: Path} of every corpus file, made once for the module."""
    folder = tmp_path_factory.mktemp("corpus")
    for name, (make, _) in CORPUS.items():
        make(folder / name)
    return {name: folder / name for name in CORPUS}


@pytest.fixture(scope="module")
def model(seed_weights):
    return colorizer.load(seed_weights)


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    monkeypatch.delenv("COLORIZER_MAX_PIXELS", raising=False)


def luma(image):
    return np.asarray(image.convert("L"), dtype=np.float64)


# --- through the library ---


@pytest.mark.parametrize("name", GOOD)
def test_library_colorizes(model, corpus, name):
    out = model.colorize(corpus[name])
    assert out.mode == "RGB"
    assert out.size == CORPUS[name][1]


@pytest.mark.parametrize("name", BAD)
def test_library_rejects(model, corpus, name):
    with pytest.raises(ImageInputError) as info:
        model.colorize(corpus[name])
    message = str(info.value)
    assert "\n" not in message
    assert CORPUS[name][1] in message


def test_bomb_rejected_from_header(corpus, monkeypatch):
    def no_decoding(self):
        raise AssertionError("decoded a bomb")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for name in ("bomb.png", "bomb_below_pil_limit.png"):
        start = time.perf_counter()
        with pytest.raises(ImageInputError, match="too large"):
            colorizer.open_image(corpus[name])
        assert time.perf_counter() - start < 1.0


def test_pixel_values_survive(model, corpus):
    """Output luminance equals the input's (full mode), so check each conversion by it."""
    ramp = luma(model.colorize(corpus["gray16.png"]))[0]
    assert ramp[0] <= 1 and ramp[-1] >= 254  # 16 bits scaled down, not clipped white
    ramp = luma(model.colorize(corpus["int32.tif"]))[0]
    assert ramp[0] <= 1 and ramp[-1] >= 254 and ramp[20] < 200  # 32 bits scaled by their range
    ramp = luma(model.colorize(corpus["float.tif"]))[0]
    assert ramp[0] <= 1 and ramp[-1] >= 254
    for name in ("palette_transparent.png", "la.png", "rgba.png", "cmyk.jpg"):  # paper white
        assert luma(model.colorize(corpus[name])).min() >= 250, name
    assert luma(model.colorize(corpus["animated.gif"])).max() <= 5  # the first, black frame
    assert set(np.unique(luma(model.colorize(corpus["one_bit.png"])))) <= {0.0, 255.0}
    rotated = luma(model.colorize(corpus["exif_rotated.jpg"]))
    assert rotated[:20].mean() < 60 and rotated[20:].mean() > 190  # dark half on top


def test_dark_16_bit_stays_dark(model):
    out = model.colorize(Image.fromarray(np.full((8, 8), 200, np.uint16)))
    assert luma(out).max() <= 2  # 200 of 65535, not 200 of 255


@pytest.mark.parametrize(
    "source, expected",
    [
        (np.full((8, 8), np.nan, np.float32), "NaN"),
        (np.full((8, 8, 3), np.inf, np.float64), "NaN"),
        (np.zeros((8, 8, 2), np.uint8), "shape"),
        (np.zeros(64, np.uint8), "shape"),
        (np.zeros((2, 8, 8, 3), np.uint8), "shape"),
        (np.zeros((0, 8), np.uint8), "no pixels"),
        (np.full((8, 8), "a"), "dtype"),
        (np.ones((8, 8), complex), "dtype"),
        (None, "NoneType"),
        (b"", "not an image file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "not an image file"),
    ],
    ids=["nan", "inf", "two_channels", "flat", "batch", "empty", "strings", "complex", "none", "no_bytes", "png_magic_only"],
)
def test_library_rejects_objects(model, source, expected):
    with pytest.raises(ImageInputError, match=expected):
        model.colorize(source)


@pytest.mark.parametrize(
    "source, size",
    [
        (np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), (4, 3)),
        (np.zeros((3, 4, 1), np.uint16), (4, 3)),
        (np.ones((3, 4), bool), (4, 3)),
        (np.zeros((3, 4, 4), np.uint8), (4, 3)),
        (Image.new("La", (4, 3)), (4, 3)),
        (Image.new("I;16B", (4, 3)), (4, 3)),
    ],
    ids=["float01", "uint16_hw1", "bool", "rgba", "premultiplied_la", "big_endian_16"],
)
def test_library_accepts_objects(model, source, size):
    out = model.colorize(source)
    assert out.mode == "RGB" and out.size == size


def test_damaged_exif_keeps_the_pixels(model):
    """A JPEG whose EXIF block (orientation 6, then an impossible entry count) PIL reads but
    cannot write back is still colorized, as stored or turned."""
    exif = (b"Exif\x00\x00MM\x00*\x00\x00\x00\x08i\x02\x01%\x00\x02\x00\x00\x00\x04cam\x00"
            b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
    data = saved(Image.new("L", (12, 8), 90), "JPEG", exif=exif)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PIL warns about the damage it reads past
        out = model.colorize(data)
    assert out.size in ((12, 8), (8, 12))


def test_open_twice_turns_once(corpus):
    """open_image's result opens as itself: the orientation is not applied a second time."""
    once = colorizer.open_image(corpus["exif_rotated.jpg"])
    assert colorizer.open_image(once).size == once.size == (20, 40)


def test_bad_limit_variable(monkeypatch):
    monkeypatch.setenv("COLORIZER_MAX_PIXELS", "lots")
    with pytest.raises(ImageInputError, match="COLORIZER_MAX_PIXELS"):
        colorizer.open_image(np.zeros((2, 2), np.uint8))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that file modes apply to")
def test_unreadable_file(model, tmp_path):
    path = tmp_path / "secret.png"
    Image.new("L", (4, 4)).save(path)
    path.chmod(0)
    with pytest.raises(ImageInputError, match="permission denied"):
        model.colorize(path)


# --- through the CLI ---


def run_cli(args, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "COLORIZER_MAX_PIXELS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "colorizer", *map(str, args)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


@pytest.fixture(scope="module")
def cli_runs(corpus, seed_weights, tmp_path_factory):
    """The CLI run once over all good files and once over all bad ones, side by side:
    {"good"|"bad": (exit status, stderr, OUTDIR)}."""
    started = {}
    for kind, names in (("good", GOOD), ("bad", BAD)):
        outdir = tmp_path_factory.mktemp(f"out_{kind}")
        started[kind] = (run_cli([*(corpus[n] for n in names), "-o", outdir, "--model", seed_weights]), outdir)
    results = {}
    for kind, (process, outdir) in started.items():
        _, stderr = process.communicate(timeout=300)
        results[kind] = (process.returncode, stderr, outdir)
    return results


def test_cli_good_files(cli_runs):
    status, stderr, outdir = cli_runs["good"]
    assert (status, stderr) == (0, "")
    assert sorted(p.name for p in outdir.iterdir()) == sorted(f"{Path(n).stem}.png" for n in GOOD)


@pytest.mark.parametrize("name", GOOD)
def test_cli_output_size(cli_runs, name):
    with Image.open(cli_runs["good"][2] / f"{Path(name).stem}.png") as out:
        assert out.mode == "RGB" and out.size == CORPUS[name][1]


def test_cli_bad_files(cli_runs):
    status, stderr, outdir = cli_runs["bad"]
    assert status == 1
    assert "Traceback" not in stderr
    assert list(outdir.iterdir()) == []  # no outputs, no temporary files
    assert len(stderr.splitlines()) == len(BAD)


@pytest.mark.parametrize("name", BAD)
def test_cli_error_line(cli_runs, corpus, name):
    lines = [line for line in cli_runs["bad"][1].splitlines() if line.startswith(f"error: {corpus[name]}: ")]
    assert len(lines) == 1
    assert CORPUS[name][1] in lines[0]


def test_memory_4096(seed_weights, tmp_path):
    """Colorizing a 4096 x 4096 image (the default limit) stays under 2 GB peak RSS."""
    path = tmp_path / "big.png"
    ramp = gradient(4096, 4096)
    Image.fromarray(ramp // 2 + ramp.T // 2).save(path, compress_level=1)
    code = (
        "import resource, sys, colorizer\n"
        "out = colorizer.load(sys.argv[1]).colorize(sys.argv[2])\n"
        "assert out.size == (4096, 4096)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"  # KiB on Linux
    )
    env = {k: v for k, v in os.environ.items() if k != "COLORIZER_MAX_PIXELS"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", code, seed_weights, path], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) < 2 * 2**20
