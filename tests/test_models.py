import pytest
import torch

from colorizer import create_model, list_models, model_info
from colorizer.bins import num_bins


def test_registry_lists_the_seed_networks_and_rejects_unknown_names():
    assert {"seed_cnn", "seed_cnn_half", "seed_unet", "chroma_unet"} <= set(list_models())
    with pytest.raises(KeyError, match="seed_cnn"):
        create_model("no_such_net")


def test_seed_cnn_has_the_original_parameter_count():
    assert sum(p.numel() for p in create_model("seed_cnn").parameters()) == 7_482_976


def test_seed_cnn_half_is_half_width():
    model = create_model("seed_cnn_half")
    assert model.encoder[0][0].out_channels == 16 and model.decoder[1].out_features == 512


@pytest.mark.parametrize("name", list_models())
def test_every_network_shape_finite_and_gradients(name):
    torch.manual_seed(0)
    model = create_model(name)
    size = model.fixed_size or 24  # a multiple of every size_multiple but not 32: any-size nets
    assert size % model.size_multiple == 0
    x = torch.randn(2, model.in_channels, size, size)
    out = model(x)
    channels = {"rgb": 3, "cbcr": 2}.get(model.output) or num_bins(model.grid)  # bins: one logit per chroma bin
    assert out.shape == (2, channels, size, size)
    assert torch.isfinite(out).all()
    if model.output == "rgb":
        assert out.min() >= 0 and out.max() <= 1
    out.square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, f"no gradient reaches {pname}"


@pytest.mark.parametrize("name", [n for n in list_models() if model_info(n).fixed_size is None])
def test_fully_convolutional_networks_take_other_sizes(name):
    model = create_model(name).eval()
    m = model.size_multiple
    out = model(torch.randn(1, model.in_channels, 3 * m, 5 * m))
    assert out.shape[-2:] == (3 * m, 5 * m)


def test_group_norm_sees_each_picture_alone():
    """norm="group": no running statistics to pick between sizes; a picture's output does not depend
    on its batch mates, and training mode computes what inference does."""
    torch.manual_seed(0)
    model = create_model("chroma_unet_hints", widths=[16, 64, 128, 256], norm="group")
    batch_norm = create_model("chroma_unet_hints", widths=[16, 64, 128, 256])
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
    assert not any("running" in key for key in model.state_dict())
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in batch_norm.parameters())
    x = torch.randn(3, model.in_channels, 24, 40)
    alone = model.train()(x[:1])
    assert torch.allclose(model(x)[:1], alone, atol=1e-5)
    assert torch.allclose(model.eval()(x[:1]), alone, atol=1e-5)
    with pytest.raises(ValueError, match="norm must be"):
        create_model("chroma_unet", norm="layer")
