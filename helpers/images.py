"""Opening any image a user has, safely, as RGB or greyscale.

- EXIF orientation is applied (phone photos come out upright);
- transparency (RGBA, LA, palette with a transparent colour) is composited on **white**, like a
  product photo on a web page;
- greyscale, CMYK, 16-bit and palette images are converted;
- a missing, truncated, corrupt or non-image file raises :class:`~helpers.errors.ImageLoadError`
  with a message that names the file; it never crashes the caller.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


def open_rgb(path: str | Path) -> Image.Image:
    """Open ``path`` fully (decoding every pixel) and return an upright RGB image."""
    path = Path(path)
    if not path.exists():
        raise ImageLoadError(f"{path}: no such file.")
    if path.is_dir():
        raise ImageLoadError(f"{path}: is a folder, not an image file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()  # decode now: truncated files fail here, not later
                im = ImageOps.exif_transpose(im)
                return to_rgb(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as e:
        raise ImageLoadError(f"{path}: not a readable image ({type(e).__name__}: {e}).") from None


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


def to_fashion_mnist_style(im: Image.Image, size: int = 28) -> np.ndarray:
    """Turn an ordinary product photo into a Fashion-MNIST-like ``(size, size)`` uint8 array.

    Fashion-MNIST shows a light garment on a black background, centred in a square. A photo
    usually shows the item on a light background, so: greyscale; if the border is brighter than
    the centre the image is inverted; the item is padded to a square with the background colour;
    finally it is resized with a high-quality filter.
    """
    grey = np.asarray(to_rgb(im).convert("L"), dtype=np.float32)
    h, w = grey.shape
    b = max(1, min(h, w) // 20)
    border = np.concatenate([grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()])
    centre = grey[h // 4: h - h // 4 or None, w // 4: w - w // 4 or None]
    if np.median(border) > np.median(centre):
        grey = 255.0 - grey
        border = 255.0 - border
    side = max(h, w)
    canvas = np.full((side, side), float(np.median(border)), dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    canvas[top: top + h, left: left + w] = grey
    small = Image.fromarray(canvas.clip(0, 255).astype(np.uint8), "L").resize((size, size), Image.LANCZOS)
    return np.asarray(small, dtype=np.uint8)
