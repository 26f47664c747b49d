"""The command line: ``python -m colorizer INPUT... -o OUTDIR``.

Colorizes image files, and the image files directly inside folders, into ``OUTDIR/<stem>.png``.
A file that cannot be done gets one line ``error: <file>: <reason>`` on stderr and no output
file (outputs are written to a temporary name and renamed); the other files are still done.
Exit status: 0 all done, 1 some file (or the model) failed, 2 bad usage, 130 interrupted.
"""

import argparse
import io
import json
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from .images import ImageInputError, image_extensions, is_gray, max_pixels, open_image, readable_formats
from .panel import make_panel
from .pipeline import MODES, load
from .weights import check_vividness

__all__ = ["main", "build_parser"]

PROGRESS_MIN_FILES = 6  # a bar for a handful of files is only noise


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


def _vividness(text):
    try:
        return check_vividness(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m colorizer",
        description="Colorize grayscale images; writes OUTDIR/<name>.png for every input image.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, or folders of images")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR",
                        help="folder for the PNG results (created if missing)")
    parser.add_argument("--model", help="shipped model name or weights folder (default: the best shipped model)")
    parser.add_argument("--panel", action="store_true",
                        help="write gray | colorized | original side by side (gray inputs: gray | colorized)")
    parser.add_argument("--mode", choices=MODES, default="full",
                        help="full: the input's detail and luminance (default); seed: the network's raw output")
    parser.add_argument("--hints", type=Path, metavar="FILE",
                        help="color hints for a single input: JSON [[x, y, [r, g, b]], ...] or an RGBA image")
    parser.add_argument("--vividness", type=_vividness, metavar="V",
                        help="bin networks: 0 (faithful) to 1 (most vivid); default: the model's")
    parser.add_argument("--max-pixels", type=_positive_int, metavar="N",
                        help="largest input in pixels (default: $COLORIZER_MAX_PIXELS or 4096 x 4096)")
    return parser


def _one_line(error):
    return " ".join(str(error).split())


def expand_inputs(inputs, report):
    """The files to colorize, in order: files as given, then each folder's image files (by
    extension, directly inside, sorted). Inputs that yield nothing are passed to ``report``."""
    extensions = image_extensions()
    files = []
    for text in inputs:
        path = Path(text)
        try:
            if path.is_dir():
                # Dot files: macOS leaves "._photo.jpg" metadata beside every photo on some disks.
                found = sorted(p for p in path.iterdir()
                               if p.suffix.lower() in extensions and not p.name.startswith(".") and p.is_file())
                if not found:
                    report(path, "no image files in this folder")
                files += found
            elif path.is_file():
                files.append(path)
            else:
                # A pipe or device would block or never end; anything else does not exist.
                report(path, "not a regular file" if path.exists() else "no such file or folder")
        except OSError as e:
            report(path, f"cannot read ({e.strerror or e})")
    return files


def plan_outputs(files, outdir, report):
    """(input, output) pairs. An input whose output name an earlier input already has, or whose
    output would replace an input file, is passed to ``report`` instead: nothing is overwritten."""
    inputs = {path.resolve() for path in files}
    owners = {}
    jobs = []
    for path in files:
        out = outdir / f"{path.stem}.png"
        key = out.name.casefold()  # on macOS and Windows "A.png" and "a.png" are one file
        if key in owners:
            report(path, f"its output {out} is already the output of {owners[key]}")
        elif out.resolve() in inputs:
            report(path, f"its output {out} would replace an input file")
        else:
            owners[key] = path
            jobs.append((path, out))
    return jobs


def read_hints(path):
    """``--hints FILE`` -> a list of ``[x, y, [r, g, b]]`` (JSON) or an RGBA PIL image.

    Raises ValueError or OSError with a one-line message.
    """
    data = path.read_bytes()
    if data.lstrip()[:1] == b"[":
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"not valid JSON ({e})") from None
    try:
        with Image.open(io.BytesIO(data), formats=readable_formats()) as image:
            if image.width * image.height > max_pixels():  # from the header, before decoding
                raise ValueError(f"hint image is too large ({image.width}x{image.height})")
            return image.convert("RGBA")
    except (OSError, SyntaxError, Image.DecompressionBombError) as e:
        raise ValueError(f"neither a JSON list of hints nor an image ({_one_line(e)})") from None


def write_atomic(path, data):
    """Write ``data`` to ``path`` through a temporary file beside it and a rename, so an
    interrupted or failed write leaves no partial file (the temporary one is removed)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; an output is an ordinary file
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def colorize_file(model, source, out, mode="full", panel=False, hints=None, vividness=None):
    """Colorize the file ``source`` into the PNG file ``out``, written atomically."""
    image = open_image(source)
    result = model.colorize(image, mode=mode, hints=hints, vividness=vividness)
    if panel:
        gray = image.convert("L")  # PIL's "L" uses the library's BT.601 weights
        result = make_panel([gray, result] if is_gray(image) else [gray, result, image])
    buffer = io.BytesIO()
    result.save(buffer, "PNG")
    write_atomic(out, buffer.getvalue())


def _reason(error, path):
    """One line for ``error: <path>: <reason>``; the library's messages name only the base name."""
    text = _one_line(error).removeprefix(f"{path.name}: ")
    if not isinstance(error, (ValueError, OSError)):  # ImageInputError is a ValueError
        text = f"{type(error).__name__}: {text}"  # unexpected, so the type helps a bug report
    return text


def run(args, parser):
    """The CLI's work once the arguments are parsed; returns the exit status."""
    failed = False

    def report(path, reason):
        nonlocal failed
        failed = True
        tqdm.write(f"error: {path}: {reason}", file=sys.stderr)

    if args.hints is not None and (len(args.inputs) != 1 or Path(args.inputs[0]).is_dir()):
        parser.error("--hints needs exactly one INPUT, an image file")
    if args.max_pixels is not None:
        os.environ["COLORIZER_MAX_PIXELS"] = str(args.max_pixels)  # the library reads it for every image
    try:
        max_pixels()
    except ImageInputError as e:
        parser.error(str(e))

    files = expand_inputs(args.inputs, report)
    hints = None
    if args.hints is not None:
        try:
            hints = read_hints(args.hints)
        except (ValueError, OSError) as e:
            report(args.hints, _reason(e, args.hints))
            return 1
    try:
        model = load(args.model)
    except Exception as e:  # a broken weights folder is user input too: one line, no traceback
        print(f"error: cannot load model {args.model or '(default)'}: {_one_line(e)}", file=sys.stderr)
        return 1
    if hints is not None and not model.accepts_hints:
        report(args.hints, f"model {model.name!r} does not take color hints (use a *_hints model)")
        return 1
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        report(args.output, f"cannot create the output folder ({e.strerror or e})")
        return 1

    jobs = plan_outputs(files, args.output, report)
    # disable=None: tqdm draws the bar only when stderr is a terminal.
    disable = None if len(jobs) >= PROGRESS_MIN_FILES else True
    for source, out in tqdm(jobs, disable=disable, file=sys.stderr, unit="image", dynamic_ncols=True):
        try:
            colorize_file(model, source, out, args.mode, args.panel, hints, args.vividness)
        except Exception as e:  # one bad file must not stop the others
            report(source, _reason(e, source))
    return 1 if failed else 0


def main(argv=None):
    """Entry point of ``python -m colorizer``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args, parser)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
