"""Debian packages as a data source: downloaded once (``apt-get download``, nothing is installed),
unpacked once (``dpkg-deb -x``), and their Qt resource bundles extracted once, all in a cache
outside git (``<cache>/debs``, ``<cache>/unpacked``): :mod:`train.corpus` reads pictures from them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .rcc import extract_rcc

__all__ = ["fetch", "bundles_unpacked"]


def fetch(package: str, cache: Path) -> tuple[Path, str]:
    """(unpacked folder, version) of a Debian package: ``apt-get download`` once, ``dpkg-deb -x`` once.

    Raises RuntimeError with apt's message if the package cannot be downloaded."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        run = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
        if run.returncode != 0 or not found:
            raise RuntimeError(f"apt-get download {package} failed: {(run.stderr or run.stdout).strip()[-300:]}")
    deb = found[-1]
    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True).stdout.strip()
    target = cache / "unpacked" / f"{package}-{version.replace(':', '_')}"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
        (target / ".complete").write_text(deb.name)
    return target, version


def bundles_unpacked(root: Path) -> Path:
    """A folder holding every Qt resource bundle of an unpacked package, each extracted (once)
    into a subfolder named after it."""
    target = root / "rcc-extracted"
    if not (target / ".complete").exists():
        for bundle in sorted(root.rglob("*.rcc")):
            extract_rcc(bundle, target / bundle.stem)
        (target / ".complete").write_text("")
    return target
