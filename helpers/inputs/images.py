"""Opening any image a user has, safely, as RGB or greyscale.

- EXIF orientation is applied (phone photos come out upright);
- transparency (RGBA, LA, palette with a transparent colour) is composited on **white**, like a
  product photo on a web page;
- greyscale, CMYK, 16-bit and palette images are converted;
- a missing, truncated, corrupt or non-image file raises :class:`~helpers.core.errors.ImageLoadError`
  with a message that names the file; it never crashes the caller;
- photos of any size open: one above Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``,
  about 89 megapixels; a 108-megapixel phone photo exceeds it) is decoded at a reduced scale (a JPEG by
  its decoder, at 1/2, 1/4 or 1/8 of its size), up to :data:`MAX_PIXELS`; only a larger one is refused,
  with an :class:`~helpers.core.errors.ImageLoadError` that says so.
"""

from __future__ import annotations

import re
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from helpers.core.errors import ImageLoadError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


#: The largest image, in pixels (width x height, read from the file's header before decoding), that
#: :func:`open_rgb` accepts: 400 megapixels, over twice Pillow's own decompression-bomb error threshold
#: (``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 179 megapixels) and well above any phone or camera photo.
#: A larger one raises :class:`~helpers.core.errors.ImageLoadError` ("too large") without being decoded.
MAX_PIXELS = 400_000_000
#: An image above Pillow's limit is decoded at a reduced scale whose shorter side stays at least this
#: long (where the file has that many pixels): the models' inputs are at most 224 px, and the item
#: cropping (:func:`item_box`) still sees plenty of detail.
MIN_DECODED_SIDE = 1024

_PIXEL_LIMIT_LOCK = threading.Lock()


def open_rgb(path: str | Path) -> Image.Image:
    """Open ``path`` and decode it now (truncated files fail here, not later): an upright RGB image.

    :param path: an image file of any format, mode and size up to :data:`MAX_PIXELS`.
    :returns: an RGB :class:`PIL.Image.Image`, at full size when the file is within Pillow's
        decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``), otherwise reduced (see :func:`decode`).
    :raises ImageLoadError: the file is missing, a folder, unreadable, or larger than :data:`MAX_PIXELS`.
    """
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path}: no such file.")
    if path.is_dir():
        raise ImageLoadError(f"{path}: is a folder, not an image file.")
    full = Image.MAX_IMAGE_PIXELS or MAX_PIXELS  # Pillow's limit: larger images are decoded reduced
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # sizes are checked by decode()
            try:
                return decode(path, full)
            except Image.DecompressionBombError:  # over twice Pillow's limit: open with ours instead
                with pixel_limit(MAX_PIXELS):
                    return decode(path, full)
    except Image.DecompressionBombError as e:  # the header claims even more than twice MAX_PIXELS
        found = re.search(r"\((\d+) pixels\)", str(e))
        raise ImageLoadError(too_large_message(path, int(found.group(1)) if found else None)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageLoadError(f"{path}: not a readable image ({type(e).__name__}: {e}).") from None


def decode(path: Path, full_pixels: int) -> Image.Image:
    """Decode ``path`` as an upright RGB image, reduced when it has more than ``full_pixels`` pixels.

    :param path: an image file.
    :param full_pixels: images up to this many pixels are decoded exactly, at full size; larger ones
        (up to :data:`MAX_PIXELS`) at a reduced scale whose shorter side is at least
        :data:`MIN_DECODED_SIDE`: a JPEG in its decoder (draft mode: 1/2, 1/4 or 1/8, fast and
        light on memory), other formats with :func:`shrink` after decoding.
    :returns: an RGB :class:`PIL.Image.Image`.
    :raises ImageLoadError: the header's size is above :data:`MAX_PIXELS` (nothing is decoded).
    """
    with Image.open(path) as im:
        pixels = im.size[0] * im.size[1]
        if pixels > MAX_PIXELS:
            raise ImageLoadError(too_large_message(path, pixels, im.size))
        large = pixels > full_pixels
        if large:
            im.draft("RGB", (MIN_DECODED_SIDE, MIN_DECODED_SIDE))  # JPEG only; a no-op for other formats
        im.load()  # decode now: truncated files fail here, not later
        if large:
            im = shrink(im)
        im = ImageOps.exif_transpose(im)
        return to_rgb(im)


def shrink(im: Image.Image, min_side: int = MIN_DECODED_SIDE) -> Image.Image:
    """``im`` reduced by the largest whole factor that keeps its shorter side at least ``min_side``
    (box averaging, :meth:`PIL.Image.Image.reduce`); ``im`` itself when no factor of 2 or more does.

    :param im: a decoded image, any mode.
    :param min_side: the shortest side the result may have.
    :returns: the reduced image (RGB first when its mode cannot be reduced: palette, 1-bit, 16-bit).
    """
    factor = min(im.size) // min_side
    if factor < 2:
        return im
    if im.mode in ("1", "P", "PA", "I;16", "I;16B", "I;16L", "I;16N"):
        im = to_rgb(im)
    return im.reduce(factor)


@contextmanager
def pixel_limit(pixels: int):
    """Within the block, Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) is at least
    ``pixels``; it is restored afterwards (a lock keeps concurrent callers from restoring a raised value).

    :param pixels: the temporary limit; Pillow warns above it and refuses above twice it.
    """
    with _PIXEL_LIMIT_LOCK:
        before = Image.MAX_IMAGE_PIXELS
        if before is not None:
            Image.MAX_IMAGE_PIXELS = max(before, pixels)
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = before


def too_large_message(path: Path, pixels: int | None, size: tuple[int, int] | None = None) -> str:
    """The one-line message for an image above :data:`MAX_PIXELS`.

    :param path: the file.
    :param pixels: its pixel count (``None``: unknown, only that it exceeds twice :data:`MAX_PIXELS`).
    :param size: its ``(width, height)`` when known.
    :returns: what went wrong (size, limit) and what to do.
    """
    mp = f"{MAX_PIXELS / 1_000_000:g}"
    if pixels is None:
        found = f"more than {2 * MAX_PIXELS:,} pixels"
    elif size is not None:
        found = f"{size[0]:,} x {size[1]:,} = {pixels:,} pixels"
    else:
        found = f"{pixels:,} pixels"
    return (f"{path}: image too large ({found}; the limit is {MAX_PIXELS:,} pixels, {mp} megapixels); "
            f"resize it below {mp} megapixels and try again.")


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency on white."""
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        scale = 255.0 / 65535.0 if arr.max() > 255 else 1.0  # 16-bit range, or already 8-bit values
        im = Image.fromarray((arr * scale).clip(0, 255).astype(np.uint8), "L")
    if im.mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = arr.min(), arr.max()
        im = Image.fromarray(((arr - lo) / ((hi - lo) or 1) * 255).astype(np.uint8), "L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if im.mode != "RGB":
        im = im.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
    return im


def pad_to_square(im: Image.Image, fill=(255, 255, 255)) -> Image.Image:
    """``im`` centred on a square canvas of ``fill`` (white: a product photo's background), never stretched."""
    im = to_rgb(im)
    w, h = im.size
    if w == h:
        return im
    side = max(w, h)
    canvas = Image.new("RGB", (side, side), tuple(fill))
    canvas.paste(im, ((side - w) // 2, (side - h) // 2))
    return canvas


def resize_rgb(im: Image.Image, size: tuple[int, int] | None = None, pad: bool = False) -> np.ndarray:
    """An RGB image as a uint8 ``(H, W, 3)`` array: padded to a square on white first if ``pad``, then
    resized to ``size=(height, width)`` if given (bilinear, with antialiasing when shrinking)."""
    im = pad_to_square(im) if pad else to_rgb(im)
    if size is not None and im.size != (size[1], size[0]):
        im = im.resize((size[1], size[0]), Image.BILINEAR)
    return np.asarray(im, dtype=np.uint8)


def load_rgb_array(path: str | Path, size: tuple[int, int] | None = None, pad: bool = False) -> np.ndarray:
    """An image file as a uint8 ``(H, W, 3)`` array (see :func:`resize_rgb` for ``size`` and ``pad``)."""
    return resize_rgb(open_rgb(path), size, pad)


#: A photo pixel belongs to the item when it differs from the background by more than this (0-255).
ITEM_THRESHOLD = 25
#: Margin kept around the item's bounding box, as a fraction of its longer side.
ITEM_MARGIN = 0.04
#: A "box" smaller than this fraction of the photo's shorter side is a speck, not an item: no crop.
MIN_ITEM_FRACTION = 0.1
#: Mirror a converted photo when its left half holds this much more of the item than its right half
#: (relative difference). Fashion-MNIST's shoes and boots all point left with the heel or shaft on the
#: right (notebook 01); product photos show footwear either way. Garments are nearly symmetric and stay
#: as they are (notebook 06 measures the choice).
ORIENTATION_ASYMMETRY = 0.2


def item_box(grey: np.ndarray, background: float, threshold: float = ITEM_THRESHOLD, margin: float = ITEM_MARGIN):
    """``(top, bottom, left, right)`` of the pixels that differ from ``background``, with a margin; the whole
    image when nothing does (a blank photo) or when they form only a speck (:data:`MIN_ITEM_FRACTION`)."""
    h, w = grey.shape
    mask = np.abs(grey - background) > threshold
    if not mask.any():
        return 0, h, 0, w
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if max(bottom - top, right - left) < MIN_ITEM_FRACTION * min(h, w):
        return 0, h, 0, w
    m = int(margin * max(bottom - top, right - left))
    return max(0, top - m), min(h, bottom + m), max(0, left - m), min(w, right + m)


def canonical_orientation(x: np.ndarray, asymmetry: float = ORIENTATION_ASYMMETRY) -> np.ndarray:
    """Mirror light-on-black image(s) ``(..., H, W)`` or ``(..., H, W, 1)`` whose left half is heavier than the
    right by more than ``asymmetry`` (relative), so that footwear points the way Fashion-MNIST's does."""
    a = np.asarray(x)
    channel = a.ndim >= 3 and a.shape[-1] == 1
    grey = a[..., 0] if channel else a
    half = grey.shape[-1] // 2
    left = grey[..., :half].astype(np.float64).sum(axis=(-2, -1))
    right = grey[..., -half:].astype(np.float64).sum(axis=(-2, -1))
    flip = (left - right) / np.maximum(left + right, 1e-9) > asymmetry
    mask = np.reshape(flip, np.shape(flip) + (1,) * (a.ndim - np.ndim(flip)))
    return np.where(mask, np.flip(a, axis=-2 if channel else -1), a)


def median(a: np.ndarray) -> float:
    """The median of ``a``'s values, as :func:`numpy.median` gives it, in a few microseconds (one partial
    sort, none of its general-purpose checks): the photo conversion below needs two per image."""
    a = np.asarray(a).ravel()
    n, k = a.size, a.size // 2
    if n % 2:
        return float(np.partition(a, k)[k])
    p = np.partition(a, (k - 1, k))
    return float((p[k - 1] + p[k]) / 2)


def to_fashion_mnist_style(im: Image.Image, size: int = 28, crop: bool = False, orient: bool = False) -> np.ndarray:
    """Turn an ordinary product photo into a Fashion-MNIST-like ``(size, size)`` uint8 array.

    Fashion-MNIST shows a light garment on a black background, centred in a square. A photo
    usually shows the item on a light background, so: greyscale; if the border is brighter than
    the centre the image is inverted; with ``crop`` the photo is cut to the item's bounding box
    (:func:`item_box`; Fashion-MNIST items fill their square); the item is padded to a square with
    the background colour; it is resized with a high-quality filter; with ``orient`` it is finally
    mirrored into Fashion-MNIST's orientation (:func:`canonical_orientation`).
    """
    grey = np.asarray(im if im.mode == "L" else to_rgb(im).convert("L"), dtype=np.float32)
    h, w = grey.shape
    b = max(1, min(h, w) // 20)
    border = np.concatenate([grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()])
    background = median(border)
    if background > median(grey[h // 4: h - h // 4 or None, w // 4: w - w // 4 or None]):
        grey = 255.0 - grey
        background = 255.0 - background  # the median of the inverted border
    if crop:
        top, bottom, left, right = item_box(grey, background)
        grey = grey[top:bottom, left:right]
        h, w = grey.shape
    side = max(h, w)
    canvas = np.full((side, side), background, dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top: top + h, left: left + w] = grey
    small = Image.fromarray(canvas.clip(0, 255).astype(np.uint8), "L").resize((size, size), Image.LANCZOS)
    out = np.asarray(small, dtype=np.uint8)
    return canonical_orientation(out) if orient else out
