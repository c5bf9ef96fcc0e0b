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


def test_hundred_megapixel_phone_photo_opens_reduced_and_is_classified(tmp_path):
    """A legal 100-megapixel JPEG (above Pillow's decompression-bomb limit, about 89 Mpx) is decoded
    by the JPEG decoder at a reduced scale, without any warning, and classified."""
    import shutil
    import warnings
    from pathlib import Path

    from PIL import ImageDraw

    from helpers.core import paths
    from helpers.inputs.images import MIN_DECODED_SIDE
    from helpers.serving.classify import predict_files

    photo = Image.new("RGB", (12_500, 8_000), "white")
    ImageDraw.Draw(photo).rectangle((4_000, 1_500, 8_500, 6_500), fill=(30, 30, 30))  # a dark item
    path = save(photo, tmp_path / "phone.jpg", quality=70, subsampling=2)
    del photo
    assert 12_500 * 8_000 > Image.MAX_IMAGE_PIXELS
    limit = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        im = open_rgb(path)
    assert im.mode == "RGB" and im.size == (3_125, 2_000)                 # 1/4, in the decoder
    assert min(im.size) >= MIN_DECODED_SIDE and Image.MAX_IMAGE_PIXELS == limit
    arr = np.asarray(im)
    assert tuple(arr[10, 10]) == (255, 255, 255) and arr[1_000, 1_500].max() < 60

    source = Path(__file__).resolve().parent.parent / "weights"
    if not (source / "fashion_dense.weights.h5").is_file():
        pytest.skip("the saved fashion_dense model is not in weights/")
    for suffix in (".json", ".weights.h5"):
        shutil.copy(source / f"fashion_dense{suffix}", paths.weights_dir())
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        rows = list(predict_files([path], "fashion"))
    assert len(rows) == 1 and "error" not in rows[0] and rows[0]["label"] and rows[0]["model"] == "fashion_dense"


def _png_claiming(tmp_path, width, height):
    """A tiny valid PNG whose IHDR (size and CRC patched) claims ``width`` x ``height`` pixels."""
    import struct
    import zlib

    data = bytearray(save(Image.new("L", (4, 4), 128), tmp_path / "claim.png").read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path = tmp_path / "absurd.png"
    path.write_bytes(bytes(data))
    return path


def test_absurdly_large_image_is_one_clear_error_line(tmp_path, monkeypatch):
    import warnings

    from helpers.inputs import images

    limit = Image.MAX_IMAGE_PIXELS
    path = _png_claiming(tmp_path, 100_000, 100_000)                     # 10 gigapixels, from its header
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageLoadError) as e:
            open_rgb(path)
    message = str(e.value)
    assert "\n" not in message and "Traceback" not in message and "decompression bomb" not in message
    assert "absurd.png" in message and "too large" in message and "10,000,000,000 pixels" in message
    assert f"{images.MAX_PIXELS:,}" in message and "resize it below 400 megapixels" in message
    assert Image.MAX_IMAGE_PIXELS == limit                                # Pillow's own limit is restored
    # a size above MAX_PIXELS (lowered here) is refused from the header, with its width and height
    monkeypatch.setattr(images, "MAX_PIXELS", 1_000)
    with pytest.raises(ImageLoadError, match=r"too large \(40 x 30 = 1,200 pixels; the limit is 1,000 pixels, "
                                             r"0\.001 megapixels\); resize it below 0\.001 megapixels"):
        open_rgb(save(Image.new("RGB", (40, 30)), tmp_path / "small.png"))


def test_median_is_numpys_median():
    from helpers.inputs.images import median

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 4, 111, 112):
        for a in (rng.integers(0, 256, n).astype(np.float32), rng.random(n)):
            assert median(a) == float(np.median(a))
    assert median(np.arange(12.0).reshape(3, 4)) == 5.5
