"""Hidden checks for `learner`: data pipeline, Module, loss and training loop against torch's.

Values are compared with torch in float64 (course tolerances by dtype); loaders with
``torch.utils.data.DataLoader``; parameter registration with ``nn.Module``; training runs with a
trusted Learner (torch.optim.SGD's update, metrics over the whole validation set) on the same batches.
The trained model comes back as weights, is loaded into a trusted ``nn.Sequential`` and scored here on
new items of a task whose distribution was drawn here and never reaches the sandbox. Nothing the worker
says about itself (class bases, imported modules, ops) decides a check: the from-scratch gate reads the
source here (``lineage.py`` resolves what it names against torch in this process).
"""

import pytest
import torch
import torch.nn.functional as F

from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_int, assert_tensor_close, fail, quietly
from reference.learner.lineage import assert_all, assert_built_from_scratch
from reference.learner.reference import (BUILT_FROM_SCRATCH, FORBIDDEN, N_CLASSES, PrivateTask, channel_dims,
                                         check_history, cross_entropy_mistakes, distinct, f64, fit_mistakes,
                                         log_softmax_mistakes, normalize_mistakes, score_model, stats_mistakes,
                                         trained_model)

#: aten ops of the forbidden losses (log_softmax, softmax, nll_loss and their backward ops) and F.linear.
FORBIDDEN_OPS = r"softmax|nll_loss|cross_entropy|aten::linear$"
#: Classes that must not appear among the bases the worker reports (extra evidence: the verdict is the source's).
TORCH_BASES = {"Module": "torch.nn.modules.module.Module", "Linear": "torch.nn.modules.module.Module",
               "Sequential": "torch.nn.modules.module.Module", "Parameter": "torch.nn.parameter.Parameter",
               "DataLoader": "torch.utils.data.dataloader.DataLoader", "Dataset": "torch.utils.data.dataset.Dataset"}


def _randn(*shape, g, device, dtype=torch.float32):
    return torch.randn(*shape, generator=g, dtype=dtype).to(device)


def _channels(n, c, *rest, g, device, dtype=torch.float32):
    """Items whose channels have very different means and scales."""
    x = torch.randn(n, c, *rest, generator=g, dtype=dtype)
    shape = (1, c) + (1,) * len(rest)
    offset = torch.randn(c, generator=g, dtype=dtype).reshape(shape) * 5
    scale = (torch.rand(c, generator=g, dtype=dtype) * 3 + 0.3).reshape(shape)
    return (x * scale + offset).to(device)


def _data(result, *keys):
    for key in keys:
        if not isinstance(result, dict) or key not in result:
            fail("The scenario did not return the expected data; do not change checks/learner/scenarios.py.")
        result = result[key]
    return result


def _check_batches(got, want, what, device, dtype):
    __tracebackhide__ = True
    if not isinstance(got, list) or len(got) != len(want):
        n = len(got) if isinstance(got, list) else "no list of"
        fail(f"{what} gave {n} batches, but {len(want)} are expected (the last one holds the rest).")
    for i, ((xb, yb), (xw, yw)) in enumerate(zip(got, want)):
        assert_tensor_close(xb, xw, what=f"{what}: xb of batch {i}", dtype=dtype, device=device)
        if type(yb) is not torch.Tensor or yb.dtype != yw.dtype or not torch.equal(yb.cpu(), yw.cpu()):
            fail(f"{what}: yb of batch {i} is wrong (its items, their order or its dtype).")


# -- data --------------------------------------------------------------------------------------------
@pytest.mark.points(1)
def test_dataset(student, device):
    """Dataset(x, y): len(ds) and ds[i] == (x[i], y[i])."""
    g = torch.Generator().manual_seed(fresh_seed())
    x, y = _randn(11, 3, 2, g=g, device=device), torch.randint(0, 5, (11,), generator=g).to(device)
    got = student.scenario("dataset_items", x, y, [0, 4, 10], seed=fresh_seed())
    assert_int(_data(got, "len"), 11, what="len(Dataset(x, y)) for 11 items")
    for i, item in zip([0, 4, 10], _data(got, "items")):
        if not isinstance(item, tuple) or len(item) != 2:
            fail(f"Dataset(x, y)[{i}] must be the pair (x[{i}], y[{i}]).")
        assert_tensor_close(item[0], x[i], what=f"Dataset(x, y)[{i}][0]", dtype=x.dtype, device=device)
        if type(item[1]) is not torch.Tensor or not torch.equal(item[1].cpu(), y[i].cpu()):
            fail(f"Dataset(x, y)[{i}][1] is not y[{i}].")


@pytest.mark.points(1)
def test_collate(student, device):
    """collate([(x_i, y_i), ...]) stacks the x's and the y's, like torch's default_collate."""
    g = torch.Generator().manual_seed(fresh_seed())
    items = [(_randn(2, 3, g=g, device=device), torch.tensor(i % 3, device=device)) for i in range(4)]
    got = student.collate(items)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail("collate(batch) must return a pair (xb, yb).")
    xb, yb = torch.utils.data.default_collate(items)
    assert_tensor_close(got[0], xb, what="xb = collate(batch)[0]", dtype=xb.dtype, device=device)
    if type(got[1]) is not torch.Tensor or got[1].dtype != yb.dtype or not torch.equal(got[1].cpu(), yb.cpu()):
        fail("yb = collate(batch)[1] must be the y's stacked into one tensor (shape (bs,), their dtype).")


@pytest.mark.points(2)
@pytest.mark.parametrize("n, bs", [(23, 5), (20, 4), (3, 8)])
def test_dataloader_in_order(student, reference, device, n, bs):
    """shuffle=False: the same batches as torch's DataLoader, the last one smaller, len(dl) batches."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    x, y = _randn(n, 3, 4, g=g, device=device), torch.randint(0, 9, (n,), generator=g).to(device)
    got = student.scenario("loader_batches", x, y, bs, seed=seed, epochs=2)
    want = reference.scenario("loader_batches", x, y, bs, seed=seed, epochs=2)
    assert_int(_data(got, "len"), want["len"], what=f"len(DataLoader(ds, bs={bs})) for {n} items",
               hints={"the last, partial batch is not counted": n // bs})
    for epoch in range(2):
        _check_batches(_data(got, "epochs")[epoch], want["epochs"][epoch],
                       f"DataLoader(ds of {n} items, bs={bs}), epoch {epoch}", device, x.dtype)


@pytest.mark.points(2)
def test_dataloader_shuffle(student, device):
    """shuffle=True with a seed: every item once per epoch, a new order each epoch, reproducible."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    n, bs = 37, 6
    x, y = _randn(n, 2, g=g, device=device), torch.arange(n, device=device)
    got = student.scenario("loader_batches", x, y, bs, seed=seed, shuffle=True, loader_seed=fresh_seed(), epochs=3)
    what = f"DataLoader(ds of {n} items, bs={bs}, shuffle=True, seed=...)"
    orders = []
    for epoch, batches in enumerate(_data(got, "epochs")):
        if not isinstance(batches, list) or [len(b[1]) for b in batches] != [bs] * (n // bs) + [n % bs]:
            fail(f"{what}: epoch {epoch} must have {n // bs} batches of {bs} and a last one of {n % bs}.")
        order = torch.cat([yb.cpu() for _, yb in batches])
        if sorted(order.tolist()) != list(range(n)):
            fail(f"{what}: epoch {epoch} does not hold every item exactly once.")
        xs = torch.cat([xb for xb, _ in batches])
        assert_tensor_close(xs, x[order.to(x.device)], what=f"{what}: the x's of epoch {epoch} (x[i] with y[i])",
                            dtype=x.dtype, device=device)
        orders.append(order.tolist())
    if orders[0] == list(range(n)):
        fail(f"{what}: the first epoch is in the original order; shuffle=True must shuffle.")
    if orders[0] == orders[1] or orders[1] == orders[2]:
        fail(f"{what}: two epochs came in the same order; draw a new permutation every epoch "
             "(from one generator made in __init__, not re-seeded each time).")
    again = torch.cat([yb.cpu() for _, yb in _data(got, "same_seed")]).tolist()
    if again != orders[0]:
        fail(f"{what}: a second DataLoader with the same seed gave a different first epoch; "
             "draw the permutations from torch.Generator().manual_seed(seed).")


# -- normalisation -----------------------------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(12, 3, 4, 7), (40, 5)], ids=["NCHW", "NC"])
def test_normalize_stats(student, device, shape, dtype):
    """Mean and (unbiased) std per channel, shape (C,), over N and all spatial axes."""
    g = torch.Generator().manual_seed(fresh_seed())
    x = _channels(*shape, g=g, device=device, dtype=dtype)
    got = student.normalize_stats(x)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail("normalize_stats(x) must return a pair (mean, std).")
    dims = channel_dims(x)
    for i, name in enumerate(("mean", "std")):
        want = f64(x).mean(dim=dims) if i == 0 else f64(x).std(dim=dims)
        assert_tensor_close(got[i], want, what=f"the {name} of normalize_stats(x{tuple(shape)})", dtype=dtype,
                            device=device, hints=distinct(got[i], want, stats_mistakes(x, i), dtype == torch.float64))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_normalize(student, device, dtype):
    """normalize(x, mean, std) per channel; W == C here, so broadcasting over the wrong axis shows."""
    g = torch.Generator().manual_seed(fresh_seed())
    for shape in [(6, 3, 4, 3), (9, 4)]:
        x = _channels(*shape, g=g, device=device, dtype=dtype)
        mean = _randn(shape[1], g=g, device=device, dtype=dtype)
        std = torch.rand(shape[1], generator=g, dtype=dtype).to(device) + 0.5
        view = (1, -1) + (1,) * (x.dim() - 2)
        want = (f64(x) - f64(mean).view(view)) / f64(std).view(view)
        got = student.normalize(x, mean, std)
        assert_tensor_close(got, want, what=f"normalize(x{shape}, mean, std)", dtype=dtype, device=device,
                            hints=distinct(got, want, normalize_mistakes(x, mean, std), dtype == torch.float64))


@pytest.mark.points(2)
def test_make_dls_training_stats(student, device):
    """make_dls: statistics from the training data only, applied to both; valid in order, train shuffled."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    x_tr, x_va = _channels(26, 3, 4, 3, g=g, device=device), _channels(9, 3, 4, 3, g=g, device=device) * 2 + 3
    y_tr, y_va = torch.arange(26, device=device), torch.arange(9, device=device)
    got = student.scenario("dls_batches", x_tr, y_tr, x_va, y_va, 4, seed=seed, loader_seed=fresh_seed())
    dims = channel_dims(x_tr)
    mean, std = f64(x_tr).mean(dim=dims), f64(x_tr).std(dim=dims)
    view = (1, -1, 1, 1)
    norm = lambda x: (f64(x) - mean.view(view)) / std.view(view)  # noqa: E731
    valid = _data(got, "valid")
    if not isinstance(valid, list) or [len(b[1]) for b in valid] != [4, 4, 1]:
        fail("make_dls(..., bs=4).valid must give the 9 validation items in order, in batches of 4, 4 and 1.")
    everything = torch.cat([f64(x_tr), f64(x_va)])
    leak = everything.mean(dim=dims).view(view), everything.std(dim=dims).view(view)
    for i, (xb, yb) in enumerate(valid):
        if not torch.equal(yb.cpu(), y_va[4 * i:4 * i + 4].cpu()):
            fail("make_dls(...).valid must not be shuffled.")
        assert_tensor_close(xb, norm(x_va[4 * i:4 * i + 4]), what=f"make_dls(...).valid batch {i}",
                            dtype=x_va.dtype, device=device, hints={
                                "the statistics were computed on training and validation data together; use the "
                                "training data only": (f64(x_va[4 * i:4 * i + 4]) - leak[0]) / leak[1],
                                "the validation data were normalised with their own statistics": lambda i=i: (
                                    (f64(x_va) - f64(x_va).mean(dim=dims).view(view))
                                    / f64(x_va).std(dim=dims).view(view))[4 * i:4 * i + 4]})
    train = _data(got, "train")
    order = torch.cat([yb.cpu() for _, yb in train]) if isinstance(train, list) and train else None
    if order is None or sorted(order.tolist()) != list(range(26)):
        fail("make_dls(...).train must give every training item once per epoch.")
    if order.tolist() == list(range(26)):
        fail("make_dls(...).train must shuffle (shuffle=True).")
    assert_tensor_close(torch.cat([xb for xb, _ in train]), norm(x_tr)[order], what="make_dls(...).train's x's",
                        dtype=x_tr.dtype, device=device)


# -- model -------------------------------------------------------------------------------------------
@pytest.mark.points(1)
def test_parameter(student, device):
    """Parameter(data): a tensor with data's values that requires grad."""
    x = _randn(3, 4, g=torch.Generator().manual_seed(fresh_seed()), device=device)
    got = student.scenario("parameter_info", x, seed=fresh_seed())
    assert_tensor_close(_data(got, "values"), x, what="Parameter(x)", dtype=x.dtype, device=device)
    for key, message in [("is_tensor", "is not a torch.Tensor (subclass torch.Tensor)"),
                         ("requires_grad", "does not require grad"), ("is_leaf", "is not a leaf tensor (detach the data)"),
                         ("is_parameter", "is not an instance of Parameter")]:
        if _data(got, key) is not True:
            fail(f"Parameter(x) {message}.")


@pytest.mark.points(2)
def test_linear(student, device):
    """Linear(n_in, n_out): weight (n_out, n_in), bias (n_out,), forward x @ weight.T + bias."""
    seed = fresh_seed()
    x = _randn(7, 64, g=torch.Generator().manual_seed(seed), device=device)
    got = student.scenario("linear_forward", x, 5, seed=seed, device=str(device))
    if _data(got, "weight") != [5, 64] or _data(got, "bias") != [5]:
        fail(f"Linear(64, 5) has weight of shape {tuple(_data(got, 'weight'))} and bias of shape "
             f"{tuple(_data(got, 'bias'))}, but (5, 64) and (5,) are expected (weight is (n_out, n_in), as nn.Linear).")
    assert_int(_data(got, "n_params"), 2, what="len(Linear(64, 5).parameters())")
    g = torch.Generator().manual_seed(seed)
    w, b = torch.randn(5, 64, generator=g), torch.randn(5, generator=g)
    assert_tensor_close(_data(got, "weight_values"), w, what="Linear.weight after setting it", device=device)
    assert_tensor_close(_data(got, "y"), f64(x) @ f64(w).T + f64(b), what="Linear(64, 5)(x)", dtype=x.dtype,
                        device=device, hints={"the bias is not added": f64(x) @ f64(w).T})


@pytest.mark.points(2)
def test_nested_parameters(student, reference, device):
    """Every parameter registered once, also nested: a Module holding a Sequential of Linears."""
    seed = fresh_seed()
    sizes = [2 + seed % 5, 7 + seed % 3, 3 + seed % 4]
    got = student.scenario("nested_parameters", sizes, seed=seed)
    want = reference.scenario("nested_parameters", sizes, seed=seed)
    what = (f"A Module with a Sequential(Linear({sizes[0]}, {sizes[1]}), Linear({sizes[1]}, {sizes[2]})), a "
            f"Parameter of shape ({sizes[2]},), a Linear({sizes[2]}, 2) and a plain tensor attribute")
    shapes = _data(got, "shapes")
    if not isinstance(shapes, list):
        fail(f"{what}: parameters() did not give the parameters.")
    if len(shapes) != len(want["shapes"]):
        fail(f"{what}: parameters() gave {len(shapes)} parameters, but {len(want['shapes'])} are expected "
             "(the Parameter attribute, and weight and bias of every Linear, also inside the Sequential; not the "
             "plain tensor).")
    if sorted(shapes) != sorted(want["shapes"]):
        fail(f"{what}: parameters() gave parameters of the shapes {sorted(map(tuple, shapes))}, which are wrong.")
    if _data(got, "unique") != len(shapes):
        fail(f"{what}: parameters() gave the same parameter more than once.")
    if not all(r is True for r in _data(got, "requires_grad")):
        fail(f"{what}: not every parameter requires grad.")
    if sorted(_data(got, "deep_shapes")) != sorted(want["deep_shapes"]):
        fail("Sequential(Sequential(Linear), Linear).parameters() does not give all four parameters.")
    # What parameters() gives decides what one SGD step through it changes: every tensor of the model
    # after the step, compared with the trusted run (nn.Module) of the same fresh seed.
    before, after = want["before"], want["after"]
    got_after = _data(got, "after")
    if not isinstance(got_after, list) or len(got_after) != len(after):
        fail("The scenario did not return the expected data; do not change checks/learner/scenarios.py.")
    for name, mine, start, end in zip(NESTED_TENSORS, got_after, before, after):
        if name == "the plain tensor attribute" and type(mine) is torch.Tensor and not torch.equal(mine, end):
            fail(f"{what}: one SGD step through parameters() changed the plain tensor attribute; parameters() "
                 "must give Parameters only, not plain tensors.")
        hints = {"parameters() does not give it, so the step did not update it": start,
                 "parameters() gives it twice, so the step updated it twice": start + 2 * (end - start)}
        assert_tensor_close(mine, end, what=f"{name} after one SGD step through parameters()", dtype=torch.float32,
                            device="cpu", hints={k: v for k, v in hints.items() if not torch.equal(v, end)})


#: The tensors ``nested_parameters`` returns before and after its SGD step, in its order.
NESTED_TENSORS = ("the first Linear's weight (inside the Sequential)", "the first Linear's bias (inside the Sequential)",
                  "the second Linear's weight (inside the Sequential)",
                  "the second Linear's bias (inside the Sequential)", "the Parameter attribute",
                  "the head Linear's weight", "the head Linear's bias", "the plain tensor attribute")


# -- loss and metric ---------------------------------------------------------------------------------
def _logits(n, c, scale, g, device, dtype):
    return (torch.randn(n, c, generator=g, dtype=dtype) * scale).to(device)


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("scale", [3.0, 1e4], ids=["normal", "huge"])
def test_log_softmax(student, device, scale, dtype):
    """log_softmax over the last axis equals F.log_softmax, also for logits of magnitude 1e4."""
    x = _logits(6, 5, scale, torch.Generator().manual_seed(fresh_seed()), device, dtype)
    want = F.log_softmax(f64(x), dim=-1)
    got = student.log_softmax(x)
    assert_tensor_close(got, want, what=f"log_softmax(x) (|x| ~ {scale:g})", dtype=dtype, device=device,
                        hints=distinct(got, want, log_softmax_mistakes(x), dtype == torch.float64))


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("scale", [2.0, 1e4], ids=["normal", "huge"])
def test_cross_entropy(student, device, scale, dtype):
    """cross_entropy equals F.cross_entropy (mean over the batch), also for logits of magnitude 1e4."""
    g = torch.Generator().manual_seed(fresh_seed())
    x = _logits(7, 4, scale, g, device, dtype)
    targets = torch.randint(0, 4, (7,), generator=g).to(device)
    want = F.cross_entropy(f64(x), targets.cpu())
    got = student.cross_entropy(x, targets)
    assert_tensor_close(got, want, what=f"cross_entropy(logits (7, 4), targets) (|logits| ~ {scale:g})", dtype=dtype,
                        device=device, hints=distinct(got, want, cross_entropy_mistakes(x, targets),
                                                      dtype == torch.float64))


@pytest.mark.points(1)
def test_cross_entropy_gradient(student, device):
    """cross_entropy is differentiable: its gradient equals torch autograd's of F.cross_entropy."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    x = _logits(5, 3, 4.0, g, device, torch.float64)
    targets = torch.randint(0, 3, (5,), generator=g).to(device)
    got = student.scenario("ce_gradient", x, targets, seed=seed)
    if _data(got, "grad") is None:
        fail("After cross_entropy(logits, targets).backward() the logits have no gradient: keep the loss "
             "connected to the logits (no .item(), no numpy, no new tensor).")
    mine = f64(x).requires_grad_()
    F.cross_entropy(mine, targets.cpu()).backward()
    assert_tensor_close(_data(got, "grad"), mine.grad, what="the gradient of cross_entropy with respect to the logits",
                        dtype=x.dtype, device=device, hints=distinct(_data(got, "grad"), mine.grad, {}, True))


@pytest.mark.points(1)
def test_accuracy(student, device):
    """accuracy(logits, targets): the fraction of items whose largest logit is the target."""
    g = torch.Generator().manual_seed(fresh_seed())
    x = _logits(12, 4, 1.0, g, device, torch.float32)
    targets = torch.randint(0, 4, (12,), generator=g).to(device)
    targets[:6] = x[:6].argmax(-1)  # at least half right
    want = (x.argmax(-1) == targets).double().mean().cpu()
    got = student.accuracy(x, targets)
    if isinstance(got, float):
        got = torch.tensor(got, dtype=torch.float32, device=device)
    assert_tensor_close(got, want, what="accuracy(logits, targets)", dtype=torch.float32, device=device)


# -- training loop -----------------------------------------------------------------------------------
def _fit_both(student, reference, device, n_epoch=3):
    seed = fresh_seed()
    sizes = [5, 6, 3]
    batch_sizes = [[8, 8, 8, 2 + seed % 3], [8, 8, 1 + seed % 2]]
    kwargs = dict(seed=seed, lr=0.3, n_epoch=n_epoch, device=str(device))
    got = student.scenario("fit_history", sizes, batch_sizes, **kwargs)
    want = reference.scenario("fit_history", sizes, batch_sizes, **kwargs)
    return got, want, (sizes, batch_sizes), kwargs


@pytest.mark.points(3)
@pytest.mark.cpu_budget(10)
def test_fit_metrics(student, reference, device):
    """fit: train_loss, valid_loss and accuracy per epoch, means over items (weighted by batch size)."""
    got, want, args, kwargs = _fit_both(student, reference, device)
    check_history(_data(got, "history"), want["history"],
                  what="Learner.fit(3) on batches of sizes 8, 8, 8 and a smaller last one",
                  hints=fit_mistakes(args, {**kwargs, "device": "cpu"}))


@pytest.mark.points(2)
@pytest.mark.cpu_budget(10)
def test_fit_sgd(student, reference, device):
    """fit trains with plain SGD (p -= lr * grad, gradients reset each step): weights equal the reference's."""
    got, want, args, kwargs = _fit_both(student, reference, device, n_epoch=2)
    weights = _data(got, "weights")
    mistakes = fit_mistakes(args, {**kwargs, "device": "cpu"})
    for i, (layer, expected) in enumerate(zip(weights, want["weights"])):
        for name, mine, theirs in zip(("weight", "bias"), layer, expected):
            assert_tensor_close(mine, theirs, what=f"layer {i}'s {name} after fit(2)", dtype=torch.float32,
                                device=device, hints={d: (lambda run=run, i=i, k=name: run()["weights"][i][
                                    0 if k == "weight" else 1]) for d, run in mistakes.items()})


@pytest.mark.points(1)
@pytest.mark.cpu_budget(10)
def test_history_kept(student, reference, device):
    """fit returns the list of per-epoch dicts and keeps the same list as learn.history."""
    got, want, _, _ = _fit_both(student, reference, device, n_epoch=2)
    if _data(got, "same_list") is not True:
        check_history(_data(got, "kept"), want["history"], what="learn.history after fit(2)")
        fail("learn.history must be the very list fit returns.")
    check_history(_data(got, "kept"), want["history"], what="learn.history after fit(2)")


def _separable_case(n_train=240, n_valid=60):
    """A task drawn here from a private seed: the sandbox gets only its training and validation items."""
    task = PrivateTask(fresh_seed())
    x, y = task.draw(n_train + n_valid, fresh_seed())
    return task, (x[:n_train], y[:n_train], x[n_train:], y[n_train:], N_CLASSES)


@pytest.mark.points(4)
@pytest.mark.cpu_budget(10)
def test_learns_separable_task(student, device):
    """make_dls + Sequential(Linear, Linear) + Learner reach accuracy >= 0.9 on fresh data of a separable task."""
    task, data = _separable_case()
    got = student.scenario("train_separable", *data, seed=fresh_seed(), device=str(device), hidden=8)
    model = trained_model(_data(got, "state"), hidden=8)
    acc = score_model(model, task, data[0])
    if acc < 0.9:
        fail(f"After fit(3) the model classifies {acc:.0%} of new items of the task correctly; at least 90% is "
             "expected (check the normalisation, the loss, the SGD step and that every parameter is registered).")


# -- from scratch ------------------------------------------------------------------------------------



@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No torch Module/Parameter/Linear/Sequential, DataLoader, softmax or cross entropy; no fastai (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking it
    voids all points of the exercise. The verdict comes from the source, read here: forbidden names and imports (``assert_from_scratch``)
    and what the classes are built on, resolved against torch in this process. The worker's records
    (aten ops that ran, modules it imported, the bases it reports) can only add evidence: a
    submission that scrubs them gains nothing.
    """
    g = torch.Generator().manual_seed(fresh_seed())
    _, data = _separable_case(48, 16)
    with student.recording_ops() as ops:
        quietly(lambda: student.cross_entropy(_logits(4, 3, 2.0, g, device, torch.float32),
                                               torch.tensor([0, 2, 1, 1], device=device)))
        quietly(lambda: student.log_softmax(_logits(3, 4, 2.0, g, device, torch.float32)))
        quietly(lambda: student.scenario("train_separable", *data, seed=fresh_seed(), device=str(device), n_epoch=1))
    bases = quietly(lambda: student.scenario("class_bases", seed=fresh_seed()))
    modules = quietly(student.imported_modules) or ()

    def reported_bases():  # extra evidence only: the worker can report anything
        for name, torch_class in TORCH_BASES.items():
            found = bases.get(name) if isinstance(bases, dict) else None
            if isinstance(found, list) and torch_class in found:
                fail(f"{name} is built on {torch_class}; this exercise builds it from scratch, so it must not "
                     f"subclass torch's class.")

    assert_all(lambda: assert_built_from_scratch(student_sources, what="The learner exercise", **BUILT_FROM_SCRATCH),
               lambda: assert_from_scratch(ops, student_sources, forbidden_names=FORBIDDEN, forbidden_ops=FORBIDDEN_OPS,
                                           forbidden_modules=["fastai", "fasttransform", "torch.utils.data"],
                                           modules_seen=modules, what="The learner exercise"),
               reported_bases)
