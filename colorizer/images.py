"""Reading whatever a user hands us into a clean 8-bit RGB or gray image, or a clear error.

This is the I/O edge of the library: files, bytes, PIL images and arrays come in; a PIL image
in mode "RGB" or "L" goes out, upright (EXIF orientation applied), alpha composited on white,
and never larger than the pixel limit (checked from the header, before decoding).
"""

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["ImageInputError", "DEFAULT_MAX_PIXELS", "max_pixels", "open_image", "is_gray"]

# 4096 x 4096: covers phone photos (12 MP) and keeps one request well under 2 GB of memory.
DEFAULT_MAX_PIXELS = 4096 * 4096


class ImageInputError(ValueError):
    """An input that cannot be colorized; the message is one line, fit to show to a user."""


def max_pixels():
    """The pixel limit: ``$COLORIZER_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`."""
    value = os.environ.get("COLORIZER_MAX_PIXELS")
    return int(value) if value else DEFAULT_MAX_PIXELS


def _check_size(width, height, limit):
    if width < 1 or height < 1:
        raise ImageInputError(f"image has no pixels ({width}x{height})")
    if width * height > limit:
        raise ImageInputError(
            f"image is too large: {width}x{height} = {width * height:,} pixels, the limit is {limit:,}"
        )


def _from_array(array):
    """uint8/uint16/float arrays (H x W, H x W x 1, H x W x 3 or x 4) -> PIL image."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageInputError(f"array of shape {array.shape} is not an image (H x W, H x W x 3 or 4)")
    if array.dtype == np.uint16:
        array = (array.astype(np.float32) / 257.0).round()
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise ImageInputError("image holds NaN or infinite values")
        # Float images are usually in [0, 1]; larger values are taken as 0..255.
        array = array * 255.0 if array.max(initial=0) <= 1.0 else array
    elif array.dtype == bool:
        array = array * 255
    array = np.clip(array, 0, 255).astype(np.uint8)
    mode = "L" if array.ndim == 2 else ("RGB" if array.shape[-1] == 3 else "RGBA")
    return Image.fromarray(array, mode=mode)


def _to_8bit(image):
    """Bring any PIL mode to "L", "LA", "RGB" or "RGBA" without losing range."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if image.mode == "F":
            return _from_array(values.astype(np.float32))
        # 16-bit and 32-bit integer gray: scale the full range down to 8 bits.
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8), "L")
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "PA":
        return image.convert("RGBA")
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, ...


def _flatten_alpha(image):
    """Composite on white: transparent parts of a sketch or logo are paper, not black."""
    if image.mode not in ("LA", "RGBA"):
        return image
    base = "L" if image.mode == "LA" else "RGB"
    background = Image.new(base, image.size, 255)
    background.paste(image.convert(base), mask=image.getchannel("A"))
    return background


def open_image(source, limit=None):
    """A PIL image in mode "RGB" or "L", ready to colorize.

    source: a path, bytes, a binary file object, a PIL image or an array (H x W [x 1|3|4];
    uint8, uint16 or float in [0, 1]). limit: max pixels (default :func:`max_pixels`).
    Raises ImageInputError with a one-line message for anything unusable.
    """
    limit = max_pixels() if limit is None else limit
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:
            _check_size(source.shape[1], source.shape[0], limit)
        return _flatten_alpha(_to_8bit(_from_array(source)))
    name = "image"
    try:
        if isinstance(source, Image.Image):
            image = source
        else:
            if isinstance(source, (bytes, bytearray)):
                source = io.BytesIO(source)
            elif isinstance(source, (str, Path)):
                name = Path(source).name
            with warnings.catch_warnings():
                # Our own limit applies; PIL's bomb warning would only be noise.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(source)
        _check_size(image.width, image.height, limit)
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # animated images: the first frame
        image = ImageOps.exif_transpose(image)
        image.load()
        return _flatten_alpha(_to_8bit(image))
    except ImageInputError:
        raise
    except FileNotFoundError:
        raise ImageInputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageInputError(f"{name}: is a folder, not an image") from None
    except UnidentifiedImageError:
        raise ImageInputError(f"{name}: not an image file PIL can read") from None
    except Image.DecompressionBombError as e:
        raise ImageInputError(f"{name}: image is too large ({e})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        # Truncated or corrupt data surfaces as OSError/SyntaxError from the decoders.
        raise ImageInputError(f"{name}: corrupt or truncated image ({e})") from None


def is_gray(image):
    """True when a PIL "L" image, or an RGB image whose three channels are identical."""
    if image.mode == "L":
        return True
    rgb = np.asarray(image.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())
