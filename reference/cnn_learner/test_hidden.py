"""Hidden checks for `cnn_learner`: body, head, model, freezing and splitter against fastai 2.8.

The checks call the student's functions themselves, on models built in the worker
(``make_model``) that carry weights drawn here, and judge only data they can verify: the
``state_dict`` loaded into fastai's own pieces built here (names and shapes), outputs of the
student's modules on fresh inputs compared with fastai's carrying the same weights, new weights
loaded into the original model showing up in the student's body (shared, not copied), parameter
groups compared tensor by tensor, and SGD steps compared loss by loss and weight by weight with
fastai's run of the same seed. Nothing the worker says about itself (layer types, flags, names)
decides a check; the layer types only make messages more helpful.
"""

import copy
import random

import pytest
import torch
from torch import nn

from grader.sandbox import StudentError
from grader.scenarios import fresh_seed
from grader.testing import CheckFailed, assert_from_scratch, assert_tensor_close, fail
from grader.weights import load_weights
from reference.cnn_learner.reference import (concat_pool_ref, head_mistakes, kaiming_std, pool_mistakes,
                                             random_state, randomize_, scenarios)

S = scenarios()

HEAD_OPTIONS = [
    {},
    {"lin_ftrs": [20, 10], "ps": 0.4},
    {"lin_ftrs": [24], "ps": [0.0, 0.3], "first_bn": False},
    {"concat_pool": False, "bn_final": True, "ps": 0.2},
    {"lin_ftrs": [], "ps": 0.1},
]


def _sizes(seed):
    rng = random.Random(seed)
    return rng.randint(5, 12), rng.randint(2, 6)


def _describe(options):
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def _state(module, what):
    """``module.state_dict()`` from the worker, as CPU tensors."""
    state = module.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail(f"{what}: its state_dict() did not give the model's weights (names -> tensors).")
    return {k: v.detach().cpu() for k, v in state.items()}


def _layers_hint(student, module, want):
    """The student's layers next to fastai's, when they differ (a report, used for the message only)."""
    try:
        got = student.scenario("layer_types", seed=0, module=module)
    except StudentError:
        return ""
    theirs = S.layer_types(None, seed=0, module=want)
    if got == theirs:
        return ""
    return f"\nYour layers: {', '.join(map(str, got))}. fastai's: {', '.join(theirs)}."


def _model(student, arch, seed, device, c_in=3):
    """The model ``arch`` built in the worker and here, both carrying the same weights drawn here."""
    here = randomize_(S.make_arch(arch, seed, c_in), seed + 1)
    model = student.scenario("make_model", seed=seed, arch=arch, c_in=c_in)
    model.load_state_dict(here.state_dict())
    model.to(str(device))
    return model, here


def _x(shape, device, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(fresh_seed()), dtype=dtype).to(device)


def _forward(student, module, x):
    return student.scenario("forward_eval", seed=fresh_seed(), module=module, x=x)


@pytest.mark.points(1)
@pytest.mark.parametrize("case", range(len(HEAD_OPTIONS)))
def test_head_layers_like_fastai(student, reference, device, case):
    """create_head: fastai's weights (names, shapes), and in training mode fastai's dropout and BatchNorm updates."""
    options = HEAD_OPTIONS[case]
    seed = fresh_seed()
    nf, n_out = _sizes(seed)
    what = f"create_head({nf}, {n_out}{', ' if options else ''}{_describe(options)})"
    head = student.create_head(nf, n_out, **options)
    want = reference.create_head(nf, n_out, **options)
    state = random_state(_state(head, what), seed)
    load_weights(want, state, what=what)
    head.load_state_dict(state)
    head.to(str(device))
    want.to(device)
    x = _x((6, nf, 4, 3), device)
    run = fresh_seed()
    got = student.scenario("forward_train", seed=run, module=head, x=x)
    ref = reference.scenario("forward_train", seed=run, module=want, x=x)
    try:
        assert_tensor_close(got.get("output") if isinstance(got, dict) else got, ref["output"],
                            what=f"{what} in training mode (the same weights as fastai's, dropout drawn from the same "
                                 "seed)", dtype=x.dtype, device=x.device)
        for k, v in ref["state"].items():
            if "running" in k:
                assert_tensor_close(got["state"].get(k), v, dtype=v.dtype, device=x.device,
                                    what=f"{what}: the BatchNorm statistic {k} after one batch in training mode")
    except CheckFailed as exc:
        fail(f"{exc}{_layers_hint(student, head, want)}")


def _check_head_forward(student, reference, device, options, dtype):
    __tracebackhide__ = True
    seed = fresh_seed()
    nf, n_out = _sizes(seed)
    want_head = randomize_(reference.create_head(nf, n_out, **options), seed, dtype).to(device).eval()
    x = torch.randn(5, nf, 4, 3, generator=torch.Generator().manual_seed(seed + 1), dtype=dtype).to(device)
    with torch.no_grad():
        want = want_head(x)
    what = f"create_head({nf}, {n_out}{', ' if options else ''}{_describe(options)}) in eval mode"
    head = student.create_head(nf, n_out, **options)
    head.to(device=device, dtype=dtype)
    try:
        head.load_state_dict(want_head.state_dict())
    except StudentError as exc:
        fail(f"{what}: fastai's head weights (its state_dict) do not load into your head, so its layers or "
             f"parameter shapes differ. load_state_dict said: {exc.message[:300]}")
    head.eval()
    got = head(x)
    assert_tensor_close(got, want.detach().cpu().double(), what=f"{what}, with fastai's weights loaded, on x",
                        dtype=dtype, device=x.device, hints=head_mistakes(want_head, x))


@pytest.mark.points(2)
@pytest.mark.parametrize("case", range(len(HEAD_OPTIONS) - 1))
def test_head_output_like_fastai(student, reference, device, case):
    """With fastai's weights loaded (load_state_dict), the head gives fastai's output in eval mode."""
    _check_head_forward(student, reference, device, HEAD_OPTIONS[case], torch.float32)


@pytest.mark.points(2)
def test_head_output_float64(student, reference, device):
    """The same in float64 (head.double(), float64 input): float64 precision, float64 result."""
    _check_head_forward(student, reference, device, {"lin_ftrs": [16], "ps": 0.3}, torch.float64)


@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_concat_pool_max_first(student, device, dtype):
    """The head's first layer concatenates max and average pooling, max first: (N, 2C, 1, 1)."""
    seed = fresh_seed()
    c = random.Random(seed).randint(3, 7)
    x = torch.randn(3, c, 5, 4, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)
    head = student.create_head(c, 2)
    head.to(device=device, dtype=dtype)
    pool = head.get_submodule("0")
    assert_tensor_close(pool(x), concat_pool_ref(x), what=f"create_head({c}, 2)[0] (the pool) on x{tuple(x.shape)}",
                        dtype=dtype, device=x.device, hints=pool_mistakes(x))


BODY_CASES = [("resnet", -2), ("resnet", 4), ("resnet", "callable"), ("resnet", None), ("vgg", None),
              ("twopools", None)]


def _cut(cut):
    return S.keep_three if cut == "callable" else cut


@pytest.mark.points(1)
@pytest.mark.parametrize("case", range(len(BODY_CASES)))
def test_create_body_like_fastai(student, reference, device, case):
    """create_body cuts where fastai cuts (int, negative int, callable, None: before the last pooling child) and keeps the model's own layers."""
    arch, cut = BODY_CASES[case]
    seed = fresh_seed()
    cut_text = "a function" if cut == "callable" else repr(cut)
    what = f"create_body(model, cut={cut_text}) on a {arch}-like model"
    model, here = _model(student, arch, seed, device)
    cut_arg = student.scenario("cut_function", seed=seed) if cut == "callable" else cut
    body = student.create_body(model, cut_arg)
    want = reference.create_body(here, _cut(cut))
    load_weights(want, _state(body, what), what=what)
    old = copy.deepcopy(want).to(device).eval()
    fresh = random_state(here.state_dict(), fresh_seed())
    here.load_state_dict(fresh)  # new weights into the original model, here and in the worker
    model.load_state_dict(fresh)
    x = _x((2, 3, 20, 18), device)
    want.to(device).eval()
    with torch.no_grad():
        expected = want(x)
    assert_tensor_close(_forward(student, body, x), expected, dtype=x.dtype, device=x.device,
                        what=f"{what}, on x{tuple(x.shape)} after new weights were loaded into the model",
                        hints={"the body is a copy: new weights loaded into the model do not reach it (reuse the "
                               "model's own layers)": lambda: old(x)})


MODEL_CASES = [("resnet", {}), ("twopools", {"lin_ftrs": [16], "bn_final": True, "ps": 0.3}), ("vgg", {"concat_pool": False})]


def _cnn_model(student, reference, device, arch, n_out, options, c_in=3):
    """``create_cnn_model`` in the worker on a model with weights drawn here, and fastai's on the same
    model here; the student's weights are loaded into fastai's (strictly), the body checked untouched."""
    seed = fresh_seed()
    what = f"create_cnn_model({arch}-like model, {n_out}{', ' if options else ''}{_describe(options)})"
    model, here = _model(student, arch, seed, device, c_in)
    cnn = student.create_cnn_model(model, n_out, **options)
    state = _state(cnn, what)
    want = reference.create_cnn_model(here, n_out, **options)
    given = {f"0.{k}": v.detach().clone() for k, v in want[0].state_dict().items()}
    load_weights(want, state, what=what)
    changed = [k for k, v in given.items() if not torch.equal(state[k], v)]
    if changed:
        fail(f"{what} changed the model's {', '.join(changed[:3])}: find nf with a dummy batch in eval() mode "
             "under torch.no_grad() (in training mode BatchNorm updates its running statistics).")
    return model, here, cnn, want, state, what


@pytest.mark.points(2)
@pytest.mark.parametrize("case", range(len(MODEL_CASES)))
def test_create_cnn_model_like_fastai(student, reference, device, case):
    """create_cnn_model = Sequential(body, head) as fastai's, with nf found from the body; the model's weights and BN statistics stay untouched."""
    arch, options = MODEL_CASES[case]
    n_out = random.Random(fresh_seed()).randint(2, 6)
    model, here, cnn, want, state, what = _cnn_model(student, reference, device, arch, n_out, options)
    old = copy.deepcopy(want).to(device).eval()
    fresh = random_state(here.state_dict(), fresh_seed())
    here.load_state_dict(fresh)  # the body must be the model's own layers: new weights reach it
    model.load_state_dict(fresh)
    x = _x((3, 3, 20, 18), device)
    want.to(device).eval()
    with torch.no_grad():
        expected = want(x)
    assert_tensor_close(_forward(student, cnn, x), expected, dtype=x.dtype, device=x.device,
                        what=f"{what} in eval mode on x{tuple(x.shape)} (fastai's model carrying your weights), after "
                             "new weights were loaded into the original model",
                        hints={"the body is a copy: new weights loaded into the model do not reach it (reuse the "
                               "model's own layers)": lambda: old(x)})


@pytest.mark.points(2)
@pytest.mark.parametrize("c_in", [1, 4])
def test_create_cnn_model_any_input_channels(student, reference, device, c_in):
    """create_cnn_model on a model with 1 or 4 input channels: nf comes from a dummy batch with the body's input channels."""
    try:
        model, here, cnn, want, state, what = _cnn_model(student, reference, device, "resnet", 3, {}, c_in=c_in)
    except StudentError as exc:
        fail(f"create_cnn_model on a model whose first convolution takes {c_in} channels raised {exc.type_name}: "
             f"{exc.message[:200]}. Make the dummy batch with the input channels of the body's first convolution.")
    x = _x((2, c_in, 20, 18), device)
    want.to(device).eval()
    with torch.no_grad():
        expected = want(x)
    assert_tensor_close(_forward(student, cnn, x), expected, dtype=x.dtype, device=x.device,
                        what=f"{what} (a model with {c_in} input channels) in eval mode on x{tuple(x.shape)}")


@pytest.mark.points(2)
def test_head_initialised_like_fastai(student, reference, device):
    """The head's Linear weights are kaiming-normal (std sqrt(2/fan_in)), its biases zero, as fastai's apply_init."""
    options = {"lin_ftrs": [256], "first_bn": False}
    model, here, cnn, want, state, what = _cnn_model(student, reference, device, "resnet", 4, options)
    x = _x((3, 3, 20, 18), device)
    want.to(device).eval()
    with torch.no_grad():
        expected = want(x)
    assert_tensor_close(_forward(student, cnn, x), expected, dtype=x.dtype, device=x.device,
                        what=f"{what} in eval mode (fastai's model carrying the weights your model reports)")
    linears = [f"1.{name}" for name, m in want[1].named_modules() if isinstance(m, nn.Linear)]
    for i, name in enumerate(linears):
        w = state[f"{name}.weight"]
        ratio = float(w.double().std()) / kaiming_std(w.shape[1])
        if not 0.85 < ratio < 1.15:
            fail(f"The weights of the head's Linear layer {i} (fan_in {w.shape[1]}) have a standard deviation "
                 f"{ratio:.2f} times that of nn.init.kaiming_normal_: initialise them as fastai does.")
    if any(bool(state[f"{name}.bias"].any()) for name in linears if f"{name}.bias" in state):
        fail("The head's Linear biases should be zero after create_cnn_model (fastai's apply_init).")


FREEZE_CASES = [("resnet", True, False), ("resnet", False, False), ("vgg", True, False), ("twopools", True, True)]


@pytest.mark.points(2)
@pytest.mark.parametrize("case", range(len(FREEZE_CASES)))
def test_freeze_body_like_fastai(student, reference, device, case):
    """freeze_body: body frozen except its BatchNorm layers (when train_bn), head trainable, as Learner.freeze(): one SGD step moves exactly fastai's trainable weights."""
    arch, train_bn, twice = FREEZE_CASES[case]
    model, here, cnn, want, state, _ = _cnn_model(student, reference, device, arch, 3, {})
    what = f"freeze_body(model, train_bn={train_bn})" + (" after the head was switched off" if twice else "")
    if twice:
        cnn.get_submodule("1").requires_grad_(False)
        want[1].requires_grad_(False)
    student.freeze_body(cnn, train_bn=train_bn)
    reference.freeze_body(want, train_bn=train_bn)
    x, y = _x((4, 3, 20, 18), device), torch.randint(0, 3, (4,), generator=torch.Generator().manual_seed(fresh_seed()))
    run = fresh_seed()
    got = student.scenario("sgd_steps", seed=run, model=cnn, x=x, y=y.to(device), lrs=(0.5,))
    ref = reference.scenario("sgd_steps", seed=run, model=want.to(device), x=x, y=y.to(device), lrs=(0.5,))
    after = got.get("state") if isinstance(got, dict) else None
    if not isinstance(after, dict) or after.keys() != ref["state"].keys():
        fail(f"{what}: after one SGD step the scenario returned no state of your model.")
    params = [k for k, _ in want.named_parameters()]
    moved = {k: not torch.equal(after[k].cpu(), state[k]) for k in params}
    should = {k: not torch.equal(ref["state"][k].cpu(), state[k]) for k in params}
    wrong = [k for k in params if moved[k] != should[k]]
    if wrong:
        k = wrong[0]
        part = "head" if k.startswith("1.") else "body"
        fail(f"{what}: after one SGD step {len(wrong)} parameters moved where fastai's did not, or stayed where "
             f"fastai's moved, e.g. {k} (in the {part}) {'moved' if moved[k] else 'stayed'}. Body: frozen except "
             "normalisation layers when train_bn; head: trainable.")
    for k in params:
        assert_tensor_close(after[k], ref["state"][k], what=f"{what}: {k} after one SGD step", device=x.device)


@pytest.mark.points(2)
@pytest.mark.parametrize("arch", ["resnet", "vgg"])
def test_cnn_splitter_like_fastai(student, device, arch):
    """cnn_splitter returns [body parameters, head parameters] in parameters() order (fastai's default_split)."""
    seed = fresh_seed()
    model, _ = _model(student, arch, seed, device)
    cnn = student.create_cnn_model(model, 4)
    state = random_state(_state(cnn, "create_cnn_model(model, 4)"), seed)
    cnn.load_state_dict(state)  # values only this process knows, one per parameter
    names = student.scenario("parameter_names", seed=seed, module=cnn)
    if not isinstance(names, list) or not all(isinstance(k, str) and k in state for k in names):
        fail("The names of your model's parameters could not be read.")
    groups = student.cnn_splitter(cnn)
    if not isinstance(groups, (list, tuple)) or len(groups) != 2 or not all(isinstance(g, (list, tuple)) for g in groups):
        fail("cnn_splitter(model) should return two groups: [body parameters, head parameters].")
    # fastai's rule (default_split) applied to the student's own model, so a head mistake does not show up here
    want = [[k for k in names if k.startswith("0.")], [k for k in names if not k.startswith("0.")]]
    for i, (g, w) in enumerate(zip(groups, want)):
        same = len(g) == len(w) and all(isinstance(p, torch.Tensor) and tuple(p.shape) == tuple(state[k].shape)
                                        and torch.equal(p.detach().cpu(), state[k]) for p, k in zip(g, w))
        if not same:
            name = ("body", "head")[i]
            fail(f"cnn_splitter(model)[{i}] should hold the {name}'s parameters (model[{i}]) in parameters() order; "
                 f"it holds {len(g)} tensors, and {len(w)} are expected.")


TRAIN_CASES = [("resnet", True, True), ("vgg", True, False), ("twopools", False, True)]


@pytest.mark.points(3)
@pytest.mark.cpu_budget(20)
@pytest.mark.parametrize("case", range(len(TRAIN_CASES)))
def test_training_steps_like_fastai(student, reference, device, case):
    """Three SGD steps (one learning rate per splitter group, frozen body) match fastai's, loss by loss and weight by weight."""
    arch, freeze, train_bn = TRAIN_CASES[case]
    model, here, cnn, want, state, _ = _cnn_model(student, reference, device, arch, 3, {})
    what = f"training a {arch}-like create_cnn_model " + (f"with freeze_body(train_bn={train_bn})" if freeze else "unfrozen")
    fresh = random_state(state, fresh_seed())
    cnn.load_state_dict(fresh)
    load_weights(want, fresh, what=what)
    if freeze:
        student.freeze_body(cnn, train_bn=train_bn)
        reference.freeze_body(want, train_bn=train_bn)
    x = _x((12, 3, 20, 18), device)
    y = torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(fresh_seed())).to(device)
    run, kwargs = fresh_seed(), dict(x=x, y=y, lrs=(0.05, 0.2), steps=3, split=True, train_mode=True)
    got = student.scenario("sgd_steps", seed=run, model=cnn, **kwargs)
    want.to(device)
    ref = reference.scenario("sgd_steps", seed=run, model=want, **kwargs)
    if not isinstance(got, dict) or not isinstance(got.get("state"), dict):
        fail(f"{what}: the scenario returned no result.")
    assert_tensor_close(got.get("losses"), ref["losses"], what=f"{what}: the losses of the 3 steps")
    if got["state"].keys() != ref["state"].keys():
        fail(f"{what}: the model's state_dict keys differ from fastai's (check create_head and create_cnn_model first).")
    for k, v in ref["state"].items():
        if v.is_floating_point():
            assert_tensor_close(got["state"][k], v, what=f"{what}: {k} after 3 steps")
    x2 = _x((3, 3, 20, 18), device)
    with torch.no_grad():
        expected = want.eval()(x2)
    assert_tensor_close(_forward(student, cnn, x2), expected, dtype=x2.dtype, device=x2.device,
                        what=f"{what}: the trained model on a new input (fastai's model after the same 3 steps)")


@pytest.mark.points(2)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No fastai (create_body, create_head, create_vision_model, AdaptiveConcatPool2d, LinBnDrop ...), not even indirectly."""
    with student.recording_ops() as ops:
        model, _ = _model(student, "resnet", fresh_seed(), device)
        student.create_cnn_model(model, 3)
    forbidden = ["fastai.vision.learner.create_body", "fastai.vision.learner.create_head",
                 "fastai.vision.learner.create_vision_model", "fastai.layers.AdaptiveConcatPool2d",
                 "fastai.layers.LinBnDrop"]
    # the module record covers the whole run: what the package imported, and what its calls imported
    assert_from_scratch(ops, student_sources, forbidden_names=forbidden, forbidden_modules=["fastai", "fasttransform"],
                        modules_seen=student.imported_modules(), what="cnn_learner")
