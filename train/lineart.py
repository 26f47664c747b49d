"""Line drawings synthesized from colored pictures: the line-art network's inputs and targets.

A person's sketch is dark outlines on a white page; clip-art is flat colored regions. So a
colored picture becomes a drawing by drawing its outlines: a pixel is a line where the color
changes by more than ``EDGE`` (largest RGB step to the right or downwards, 0..1) and lines are
widened to ``width`` pixels. The target is the picture with its page made white: clip-art
flattened onto a plain color (the corpus flattens half of it onto random colors) has that color
in all four corners, and a drawn page is white, which no network could guess otherwise.

Torch, batched, on whatever device the batch is on: the training loop draws each augmented crop
anew. ``line_drawing`` is the same on one uint8 picture (evaluation).
"""

import numpy as np
import torch
import torch.nn.functional as F

from colorizer.color import rgb_to_ycbcr_torch

from .data import class_indices

__all__ = ["EDGE", "PAGE_TOLERANCE", "outlines", "white_page", "white_pages", "gray_class_pages", "drawing_views", "line_drawing"]

EDGE = 0.1  # RGB step (0..1) that makes an outline: flat regions of clip-art differ by more, gentle shading steps by less
PAGE_TOLERANCE = 6 / 255  # a corner color this close to the other three is a plain page


def outlines(rgb, width=2):
    """rgb N x 3 x H x W in [0, 1] -> N x 1 x H x W drawing in {0, 1}: 0 on lines ``width``
    pixels wide where the color changes by more than :data:`EDGE`, 1 elsewhere."""
    step = torch.zeros_like(rgb[:, :1])
    step[..., :, 1:] = (rgb[..., :, 1:] - rgb[..., :, :-1]).abs().amax(1, keepdim=True)
    step[..., 1:, :] = torch.maximum(step[..., 1:, :], (rgb[..., 1:, :] - rgb[..., :-1, :]).abs().amax(1, keepdim=True))
    lines = (step > EDGE).float()
    if width > 1:  # a change between pixels j - 1 and j marks j: widen towards j - 1 first, so lines sit on the change
        before, after = (width - 1) // 2, width // 2
        lines = F.max_pool2d(F.pad(lines, (before, after, before, after)), width, 1)
    return 1 - lines


def white_page(rgb, gray=False):
    """rgb N x 3 x H x W in [0, 1] with every pixel of the page color made white (``gray``: made
    the gray of its own luminance, so that only its chroma goes), for images whose four corners
    share one color (within :data:`PAGE_TOLERANCE`); others unchanged."""
    corners = torch.stack([rgb[..., 0, 0], rgb[..., 0, -1], rgb[..., -1, 0], rgb[..., -1, -1]], dim=-1)  # N x 3 x 4
    page = corners[..., :1]
    plain = ((corners - page).abs().amax(dim=(1, 2)) <= PAGE_TOLERANCE)[:, None, None, None]
    on_page = ((rgb - page[..., None]).abs().amax(1, keepdim=True) <= PAGE_TOLERANCE) & plain
    page_color = rgb_to_ycbcr_torch(rgb)[:, :1].expand_as(rgb) if gray else torch.ones_like(rgb)
    return torch.where(on_page, page_color, rgb)


def white_pages(images_uint8, gray=False):
    """:func:`white_page` of a whole N x H x W x 3 uint8 set, in place (returned). Training does it
    once, before cropping: a crop's corners may lie on the object, and its page would stay colored."""
    for start in range(0, len(images_uint8), 1024):
        chunk = torch.from_numpy(images_uint8[start : start + 1024]).permute(0, 3, 1, 2).float() / 255.0
        page = white_page(chunk, gray).mul_(255.0).round_().to(torch.uint8).permute(0, 2, 3, 1)
        images_uint8[start : start + 1024] = page.numpy()
    return images_uint8


def gray_class_pages(image_set, classes):
    """:func:`white_pages` with ``gray`` of the images of ``image_set`` (a ``train.data.ImageSet``)
    whose class is one of ``classes`` (:func:`train.data.class_indices`: a class with no image
    raises DataError), in place; the set is returned. Other classes (photos: their four corners can
    share a color by chance, a sky, a shadow) are left as they are."""
    chosen = class_indices(image_set, classes)
    if chosen:
        image_set.images[chosen] = white_pages(image_set.images[chosen], gray=True)
    return image_set


def drawing_views(rgb_uint8):
    """N x H x W x 3 uint8 pictures whose pages :func:`white_pages` already made white (before
    cropping) -> (rgb target N x 3 x H x W, drawing N x 1 x H x W in {0, 1}, float32), the line-art
    network's (target, input). Not whitened again here: a crop's four corners can all lie on one
    flat object, and that object would turn white in the target."""
    rgb = rgb_uint8.permute(0, 3, 1, 2).float().div_(255.0)
    return rgb, outlines(rgb)


def line_drawing(rgb_uint8, width=2):
    """One H x W x 3 uint8 picture -> (H x W uint8 drawing, black lines on white; H x W bool lines)."""
    rgb = torch.from_numpy(np.array(rgb_uint8)).permute(2, 0, 1)[None].float() / 255.0
    lines = outlines(rgb, width)[0, 0].numpy() < 0.5
    return np.where(lines, 0, 255).astype(np.uint8), lines
