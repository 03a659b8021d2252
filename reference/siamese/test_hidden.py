"""Hidden checks for `siamese`: the student's model around encoder and head built from a fresh seed,
called on inputs drawn here; gradients and a short training compared with / judged by the trusted side.

Nothing is taken at the worker's word: the student's SiameseModel and siamese_splitter are called here
through the proxy, on a model carrying weights chosen here, and compared with the architecture rebuilt
here; make_pairs is called on fresh labels and its pairs are checked here against the rule. The
scenarios (gradients, training) run in the sandbox, where their code could be swapped, so their checks
count only when the pieces they use pass first; the trained weights are judged here on pairs drawn
with a private seed.
"""

from __future__ import annotations

import random
import typing as t

import pytest
import torch

from grader.sandbox import RemoteObject, StudentError
from grader.scenarios import fresh_seed
from grader.testing import CheckFailed, assert_tensor_close, fail
from reference.siamese.reference import accuracy, forward_mistakes, forward_ref, scenarios, trusted_parts

DTYPES = [torch.float32, torch.float64]
DTYPE_IDS = ["float32", "float64"]


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _build(student: t.Any, seed: int, dtype: torch.dtype, device: torch.device) -> t.Any:
    """The student's ``SiameseModel`` (called here through the proxy) around fresh parts from ``build_parts``."""
    __tracebackhide__ = True
    parts = student.scenario("build_parts", seed=seed, dtype=_name(dtype), device=str(device))
    if not isinstance(parts, dict) or not all(isinstance(parts.get(k), RemoteObject) for k in ("encoder", "head")):
        fail("The scenario build_parts did not return an encoder and a head (did you change scenarios.py?).")
    model = student.SiameseModel(parts["encoder"], parts["head"])
    if not isinstance(model, RemoteObject):
        fail(f"SiameseModel(encoder, head) gave a {type(model).__name__}, but an nn.Module is expected.")
    return model


def _with_weights(student: t.Any, reference: t.Any, dtype: torch.dtype, device: torch.device,
                  antisymmetric: bool = False) -> tuple[t.Any, dict[str, torch.Tensor]]:
    """The student's model carrying weights chosen here (a fresh seed), and those weights.

    Its own state_dict must have the published names and shapes first (``encoder.*`` + ``head.*``, read
    here), so that a second encoder shows as such; weights loaded afterwards also reach a hidden copy of
    the encoder only if the model really uses the one it was given.
    """
    __tracebackhide__ = True
    model = _build(student, fresh_seed(), dtype, device)
    trusted_parts(reference, model.state_dict(), what="SiameseModel(encoder, head)")
    weights = reference.scenario("model_state", seed=fresh_seed(), dtype=_name(dtype), antisymmetric=antisymmetric)
    model.load_state_dict(weights)
    model.eval()
    return model, weights


def require_model(student: t.Any, reference: t.Any, device: torch.device, for_training: bool) -> tuple[t.Any, dict]:
    """The student's SiameseModel computes the published forward pass here, on fresh inputs (else the
    training or gradient check that needs it fails, saying why)."""
    __tracebackhide__ = True
    try:
        model, weights = _with_weights(student, reference, torch.float32, device)
        encoder, head = trusted_parts(reference, weights, what="the reference")
        g = torch.Generator().manual_seed(fresh_seed())
        image = scenarios(reference).IMAGE
        a, b = torch.randn(6, *image, generator=g).to(device), torch.randn(6, *image, generator=g).to(device)
        assert_tensor_close(model(a, b), forward_ref(encoder, head, a, b), what="SiameseModel(encoder, head)(x1, x2)",
                            dtype=torch.float32, device=device)
    except (CheckFailed, StudentError) as exc:
        if for_training:
            not_ready("SiameseModel", exc)
        fail(f"This check reads the gradients of your SiameseModel, so it counts only when its forward pass is "
             f"right, and it is not yet (its own check shows why).\n{exc}")
    return model, weights


def not_ready(piece: str, exc: Exception) -> t.NoReturn:
    __tracebackhide__ = True
    fail(f"This check trains with your make_pairs, siamese_splitter and SiameseModel, so it counts only when they "
         f"work: {piece} does not yet (its own check shows why).\n{exc}")


# -- the model --------------------------------------------------------------------------------------

@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_forward(student, reference, device, dtype):
    """forward(x1, x2) = head(cat([encoder(x1), encoder(x2)], dim=1)), in the inputs' dtype and device."""
    g = torch.Generator().manual_seed(fresh_seed())
    image = scenarios(reference).IMAGE
    model, weights = _with_weights(student, reference, dtype, device, antisymmetric=True)
    encoder, head = trusted_parts(reference, weights, what="the reference")
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
def test_gradients_reach_shared_encoder(student, reference, device, branch):
    """Gradients reach the one encoder through either image (the head ignores the other image's features)."""
    # The backward pass runs in the public scenario, whose code the sandbox could swap: its gradients count
    # only next to the student's own model, called here, computing the forward pass they belong to.
    require_model(student, reference, device, for_training=False)
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


def check_splitter(student: t.Any, model: t.Any, weights: dict[str, torch.Tensor]) -> None:
    """``siamese_splitter(model)`` gives the weights loaded here, grouped [encoder, head], each in order."""
    __tracebackhide__ = True
    groups = student.siamese_splitter(model)
    enc = [v for k, v in weights.items() if k.startswith("encoder.")]
    head = [v for k, v in weights.items() if k.startswith("head.")]
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


@pytest.mark.points(2)
def test_splitter(student, reference, device):
    """siamese_splitter(model) = [encoder params, head params], two lists of the model's own parameters."""
    # Weights chosen here are loaded into the model first: the groups must hold exactly those values.
    model, weights = _with_weights(student, reference, torch.float32, device)
    check_splitter(student, model, weights)


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
#: The training run's size (passed to the scenario, so that the labels made here are the ones it uses).
N_IMAGES, N_PAIRS, NOISE = 120, 1200, 0.4


def require_pairs(student: t.Any, labels: list[int], n: int, seed: int) -> None:
    """The pairs the training will use, asked for here: valid, and about half of them same-class pairs."""
    __tracebackhide__ = True
    what = f"make_pairs(labels, {n}, seed)"
    try:
        pairs = _check_pairs(student.make_pairs(labels, n, seed), labels, n, what)
        share = sum(same for _, _, same in pairs) / n
        if not 0.4 <= share <= 0.6:
            fail(f"{share:.0%} of the pairs from {what} are same-class pairs; about half are expected.")
    except (CheckFailed, StudentError) as exc:
        not_ready("make_pairs", exc)


@pytest.mark.points(4)
@pytest.mark.cpu_budget(15)
@pytest.mark.check_timeout(60)
def test_training_learns_same_or_different(student, reference, device):
    """A short training on synthetic pairs: >= 90% accuracy on new pairs this grader draws and labels."""
    seed = fresh_seed()
    g = torch.Generator().manual_seed(seed)
    sc = scenarios(reference)
    protos = torch.randn(5, *sc.IMAGE, generator=g)
    # The training runs in the sandbox, whose code could be swapped: it counts only when the pieces it
    # trains with work, checked here first on the very labels the scenario draws from its seed.
    labels = (torch.randperm(N_IMAGES, generator=torch.Generator().manual_seed(seed)) % len(protos)).tolist()
    require_pairs(student, labels, N_PAIRS, seed)
    model, weights = require_model(student, reference, device, for_training=True)
    try:
        check_splitter(student, model, weights)
    except (CheckFailed, StudentError) as exc:
        not_ready("siamese_splitter", exc)
    got = student.scenario("train_pairs", seed=seed, protos=protos, n_images=N_IMAGES, n_pairs=N_PAIRS, noise=NOISE,
                           device=str(device))
    # The trained weights, judged here: loaded into the architecture rebuilt here, on pairs drawn with a
    # private seed that never leaves this process.
    encoder, head = trusted_parts(reference, got["state"] if isinstance(got, dict) else None,
                                  what="the trained model")
    private = torch.Generator().manual_seed(fresh_seed())
    n = 400
    la = torch.randint(0, len(protos), (n,), generator=private)
    same = torch.rand(n, generator=private) < 0.5
    lb = torch.where(same, la, (la + torch.randint(1, len(protos), (n,), generator=private)) % len(protos))
    xa = sc.make_images(protos, la, NOISE, private).double()
    xb = sc.make_images(protos, lb, NOISE, private).double()
    acc = accuracy(encoder, head, xa, xb, same)
    if acc < 0.9:
        fail(f"After the training scenario your model tells same from different on {acc:.0%} of new pairs; "
             "at least 90% is expected. Check make_pairs (balanced pairs, a correct `same`), the shared encoder "
             "and the splitter's two groups (the optimizer trains exactly those).")
