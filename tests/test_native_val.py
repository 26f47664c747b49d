"""The native-size validation (train.native_val): its rows, and that a run records what its export serves."""

import json

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

import colorizer
from train import loop
from train.corpus import sources_of_kind
from train.data import load_source, source_name
from train.evaluate import evaluate
from train.export import export_run
from train.checkpoint import load_checkpoint
from train.native_val import NATIVE_KEYS, best_native_epoch, native_sets

from .test_train import tiny_config
from .tiny_trees import make_tree

pytestmark = pytest.mark.usefixtures("shared_cache")


@pytest.fixture(scope="module")
def tiny_big(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("native96"), size=96, n_train=2, n_test=3, seed=2)


def test_corpus_packages_pool_by_kind_and_the_limit_keeps_every_class(tmp_path, tiny_big):
    photo, clipart = sources_of_kind("photo")[0], sources_of_kind("clipart")[:2]
    corpus = make_tree(tmp_path / "corpus", size=40, n_train=1, n_test=4, classes=(photo, *clipart))
    sets = native_sets([str(tiny_big), str(corpus)])
    assert {row: images.shape for row, images in sets.items()} == \
        {source_name(tiny_big): (6, 96, 96, 3), "corpus photo": (4, 40, 40, 3), "corpus clipart": (8, 40, 40, 3)}
    later = make_tree(tmp_path / "later", size=40, n_train=1, n_test=2, classes=("gcompris-qt-data",))
    assert {row: len(images) for row, images in native_sets([str(later)]).items()} == {"gcompris photo": 2}
    limited = native_sets([str(tiny_big)], limit=2)[source_name(tiny_big)]
    tests = load_source(str(tiny_big), "test", None).images  # sky 0-2, grass 3-5: every third keeps one of each
    assert np.array_equal(limited, tests[[0, 3]])


def test_a_run_records_what_its_export_serves_and_trains_the_same_weights(tmp_path, tiny_data, tiny_big):
    common = dict(model="chroma_unet_hints", epochs=2, scales=[1.0, 1.25], flip_average=True, working_size=64)
    plain = loop.train(tiny_config(tmp_path / "a", tiny_data, **common), show_progress=False)
    run = loop.train(tiny_config(tmp_path / "b", tiny_data, val_native_data=[str(tiny_big)], val_native_limit=0,
                                 keep_best_native=True, **common), show_progress=False)
    # measuring does not change the training, bit for bit
    a, b = load_file(str(plain / "checkpoint.safetensors")), load_file(str(run / "checkpoint.safetensors"))
    assert a.keys() == b.keys() and all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    history, row = json.loads((run / "history.json").read_text())["epochs"], source_name(tiny_big)
    assert all(set(h["native"]) == {row} and set(h["native"][row]) == set(NATIVE_KEYS) for h in history)
    assert "native" not in json.loads((plain / "history.json").read_text())["epochs"][-1]
    # the best epoch at the size people bring is kept as a snapshot
    assert load_checkpoint(run / "best_native.safetensors")[3]["epoch"] == best_native_epoch(history)
    assert not (plain / "best_native.safetensors").exists()
    # the last epoch's row is the evaluation of the float32 export at the same settings
    export_run(run / "checkpoint.safetensors", tmp_path / "w", dtype="float32", run_eval=False)
    served = colorizer.load(tmp_path / "w")
    card = (tmp_path / "w" / "README.md").read_text()
    assert "At the size people bring" in card and f"| {row} | {history[-1]['native'][row]['psnr']:.2f} |" in card
    assert (served.working_size, served.flip_average, served.scales) == (64, True, (1.0, 1.25))
    expected = evaluate(served, load_source(str(tiny_big), "test", None))["pooled"]
    assert history[-1]["native"][row] == pytest.approx({k: expected[k] for k in NATIVE_KEYS}, abs=1e-6)
    # the loss curve gains the third panel
    assert Image.open(run / "loss_curve.png").width > Image.open(plain / "loss_curve.png").width


def test_the_native_settings_may_change_on_resume(tmp_path, tiny_data, tiny_big):
    loop.train(tiny_config(tmp_path, tiny_data, model="chroma_unet", epochs=1), show_progress=False)
    run = loop.train(tiny_config(tmp_path, tiny_data, model="chroma_unet", epochs=2, val_native_data=[str(tiny_big)],
                                 val_native_limit=1), resume=True, show_progress=False)
    history = json.loads((run / "history.json").read_text())["epochs"]
    assert "native" not in history[0] and history[1]["native"][source_name(tiny_big)]["psnr"] > 0


def test_the_best_native_epoch_gains_most_over_gray_on_average():
    def epoch(n, *gains):
        return {"epoch": n, "native": {f"row{i}": {"psnr": 20.0 + g, "psnr_gray": 20.0} for i, g in enumerate(gains)}}

    history = [{"epoch": 1}, epoch(2, 1.0, -1.0), epoch(3, 0.5, 0.0), epoch(4, 1.0, -0.5), epoch(5, 0.0, 0.25)]
    assert best_native_epoch(history) == 4  # 0.25 on average, as epoch 3: the latest of ties
    assert best_native_epoch(history[:3]) == 3 and best_native_epoch(history[:1]) is None
