"""Reading Qt resource bundles (train.rcc) from bundles written here by the format's rules."""

import struct
import zlib

import pytest

from train.rcc import RccError, extract_rcc, rcc_files


def _bundle(files, version=3, compress=()):
    """A ``.rcc`` of {posix path: bytes} as Qt's rcc lays it out: tree nodes breadth-first (a
    folder's children contiguous), then the data, then the names; paths in ``compress`` zlib'd."""
    tree = {}
    for path in files:
        *folders, leaf = path.split("/")
        node = tree
        for part in folders:
            node = node.setdefault(part, {})
        node[leaf] = path
    entries, first_child = [("", tree)], {}
    for index, (_, value) in enumerate(entries):  # grows while walked: breadth-first
        if isinstance(value, dict):
            first_child[index] = len(entries)
            entries.extend(sorted(value.items()))
    names, blobs, nodes = bytearray(), bytearray(), []
    for index, (name, value) in enumerate(entries):
        name_offset = len(names)
        names.extend(struct.pack(">HI", len(name), 0) + name.encode("utf-16-be"))
        if isinstance(value, dict):
            node = struct.pack(">IHII", name_offset, 2, len(value), first_child[index])
        else:
            data, flags = files[value], 0
            if value in compress:
                data, flags = struct.pack(">I", len(data)) + zlib.compress(data), 1
            node = struct.pack(">IHHHI", name_offset, flags, 0, 0, len(blobs))
            blobs.extend(struct.pack(">I", len(data)) + data)
        nodes.append(node + (b"\0" * 8 if version > 1 else b""))  # versions 2 and 3: a modification time
    tree_offset = 24 if version == 3 else 20  # version 3: a flags word after the offsets
    data_offset = tree_offset + sum(map(len, nodes))
    head = b"qres" + struct.pack(">IIII", version, tree_offset, data_offset, data_offset + len(blobs))
    return head + b"\0" * (tree_offset - 20) + b"".join(nodes) + bytes(blobs) + bytes(names)


FILES = {"a/pics/one.webp": b"first picture", "a/pics/two.webp": b"second" * 50, "a/readme.txt": b"text",
         "top.png": b"\x89PNG..."}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_file_comes_back_with_its_path_and_bytes(version):
    bundle = _bundle(FILES, version, compress={"a/pics/two.webp"})
    assert dict(rcc_files(bundle)) == FILES


def test_extract_writes_the_files_under_the_target(tmp_path):
    (tmp_path / "x.rcc").write_bytes(_bundle(FILES, compress={"top.png"}))
    assert extract_rcc(tmp_path / "x.rcc", tmp_path / "out") == 4
    assert (tmp_path / "out/a/pics/two.webp").read_bytes() == FILES["a/pics/two.webp"]
    assert (tmp_path / "out/top.png").read_bytes() == FILES["top.png"]


@pytest.mark.parametrize("data, message", [(b"PK\x03\x04" + b"\0" * 40, "qres"),
                                           (b"qres" + struct.pack(">IIII", 9, 20, 20, 20), "version 9"),
                                           (b"qres" + struct.pack(">IIII", 3, 9999, 20, 20), "outside")])
def test_what_is_not_a_bundle_says_so(data, message):
    with pytest.raises(RccError, match=message):
        list(rcc_files(data))


def test_zstd_and_escaping_paths_are_refused(tmp_path):
    zstd = bytearray(_bundle({"f.bin": b"x"}))
    flags_at = 24 + 22 + 4  # the root node, then the file node's flags
    zstd[flags_at:flags_at + 2] = struct.pack(">H", 4)
    with pytest.raises(RccError, match="zstd"):
        list(rcc_files(bytes(zstd)))
    (tmp_path / "evil.rcc").write_bytes(_bundle({"../evil.txt": b"x"}))
    with pytest.raises(RccError, match="leaving"):
        extract_rcc(tmp_path / "evil.rcc", tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
