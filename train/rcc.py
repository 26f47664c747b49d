"""Reading Qt resource bundles (``.rcc``): some Debian packages (GCompris) ship their pictures only
inside them, and no Qt tool unpacks one.

The format (Qt's ``rcc``, versions 1 to 3), all integers big-endian: ``qres``, version, then the
offsets of the tree, the data and the names (version 3 adds a flags word). A tree node is a name
offset (4 bytes), flags (2: 1 zlib-compressed, 2 folder, 4 zstd-compressed) and either a child
count and the first child's index (folders) or locale (4) and a data offset (files); version 2 and
later append an 8-byte modification time. A name is a 2-byte length, a 4-byte hash and UTF-16
text; a file's data a 4-byte size then its bytes, which for zlib are ``qCompress``'s 4-byte
uncompressed size and a zlib stream.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path, PurePosixPath

__all__ = ["RccError", "rcc_files", "extract_rcc"]

_COMPRESSED, _FOLDER, _ZSTD = 1, 2, 4


class RccError(ValueError):
    """Not a Qt resource bundle we read (bad magic, version, offsets, or zstd compression)."""


def rcc_files(data: bytes):
    """(posix path inside the bundle, file bytes) of every file of one ``.rcc``, in tree order."""
    if data[:4] != b"qres" or len(data) < 20:
        raise RccError("not a Qt resource bundle (no 'qres' header)")
    version, tree, blobs, names = struct.unpack(">IIII", data[4:20])
    if version not in (1, 2, 3):
        raise RccError(f"Qt resource bundle version {version} (1 to 3 are read)")
    node_size = 14 if version == 1 else 22

    def unpack(fmt, offset):
        end = offset + struct.calcsize(fmt)
        if offset < 0 or end > len(data):
            raise RccError(f"offset {offset} outside the {len(data)}-byte bundle")
        return struct.unpack(fmt, data[offset:end])

    def name(offset):
        (length,) = unpack(">H", names + offset)
        start = names + offset + 6
        return data[start:start + 2 * length].decode("utf-16-be")

    stack = [(0, PurePosixPath())]  # the root folder is node 0, nameless
    while stack:
        index, folder = stack.pop()
        node = tree + index * node_size
        name_offset, flags = unpack(">IH", node)
        path = folder / name(name_offset) if index else folder
        if flags & _FOLDER:
            count, first = unpack(">II", node + 6)
            stack.extend((child, path) for child in reversed(range(first, first + count)))
            continue
        (offset,) = unpack(">I", node + 10)
        (size,) = unpack(">I", blobs + offset)
        blob = data[blobs + offset + 4:blobs + offset + 4 + size]
        if flags & _ZSTD:
            raise RccError(f"{path} is zstd-compressed (only zlib is read)")
        yield path.as_posix(), zlib.decompress(blob[4:]) if flags & _COMPRESSED else blob


def extract_rcc(bundle: Path, target: Path) -> int:
    """Write every file of ``bundle`` under ``target`` (its path inside the bundle); the count."""
    count = 0
    for rel, blob in rcc_files(Path(bundle).read_bytes()):
        if ".." in PurePosixPath(rel).parts:
            raise RccError(f"{rel}: a path leaving the bundle's folder")
        out = Path(target, rel)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(blob)
        count += 1
    return count
