"""Augmented views of a photo, drawn once and kept: random crops and zooms, small rotations, colour changes and
mirror images, made with PIL from the full photo (not from its already cut square), so a crop can reach what the
centre square leaves out.

Cached-activation training (``helpers.training.cached_transfer``) runs the frozen part of a backbone once per
image; augmentation on the fly would have to run it every epoch. Instead each training photo is drawn :data:`VIEWS`
times here (seeded, so the same on every machine and run), the frozen part runs once per view, and an epoch sees
every view. What a view may change (:data:`DEFAULT`):

- ``scale``: the share of the photo's area the crop keeps (then resized to the model's side);
- ``ratio``: the crop's width/height range, around the square;
- ``rotation``: degrees either way (the corners filled with the photo's edge colour);
- ``brightness``, ``contrast``, ``saturation``: a factor drawn in ``1 ± value``;
- ``mirror``: the chance of a left-right flip.
"""

from __future__ import annotations

import numpy as np

VIEWS = 4
DEFAULT = {"scale": (0.55, 1.0), "ratio": (0.8, 1.25), "rotation": 10.0, "brightness": 0.2, "contrast": 0.2,
           "saturation": 0.2, "mirror": 0.5}


def edge_colour(im) -> tuple:
    """The mean colour of a PIL photo's outermost pixels (what fills a rotated corner or a padded side)."""
    a = np.asarray(im)
    edge = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]).mean(axis=0).round().astype(np.uint8)
    return tuple(int(v) for v in edge)


def random_view(im, size: int, rng: np.random.Generator, settings: dict | None = None) -> np.ndarray:
    """One augmented view of the PIL RGB photo ``im`` as uint8 ``(size, size, 3)`` (``settings``: see :data:`DEFAULT`,
    missing keys taken from it; ``rng`` draws every random choice)."""
    from PIL import Image, ImageEnhance

    s = {**DEFAULT, **(settings or {})}
    im = im.convert("RGB")
    if s["rotation"]:
        angle = float(rng.uniform(-s["rotation"], s["rotation"]))
        im = im.rotate(angle, resample=Image.BILINEAR, fillcolor=edge_colour(im))
    w, h = im.size
    area = w * h * float(rng.uniform(*s["scale"]))
    ratio = float(np.exp(rng.uniform(np.log(s["ratio"][0]), np.log(s["ratio"][1]))))
    cw = int(round(min(w, np.sqrt(area * ratio))))
    ch = int(round(min(h, np.sqrt(area / ratio))))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    im = im.crop((left, top, left + cw, top + ch)).resize((size, size), Image.BILINEAR)
    for key, enhancer in (("brightness", ImageEnhance.Brightness), ("contrast", ImageEnhance.Contrast),
                          ("saturation", ImageEnhance.Color)):
        if s[key]:
            im = enhancer(im).enhance(float(rng.uniform(1 - s[key], 1 + s[key])))
    a = np.asarray(im, dtype=np.uint8)
    return a[:, ::-1].copy() if rng.random() < s["mirror"] else a


def views(photos, size: int, n_views: int = VIEWS, seed: int = 0, settings: dict | None = None) -> np.ndarray:
    """``n_views`` augmented views of every photo of ``photos`` (an iterable of PIL images), view-major:
    uint8 ``(n_views * N, size, size, 3)``, the ``v``-th view of photo ``i`` at ``v * N + i``. Photo ``i``'s views
    are drawn from their own seeded generator, so they do not depend on the other photos."""
    photos = list(photos)
    out = np.empty((n_views * len(photos), size, size, 3), dtype=np.uint8)
    for i, im in enumerate(photos):
        rng = np.random.default_rng([int(seed), i])
        for v in range(n_views):
            out[v * len(photos) + i] = random_view(im, size, rng, settings)
    return out


#: Tiles per side of the scrambled photos (:func:`scrambled`): each photo gets one of these grids, in turn. Four:
#: a tile holds a sixteenth of the photo. Coarser grids (2 x 2, 3 x 3) leave a quarter or a ninth of a garment in one
#: piece -- still a photo of clothes -- and a rule taught to reject them rejected less of the real junk (notebook 11).
SCRAMBLE_GRIDS = (4,)


def scrambled(x, grids=SCRAMBLE_GRIDS, seed: int = 0) -> np.ndarray:
    """Synthetic non-clothing photos: each square photo of ``x`` (``(N, S, S, C)``) cut into a grid of tiles (``grids``
    taken in turn, e.g. ``(4,)``: 4 x 4) and the tiles put back in a seeded random order. They keep what photos of
    clothes have around the garment (beds, floors, light, the phone's colours) and lose the garment's shape: junk
    that looks like an upload, for a rejection rule that would otherwise only know catalogue products on white
    (outlier exposure, Hendrycks et al., 2019). Pixels past the last whole tile stay where they are."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1] != x.shape[2]:
        raise ValueError(f"scrambled() takes square photos (N, S, S, C), got shape {x.shape}")
    rng = np.random.default_rng(seed)
    out = x.copy()
    for i in range(len(x)):
        g = int(grids[i % len(grids)])
        s = x.shape[1] // g
        tiles = [x[i, r * s:(r + 1) * s, c * s:(c + 1) * s] for r in range(g) for c in range(g)]
        order = rng.permutation(len(tiles))
        for k, t in enumerate(order):
            r, c = divmod(k, g)
            out[i, r * s:(r + 1) * s, c * s:(c + 1) * s] = tiles[t]
    return out
