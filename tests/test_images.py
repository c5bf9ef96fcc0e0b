import numpy as np
import pytest
from PIL import Image

from helpers.core.errors import ImageLoadError
from helpers.inputs.images import load_rgb_array, open_rgb, to_fashion_mnist_style


def save(im, path, **kw):
    im.save(path, **kw)
    return path


def test_rgba_is_composited_on_white(tmp_path):
    im = Image.new("RGBA", (10, 6), (255, 0, 0, 0))  # fully transparent red
    im.putpixel((0, 0), (0, 0, 255, 255))            # one opaque blue pixel
    out = np.asarray(open_rgb(save(im, tmp_path / "a.png")))
    assert out.shape == (6, 10, 3)
    assert tuple(out[5, 5]) == (255, 255, 255) and tuple(out[0, 0]) == (0, 0, 255)


def test_palette_with_transparency_and_la(tmp_path):
    p = Image.new("P", (4, 4), 0)
    p.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    p.putpixel((1, 1), 1)
    p.info["transparency"] = 0
    out = np.asarray(open_rgb(save(p, tmp_path / "p.png", transparency=0)))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[1, 1]) == (10, 200, 30)
    la = Image.new("LA", (3, 3), (0, 0))
    assert tuple(np.asarray(open_rgb(save(la, tmp_path / "la.png")))[0, 0]) == (255, 255, 255)


@pytest.mark.parametrize("mode,ext", [("L", "png"), ("1", "png"), ("CMYK", "jpg"), ("I;16", "png"),
                                      ("RGB", "bmp"), ("RGB", "gif"), ("RGB", "webp"), ("RGB", "tiff")])
def test_every_mode_and_format_becomes_rgb(tmp_path, mode, ext):
    im = Image.new(mode, (7, 5))
    arr = load_rgb_array(save(im, tmp_path / f"x.{ext}"), size=(12, 9))
    assert arr.shape == (12, 9, 3) and arr.dtype == np.uint8


def test_sixteen_bit_is_scaled_not_clipped(tmp_path):
    im = Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))
    out = np.asarray(open_rgb(save(im, tmp_path / "w.png")))
    assert out.min() == 255


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (40, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    path = save(im, tmp_path / "phone.jpg", exif=exif.tobytes())
    assert open_rgb(path).size == (20, 40)


def test_truncated_jpeg_is_an_error_not_a_crash(tmp_path):
    path = save(Image.new("RGB", (64, 64), "red"), tmp_path / "t.jpg", quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="t.jpg"):
        open_rgb(path)


@pytest.mark.parametrize("content", [b"hello, I am text", b""])
def test_non_image_named_jpg(tmp_path, content):
    path = tmp_path / "fake.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match="not a readable image"):
        open_rgb(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        open_rgb(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        open_rgb(tmp_path)


def test_product_photo_becomes_fashion_mnist_style():
    # a dark, tall item on a white background, not square
    arr = np.full((100, 60), 250, np.uint8)
    arr[10:90, 20:40] = 30
    out = to_fashion_mnist_style(Image.fromarray(arr))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out[14, 14] > 180 and out[1, 1] < 30  # inverted: bright item, dark padded background
    # already Fashion-MNIST style (bright on black): not inverted
    dark = np.zeros((28, 28), np.uint8)
    dark[8:20, 8:20] = 200
    assert to_fashion_mnist_style(Image.fromarray(dark))[14, 14] > 150


def test_canonical_orientation_mirrors_only_clearly_left_heavy_items():
    from helpers.inputs.images import canonical_orientation

    boot = np.zeros((28, 28), np.uint8)
    boot[5:25, 2:10] = 200      # shaft on the left: Fashion-MNIST's boots have it on the right
    boot[18:25, 10:20] = 200
    out = canonical_orientation(boot)
    assert np.array_equal(out, boot[:, ::-1])
    assert np.array_equal(canonical_orientation(out), out)                 # already canonical: unchanged
    shirt = np.zeros((28, 28), np.uint8)
    shirt[4:24, 6:22] = 150
    shirt[10, 6] = 255                                                     # nearly symmetric: unchanged
    assert np.array_equal(canonical_orientation(shirt), shirt)
    batch = np.stack([boot, shirt])[..., None]
    got = canonical_orientation(batch)
    assert got.shape == batch.shape and np.array_equal(got[0, ..., 0], boot[:, ::-1])
    assert np.array_equal(got[1], batch[1])


def test_fashion_style_crop_fills_the_square_with_the_item():
    photo = np.full((300, 400, 3), 255, np.uint8)
    photo[80:220, 130:270] = 20                                            # a dark item, lots of margin
    plain = to_fashion_mnist_style(Image.fromarray(photo))
    cropped = to_fashion_mnist_style(Image.fromarray(photo), crop=True)
    assert (cropped > 128).mean() > 0.7 > (plain > 128).mean()
    blank = np.full((50, 50, 3), 255, np.uint8)                              # nothing to crop to: no error
    assert to_fashion_mnist_style(Image.fromarray(blank), crop=True).shape == (28, 28)
    speck = blank.copy()
    speck[25, 25] = 0                                                      # one dark pixel is not an item
    assert to_fashion_mnist_style(Image.fromarray(speck), crop=True).mean() > 200
