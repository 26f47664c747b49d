"""Build the training corpus of free artwork and photographs from Debian packages.

``python -m train.corpus [--out DIR] [--sizes 128 64] [--workers 2] [--only PKG ...]``

1. ``apt-get download`` each package of :data:`SOURCES` (nothing is installed) into
   ``<cache>/debs`` and unpack it with ``dpkg-deb -x`` into ``<cache>/unpacked/<package>-<version>``
   (``<cache>`` is ``$COLORIZER_CACHE`` or ``~/.cache/colorizer``, outside git), extracting Qt
   resource bundles where a source's pictures are in them (:mod:`train.debian`);
2. pick each source's image files by path (curation: what is a picture, what is an icon, a diagram,
   a sprite sheet or text), turn each into squares (:mod:`train.corpus_images`), drop exact
   duplicates (sha256), near duplicates (dHash), tiny, near-gray and undecodable ones;
3. split each kept file into train or test by its sha256 (:func:`train.corpus_images.split_of`),
   so a file never changes split, and all squares of one file go to the same split;
4. write ``corpus-<size>.tar.gz`` (``train|test/<package>/<sha16>[-<k>].png``, the layout
   :mod:`train.data` reads; byte-identical on a rebuild), the same for each later archive of
   :data:`SOURCES` (``gcompris-<size>.tar.gz``), and ``corpus.json`` (per source: package,
   version, kind, licence, counts and why files were dropped) into ``<cache>/corpus`` or ``--out``.

The class of an image is its package. :data:`SOURCES` says which are photographs ("photo") and
which are drawn, painted or cut-out art ("clipart"); :func:`sources_of_kind` reads it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .corpus_images import HASH_SIDE, near_duplicate, prepare, split_of
from .data import default_cache_dir, default_corpus
from .debian import bundles_unpacked, fetch

__all__ = ["Source", "SOURCES", "SKIPPED", "archives", "sources_of_kind", "collect", "build", "write_archive", "main"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Source:
    """One Debian package and how to read pictures from it.

    include / exclude: patterns on the path inside the package: ``*`` is any text within one
        folder name, ``**`` any text across folders
    crops:  many multi-scale crops per file (few, large photographs and paintings)
    test_fraction: share of files (by content hash) in the test split; 0.4 for the photo
        packages, which have about a dozen files each, so that each has test files
    archive: the archives it is written to (``<archive>-<size>.tar.gz``): sources added after a
        model was trained on ``corpus`` go to archives of their own, so that ``corpus`` stays
        byte-identical and that model's preset still trains it
    rcc:    its pictures are inside Qt resource bundles (:mod:`train.rcc`); the patterns apply to
        ``<bundle name>/<path inside the bundle>``
    """

    package: str
    kind: str  # "photo" or "clipart" (drawn, painted or cut-out art)
    licence: str
    include: tuple
    exclude: tuple = ()
    crops: bool = False
    test_fraction: float = 0.1
    archive: str = "corpus"
    rcc: bool = False


SOURCES = (
    Source("openclipart-png", "clipart", "public domain (Open Clip Art Library dedication)",
           ("usr/share/openclipart/png/**.png",),
           # UI buttons, diagrams, connectors, stars, arrows, callouts, symbols, signs, logos, gradients
           # and patterns: not pictures of things, often text; "unsorted" holds "duplicates"
           tuple(f"usr/share/openclipart/png/{d}/**" for d in (
               "computer/buttons", "computer/diagrams", "computer/connectors", "computer/network", "shapes",
               "buttons", "logos", "special", "unsorted", "signs_and_symbols/awards", "signs_and_symbols/disability",
               "signs_and_symbols/hazard", "signs_and_symbols/led", "signs_and_symbols/map_symbols",
               "transportation/aiga-symbols", "transportation/roadsigns", "education/books", "office/telephone"))
           + ("usr/share/openclipart/png/signs_and_symbols/*.png",)),  # French safety signs
    Source("tuxpaint-stamps-default", "clipart", "GPL-2", ("usr/share/tuxpaint/stamps/**.png",)),
    Source("wesnoth-1.16-data", "clipart", "GPL-2+",
           ("usr/share/games/wesnoth/1.16/data/**/portraits/**.png",  # painted character portraits
            "usr/share/games/wesnoth/1.16/data/core/images/story/*.jpg"),  # painted landscapes
           ("**/transparent/**",)),
    Source("hedgewars-data", "clipart", "GFDL-1.3 / GPL-2 (graphics, per debian/copyright)",
           ("usr/share/games/hedgewars/Data/Themes/*/*.png", "usr/share/games/hedgewars/Data/Forts/*.png"),
           # animation strips, tiling textures, particles and UI icons of the themes
           tuple(f"**/{n}*" for n in ("Flake", "Clouds", "Water", "BlueWater", "Border", "Chunk", "Splash",
                                     "Droplet", "SkyL", "SkyR", "LandTex", "icon", "Girder", "LandBack", "Dust"))
           + ("**_mask.png",)),
    Source("mate-backgrounds", "photo", "GPL-2+ (nature/*, per debian/copyright)",
           ("usr/share/backgrounds/mate/nature/*.jpg",), crops=True, test_fraction=0.4),
    Source("plasma-workspace-wallpapers", "photo", "LGPL-3 (Volna: CC-BY-SA-4.0), per metadata.json",
           tuple(f"usr/share/wallpapers/{n}/contents/images/*" for n in (
               "BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
               "OneStandsOut", "Path", "Volna", "summer_1am")),
           # the same photograph at several resolutions: the largest is read (see collect)
           crops=True, test_fraction=0.4),
    # Ubuntu community photographs (mountains, a forest stream, dogs, a fig, brushes, dandelions, a
    # bridge); not the pattern (analogpattern) nor the render (umang)
    Source("lomiri-wallpapers-16.04", "photo", "CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0 (per file, debian/copyright)",
           ("usr/share/backgrounds/*.jpg",), ("**/analogpattern_*", "**/umang_*"), crops=True, test_fraction=0.4),
    # its one photograph (a nuthatch on a trunk); the others are renders or a recolored night sky
    Source("lomiri-wallpapers-20.04", "photo", "CC-BY-SA-3.0 (debian/copyright)",
           ("usr/share/backgrounds/Kleiber_*.jpg",), crops=True, test_fraction=0.4),
    # Added 2026-12-07, in an archive of its own: the photographs of GCompris's activities (Wikimedia
    # Commons pictures of animals, fish, monuments, landscapes, tools, wind mills, instruments, the
    # sea floor): hundreds of scenes where the photo packages above have two dozen. Not its puzzle
    # pieces (details, paintings, babyshapes), drawings, icons or the gray Braille pictures
    Source("gcompris-qt-data", "photo", "per file in debian/copyright: public domain, CC-BY, CC-BY-SA or GPL-3",
           tuple(f"*/gcompris/src/activities/{d}/*.webp" for d in (
               "categorization/resource/images/fishes", "categorization/resource/images/monuments",
               "categorization/resource/images/others", "categorization/resource/images/renewable",
               "categorization/resource/images/tools", "erase/resource", "explore_farm_animals/resource/animals",
               "explore_monuments/resource/*", "explore_world_animals/resource/animals",
               "explore_world_music/resource/music"))
           + ("*/gcompris/src/activities/clickgame/resource/sea*.webp",),  # the sea floors, not the fish sprites
           crops=True, test_fraction=0.2, archive="gcompris", rcc=True),
)

# Looked at and left out, with why (printed by the builder and copied into train/CORPUS.md).
SKIPPED = {
    "gnome-backgrounds": "no photographs: 16 abstract renders (hexagons, pixels, gradients)",
    "desktop-base": "no photographs: Debian theme artwork (logos, grub and boot screens, SVG wallpapers)",
    "ktuberling-data": "its pictures are SVG only and no SVG renderer is installed here (PIL reads none)",
    "ukui-wallpapers": "no photographs: 12 renders and illustrations (a calla, a goldfish, dunes, ribbons)",
    "sway-backgrounds": "no photographs: one blue logo render at 8 sizes",
    "lomiri-wallpapers": "no photographs: the Ubuntu 'warty' render (its photographs are in the -16.04 and -20.04 packages)",
    "stellarium-data": "a dozen landscape panoramas cut into strips with a transparent sky, and planet renders",
}


def archives() -> list[str]:
    """Names of the archives :data:`SOURCES` are written to, ``corpus`` first."""
    return list(dict.fromkeys(s.archive for s in SOURCES))


def sources_of_kind(kind: str) -> list[str]:
    """Package names (= corpus class names) of :data:`SOURCES` with this kind ("photo" or "clipart")."""
    if kind not in ("photo", "clipart"):
        raise ValueError(f"kind must be 'photo' or 'clipart', not {kind!r}")
    return [s.package for s in SOURCES if s.kind == kind]


# --- picking ---------------------------------------------------------------------------------


def _matches(rel: str, pattern: str) -> bool:
    """Whether a posix path matches a pattern where ``*`` stays within a folder name, ``**`` crosses."""
    regex = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, rel) is not None


def collect(source: Source, root: Path) -> tuple[list[Path], int]:
    """(image files picked by the source's patterns, sorted; number excluded by a pattern).

    Of files that are one picture at several resolutions (``.../images/<W>x<H>.<ext>``: wallpapers),
    only the largest is kept."""
    picked, excluded = [], 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        rel = path.relative_to(root).as_posix()
        if not any(_matches(rel, pattern) for pattern in source.include):
            continue
        if any(_matches(rel, pattern) for pattern in source.exclude):
            excluded += 1
            continue
        picked.append(path)
    largest = {}
    for path in picked:
        stem = path.stem.split("x")
        if path.parent.name == "images" and len(stem) == 2 and all(s.isdigit() for s in stem):
            area = int(stem[0]) * int(stem[1])
            best = largest.get(path.parent.parent)
            if best is None or area > best[0]:
                largest[path.parent.parent] = (area, path)
    keep = {p for _, p in largest.values()}
    return [p for p in picked if p.parent.name != "images" or p in keep or p.parent.parent not in largest], excluded


# --- building ---------------------------------------------------------------------------------


def _prepare_file(job):
    path, size, crops = job
    data = Path(path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    return sha, prepare(data, size, crops, sha)


def build(sources, roots, size: int, workers: int = 2, log=print):
    """Filter and split the files of ``sources`` (each read from ``roots[package]``).

    Returns (items, stats): items are (split, package, file stem, S x S x 3 uint8 image) sorted by
    member name; stats per package count files picked, kept, and dropped per reason, and
    train / test files and images. Files are visited in source order, then by sha256, so which of
    two near duplicates is kept does not depend on file names or on the number of workers.
    """
    items, stats, seen_sha = [], {}, set()
    kept_hashes = np.zeros((0, HASH_SIDE * HASH_SIDE // 8), dtype=np.uint8)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for source in sources:
            files, excluded = collect(source, roots[source.package])
            count = {"files": len(files), "excluded_by_path": excluded, "kept": 0, "train_files": 0, "test_files": 0,
                     "train_images": 0, "test_images": 0, "exact_duplicate": 0, "near_duplicate": 0}
            start = time.time()
            results = sorted(pool.map(_prepare_file, [(str(f), size, source.crops) for f in files], chunksize=8),
                             key=lambda r: r[0])
            for sha, prepared in results:
                if sha in seen_sha:
                    count["exact_duplicate"] += 1
                    continue
                seen_sha.add(sha)
                if prepared.reason:
                    count[prepared.reason] = count.get(prepared.reason, 0) + 1
                    continue
                if near_duplicate(prepared.hash_bits, kept_hashes) >= 0:
                    count["near_duplicate"] += 1
                    continue
                kept_hashes = np.vstack([kept_hashes, np.frombuffer(prepared.hash_bits, dtype=np.uint8)])
                split = split_of(sha, source.test_fraction)
                count["kept"] += 1
                count[f"{split}_files"] += 1
                count[f"{split}_images"] += len(prepared.images)
                for k, image in enumerate(prepared.images):
                    stem = sha[:16] if len(prepared.images) == 1 else f"{sha[:16]}-{k:02d}"
                    items.append((split, source.package, stem, image))
            stats[source.package] = count
            log(f"{source.package}: {count} ({time.time() - start:.0f} s)")
    items.sort(key=lambda item: item[:3])
    return items, stats


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def write_archive(items, path: Path, size: int | None = None) -> None:
    """A .tar.gz of ``train|test/<package>/<stem>.png``, byte-identical for the same items: sorted
    members, zero times and owners, gzip without a time stamp. ``size`` resizes (LANCZOS) first."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for split, package, stem, image in sorted(items, key=lambda item: item[:3]):
            if size is not None and image.shape[0] != size:
                image = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.LANCZOS))
            data = _png(image)
            info = tarfile.TarInfo(f"{split}/{package}/{stem}.png")
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="output folder (default: <cache>/corpus)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 64], help="square sizes; the first is the largest")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="+", default=None, help="build only these packages (for a look)")
    args = parser.parse_args(argv)
    cache = default_cache_dir()
    out = Path(args.out) if args.out else default_corpus().parent
    sizes = sorted(set(args.sizes), reverse=True)
    start = time.time()
    for package, why in SKIPPED.items():
        print(f"skipped {package}: {why}")
    sources, roots, versions = [], {}, {}
    for source in SOURCES:
        if args.only and source.package not in args.only:
            continue
        try:
            roots[source.package], versions[source.package] = fetch(source.package, cache)
            if source.rcc:
                roots[source.package] = bundles_unpacked(roots[source.package])
            sources.append(source)
        except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
            print(f"skipped {source.package}: {e}")
    items, stats = build(sources, roots, sizes[0], workers=args.workers)
    out.mkdir(parents=True, exist_ok=True)
    archive_of = {s.package: s.archive for s in sources}
    written = []
    for archive in dict.fromkeys(archive_of.values()):
        archive_items = [item for item in items if archive_of[item[1]] == archive]
        for size in sizes:
            written.append(out / f"{archive}-{size}.tar.gz")
            write_archive(archive_items, written[-1], size)
    manifest = {"sizes": sizes, "skipped": SKIPPED, "sources": {
        s.package: {"version": versions[s.package], "kind": s.kind, "licence": s.licence, "crops": s.crops,
                    "test_fraction": s.test_fraction, "archive": s.archive, **stats[s.package]} for s in sources}}
    (out / "corpus.json").write_text(json.dumps(manifest, indent=2))
    print(f"\nwrote {', '.join(map(str, written))} and corpus.json ({len(items)} images) in {time.time() - start:.0f} s\n")
    print("| source | kind | version | train files / images | test files / images | dropped |")
    print("| --- | --- | --- | ---: | ---: | --- |")
    for s in sources:
        c = stats[s.package]
        dropped = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("files", "kept") and not k.startswith(("train", "test")) and v)
        print(f"| {s.package} | {s.kind} | {versions[s.package]} | {c['train_files']} / {c['train_images']} | "
              f"{c['test_files']} / {c['test_images']} | {dropped} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
