"""Hidden checks for `cnn_learner`: body, head, model, freezing and splitter against fastai 2.8.

Layouts come from the same scenario run here against fastai (``implementation.py``) with the
same seed; sizes are drawn from fresh seeds. The head's forward is judged on inputs made here,
with fastai's (random) weights loaded into the student's head; a few SGD steps of the whole
model are compared with fastai's step by step.
"""

import random

import pytest
import torch

from grader.sandbox import StudentError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from reference.cnn_learner.reference import (compare_layers, concat_pool_ref, head_mistakes, kaiming_std,
                                             pool_mistakes, randomize_)

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


@pytest.mark.points(1)
@pytest.mark.parametrize("case", range(len(HEAD_OPTIONS)))
def test_head_layers_like_fastai(student, reference, case):
    """create_head: the same layers, in the same order, with the same shapes and settings as fastai's."""
    options = HEAD_OPTIONS[case]
    seed = fresh_seed()
    nf, n_out = _sizes(seed)
    got = student.scenario("head_layout", seed=seed, nf=nf, n_out=n_out, **options)
    want = reference.scenario("head_layout", seed=seed, nf=nf, n_out=n_out, **options)
    what = f"create_head({nf}, {n_out}{', ' if options else ''}{_describe(options)})"
    if not isinstance(got, dict):
        fail(f"{what}: the scenario returned no layout.")
    if got.get("type") != "Sequential":
        fail(f"{what} returned a {got.get('type')}, but a flat nn.Sequential is expected.")
    compare_layers(got.get("layers"), want["layers"], what)
    if got.get("state") != want["state"]:
        fail(f"{what}: the state_dict's keys or shapes differ from fastai's head.")
    if got.get("out_shape") != want["out_shape"]:
        fail(f"{what}: the output has shape {got.get('out_shape')}, but {want['out_shape']} is expected.")


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


@pytest.mark.points(1)
@pytest.mark.parametrize("case", range(len(BODY_CASES)))
def test_create_body_like_fastai(student, reference, case):
    """create_body cuts where fastai cuts (int, negative int, callable, None: before the last pooling child) and keeps the model's own layers."""
    arch, cut = BODY_CASES[case]
    seed = fresh_seed()
    got = student.scenario("body_layout", seed=seed, arch=arch, cut=cut)
    want = reference.scenario("body_layout", seed=seed, arch=arch, cut=cut)
    cut_text = "a function" if cut == "callable" else repr(cut)
    what = f"create_body(model, cut={cut_text}) on a {arch}-like model"
    if not isinstance(got, dict):
        fail(f"{what}: the scenario returned no layout.")
    if cut != "callable" and got.get("type") != "Sequential":
        fail(f"{what} returned a {got.get('type')}, but an nn.Sequential is expected.")
    compare_layers(got.get("layers"), want["layers"], what)
    shared = got.get("shared")
    if not isinstance(shared, list) or not all(s is True for s in shared):
        fail(f"{what}: the body's parameters are not the model's own (copied or rebuilt layers lose the pretrained weights).")
    state = got.get("state")
    if not isinstance(state, dict) or state.keys() != want["state"].keys():
        fail(f"{what}: the body's state_dict keys differ from fastai's body.")
    for k, v in want["state"].items():
        if not isinstance(state[k], torch.Tensor) or not torch.equal(state[k], v):
            fail(f"{what}: the body's {k} differs from the model's weights.")


MODEL_CASES = [("resnet", {}), ("twopools", {"lin_ftrs": [16], "bn_final": True, "ps": 0.3}), ("vgg", {"concat_pool": False})]


@pytest.mark.points(2)
@pytest.mark.parametrize("case", range(len(MODEL_CASES)))
def test_create_cnn_model_like_fastai(student, reference, case):
    """create_cnn_model = Sequential(body, head) as fastai's, with nf found from the body; the model's weights and BN statistics stay untouched."""
    arch, options = MODEL_CASES[case]
    seed = fresh_seed()
    n_out = random.Random(seed).randint(2, 6)
    got = student.scenario("model_layout", seed=seed, arch=arch, n_out=n_out, **options)
    want = reference.scenario("model_layout", seed=seed, arch=arch, n_out=n_out, **options)
    what = f"create_cnn_model({arch}-like model, {n_out}{', ' if options else ''}{_describe(options)})"
    if not isinstance(got, dict):
        fail(f"{what}: the scenario returned no layout.")
    if got.get("type") != "Sequential" or got.get("parts") != want["parts"]:
        fail(f"{what} should be nn.Sequential(body, head) (two Sequentials), but it is a {got.get('type')} "
             f"of {got.get('parts')}.")
    compare_layers(got.get("body_layers"), want["body_layers"], f"{what}[0] (the body)")
    compare_layers(got.get("head_layers"), want["head_layers"], f"{what}[1] (the head)")
    if got.get("body_from_model") != want["body_from_model"]:
        fail(f"{what}: the body's parameters are not the model's own layers (copied or rebuilt?).")
    after = got.get("model_after")
    if not isinstance(after, dict) or after.keys() != want["model_before"].keys():
        fail(f"{what}: the original model's state_dict changed its keys.")
    changed = [k for k, v in want["model_before"].items()
               if not isinstance(after[k], torch.Tensor) or not torch.equal(after[k], v)]
    if changed:
        fail(f"{what} changed the model's {', '.join(changed[:3])}: find nf with a dummy batch in eval() mode "
             "under torch.no_grad() (in training mode BatchNorm updates its running statistics).")


@pytest.mark.points(2)
def test_head_initialised_like_fastai(student):
    """The head's Linear weights are kaiming-normal (std sqrt(2/fan_in)), its biases zero, as fastai's apply_init."""
    seed = fresh_seed()
    got = student.scenario("model_layout", seed=seed, arch="resnet", n_out=4, lin_ftrs=[256], first_bn=False)
    weights, biases = got.get("head_linear_weights"), got.get("head_linear_biases")
    if not isinstance(weights, list) or len(weights) != 2 or not all(isinstance(w, torch.Tensor) for w in weights):
        fail("create_cnn_model(model, 4, lin_ftrs=[256], first_bn=False): the head should have two Linear layers.")
    for i, w in enumerate(weights):
        fan_in = w.shape[1]
        ratio = float(w.double().std()) / kaiming_std(fan_in)
        if not 0.85 < ratio < 1.15:
            fail(f"The weights of the head's Linear layer {i} (fan_in {fan_in}) have a standard deviation "
                 f"{ratio:.2f} times that of nn.init.kaiming_normal_: initialise them as fastai does.")
    if not isinstance(biases, list) or not all(isinstance(b, torch.Tensor) and not bool(b.any()) for b in biases):
        fail("The head's Linear biases should be zero after create_cnn_model (fastai's apply_init).")


FREEZE_CASES = [("resnet", True, False), ("resnet", False, False), ("vgg", True, False), ("twopools", True, True)]


@pytest.mark.points(2)
@pytest.mark.parametrize("case", range(len(FREEZE_CASES)))
def test_freeze_body_like_fastai(student, reference, case):
    """freeze_body: body frozen except its BatchNorm layers (when train_bn), head trainable, as Learner.freeze()."""
    arch, train_bn, twice = FREEZE_CASES[case]
    seed = fresh_seed()
    got = student.scenario("freeze_flags", seed=seed, arch=arch, train_bn=train_bn, twice=twice)
    want = reference.scenario("freeze_flags", seed=seed, arch=arch, train_bn=train_bn, twice=twice)
    what = f"freeze_body(model, train_bn={train_bn})" + (" after the head was switched off" if twice else "")
    if not isinstance(got, dict) or got.keys() != want.keys():
        fail(f"{what}: the model's parameter names differ from fastai's model (check create_head and "
             "create_cnn_model first).")
    wrong = [k for k in want if got[k] is not want[k]]
    if wrong:
        k = wrong[0]
        part = "head" if k.startswith("1.") else "body"
        fail(f"{what}: {len(wrong)} parameters have the wrong requires_grad, e.g. {k} (in the {part}) is "
             f"{got[k]}. Body: frozen except normalisation layers when train_bn; head: trainable.")


@pytest.mark.points(2)
@pytest.mark.parametrize("arch", ["resnet", "vgg"])
def test_cnn_splitter_like_fastai(student, arch):
    """cnn_splitter returns [body parameters, head parameters] in parameters() order (fastai's default_split)."""
    seed = fresh_seed()
    got = student.scenario("splitter_names", seed=seed, arch=arch)
    groups, names = (got.get("groups"), got.get("names")) if isinstance(got, dict) else (None, None)
    if not isinstance(groups, list) or len(groups) != 2 or not isinstance(names, list):
        fail("cnn_splitter(model) should return two groups: [body parameters, head parameters].")
    # fastai's rule (default_split) applied to the student's own model, so a head mistake does not show up here
    want = [[k for k in names if k.startswith("0.")], [k for k in names if not k.startswith("0.")]]
    for i, (g, w) in enumerate(zip(groups, want)):
        if g != w:
            name = ("body", "head")[i]
            fail(f"cnn_splitter(model)[{i}] should hold the {name}'s parameters (model[{i}]) in parameters() order; "
                 f"it holds {len(g)} parameters, starting with {g[:2]}.")


TRAIN_CASES = [("resnet", True, True), ("vgg", True, False), ("twopools", False, True)]


@pytest.mark.points(3)
@pytest.mark.cpu_budget(20)
@pytest.mark.parametrize("case", range(len(TRAIN_CASES)))
def test_training_steps_like_fastai(student, reference, device, case):
    """Three SGD steps (one learning rate per splitter group, frozen body) match fastai's, loss by loss and weight by weight."""
    arch, freeze, train_bn = TRAIN_CASES[case]
    seed = fresh_seed()
    kwargs = dict(arch=arch, freeze=freeze, train_bn=train_bn, device=str(device))
    got = student.scenario("train_steps", seed=seed, **kwargs)
    want = reference.scenario("train_steps", seed=seed, **kwargs)
    what = f"training a {arch}-like create_cnn_model " + (f"with freeze_body(train_bn={train_bn})" if freeze else "unfrozen")
    if not isinstance(got, dict) or not isinstance(got.get("state"), dict):
        fail(f"{what}: the scenario returned no result.")
    assert_tensor_close(got.get("losses"), want["losses"], what=f"{what}: the losses of the 3 steps")
    if got["state"].keys() != want["state"].keys():
        fail(f"{what}: the model's state_dict keys differ from fastai's (check create_head and create_cnn_model first).")
    for k, v in want["state"].items():
        if v.is_floating_point():
            assert_tensor_close(got["state"][k], v, what=f"{what}: {k} after 3 steps")


@pytest.mark.points(2)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No fastai (create_body, create_head, create_vision_model, AdaptiveConcatPool2d, LinBnDrop ...), not even indirectly."""
    # Only modules imported while this exercise's code ran: in batch grading one worker serves all of a
    # student's exercises, and another exercise may import fastai legitimately (the source scan covers
    # imports at module level).
    before = student.imported_modules()
    with student.recording_ops() as ops:
        student.scenario("model_layout", seed=fresh_seed(), arch="resnet", n_out=3)
    forbidden = ["fastai.vision.learner.create_body", "fastai.vision.learner.create_head",
                 "fastai.vision.learner.create_vision_model", "fastai.layers.AdaptiveConcatPool2d",
                 "fastai.layers.LinBnDrop"]
    assert_from_scratch(ops, student_sources, forbidden_names=forbidden, forbidden_modules=["fastai", "fasttransform"],
                        modules_seen=student.imported_modules() - before, what="cnn_learner")
