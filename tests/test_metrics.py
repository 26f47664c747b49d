"""Tests for colorizer.metrics: PSNR, SSIM, colorfulness, hue accuracy and MSE on uint8 images."""

import math

import numpy as np
import pytest

from colorizer.metrics import (
    colorfulness,
    colorfulness_batch,
    hue_accuracy,
    hue_accuracy_batch,
    mse,
    mse_batch,
    psnr,
    psnr_batch,
    ssim,
    ssim_batch,
)


def _rand(rng, shape=(32, 32, 3)):
    return rng.integers(0, 256, shape, dtype=np.uint8)


def _noisy(rng, img, amp):
    noisy = img.astype(np.int16) + rng.integers(-amp, amp + 1, img.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _skimage_inputs():
    """Deterministic pairs whose SSIM was computed once with scikit-image (see below)."""
    rng = np.random.default_rng(0)
    a = _rand(rng)
    b = _noisy(rng, a, 30)
    c = _rand(rng)
    yy, xx = np.mgrid[0:32, 0:32]
    g = ((xx * 4 + yy * 3) % 256).astype(np.uint8)
    smooth = np.stack([g, 255 - g, (xx * 8 % 256).astype(np.uint8)], -1)
    smooth2 = _noisy(rng, smooth, 10)
    return {
        "noisy": (a, b),
        "unrelated": (a, c),
        "smooth": (smooth, smooth2),
        "gray": (smooth[..., 0], smooth2[..., 0]),
    }


# skimage 0.26 structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
# use_sample_covariance=False, data_range=255, channel_axis=-1 (None for gray)) on the
# pairs of _skimage_inputs(); scikit-image is not a project dependency, hence constants.
SKIMAGE_SSIM = {
    "noisy": 0.9738554584937739,
    "unrelated": -0.0014200688428516,
    "smooth": 0.8551249913338629,
    "gray": 0.8336982593611276,
}


# ---------------------------------------------------------------- PSNR


def test_psnr_identical_is_capped():
    img = _rand(np.random.default_rng(1))
    assert psnr(img, img) == 50.0
    assert psnr(img, img, cap=60.0) == 60.0


def test_psnr_one_level_offset_exact():
    a = _rand(np.random.default_rng(2))
    a = np.clip(a, 0, 254)
    b = a + 1  # every pixel and channel differs by exactly one level: MSE = 1
    expected = 10 * math.log10(255**2)  # 48.1308...
    assert psnr(a, b) == pytest.approx(expected, abs=1e-12)
    assert psnr(b, a) == pytest.approx(48.1308036, abs=1e-6)


def test_psnr_known_mse_and_no_uint8_wraparound():
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 255, np.uint8)  # uint8 a - b would wrap to 1
    assert psnr(a, b) == pytest.approx(0.0, abs=1e-12)
    b = np.zeros((4, 4, 3), np.uint8)
    b[0, 0, 0] = 48  # MSE = 48^2 / 48 = 48
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 48), abs=1e-12)


def test_psnr_cap_honored():
    a = np.zeros((32, 32, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 1  # MSE = 1/3072 -> 82.99 dB, above the cap
    assert psnr(a, b) == 50.0
    assert psnr(a, b, cap=100.0) == pytest.approx(10 * math.log10(255**2 * 3072), abs=1e-9)
    assert psnr(a, b, cap=30.0) == 30.0


def test_psnr_gray_input():
    a = np.zeros((8, 8), np.uint8)
    assert psnr(a, a + 1) == pytest.approx(10 * math.log10(255**2), abs=1e-12)


def test_psnr_batch_matches_loop():
    rng = np.random.default_rng(3)
    outs = _rand(rng, (6, 32, 32, 3))
    tgts = np.stack([_noisy(rng, o, amp) for o, amp in zip(outs, [0, 1, 3, 10, 40, 255])])
    got = psnr_batch(outs, tgts)
    assert got.shape == (6,) and got.dtype == np.float64
    np.testing.assert_array_equal(got, [psnr(o, t) for o, t in zip(outs, tgts)])
    assert got[0] == 50.0
    assert np.all(np.diff(got) < 0)  # more noise, lower PSNR


def test_rejects_bad_inputs():
    a = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(TypeError):
        psnr(a.astype(np.float32), a.astype(np.float32))
    with pytest.raises(ValueError):
        psnr(a, a[:4])
    with pytest.raises(ValueError):
        psnr_batch(a[..., 0], a[..., 0])  # one H x W image is not a stack
    with pytest.raises(ValueError):
        psnr(a[..., :2], a[..., :2])  # neither RGB nor gray
    with pytest.raises(ValueError):
        colorfulness(a[..., 0])  # colorfulness needs RGB


# ---------------------------------------------------------------- SSIM


def test_ssim_identical_is_one():
    img = _rand(np.random.default_rng(4))
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    flat = np.full((16, 16, 3), 7, np.uint8)
    assert ssim(flat, flat) == pytest.approx(1.0, abs=1e-12)


def test_ssim_symmetric():
    rng = np.random.default_rng(5)
    a = _rand(rng)
    b = _noisy(rng, a, 50)
    assert ssim(a, b) == pytest.approx(ssim(b, a), abs=1e-12)


def test_ssim_decreases_with_noise():
    rng = np.random.default_rng(6)
    a = _skimage_inputs()["smooth"][0]
    values = [ssim(a, _noisy(rng, a, amp)) for amp in (0, 2, 8, 32, 128)]
    assert values[0] == pytest.approx(1.0)
    assert all(x > y for x, y in zip(values, values[1:]))


@pytest.mark.parametrize("name", sorted(SKIMAGE_SSIM))
def test_ssim_matches_skimage_constants(name):
    x, y = _skimage_inputs()[name]
    assert ssim(x, y) == pytest.approx(SKIMAGE_SSIM[name], abs=1e-9)


def test_ssim_batch_matches_loop_and_chunks():
    rng = np.random.default_rng(7)
    outs = _rand(rng, (300, 32, 32, 3))  # more than one internal chunk of 256
    tgts = _noisy(rng, outs, 20)
    got = ssim_batch(outs, tgts)
    assert got.shape == (300,) and got.dtype == np.float64
    idx = [0, 1, 255, 256, 299]
    np.testing.assert_allclose(got[idx], [ssim(outs[i], tgts[i]) for i in idx], rtol=0, atol=1e-12)


def test_ssim_non_square_and_too_small():
    rng = np.random.default_rng(8)
    a = _rand(rng, (20, 13, 3))
    b = _noisy(rng, a, 20)
    assert ssim(a, b) == pytest.approx(ssim(a.transpose(1, 0, 2), b.transpose(1, 0, 2)), abs=1e-12)
    with pytest.raises(ValueError):
        ssim(a[:10], b[:10])


# ---------------------------------------------------------------- colorfulness


def test_colorfulness_gray_is_zero():
    g = _rand(np.random.default_rng(9), (16, 16))
    assert colorfulness(np.repeat(g[..., None], 3, axis=-1)) == pytest.approx(0.0, abs=1e-12)


def test_colorfulness_two_colors_by_hand():
    img = np.zeros((4, 4, 3), np.uint8)
    img[:2, :, 0] = 255  # top half pure red:   rg = 255, yb = 127.5
    img[2:, :, 2] = 255  # bottom half pure blue: rg = 0, yb = -255
    # Two equal halves: mean = (p + q) / 2, population std = |p - q| / 2, so
    # std_rg = 127.5, mean_rg = 127.5, std_yb = 191.25, mean_yb = -63.75.
    expected = math.sqrt(127.5**2 + 191.25**2) + 0.3 * math.sqrt(127.5**2 + 63.75**2)
    assert expected == pytest.approx(127.5 * (math.sqrt(3.25) + 0.3 * math.sqrt(1.25)))
    assert colorfulness(img) == pytest.approx(expected, abs=1e-9)


def test_colorfulness_single_color():
    img = np.zeros((5, 5, 3), np.uint8)
    img[..., 0] = 255  # no spread, only the mean term: 0.3 * sqrt(255^2 + 127.5^2)
    assert colorfulness(img) == pytest.approx(0.3 * 127.5 * math.sqrt(5), abs=1e-9)


def test_colorfulness_batch_matches_loop():
    imgs = _rand(np.random.default_rng(10), (5, 8, 8, 3))
    got = colorfulness_batch(imgs)
    assert got.shape == (5,) and got.dtype == np.float64
    np.testing.assert_array_equal(got, [colorfulness(i) for i in imgs])


# ---------------------------------------------------------------- MSE


def test_mse_scale():
    a = np.zeros((4, 4, 3), np.uint8)
    assert mse(a, a) == 0.0
    assert mse(a, np.full_like(a, 255)) == pytest.approx(1.0)
    assert mse(a, np.full_like(a, 51)) == pytest.approx(0.04)  # (51/255)^2 = 0.2^2
    b = np.full_like(a, 10)
    assert mse(a, b) == pytest.approx(10 ** (-psnr(a, b) / 10))


def test_mse_batch_matches_loop():
    rng = np.random.default_rng(11)
    outs, tgts = _rand(rng, (4, 8, 8, 3)), _rand(rng, (4, 8, 8, 3))
    got = mse_batch(outs, tgts)
    assert got.shape == (4,)
    np.testing.assert_array_equal(got, [mse(o, t) for o, t in zip(outs, tgts)])


def _chroma_image(rng, rotate_deg=0.0, scale=1.0, n=4, size=24, magnitude=0.15):
    """n x size x size x 3 uint8 images of Y 0.5 and chroma ``magnitude`` at random hues, with the
    hue turned by ``rotate_deg`` and the chroma scaled by ``scale``; same rng seed = same hues."""
    from colorizer.color import ycbcr_to_rgb

    angle = np.radians(rng.uniform(-180, 180, (n, size, size)) + rotate_deg)
    ycbcr = np.stack([np.full(angle.shape, 0.5), scale * magnitude * np.cos(angle), scale * magnitude * np.sin(angle)], -1)
    return (ycbcr_to_rgb(ycbcr) * 255).round().clip(0, 255).astype(np.uint8)


def test_hue_accuracy_known_answers():
    original = _chroma_image(np.random.default_rng(0))
    assert np.array_equal(hue_accuracy_batch(original, original), np.ones(4))
    for degrees in (45, 90, 180, -60):  # beyond the 30 degree tolerance, either way round
        assert np.array_equal(hue_accuracy_batch(_chroma_image(np.random.default_rng(0), degrees), original), np.zeros(4))
    for degrees in (20, -25):  # within it
        assert np.array_equal(hue_accuracy_batch(_chroma_image(np.random.default_rng(0), degrees), original), np.ones(4))
    # hue, not saturation: a paler output of the right hues is right
    assert hue_accuracy(_chroma_image(np.random.default_rng(0), scale=0.3)[0], original[0]) == 1.0
    # a gray output has no hue
    gray = np.repeat(np.full(original.shape[:3], 128, np.uint8)[..., None], 3, axis=-1)
    assert np.array_equal(hue_accuracy_batch(gray, original), np.zeros(4))
    # only clearly colored original pixels are scored: none -> NaN
    faint = _chroma_image(np.random.default_rng(0), magnitude=0.02)
    assert np.isnan(hue_accuracy_batch(original, faint)).all()


def test_hue_accuracy_scores_the_share_of_colored_pixels():
    original = _chroma_image(np.random.default_rng(1), n=1)
    output = original.copy()
    output[0, :6] = _chroma_image(np.random.default_rng(1), 180, n=1)[0, :6]  # a quarter of the rows turned round
    assert hue_accuracy(output[0], original[0]) == pytest.approx(0.75)
    gray_rows = original.copy()
    gray_rows[0, 12:] = 128  # the lower half of the original gray: not scored, 6 of the 12 scored rows wrong
    assert hue_accuracy(output[0], gray_rows[0]) == pytest.approx(0.5)
    with pytest.raises(TypeError):
        hue_accuracy_batch(original.astype(np.float32), original)


def test_ssim_of_large_images_equals_the_banded_filter():
    """Above 64 px SSIM filters by shifted adds instead of banded matrices: the same numbers."""
    from colorizer import metrics

    rng = np.random.default_rng(5)
    a = _rand(rng, (2, 96, 80, 3))
    b = _noisy(rng, a, 40)
    fast = ssim_batch(a, b)
    ca, cb = (np.moveaxis(v, -1, 1).astype(np.float64) for v in (a, b))
    x = np.stack([ca, cb, ca * ca, cb * cb, ca * cb])
    banded = (x @ metrics._band(80).T).swapaxes(-1, -2) @ metrics._band(96).T
    shifted = metrics._valid_filter(x)
    np.testing.assert_allclose(shifted.swapaxes(-1, -2), banded, rtol=0, atol=1e-9)
    assert 0 < fast[0] < 1
