"""Reading whatever a user hands us into a clean 8-bit RGB or gray image, or a clear error.

This is the I/O edge of the library: files, bytes, PIL images and arrays come in; a PIL image
in mode "RGB" or "L" goes out, upright (EXIF orientation applied), alpha composited on white,
and never larger than the pixel limit (checked from the header, before decoding).
Only common raster formats are opened (:data:`FORMATS`): PIL's rarer plugins (EPS runs
Ghostscript, for one) are no part of what an upload may trigger.
"""

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ImageInputError",
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "max_pixels",
    "readable_formats",
    "image_extensions",
    "open_image",
    "is_gray",
]

# 4096 x 4096: covers phone photos (12 MP) and keeps one request well under 2 GB of memory.
DEFAULT_MAX_PIXELS = 4096 * 4096

# PIL format names open_image accepts, where this PIL build has them (a multi-picture JPEG,
# as many cameras write, opens as "JPEG" and reads as "MPO").
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "AVIF", "JPEG2000", "PPM", "TGA")


class ImageInputError(ValueError):
    """An input that cannot be colorized; the message is one line, fit to show to a user."""


def _error(name, message, cause=None):
    """ImageInputError "name: message (cause)" on one line (decoder messages may span several)."""
    text = f"{name}: {message}" + (f" ({cause})" if cause is not None and str(cause) else "")
    return ImageInputError(" ".join(text.split()))


def max_pixels():
    """The pixel limit: ``$COLORIZER_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`."""
    value = os.environ.get("COLORIZER_MAX_PIXELS")
    if not value:
        return DEFAULT_MAX_PIXELS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ImageInputError(f"COLORIZER_MAX_PIXELS must be a positive whole number, not {value!r}")
    return limit


def readable_formats():
    """The :data:`FORMATS` this PIL build can open."""
    Image.init()  # registers every plugin, so Image.OPEN is complete
    return [fmt for fmt in FORMATS if fmt in Image.OPEN]


def image_extensions():
    """Lower-case file name extensions (".png", ".jpg", ...) of the formats open_image reads."""
    formats = set(readable_formats()) | {"MPO"}
    return {ext for ext, fmt in Image.registered_extensions().items() if fmt in formats}


def _check_size(width, height, limit):
    if width < 1 or height < 1:
        raise ImageInputError(f"image has no pixels ({width}x{height})")
    if width * height > limit:
        raise ImageInputError(
            f"image is too large: {width}x{height} = {width * height:,} pixels, the limit is {limit:,}"
        )


def _from_array(array):
    """bool/integer/float arrays (H x W, H x W x 1, H x W x 3 or x 4) -> PIL image.

    uint16 is scaled from 0..65535, floats from [0, 1] (or taken as 0..255 when larger),
    other integers are taken as 0..255; everything is clipped to 8 bits.
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageInputError(f"array of shape {array.shape} is not an image (H x W, H x W x 3 or 4)")
    if not (array.dtype == bool or np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ImageInputError(f"array of dtype {array.dtype} is not an image (bool, integer or float)")
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
        # 16-bit gray: 0..65535. 32-bit "I" carries no bit depth: 8-bit or 16-bit values are
        # read as such, anything larger is scaled by its own maximum rather than clipped white.
        top = values.max(initial=0)
        top = 65535.0 if image.mode.startswith("I;16") or 255 < top <= 65535 else max(top, 255.0)
        return Image.fromarray(np.clip(values * (255.0 / top), 0, 255).round().astype(np.uint8), "L")
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("PA", "RGBa"):
        return image.convert("RGBA")
    if image.mode == "La":  # premultiplied: PIL converts it only to "LA"
        return image.convert("LA")
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
    background = Image.new(base, image.size, "white")  # not 255: for RGB that is (255, 0, 0)
    background.paste(image.convert(base), mask=image.getchannel("A"))
    return background


def _upright(image):
    """The decoded image as a viewer shows it: EXIF orientation applied, and removed from the
    metadata, so that opening the result again does not turn it twice."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block (PIL raises many kinds): keep the good pixels as stored
        return image


def open_image(source, limit=None, alpha=False):
    """A PIL image in mode "RGB" or "L", ready to colorize.

    source: a path, bytes, a binary file object, a PIL image or an array (H x W [x 1|3|4];
    uint8, uint16 or float in [0, 1]). limit: max pixels (default :func:`max_pixels`).
    alpha: keep the transparency instead, as mode "RGBA" (layers of paint, such as hints).
    Raises ImageInputError with a one-line message for anything unusable.
    """
    limit = max_pixels() if limit is None else limit
    finish = (lambda image: image.convert("RGBA")) if alpha else _flatten_alpha
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:
            _check_size(source.shape[1], source.shape[0], limit)
        return finish(_to_8bit(_from_array(source)))
    name = "image"
    if isinstance(source, (str, os.PathLike)):
        name = Path(source).name or str(source)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    elif not (isinstance(source, Image.Image) or hasattr(source, "read")):
        raise ImageInputError(f"cannot read an image from {type(source).__name__}")
    try:
        if isinstance(source, Image.Image):
            image = source
        else:
            with warnings.catch_warnings():
                # Our own limit applies; PIL's bomb warning would only be noise.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(source, formats=readable_formats())
        _check_size(image.width, image.height, limit)
        if image.tell() != 0:
            image.seek(0)  # animated images: the first frame
        image.load()  # decoding errors first, before anything that might hide them
        return finish(_to_8bit(_upright(image)))
    except ImageInputError:
        raise
    except FileNotFoundError:
        raise _error(name, "no such file") from None
    except IsADirectoryError:
        raise _error(name, "is a folder, not an image") from None
    except PermissionError:
        raise _error(name, "permission denied") from None
    except UnidentifiedImageError:
        # PIL says this for a damaged header too, having tried every format on it.
        raise _error(name, f"not an image file, or a damaged one (formats read: {', '.join(readable_formats())})") from None
    except Image.DecompressionBombError as e:
        raise _error(name, "image is too large", e) from None
    except MemoryError:
        raise _error(name, "not enough memory to decode this image") from None
    except Exception as e:
        # Malformed data makes PIL's decoders raise nearly anything (OSError, SyntaxError,
        # EOFError, struct.error, TypeError, ...): every one means the file is unusable.
        raise _error(name, "corrupt or truncated image", e) from None


def is_gray(image):
    """True when a PIL "L" image, or an RGB image whose three channels are identical."""
    if image.mode == "L":
        return True
    rgb = np.asarray(image.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())
