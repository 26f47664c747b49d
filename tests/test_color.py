import numpy as np
import pytest
import torch
from PIL import Image

from colorizer import fit_chroma_torch, rgb_to_ycbcr, rgb_to_ycbcr_torch, to_gray, ycbcr_to_rgb, ycbcr_to_rgb_torch


def test_to_gray_is_the_seed_formula_exactly():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    expected = 0.299 * rgb[..., 0].astype(np.float64) + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    gray = to_gray(rgb)
    assert gray.shape == (7, 5) and gray.dtype == np.float32
    np.testing.assert_allclose(gray, expected, rtol=0, atol=1e-4)


def test_to_gray_pil_gives_same_size_rounded_L_image():
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    gray = to_gray(Image.fromarray(rgb))
    assert gray.mode == "L" and gray.size == (4, 1)
    assert list(np.asarray(gray)[0]) == [76, 150, 29, 18]  # round(76.245), round(149.685), round(29.07), round(18.15)


def test_y_of_ycbcr_is_the_gray():
    rgb = np.random.default_rng(1).random((4, 4, 3))
    np.testing.assert_allclose(rgb_to_ycbcr(rgb)[..., 0], to_gray(rgb), atol=1e-6)


def test_ycbcr_known_values_and_round_trip():
    np.testing.assert_allclose(rgb_to_ycbcr([1.0, 1.0, 1.0]), [1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(rgb_to_ycbcr([0.0, 0.0, 1.0]), [0.114, 0.5, -0.081312411], atol=1e-6)
    rgb = np.random.default_rng(2).random((10, 10, 3))
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, atol=1e-12)


def test_torch_matches_numpy():
    rgb = np.random.default_rng(3).random((6, 8, 3))
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    np.testing.assert_allclose(rgb_to_ycbcr_torch(t)[0].permute(1, 2, 0).numpy(), rgb_to_ycbcr(rgb), atol=1e-12)
    np.testing.assert_allclose(ycbcr_to_rgb_torch(rgb_to_ycbcr_torch(t)).numpy(), t.numpy(), atol=1e-12)


def test_fit_chroma_keeps_luminance_and_stays_in_gamut():
    torch.manual_seed(0)
    y = torch.rand(2, 1, 16, 16)
    cbcr = (torch.rand(2, 2, 16, 16) - 0.5) * 3  # far out of gamut on purpose
    fitted = fit_chroma_torch(y, cbcr)
    rgb = ycbcr_to_rgb_torch(torch.cat([y, fitted], dim=1))
    assert rgb.min() >= -1e-5 and rgb.max() <= 1 + 1e-5
    torch.testing.assert_close(rgb_to_ycbcr_torch(rgb)[:, :1], y, atol=1e-5, rtol=0)
    # hue kept: the fitted chroma is a non-negative multiple of the original
    ratio = fitted / cbcr
    torch.testing.assert_close(ratio[:, :1], ratio[:, 1:], atol=1e-4, rtol=0)


def test_fit_chroma_leaves_in_gamut_chroma_alone():
    rgb = torch.rand(1, 3, 8, 8) * 0.5 + 0.25
    ycbcr = rgb_to_ycbcr_torch(rgb)
    torch.testing.assert_close(fit_chroma_torch(ycbcr[:, :1], ycbcr[:, 1:]), ycbcr[:, 1:])


def test_rgb_in_gamut_is_the_fit_then_the_conversion_band_by_band():
    from colorizer.color import ycbcr_to_rgb_in_gamut

    torch.manual_seed(0)
    y, cbcr = torch.rand(2, 1, 10, 7), torch.rand(2, 2, 10, 7) - 0.5  # much of it out of gamut
    whole = ycbcr_to_rgb_torch(torch.cat([y, fit_chroma_torch(y, cbcr)], dim=1)).clamp(0, 1)
    assert torch.allclose(ycbcr_to_rgb_in_gamut(y, cbcr, rows=3), whole, atol=1e-6)  # bands of 3, 3, 3, 1 rows
    assert torch.allclose(rgb_to_ycbcr_torch(ycbcr_to_rgb_in_gamut(y, cbcr))[:, :1], y, atol=1e-5)  # luminance kept


def test_to_gray_rejects_wrong_shape():
    with pytest.raises(ValueError):
        to_gray(np.zeros((4, 4)))


def test_chroma_polar_gives_the_cbcr_magnitude_and_angle():
    from colorizer.color import chroma_polar

    rgb = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.5], [0.0, 1.0, 0.0]])
    magnitude, hue = chroma_polar(rgb)
    cb, cr = -0.168735892, 0.5  # pure red
    assert magnitude[0] == pytest.approx(np.hypot(cb, cr)) and hue[0] == pytest.approx(np.degrees(np.arctan2(cr, cb)))
    assert hue[1] == pytest.approx(np.degrees(np.arctan2(-0.081312411, 0.5)))  # blue lies near +Cb (0 degrees)
    assert magnitude[2] == pytest.approx(0, abs=1e-12)  # gray has no chroma
    assert abs(hue[3] - hue[0]) > 90  # green is far round from red
