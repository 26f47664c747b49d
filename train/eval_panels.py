"""Panels for a model card: gray | model A | model B ... | original, on corpus test images.

``python -m train.evaluate --panels OUT.png --model A B`` writes one PNG: on the left 8 corpus test
photographs, on the right 8 clip-art images (drawn, painted or cut-out art), one image per row, all
through the library's one pipeline at the corpus's 128 px. The images are spread evenly over each
kind's test images sorted by name (names are content hashes), so the choice is fixed for a corpus
and does not favour any model.

``python -m train.evaluate --panels OUT.png --files F... --model A B`` writes the same columns for
image files instead (:func:`write_file_panels`; e.g. the independent pictures of
:mod:`train.independent`): each colorized at its own full size, then shown at one height.
"""

import numpy as np
from PIL import Image, ImageDraw

import colorizer
from colorizer.panel import make_panel

from .corpus import sources_of_kind
from .evaluate import colorize_set, corpus_test_set

__all__ = ["pick", "write_panels", "write_file_panels"]

HEADER = 18  # pixels of label text above each block
BLOCK_GAP = 24  # pixels between the photo and the clip-art block


def pick(image_set, packages, count=8):
    """Indices of ``count`` images of ``packages`` spread evenly over the set's order (fewer if it has fewer)."""
    index = np.flatnonzero(np.isin(image_set.sources, list(packages)))
    if len(index) == 0:
        raise ValueError(f"the corpus has no test images of {', '.join(packages)}")
    return index[np.unique(np.linspace(0, len(index) - 1, min(count, len(index))).round().astype(int))]


def _block(columns, originals, mode, title):
    """One block: a header, then per original a row gray | each column's model | original."""
    outputs = [colorize_set(model, originals, mode=mode) for _, model in columns]
    grays = outputs[0][1]
    rows = [make_panel([Image.fromarray(im) for im in (grays[i], *(o[0][i] for o in outputs), originals[i])])
            for i in range(len(originals))]
    block = _stack(rows)
    draw = ImageDraw.Draw(block)
    step = originals.shape[2] + 8  # image width + the panel gap
    for k, label in enumerate(["gray", *(label for label, _ in columns), "original"]):
        draw.text((k * step + 2, 3), label if k else f"{title}: gray", fill="black")
    return block


def _stack(rows):
    """The rows one under another, 4 pixels apart, below ``HEADER`` white pixels for labels."""
    sheet = Image.new("RGB", (max(r.width for r in rows), HEADER + sum(r.height + 4 for r in rows)), "white")
    y = HEADER
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height + 4
    return sheet


def write_panels(columns, corpus, out, count=8, mode="full"):
    """Write the PNG described in the module doc to ``out``, a column per (label, Colorizer) of
    ``columns``; returns it as a PIL image."""
    image_set = corpus_test_set(corpus)
    blocks = [_block(columns, image_set.images[pick(image_set, sources_of_kind(kind), count)], mode, title)
              for kind, title in (("photo", "photos"), ("clipart", "clip-art"))]
    sheet = Image.new("RGB", (sum(b.width for b in blocks) + BLOCK_GAP, max(b.height for b in blocks)), "white")
    sheet.paste(blocks[0], (0, 0))
    sheet.paste(blocks[1], (blocks[0].width + BLOCK_GAP, 0))
    sheet.save(out)
    return sheet


def write_file_panels(columns, paths, out, height=160, mode="full"):
    """Write gray | each (label, Colorizer) of ``columns`` | original for each image file, one row
    per file, to ``out``: each image goes through the pipeline at its own size and is then shown
    ``height`` pixels high. Returns the sheet as a PIL image."""
    rows = []
    for path in sorted(paths):
        original = np.array(colorizer.open_image(path).convert("RGB"))[None]
        outputs = [colorize_set(model, original, mode=mode) for _, model in columns]
        width = max(1, round(original.shape[2] * height / original.shape[1]))
        cells = [outputs[0][1][0], *(o[0][0] for o in outputs), original[0]]
        rows.append(make_panel([Image.fromarray(c).resize((width, height), Image.Resampling.LANCZOS) for c in cells]))
    sheet = _stack(rows)
    ImageDraw.Draw(sheet).text((2, 3), "gray | " + " | ".join(label for label, _ in columns) + " | original", fill="black")
    sheet.save(out)
    return sheet
