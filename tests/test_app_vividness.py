"""The Upload tab's Vividness slider: shown for models with the setting (bin networks, regression
networks given a vividness gain), reset to the model's default, its value reaching
``Colorizer.colorize``. On fake weights: a randomly initialized bin network with a skewed bin prior
(a uniform prior would make every vividness decode alike) and a regression network with a gain."""

import numpy as np
import pytest
import torch

import colorizer
from webapp.bank import ModelBank
from webapp.handlers import Handlers
from webapp.upload import vividness_slider

try:
    from .test_app import COLOR_EXAMPLE, app, fake_weights  # noqa: F401  (fixtures)
    from .test_pipeline import gain_weights
except ImportError:
    from test_app import COLOR_EXAMPLE, app, fake_weights  # noqa: F401  (fixtures)
    from test_pipeline import gain_weights

pytestmark = [  # Gradio's queue on pandas 3 (as in test_app.py)
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting':DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def bank(fake_weights, tmp_path_factory):
    """A bank of a bin network "bins" (default vividness 0.4), the regression network "chroma" and
    a regression network "gain" with the setting (default 0)."""
    torch.manual_seed(0)
    model = colorizer.create_model("chroma_bins_hints")
    prior = torch.rand(model.bin_prior.shape) ** 4  # skewed like a training set's: some bins rare
    model.bin_prior.copy_(prior / prior.sum())
    config = {"architecture": {"name": "chroma_bins_hints", "kwargs": {}},
              "normalization": {"gray_mean": 120.0, "gray_std": 60.0, "scheme": "standard"},
              "inference": {"working_size": 64, "vividness": 0.4, "vividness_beta": 0.75}}
    folder = tmp_path_factory.mktemp("vivid") / "bins"
    colorizer.save_weights(folder, model, config)
    gain = gain_weights(folder.parent / "gain", vividness_gain=1.0, vividness=0.0)
    return ModelBank({"bins": folder, "chroma": fake_weights / "chroma", "gain": gain})


def colorized(handlers, name, vividness):
    return np.asarray(handlers.colorize_upload(str(COLOR_EXAMPLE), name, "full", vividness)[0], int)


def test_slider_is_shown_at_the_default_of_models_with_the_setting_only(bank):
    assert bank.vividness("bins") == 0.4 and bank.vividness("chroma") is None and bank.vividness("gain") == 0.0
    assert vividness_slider(bank, "gain") == {"__type__": "update", "value": 0.0, "visible": True}
    assert vividness_slider(bank, "bins") == {"__type__": "update", "value": 0.4, "visible": True}
    assert vividness_slider(bank, "chroma") == {"__type__": "update", "visible": False}


def test_slider_value_reaches_colorize_for_models_with_the_setting_and_is_ignored_otherwise(bank):
    handlers = Handlers(bank, examples=[])
    faithful, vivid, default = (colorized(handlers, "bins", v) for v in (0.0, 1.0, None))
    assert np.abs(faithful - vivid).max() > 10  # the setting changes the colors
    source = colorizer.open_image(COLOR_EXAMPLE).convert("RGB")
    assert np.array_equal(vivid, np.asarray(bank.get("bins").colorize(source, vividness=1.0), int))
    assert np.array_equal(default, np.asarray(bank.get("bins").colorize(source, vividness=0.4), int))  # None: the config's
    faithful, vivid = (colorized(handlers, "gain", v) for v in (0.0, 1.0))
    assert np.abs(faithful - vivid).max() > 5 and np.array_equal(vivid, np.asarray(bank.get("gain").colorize(source, vividness=1.0), int))
    # A model without the setting: the hidden slider's value changes nothing.
    assert np.array_equal(colorized(handlers, "chroma", 0.0), colorized(handlers, "chroma", 1.0))


def test_upload_tab_wires_the_slider(app):
    """In the app (default model "chroma", no bin network) the slider starts hidden, goes into the
    Upload tab's colorize event and is reset by the model dropdown; /colorize keeps its inputs."""
    blocks = {getattr(b, "elem_id", None): b for b in app.demo.blocks.values()}
    slider, model = blocks["upload-vividness"], blocks["model"]
    assert slider.visible is False and (slider.minimum, slider.maximum, slider.step) == (0, 1, 0.01)
    fns = app.demo.fns.values()
    assert any(f.name == "colorize_upload" and f.inputs[-1] is slider for f in fns)
    assert any(f.inputs == [model] and f.outputs == [slider] for f in fns)
    api = next(f for f in fns if f.api_name == "colorize")
    assert slider not in api.inputs and len(api.inputs) == 2
