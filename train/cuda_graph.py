"""Whole-epoch CUDA graphs for the training loop (``cfg.cuda_graph``).

The original's run is 1.1 M Adam steps of a small network on batches of 100, where eager PyTorch
spends longer launching kernels than running them. Here the training set sits on the GPU already
turned into the network's inputs and targets and laid out in batch order (the seeded shuffle,
drawn once as in the original, or again each epoch with ``shuffle="every_epoch"``); one epoch's
steps (forward, loss, backward, fused Adam, the loss sum; a last, smaller batch included, as the
plain loop has it) are captured once as one CUDA graph and replayed every epoch, and the
validation likewise. The host reads two numbers per epoch.

Only :func:`capture` is CUDA-specific. The rest is plain PyTorch on any device: on CPU the same
epoch and validation functions run eagerly and give the plain loop's weights bit for bit (tested),
which is how this module is tested without a GPU. What capture needs beyond that: Adam's state must
exist before it (one warm-up step per batch shape, whose effects are then undone), the learning
rate must be a tensor (so that a scheduler's change reaches the graph) and nothing inside may sync.
"""

import contextlib
import threading

import torch

from colorizer.models import model_info

from .batches import epoch_generator, loss_fn, network_input, split_color
from .loop import memory_layout, read_validation, validation_sums

__all__ = ["GraphedEpochs", "capture", "check_config"]

# Runs may train in threads of one process (train.seed_runs): one capture at a time.
_CAPTURE_LOCK = threading.Lock()


def check_config(cfg):
    """ValueError (one line) for settings the graphed epoch cannot replay: augmentation, hints and
    the extra set draw on the host every step; torch.compile makes graphs of its own."""
    unsupported = [name for name in ("augment", "hints", "extra_train_data", "compile") if getattr(cfg, name)]
    if model_info(cfg.model).task == "sketch":
        unsupported.append(f"the line-art network {cfg.model} (its drawings are made each step)")
    if unsupported:
        raise ValueError(f"cuda_graph=true cannot be used with {', '.join(unsupported)}; turn them or cuda_graph off")


def capture(fn, warm_up):
    """(graph, ``fn()``'s outputs): ``warm_up()`` runs eagerly, then ``fn`` is recorded as a CUDA
    graph (nothing runs), both on a side stream of the current stream's priority."""
    current = torch.cuda.current_stream()
    side = torch.cuda.Stream(priority=current.priority)
    side.wait_stream(current)
    graph = torch.cuda.CUDAGraph()
    with _CAPTURE_LOCK, torch.cuda.stream(side):
        warm_up()
        # thread_local: other threads of the process keep replaying, syncing and allocating meanwhile
        graph.capture_begin(capture_error_mode="thread_local")
        try:
            outputs = fn()
        except BaseException:
            with contextlib.suppress(RuntimeError):
                graph.capture_end()
            raise
        graph.capture_end()
    current.wait_stream(side)
    return graph, outputs


class GraphedEpochs:
    """One run's epochs and validations, replayed as CUDA graphs (eager off CUDA).

    model, optimizer: as the loop made them (on CUDA: Adam with ``fused`` and ``capturable``);
    train_uint8, val_uint8: N x H x W x 3 uint8 on the model's device; order: the fixed shuffle
    (CPU long tensor, used with ``shuffle="once"``).
    """

    def __init__(self, model, optimizer, cfg, train_uint8, val_uint8, order, gray_mean, gray_std):
        check_config(cfg)
        self.model, self.optimizer, self.cfg = model, optimizer, cfg
        self.train_uint8, self.val_uint8 = train_uint8, val_uint8
        self.gray_mean, self.gray_std = gray_mean, gray_std
        self.device = train_uint8.device
        n = len(train_uint8)
        self.batches = [slice(i, min(i + cfg.batch_size, n)) for i in range(0, n, cfg.batch_size)]
        self.loss_sum = torch.zeros((), device=self.device)
        self.inputs = None  # (x, rgb, y, cbcr) of the whole set in batch order
        self.train_graph = self.val_graph = self.val_sums = None
        self.cuda = self.device.type == "cuda"
        if self.cuda:
            torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
            torch.backends.cudnn.allow_tf32 = cfg.tf32
            for group in optimizer.param_groups:  # read by the graph each replay; schedulers fill_ it
                group["lr"] = torch.tensor(float(group["lr"]), device=self.device)
        if cfg.shuffle == "once":
            self._arrange(order)

    def _arrange(self, order):
        """Write the inputs and targets in ``order``, batch by batch exactly as the plain loop
        computes them, into the same tensors each time (the graph reads their addresses)."""
        order = order.to(self.device)
        for s in self.batches:
            rgb, y, cbcr = split_color(self.train_uint8[order[s]])
            x = network_input(self.model, y, self.gray_mean, self.gray_std)
            if self.inputs is None:
                n = len(self.train_uint8)
                self.inputs = tuple(torch.empty((n, *t.shape[1:]), device=self.device) for t in (x, rgb, y, cbcr))
            for buffer, value in zip(self.inputs, (x, rgb, y, cbcr)):
                buffer[s] = value

    def _step(self, s):
        x, rgb, y, cbcr = (t[s] for t in self.inputs)
        # No autocast cache: it would keep weight casts made during capture past their region.
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.amp == "bf16", cache_enabled=False):
            out = self.model(memory_layout(x, self.cfg))
        loss = loss_fn(self.model, out.float(), rgb, y, cbcr, self.cfg.loss, self.cfg.colorfulness_weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.loss_sum += loss.detach()

    def _epoch(self):
        self.model.train()
        self.loss_sum.zero_()
        for s in self.batches:
            self._step(s)
        return self.loss_sum

    def _warm_up(self):
        """One eager step per batch shape (creates Adam's state, which must exist before capture,
        and the libraries' handles), then the weights and Adam's state as they were."""
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        weights = [p.detach().clone() for p in params]
        state = {p: {k: v.clone() for k, v in self.optimizer.state[p].items()} for p in params if self.optimizer.state[p]}
        for s in {s.stop - s.start: s for s in self.batches}.values():
            self._step(s)
        with torch.no_grad():
            for p, value in zip(params, weights):
                p.copy_(value)
            for p in params:  # Adam's fresh state is zeros, step 0
                for key, value in self.optimizer.state[p].items():
                    value.copy_(state[p][key]) if p in state else value.zero_()
        self.loss_sum.zero_()

    def _validation(self):
        return validation_sums(self.model, self.val_uint8, self.cfg, self.gray_mean, self.gray_std)

    def train_epoch(self, epoch):
        """Train one epoch; (loss sum over batches as a device tensor, number of batches)."""
        if self.cfg.shuffle != "once":
            self._arrange(torch.randperm(len(self.train_uint8), generator=epoch_generator(self.cfg.seed, epoch)))
        if not self.cuda:
            return self._epoch(), len(self.batches)
        if self.train_graph is None:
            self.train_graph, _ = capture(self._epoch, self._warm_up)
        self.train_graph.replay()
        return self.loss_sum, len(self.batches)

    def validate(self):
        """(loss sum over batches, mean loss, mean RGB MSE, mean PSNR), as ``loop.validate``."""
        if not self.cuda:
            sums = self._validation()
        else:
            if self.val_graph is None:
                self.val_graph, self.val_sums = capture(self._validation, self._validation)
            self.val_graph.replay()
            sums = self.val_sums
        return read_validation(sums, len(self.val_uint8), self.cfg.batch_size)
