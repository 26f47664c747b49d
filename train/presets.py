"""Named training presets: each a dict of ``TrainConfig`` fields that ``python -m train NAME`` starts from.

The shipped models' from-scratch recipes, and the fine-tune chains that made earlier models, kept
as history (each says what it measured; rerunning a chain starts from the weights of then).
"""

from .corpus import sources_of_kind
from .data import DATA_DIR, default_corpus

__all__ = ["PRESETS"]

PRESETS = {
    "seed_cnn": {},
    "seed_cnn_half": {"model": "seed_cnn_half", "out_dir": "runs/seed_cnn_half"},
    "seed_unet": {"model": "seed_unet", "out_dir": "runs/seed_unet"},
    # The original's ReduceLROnPlateau experiment: lr 1e-3, reduced when validation plateaus.
    "seed_cnn_plateau": {"lr": 1e-3, "scheduler": "plateau", "out_dir": "runs/seed_cnn_plateau"},
    # The better colorizer: a fully convolutional chroma network, augmented, every-epoch shuffle.
    "chroma": {
        "model": "chroma_unet",
        "loss": "mse_cbcr",
        "shuffle": "every_epoch",
        "augment": True,
        "extra_train_data": [str(DATA_DIR / "linnaeus5-128.tar.gz")],
        "lr": 1e-3,
        "batch_size": 64,
        "epochs": 30,
        "scheduler": "cosine",
        "grid_epochs": [],
        "keep_epochs": [],
        "checkpoint_every": 1,
        "out_dir": "runs/chroma",
        "working_size": 32,  # measured best on the app's 128 px examples (shrinking to the training scale)
        # Measured on the then shipped default (CIFAR-10 / Linnaeus 5 test): +0.07 dB on both, for twice
        # the network's time (a small share of the pipeline's at its 32 px working size).
        "flip_average": True,
    },
}
# Fine-tune the chroma network on the evaluation's own metric (mean per-image PSNR).
PRESETS["chroma_psnr"] = {**PRESETS["chroma"], "init_from": "runs/chroma_export", "loss": "psnr_rgb", "lr": 3e-4, "epochs": 2,
                          "out_dir": "runs/chroma_psnr"}
PRESETS["chroma_hints"] = {**PRESETS["chroma"], "model": "chroma_unet_hints", "hints": True, "out_dir": "runs/chroma_hints"}
# Hint network fine-tuned from the automatic chroma network: it starts as good as that model.
PRESETS["chroma_hints_finetune"] = {**PRESETS["chroma_hints"], "init_from": "runs/chroma_export", "loss": "psnr_rgb", "lr": 3e-4,
                                    "epochs": 2, "out_dir": "runs/chroma_hints_finetune"}
# The shipped hint network's later steps, each from the previous export in weights/chroma_unet_hints:
# 2 epochs at a constant, higher lr (the hint channels had barely started to matter), then a
# 30-epoch cosine run (the model card and the issue notes have what each step measured).
PRESETS["chroma_hints_more"] = {**PRESETS["chroma_hints_finetune"], "init_from": "weights/chroma_unet_hints", "lr": 5e-4,
                                "scheduler": "none", "out_dir": "runs/hints2"}
PRESETS["chroma_hints_long"] = {**PRESETS["chroma_hints_more"], "scheduler": "cosine", "epochs": 30, "out_dir": "runs/hints3"}
# Then a short, gentler cycle that gives three images in four no hints: the default model serves
# mostly automatic colorizations, and the hint curve was far above its targets.
PRESETS["chroma_hints_polish"] = {**PRESETS["chroma_hints_long"], "lr": 2e-4, "epochs": 10, "hints_none": 0.75,
                                  "out_dir": "runs/hints4"}
# Then the same network taught not to wash out: the loss adds 0.07 x each image's colorfulness
# deficit. Measured in a 600-step pilot on CIFAR-10 test: colorfulness 11.3 -> 16.0 for -0.22 dB,
# where scaling all chroma up to the same colorfulness costs -0.43 dB.
PRESETS["chroma_hints_vivid"] = {**PRESETS["chroma_hints_polish"], "colorfulness_weight": 0.07, "epochs": 24,
                                 "out_dir": "runs/hints5"}
# Then the same network made wider (750 k -> 1.47 M parameters; it underfits: train and test PSNR
# agree within 0.1 dB). The wider one starts as an exact copy (train.checkpoint.init_weights) and the
# new channels learn from there, at a higher lr than the polish (they start from scratch).
# Measured over its 24 epochs: CIFAR-10 test 26.23 -> 26.31 dB, Linnaeus 5 colorfulness 24.8 -> 27.6.
PRESETS["chroma_hints_wide"] = {**PRESETS["chroma_hints_vivid"], "model_kwargs": {"widths": [16, 48, 96, 256]}, "lr": 4e-4,
                                "out_dir": "runs/wide"}
# Then wider again, to just under the issue's 2 M parameters (1.47 M -> 1.94 M), from that export,
# at a lower peak lr: the 4e-4 run's validation PSNR fell for its first epochs before it gained.
# Measured over its 20 epochs, both with flip averaging: CIFAR-10 test 26.38 -> 26.42 dB,
# Linnaeus 5 test 21.54 -> 21.56 dB, colorfulness 27.0 -> 29.0.
PRESETS["chroma_hints_wider"] = {**PRESETS["chroma_hints_wide"], "model_kwargs": {"widths": [16, 64, 128, 256]}, "lr": 3e-4,
                                 "epochs": 20, "out_dir": "runs/wide2"}
# Then a longer cosine cycle on the 1.94 M network, from that export, which bf16 autocast and the
# NHWC layout made affordable on a CPU with AMX (135 s an epoch here instead of 365 s). Measured
# over its 50 epochs, both with flip averaging and one scale: CIFAR-10 test 26.42 -> 26.49 dB,
# Linnaeus 5 test 21.56 -> 21.63 dB, colorfulness 17.7 -> 18.0 and 29.0 -> 32.0.
PRESETS["chroma_hints_wider_more"] = {**PRESETS["chroma_hints_wider"], "epochs": 50, "amp": "bf16", "channels_last": True,
                                      "out_dir": "runs/wide3"}
# Then a short cycle with a lighter colorfulness term (0.07 -> 0.06) at half the peak lr: the
# last run's validation PSNR had stayed flat while its loss fell, the term turning training into
# colorfulness that was well above the floor. Measured over its 16 epochs, both with flip
# averaging and scales 1 and 1.25: CIFAR-10 test 26.62 -> 26.67 dB, Linnaeus 5 test 21.74 -> 21.74,
# colorfulness 17.0 -> 16.5 and 29.9 -> 29.7.
PRESETS["chroma_hints_wider_polish"] = {**PRESETS["chroma_hints_wider_more"], "colorfulness_weight": 0.06, "lr": 1.5e-4,
                                        "epochs": 16, "out_dir": "runs/wide4"}

CORPUS_128 = str(default_corpus())  # where python -m train.corpus writes it
GCOMPRIS_128 = str(default_corpus("gcompris"))  # its later archive: GCompris's photographs

# Issue 17: the bin network (a distribution over chroma bins, plain cross-entropy, decoded with the
# annealed mean and a prior correction that the vividness setting scales) at mixed scales: CIFAR-10
# and Linnaeus 5 at 32 px; Linnaeus 5 at 128 px and the Debian artwork corpus (photos, clip-art,
# cartoons: what users bring) as random crops shown at 64, half of every epoch's images, the plain pages
# of its clip-art made neutral (extra_gray_pages), with the global-context branch (the image's mean
# features added back everywhere: +0.19 dB on Linnaeus 5 at 128 px over the same 10 epochs without it,
# see the model card). The from-scratch recipe, in pieces: python -m train chroma_bins --stop_after=N,
# then --resume; it exports after every piece. Sized for a GPU or a fast CPU; not yet run to its end.
PRESETS["chroma_bins"] = {**PRESETS["chroma"], "model": "chroma_bins_hints", "model_kwargs": {"context": True}, "hints": True,
                          "hints_none": 0.75, "loss": "ce_bins",
                          "extra_train_data": [str(DATA_DIR / "linnaeus5-128.tar.gz"), CORPUS_128], "extra_share": 0.5,
                          "extra_size": 64, "epochs": 150, "amp": "bf16", "channels_last": True, "working_size": 64,
                          "vividness": 0.33, "vividness_beta": 0.75, "prior_mix": 0.05,  # the decoding chosen on the frontier
                          "extra_gray_pages": sources_of_kind("clipart"),
                          "val_limit": 2000, "out_dir": "runs/bins", "export": "weights/chroma_bins_hints"}
# What 2 contended AVX2 cores afford in an hour (no AMX or AVX-512 bf16 on this machine: bf16 autocast
# measured no faster than float32 here, about 10 images/s a training step under load): the trunk
# copied from the shipped chroma_unet_hints (the bin head starts fresh), 6 short cosine epochs of
# 6,000 images (+ 525 crops at 64) each; no global context yet (it came with the fifth corpus cycle).
PRESETS["chroma_bins_from_hints"] = {**PRESETS["chroma_bins"], "model_kwargs": {}, "init_from": "weights/chroma_unet_hints", "lr": 5e-4,
                                     "epochs": 6, "epoch_images": 6000, "amp": "none", "channels_last": False, "val_limit": 1000,
                                     "export_eval_limit": 2000, "extra_train_data": [str(DATA_DIR / "linnaeus5-128.tar.gz")],
                                     "extra_gray_pages": [], "extra_share": 0.0, "out_dir": "runs/bins_pilot"}
# Then, from that pilot's export, the corpus in the mix: a CPU with AVX-512 bf16 (bf16 autocast and NHWC
# measured 1.4x float32's speed), half of every epoch's 2 x 4,000 images crops at 64 px from Linnaeus 5
# and the corpus, a 10-epoch cosine cycle (18.5 minutes here alone on the 2 cores, up to 90 shared with other work).
PRESETS["chroma_bins_corpus"] = {**PRESETS["chroma_bins"], "init_from": "weights/chroma_bins_hints", "lr": 3e-4, "epochs": 10,
                                 "epoch_images": 4000, "val_limit": 1000, "export_eval_limit": 2000, "checkpoint_every": 1,
                                 "out_dir": "runs/bins_corpus"}

# Issue 17, shipped as the default on 5 December 2026 (history now: rerun, it would start from
# itself): the default of then, the chain above, fine-tuned with the Debian artwork corpus in its
# mix (a third of every epoch's 18,000 images crops shown at 64 px from Linnaeus 5 and the corpus,
# the clip-art's plain pages made neutral), 12 short cosine epochs (21 minutes on this 2-core CPU),
# run at a 64 px working size. Against the default of then (--suite --limit 1000): CIFAR-10 26.77
# -> 26.58 dB, emoji 17.53 -> 17.97 dB with colorfulness ratio 0.25 -> 0.89, corpus clip-art 16.69
# -> 16.88 (0.27 -> 0.61), the independent photographs 20.98 -> 22.02 dB with none below gray
# (README, "How the default learned color from the corpus"). That default itself at 64 px loses on
# every 128 px set.
PRESETS["chroma_hints_corpus"] = {**PRESETS["chroma_hints_wider_polish"], "init_from": "weights/chroma_unet_hints", "lr": 2e-4,
                                  "extra_train_data": [str(DATA_DIR / "linnaeus5-128.tar.gz"), CORPUS_128], "extra_share": 0.33,
                                  "extra_size": 64, "extra_gray_pages": sources_of_kind("clipart"), "epochs": 12,
                                  "epoch_images": 12000, "val_limit": 1000, "working_size": 64, "scales": [1.0, 1.25],
                                  "vividness_gain": 1.0, "export_eval_limit": 1000, "out_dir": "runs/hints_corpus2",
                                  "export": "runs/hints_corpus2_export"}

# Issue 17: the fine-tuned default's recipe as one from-scratch run (the chain above, ending with
# chroma_hints_corpus, is its history): the final widths, the PSNR loss with the 0.06
# colorfulness term from the start, no hints for three images in four, a third of every epoch crops
# shown at 64 px from Linnaeus 5 at 128 px and the corpus (the clip-art's plain pages made neutral),
# the 64 px working size, bf16 + NHWC, one 60-epoch cosine cycle from the chain's first peak lr.
# 486 s an epoch on this 2-core CPU (first epoch, 5 December 2026: 81,856 images, a third of them
# 64 px crops), 8.1 hours in all, in pieces with --resume (from the export after each piece when
# runs/ is gone). It exports to its own folder, never over the default.
PRESETS["chroma_hints_scratch"] = {**PRESETS["chroma_hints"], "model_kwargs": {"widths": [16, 64, 128, 256]}, "loss": "psnr_rgb",
                                   "colorfulness_weight": 0.06, "hints_none": 0.75, "epochs": 60, "amp": "bf16",
                                   "channels_last": True, "extra_train_data": [str(DATA_DIR / "linnaeus5-128.tar.gz"), CORPUS_128],
                                   "extra_share": 0.33, "extra_size": 64, "extra_gray_pages": sources_of_kind("clipart"),
                                   "working_size": 64, "scales": [1.0, 1.25], "vividness_gain": 1.0, "export_eval_limit": 2000,
                                   "out_dir": "runs/hints_scratch_corpus", "export": "weights/chroma_hints_scratch"}

# Issue 17: that recipe again with half the colorfulness term (0.06 -> 0.03), watched at the size
# people bring: its first run's 128 px photos grew louder and worse down the cosine's tail (corpus
# photos, colorfulness ratio 0.72 / 0.84 / 0.99 and 22.41 / 22.25 / 21.86 dB after 23 / 48 / 60
# epochs) while its 32 px validation stayed flat, so each epoch also colorizes 200 test pictures a
# row of Linnaeus 5 at 128 px and of the corpus's photos and clip-art through the pipeline. Its 60
# epochs (7 December 2026) beat the fine-tuned default on 11 of the suite's 17 rows and on cartoons
# by eye, so it exports as the default: one command trains the shipped default from scratch.
PRESETS["chroma_hints_scratch_mild"] = {**PRESETS["chroma_hints_scratch"], "colorfulness_weight": 0.03,
                                        "val_native_data": [str(DATA_DIR / "linnaeus5-128.tar.gz"), CORPUS_128],
                                        "val_native_limit": 200, "keep_best_native": True, "out_dir": "runs/hints_scratch_mild",
                                        "export": "weights/chroma_hints_scratch_mild", "export_default": True}

# Issue 17: the default's recipe with ten times the photographed scenes. Its red blotches on gravel and
# mountain slopes look like Linnaeus 5's berries: the photos it saw at 64 px were 6,000 pictures of
# five classes and 24 wallpaper files. GCompris's 208 train photographs (animals, fish, monuments,
# landscapes, tools, the sea floor: 1,602 crops) join the extra set, which keeps its third of each
# epoch; each epoch also scores the GCompris test photos (a row of their own). Exports beside the
# default, never over it. Its BatchNorm statistics are the mean over 50 batches of its 64 px crops
# (precise_bn, train.precise_bn), the size people's pictures are seen at: the running averages of the
# last batches, 32 px ones among them, left its 128 px photos louder and wrong. Its 60-epoch run got
# them afterwards (python -m train.precise_bn chroma_hints_scratch_photos), as a run with the setting
# computes them. (On the default they cost the emoji and the 32 px sets what they gave the photos.)
PRESETS["chroma_hints_scratch_photos"] = {**PRESETS["chroma_hints_scratch_mild"], "precise_bn": 50,
                                          "extra_train_data": [str(DATA_DIR / "linnaeus5-128.tar.gz"), CORPUS_128, GCOMPRIS_128],
                                          "val_native_data": [str(DATA_DIR / "linnaeus5-128.tar.gz"), CORPUS_128, GCOMPRIS_128],
                                          "out_dir": "runs/hints_scratch_photos", "export": "weights/chroma_hints_scratch_photos",
                                          "export_default": False}

# Issue 17: the photos recipe with the first from-scratch run's colorfulness term (0.03 -> 0.06).
# GCompris's photographs cured the blotches and loud landscapes that the 0.06 term had brought on
# 128 px photos, but with them at 0.03 the cartoons came out pale (60 epochs: emoji colorfulness
# ratio 0.51 against the default's 0.79, -1.29 dB): this run asks whether the cured data affords
# the louder term. Same data, same 60-epoch cosine; exports to its own folder.
PRESETS["chroma_hints_scratch_photos_vivid"] = {**PRESETS["chroma_hints_scratch_photos"], "colorfulness_weight": 0.06,
                                                "out_dir": "runs/hints_scratch_photos_vivid",
                                                "export": "weights/chroma_hints_scratch_photos_vivid"}

# Issue 17: the photos recipe with GroupNorm in place of BatchNorm. BatchNorm's frozen statistics
# must fit every picture, and none do: 64 px crops' statistics made the photos right and the emoji
# brown, 32 px images' the reverse, and no blend of the two served both (the vivid run at epoch 46,
# 7 December, its statistics 0 / 0.33 / 0.67 / 1 x the 32 px ones: emoji 17.51 / 17.57 / 17.26 /
# 16.35 dB, independent photos 21.38 / 21.42 / 21.56 / 22.19; the default 18.11 and 22.41). GroupNorm
# normalizes each picture by its own statistics (8 groups a layer), in training as at inference,
# so there is nothing to choose. Same parameters; a training step as fast (2-core CPU, bf16 + NHWC,
# beside another run: 356 against 334 ms a batch of 64 at 32 px, 1,407 against 1,369 at 64 px).
PRESETS["chroma_hints_scratch_photos_gn"] = {**PRESETS["chroma_hints_scratch_photos"],
                                             "model_kwargs": {"widths": [16, 64, 128, 256], "norm": "group"},
                                             "precise_bn": 0, "out_dir": "runs/hints_scratch_photos_gn",
                                             "export": "weights/chroma_hints_scratch_photos_gn"}

# Issue 18: the line-art network of sketch mode, from scratch: the corpus's clip-art (not its photos)
# turned into line drawings each step (train.lineart), the target each picture with a white page;
# input the drawing and its page mask; MSE on RGB plus 0.001 x the colorfulness deficit off the
# page (MSE alone filled everything tan: the mean of plausible colors), 96 px crops, a 48-epoch
# cosine cycle (about 40 minutes on this 2-core CPU).
PRESETS["lineart"] = {**PRESETS["chroma"], "model": "lineart_unet", "loss": "mse_rgb", "colorfulness_weight": 0.001,
                      "data": [CORPUS_128],
                      "classes": sources_of_kind("clipart"),
                      "extra_train_data": [], "image_size": 96, "epochs": 48, "amp": "bf16", "channels_last": True,
                      "working_size": 128, "flip_average": False, "out_dir": "runs/lineart", "export": "weights/sketch_lineart"}
