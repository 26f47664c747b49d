"""The command line: ``python -m colorizer INPUT... -o OUTDIR``.

Colorizes image files, and the image files directly inside folders, into ``OUTDIR/<stem>.png``.
A file that cannot be done gets one line ``error: <file>: <reason>`` on stderr and no output
file (outputs are written to a temporary name and renamed); the other files are still done.
File names are printed with control characters escaped, so every message is one line.
Exit status: 0 all done, 1 some file (or the model) failed, 2 bad usage, 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM; SIGHUP gives 129); a signal leaves no temporary file.
"""

import argparse
import errno
import io
import os
import signal
import stat
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from .hints import MAX_HINTS_JSON_BYTES, HintError, hints_from_json
from .images import ImageInputError, image_extensions, is_gray, max_pixels, open_image, readable_formats
from .panel import make_panel
from .pipeline import MODES, load
from .sketch import split_drawing
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
                        help="full: the input's detail and luminance (default); seed: the network's raw output; "
                             "sketch: a line drawing whose closed shapes are filled with the colors dabbed in them "
                             "(--hints, or the drawing's own colored pixels)")
    parser.add_argument("--hints", type=Path, metavar="FILE",
                        help="color hints for a single input: JSON [[x, y, [r, g, b]], ...] or an RGBA image")
    parser.add_argument("--vividness", type=_vividness, metavar="V",
                        help="0 (faithful) to 1 (most vivid), for models with the setting (the default and the bin "
                        "networks); default: the model's")
    parser.add_argument("--max-pixels", type=_positive_int, metavar="N",
                        help="largest input in pixels (default: $COLORIZER_MAX_PIXELS or 4096 x 4096)")
    return parser


def _one_line(error):
    return " ".join(str(error).split())


def shown(text):
    """``text`` (a path, a message) fit for one line of output: control characters such as a
    newline in a file name are escaped (``\\n``), other characters are kept."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in str(text))


def _not_a_file(path):
    """Why ``path`` is neither a regular file nor a folder (a FIFO, a link loop, ...), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop"
        if e.errno == errno.ENOENT:
            return "a broken symbolic link" if path.is_symlink() else "no such file or folder"
        return f"cannot read ({e.strerror or e})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "a device, not a regular file"


def expand_inputs(inputs, report):
    """The files to colorize, in order: files as given, then each folder's image files (by
    extension, directly inside, sorted). Inputs that yield nothing, and entries of a folder that
    are neither regular files nor folders (pipes, devices, broken links, link loops: reading
    them would block, fail or never end), are passed to ``report``."""
    extensions = image_extensions()
    files = []
    for text in inputs:
        path = Path(text)
        try:
            if path.is_dir():
                found = []
                # Dot files: macOS leaves "._photo.jpg" metadata beside every photo on some disks.
                for entry in sorted(p for p in path.iterdir() if not p.name.startswith(".")):
                    reason = _not_a_file(entry)
                    if reason is not None:
                        report(entry, f"skipped: {reason}")
                    elif entry.suffix.lower() in extensions and entry.is_file():
                        found.append(entry)
                if not found:
                    report(path, "no image files in this folder")
                files += found
            elif path.is_file():
                files.append(path)
            else:
                report(path, _not_a_file(path) or "not a regular file")
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

    Raises ValueError or OSError with a one-line message. A JSON file over the library's
    ``MAX_HINTS_JSON_BYTES`` is refused from its size, before it is read.
    """
    if not path.is_file():
        raise ValueError("not a regular file" if path.exists() else "no such file")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        is_json = f.read(64).lstrip()[:1] == b"["
        if is_json and size > MAX_HINTS_JSON_BYTES:
            raise HintError(f"hints JSON is too long: {size:,} bytes, the limit is {MAX_HINTS_JSON_BYTES:,}")
        f.seek(0)
        data = f.read()
    if is_json:
        return hints_from_json(data)
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
    if mode == "sketch" and hints is None and not is_gray(image):  # dabs painted on the drawing itself
        image, hints = split_drawing(np.asarray(image.convert("RGB")))
    result = model.colorize(image, mode=mode, hints=hints, vividness=vividness)
    if panel:
        gray = image.convert("L")  # PIL's "L" uses the library's BT.601 weights
        result = make_panel([gray, result] if is_gray(image) else [gray, result, image])
    buffer = io.BytesIO()
    result.save(buffer, "PNG")
    write_atomic(out, buffer.getvalue())


def _reason(error, path):
    """One line for ``error: <path>: <reason>``; the library's messages name only the base name."""
    text = _one_line(error).removeprefix(f"{_one_line(path.name)}: ")
    if not isinstance(error, (ValueError, OSError)):  # ImageInputError is a ValueError
        text = f"{type(error).__name__}: {text}"  # unexpected, so the type helps a bug report
    return text


def run(args, parser):
    """The CLI's work once the arguments are parsed; returns the exit status."""
    failed = False

    def report(path, reason):
        nonlocal failed
        failed = True
        tqdm.write(f"error: {shown(path)}: {shown(reason)}", file=sys.stderr)

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
        print(f"error: cannot load model {shown(args.model or '(default)')}: {shown(_one_line(e))}", file=sys.stderr)
        return 1
    if hints is not None and not model.accepts_hints and args.mode != "sketch":
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


class _Terminated(BaseException):
    """Raised by the handler of SIGTERM / SIGHUP, so that, like Ctrl-C's KeyboardInterrupt, it
    unwinds through ``write_atomic`` (which removes its temporary file) instead of killing the
    process mid-write."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise _Terminated(signum)


def main(argv=None):
    """Entry point of ``python -m colorizer``; returns the exit status (128 + the signal's number
    when stopped by one: 130 for Ctrl-C, 143 for SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    signals = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    in_main_thread = threading.current_thread() is threading.main_thread()  # handlers can only be set there
    previous = {s: signal.signal(s, _terminate) for s in signals} if in_main_thread else {}
    try:
        return run(args, parser)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _Terminated as e:
        print(f"terminated ({signal.Signals(e.signum).name})", file=sys.stderr)
        return 128 + e.signum
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
