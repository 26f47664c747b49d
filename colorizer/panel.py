"""Side-by-side comparison panels (gray | colorized | original), for the CLI and the app."""

from PIL import Image

__all__ = ["make_panel", "PANEL_GAP"]

PANEL_GAP = 8  # pixels of white between two images


def make_panel(images, gap=PANEL_GAP):
    """The PIL images side by side, left to right, on white, as one RGB image.

    Width: the sum of the widths plus ``gap`` pixels between neighbours; height: the tallest
    image's (shorter ones are top-aligned). Any PIL mode is accepted (shown as RGB).
    """
    if not images:
        raise ValueError("a panel needs at least one image")
    width = sum(image.width for image in images) + gap * (len(images) - 1)
    panel = Image.new("RGB", (width, max(image.height for image in images)), "white")
    x = 0
    for image in images:
        panel.paste(image.convert("RGB"), (x, 0))
        x += image.width + gap
    return panel
