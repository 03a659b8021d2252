"""Hidden checks for `siamese`: the student's model around encoder and head built from a fresh seed,
called on inputs drawn here; gradients and a short training compared with / judged by the trusted side.
"""

from __future__ import annotations

import random
import typing as t

import pytest
import torch

from grader.sandbox import RemoteObject
from grader.scenarios import fresh_seed
from grader.testing import assert_tensor_close, fail
from reference.siamese.reference import accuracy, forward_mistakes, forward_ref, scenarios, trusted_parts

DTYPES = [torch.float32, torch.float64]
DTYPE_IDS = ["float32", "float64"]


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _build(student: t.Any, seed: int, dtype: torch.dtype, device: torch.device, antisymmetric: bool = False) -> t.Any:
    __tracebackhide__ = True
    model = student.scenario("build_model", seed=seed, dtype=_name(dtype), device=str(device),
                             antisymmetric=antisymmetric)
    if not isinstance(model, RemoteObject):
        fail(f"SiameseModel(encoder, head) gave a {type(model).__name__}, but an nn.Module is expected.")
    return model


# -- the model --------------------------------------------------------------------------------------

@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_forward(student, reference, device, dtype):
    """forward(x1, x2) = head(cat([encoder(x1), encoder(x2)], dim=1)), in the inputs' dtype and device."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    image = scenarios(reference).IMAGE
    model = _build(student, seed, dtype, device, antisymmetric=True)
    state = reference.scenario("model_state", seed=seed, dtype=_name(dtype), antisymmetric=True)
    encoder, head = trusted_parts(reference, state, what="the reference")
    # Similar pairs of large images, then random pairs: the head sees W (f1 - f2) + b, so large features
    # that differ a little give small outputs, and rounding the features (float16, bfloat16) shows.
    x1 = torch.randn(4, *image, generator=g, dtype=dtype)
    x2 = torch.randn(4, *image, generator=g, dtype=dtype)
    # (simulated over 200 seeds: float16 features miss the float32 tolerance by >= 10x, float32 uses <= 8% of it)
    y1 = 100 * torch.randn(8, *image, generator=g, dtype=dtype)
    y2 = y1 + 0.5 * torch.randn(8, *image, generator=g, dtype=dtype)
    for a, b, kind in ((y1, y2, "similar"), (x1, x2, "random")):
        a, b = a.to(device), b.to(device)
        assert_tensor_close(model(a, b), forward_ref(encoder, head, a, b), what=f"SiameseModel(encoder, head)(x1, x2) "
                            f"for {kind} images x1, x2 of shape {tuple(a.shape)}", dtype=dtype, device=device,
                            hints=forward_mistakes(encoder, head, a, b))


@pytest.mark.points(2)
def test_one_shared_encoder(student, reference, device):
    """The model holds exactly the given encoder and head: parameters = encoder + head, the same weights."""
    seed = fresh_seed()
    model = _build(student, seed, torch.float32, device)
    state = model.state_dict()
    want = reference.scenario("model_state", seed=seed)
    if not isinstance(state, dict):
        fail("model.state_dict() must be a dict of tensors.")
    n_got = sum(v.numel() for v in state.values() if isinstance(v, torch.Tensor))
    n_want = sum(v.numel() for v in want.values())
    if n_got != n_want:
        fail(f"SiameseModel(encoder, head) has {n_got} parameter values, but encoder + head have {n_want}"
             + (": it looks like a second encoder (a copy) is stored; both images must use the same one."
                if n_got > n_want else "."))
    trusted_parts(reference, state, what="SiameseModel(encoder, head)")
    for key, value in want.items():
        assert_tensor_close(state[key], value, what=f"model.state_dict()[{key!r}] (the encoder and head given)",
                            device=device)


@pytest.mark.points(2)
@pytest.mark.parametrize("branch", [1, 2], ids=["only-x1-matters", "only-x2-matters"])
def test_gradients_reach_shared_encoder(student, reference, branch):
    """Gradients reach the one encoder through either image (the head ignores the other image's features)."""
    seed = fresh_seed()
    got = student.scenario("branch_grads", seed=seed, branch=branch, dtype="float64")
    want = reference.scenario("branch_grads", seed=seed, branch=branch, dtype="float64")
    what = f"with a head that only looks at image x{branch}'s features"
    assert_tensor_close(got["loss"], want["loss"], what=f"the loss {what}")
    for part in ("encoder", "head"):
        grads, expected = got[part], want[part]
        if not isinstance(grads, list) or len(grads) != len(expected):
            fail(f"The {part}'s parameters changed: {len(expected)} parameters with gradients are expected.")
        for k, (g, w) in enumerate(zip(grads, expected)):
            if g is None:
                fail(f"No gradient reached the {part}'s parameter {k} {what}: x{branch} must go through the "
                     "given encoder, with autograd on (no copy of the encoder, no detach, no no_grad).")
            assert_tensor_close(g, w, what=f"the gradient of the {part}'s parameter {k} {what}",
                                hints={f"no gradient came through x{branch}: a copy of the encoder, detach or no_grad "
                                       f"on one branch": torch.zeros_like(w)})


@pytest.mark.points(2)
def test_splitter(student, reference, device):
    """siamese_splitter(model) = [encoder params, head params], two lists of the model's own parameters."""
    seed = fresh_seed()
    model = _build(student, seed, torch.float32, device)
    groups = student.siamese_splitter(model)
    state = reference.scenario("model_state", seed=seed)
    enc = [v for k, v in state.items() if k.startswith("encoder.")]
    head = [v for k, v in state.items() if k.startswith("head.")]
    if type(groups) is not list or len(groups) != 2:
        fail(f"siamese_splitter(model) returned {len(groups) if isinstance(groups, (list, tuple)) else 'no'} "
             "groups in a " f"{type(groups).__name__}; a list of two lists [encoder params, head params] is expected.")
    for k, group in enumerate(groups):
        if type(group) is not list or not all(isinstance(p, torch.Tensor) for p in group):
            fail(f"siamese_splitter(model)[{k}] is not a list of parameters (a generator? use list(...)).")

    def same(group: list[torch.Tensor], wanted: list[torch.Tensor]) -> bool:
        return len(group) == len(wanted) and all(p.shape == w.shape and torch.equal(p.detach().cpu(), w)
                                                 for p, w in zip(group, wanted))

    if same(groups[0], head) and same(groups[1], enc):
        fail("siamese_splitter(model) returned [head params, encoder params]; the encoder's group comes first.")
    for k, (group, wanted, part) in enumerate(((groups[0], enc, "encoder"), (groups[1], head, "head"))):
        if not same(group, wanted):
            fail(f"siamese_splitter(model)[{k}] is not model.{part}'s parameters in their order "
                 f"({len(group)} tensors given, {len(wanted)} expected).")


# -- make_pairs -------------------------------------------------------------------------------------

def _labels(rng: random.Random, n: int, k: int) -> list[int]:
    """Labels of ``k`` classes of unequal sizes (every class at least twice), shuffled; class ids not 0..k-1."""
    ids = rng.sample(range(10, 99), k)
    labels = ids * 2 + [rng.choice(ids[: k // 2 + 1]) for _ in range(n - 2 * k)]
    rng.shuffle(labels)
    return labels


def _check_pairs(pairs: t.Any, labels: list[int], n: int, what: str) -> list[tuple[int, int, bool]]:
    __tracebackhide__ = True
    if type(pairs) is not list or len(pairs) != n:
        fail(f"{what} returned {len(pairs) if isinstance(pairs, (list, tuple)) else 'no'} pairs in a "
             f"{type(pairs).__name__}; a list of {n} tuples (i, j, same) is expected.")
    for k, pair in enumerate(pairs):
        if type(pair) is not tuple or len(pair) != 3:
            fail(f"{what}[{k}] is a {type(pair).__name__}, but a tuple (i, j, same) is expected.")
        i, j, same = pair
        if type(i) is not int or type(j) is not int:
            fail(f"{what}[{k}]: i and j must be Python ints, not {type(i).__name__} and {type(j).__name__}.")
        if type(same) is not bool:
            fail(f"{what}[{k}]: same must be a Python bool, not a {type(same).__name__}.")
        if not (0 <= i < len(labels) and 0 <= j < len(labels)):
            fail(f"{what}[{k}] = ({i}, {j}, {same}) holds an index outside range({len(labels)}).")
        if same != (labels[i] == labels[j]):
            fail(f"{what}[{k}] = ({i}, {j}, {same}), but labels[{i}] and labels[{j}] are "
                 f"{'equal' if labels[i] == labels[j] else 'different'}: `same` must say whether they are.")
    return pairs


@pytest.mark.points(2)
@pytest.mark.parametrize("as_tensor", [False, True], ids=["list", "tensor"])
def test_make_pairs_valid(student, as_tensor):
    """make_pairs: n tuples (int i, int j, bool same), valid indices, same == (labels[i] == labels[j])."""
    seed = fresh_seed()
    rng = random.Random(seed)
    labels = _labels(rng, rng.randint(40, 70), rng.randint(3, 6))
    n = rng.randint(150, 250)
    arg = torch.tensor(labels) if as_tensor else labels
    _check_pairs(student.make_pairs(arg, n, seed), labels, n,
                 f"make_pairs({'torch.tensor(labels)' if as_tensor else 'labels'}, {n}, seed)")


@pytest.mark.points(2)
def test_make_pairs_balanced(student):
    """About half of the pairs are same-class pairs, even with many classes."""
    seed = fresh_seed()
    rng = random.Random(seed)
    k = rng.randint(6, 9)
    labels = _labels(rng, 80, k)
    n = 2000
    pairs = _check_pairs(student.make_pairs(labels, n, seed), labels, n, f"make_pairs(labels, {n}, seed)")
    share = sum(same for _, _, same in pairs) / n
    if not 0.4 <= share <= 0.6:
        hint = " That is about what random partners give: draw `same` first, then a partner of that kind." \
            if share < 0.3 else ""
        fail(f"{share:.0%} of the pairs from make_pairs(labels, {n}, seed) are same-class pairs; about half are "
             f"expected.{hint}")


@pytest.mark.points(2)
def test_make_pairs_deterministic(student):
    """The same seed gives the same pairs (whatever ran in between); another seed gives other pairs."""
    seed = fresh_seed()
    rng = random.Random(seed)
    labels = _labels(rng, 50, 4)
    other = seed + 1 + rng.randrange(10**6)
    first = student.make_pairs(labels, 60, seed)
    second = student.make_pairs(labels, 60, other)
    again = student.make_pairs(labels, 60, seed)
    _check_pairs(first, labels, 60, "make_pairs(labels, 60, seed)")
    if again != first:
        fail("make_pairs(labels, 60, seed) gave different pairs for the same seed: use random.Random(seed), not "
             "the global random state.")
    if second == first:
        fail("make_pairs gave the same pairs for two different seeds: the seed must decide the pairs.")


# -- training ---------------------------------------------------------------------------------------

@pytest.mark.points(4)
@pytest.mark.cpu_budget(15)
@pytest.mark.check_timeout(60)
def test_training_learns_same_or_different(student, reference, device):
    """A short training on synthetic pairs: >= 90% accuracy on new pairs this grader draws and labels."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    sc = scenarios(reference)
    protos = torch.randn(5, *sc.IMAGE, generator=g)
    got = student.scenario("train_pairs", seed=seed, protos=protos, device=str(device))
    encoder, head = trusted_parts(reference, got["state"] if isinstance(got, dict) else None,
                                  what="the trained model")
    n = 400
    la = torch.randint(0, len(protos), (n,), generator=g)
    same = torch.rand(n, generator=g) < 0.5
    lb = torch.where(same, la, (la + torch.randint(1, len(protos), (n,), generator=g)) % len(protos))
    xa = sc.make_images(protos, la, 0.4, g).double()
    xb = sc.make_images(protos, lb, 0.4, g).double()
    acc = accuracy(encoder, head, xa, xb, same)
    if acc < 0.9:
        fail(f"After the training scenario your model tells same from different on {acc:.0%} of new pairs; "
             "at least 90% is expected. Check make_pairs (balanced pairs, a correct `same`), the shared encoder "
             "and the splitter's two groups (the optimizer trains exactly those).")
