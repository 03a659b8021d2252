"""Hidden checks for `transforms`: the student's Pipeline/TfmdLists against fasttransform's and
fastai's on the same transforms (``checks/transforms/scenarios.py``), and their transforms.

Every check draws its inputs with a fresh seed, so a canned scenario result cannot match. No call
record or lineage the worker reports decides a check: laziness is read from the values (the transform
adds how often it ran), and the from-scratch gate reads the source here.
"""

from __future__ import annotations

import ast
import random
import string
import typing as t

import pytest
import torch

from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, assert_tensor_close, fail, quietly, student_raises
from reference.learner.lineage import assert_all, assert_built_from_scratch
from reference.transforms.reference import (BUILT_FROM_SCRATCH, decode_mistakes, decode_ref, encode_mistakes,
                                            encode_ref, mean_mistakes, mean_ref)

FORBIDDEN = ["fasttransform.Pipeline", "fasttransform.transform.Pipeline", "fasttransform.compose_tfms",
             "fasttransform.transform.compose_tfms", "fastai.data.core.TfmdLists", "fastai.data.all.TfmdLists"]
#: (fastai's Categorize & co. are covered by forbidden_modules=["fastai"]; a leaf name listed here is also
#: flagged in any absolute ``from x import <leaf>``, so the list stays as short as the rule allows.)


def _draw() -> tuple[int, torch.Generator, random.Random]:
    seed = fresh_seed()
    return seed, torch.Generator().manual_seed(seed), random.Random(seed)


def _splits(rng: random.Random, n: int, n_valid: int) -> tuple[list[int], list[int]]:
    order = list(range(n))
    rng.shuffle(order)
    return sorted(order[n_valid:]), sorted(order[:n_valid])


def _close_list(got: t.Any, want: t.Sequence[torch.Tensor], what: str, dtype: torch.dtype | None = None) -> None:
    __tracebackhide__ = True
    if not isinstance(got, list) or len(got) != len(want):
        fail(f"{what} has {len(got) if isinstance(got, list) else 'no list of'} values, but {len(want)} are expected.")
    for k, (g, w) in enumerate(zip(got, want)):
        name = what.replace("[i]", f"[{k}]") if "[i]" in what else f"{what}[{k}]"
        assert_tensor_close(g, w.detach().cpu().double(), what=name, dtype=dtype or w.dtype, device="cpu")


# -- Pipeline -------------------------------------------------------------------------------------

@pytest.mark.points(3)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_pipeline_order_and_decode(student, reference, device, dtype):
    """Pipeline sorts by `order` (stably) and decodes in reverse order, like fasttransform's."""
    seed, g, rng = _draw()
    x = torch.randn(3, 5, generator=g, dtype=dtype).to(device)
    consts = [round(rng.uniform(0.5, 3.0), 3) for _ in range(4)]
    got = student.scenario("pipeline_order", seed=seed, x=x, consts=consts)
    want = reference.scenario("pipeline_order", seed=seed, x=x, consts=consts)
    assert_tensor_close(want["encoded"], encode_ref(x, consts), what="fasttransform", dtype=dtype)  # sanity
    what = "Pipeline([Add(a, order=2), Scale(b, order=1), Add(c, order=1), Scale(d, order=-1)])"
    assert_tensor_close(got["encoded"], encode_ref(x, consts), what=f"{what}(x)", dtype=dtype, device=x.device,
                        hints=encode_mistakes(x, consts))
    y = got["encoded"]
    assert_tensor_close(got["decoded"], decode_ref(y, consts), what="p.decode(p(x))", dtype=dtype, device=x.device,
                        hints=decode_mistakes(y, consts))
    assert_tensor_close(got["decoded"], x.double(), what="p.decode(p(x)) compared with x", dtype=dtype,
                        device=x.device)
    assert_tensor_close(got["decode_x"], want["decode_x"], what="p.decode(x)", dtype=dtype, device=x.device,
                        hints=decode_mistakes(x, consts))
    if got["x_unchanged"] is not True:
        fail("Pipeline changed its input tensor x in place; transforms must return new values.")
    if got["funcs_unchanged"] is not True:
        fail("Pipeline(funcs) changed the list `funcs` it was given (sorted it in place?). Sort a copy: "
             "sorted(funcs, key=...) instead of funcs.sort(...).")


@pytest.mark.points(2)
def test_type_dispatch(student, reference):
    """Transforms annotated for one type leave other types alone; tuples are transformed per element."""
    seed, g, rng = _draw()
    x = torch.randn(2, 3, generator=g)
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(5))
    number, a = rng.randint(2, 99), round(rng.uniform(0.5, 3.0), 3)
    kwargs = dict(x=x, word=word, number=number, a=a)
    got = student.scenario("type_dispatch", seed=seed, **kwargs)
    want = reference.scenario("type_dispatch", seed=seed, **kwargs)
    call = "Pipeline([Twice() (ints), Add(a) (tensors), Upper() (strs)])"
    assert_tensor_close(got["tensor"], want["tensor"], what=f"{call}(tensor)")
    for key, arg in (("str", "a str"), ("int", "an int"), ("float", "a float"), ("decoded_str", "decode of a str")):
        if type(got[key]) is not type(want[key]) or got[key] != want[key]:
            fail(f"{call} on {arg} returned a wrong value ({got[key]!r}): each transform only changes the types "
                 "its encodes/decodes are annotated for. Call the transform (t(x), t.decode(x)), not t.encodes.")
    for key in ("tuple", "decoded_tuple"):
        value, expected = got[key], want[key]
        label = f"{call}((x, word, n))" if key == "tuple" else "p.decode(p((x, word, n)))"
        if type(value) is not tuple or len(value) != 3:
            fail(f"{label} returned a {type(value).__name__}, but a tuple of 3 values is expected "
                 "(a Transform applies itself to each element of a tuple).")
        assert_tensor_close(value[0], expected[0], what=f"{label}[0]")
        if value[1:] != expected[1:]:
            fail(f"{label} has wrong non-tensor elements {value[1:]!r}.")


# -- TfmdLists ------------------------------------------------------------------------------------

def _tfmdlists_case(split: bool) -> tuple[int, dict[str, t.Any], list[int], list[int]]:
    seed, g, rng = _draw()
    n = 11
    train, valid = _splits(rng, n, 4) if split else (list(range(n)), [])
    items = [torch.randn(3, 2, generator=g, dtype=torch.float64) + (4.0 if i in valid else 0.0) for i in range(n)]
    scale = round(rng.uniform(1.5, 3.0), 3)
    return seed, dict(items=items, splits=(train, valid) if split else None, scale=scale), train, valid


@pytest.mark.points(3)
@pytest.mark.parametrize("split", [True, False], ids=["splits", "no-splits"])
def test_tfmdlists_setup_on_training_split(student, reference, split):
    """Set-up sees only the training items, as the earlier transforms produce them; train/valid/decode."""
    seed, kwargs, train, valid = _tfmdlists_case(split)
    items, scale = kwargs["items"], kwargs["scale"]
    got = student.scenario("tfmdlists_setup", seed=seed, **kwargs)
    want = reference.scenario("tfmdlists_setup", seed=seed, **kwargs)
    call = "TfmdLists(items, [Center(order=1), Scale(s, order=0)], splits)" if split else \
        "TfmdLists(items, [Center(order=1), Scale(s, order=0)])"
    if got["n_setups"] != 1:
        fail(f"{call} set up Center {got['n_setups']} times; each transform is set up exactly once, at construction.")
    if got["n_seen"] != len(train):
        hint = " That is every item: set up on the training split only (no leakage)." if got["n_seen"] == len(items) \
            else ""
        fail(f"{call}: Center.setups saw {got['n_seen']} items, but the training split has {len(train)}.{hint}")
    hints = {
        "setups saw the validation items too (leakage): use only the training split":
            lambda: mean_ref([x * scale for x in items]),
        "setups saw the raw items; it must see them as the transforms before it (lower order) produce them":
            lambda: mean_ref([items[i] for i in train]),
    }
    assert_tensor_close(got["mean"], want["mean"], what=f"the mean Center.setups computed in {call}",
                        dtype=torch.float64, device="cpu", hints=hints)
    if got["items_unchanged"] is not True:
        fail(f"{call} changed the `items` list or its tensors; the raw items must stay as they are.")
    if got["n_setups_after"] != 1:
        fail("Using tl.train / tl.valid set the transforms up again; the splits share the transforms "
             "as they were set up at construction.")
    assert_tensor_close(got["mean_after"], want["mean"], what="Center.mean after using tl.train and tl.valid",
                        dtype=torch.float64, device="cpu")
    if got["lens"] != [len(items), len(train), len(valid)]:
        fail(f"len(tl), len(tl.train), len(tl.valid) are {got['lens']}, but {[len(items), len(train), len(valid)]} "
             "are expected.")
    _close_list(got["all"], want["all"], "tl[i]")
    _close_list(got["train"], want["train"], "tl.train[i]")
    _close_list(got["valid"], want["valid"], "tl.valid[i]")
    _close_list(got["iterated"], want["iterated"], "list(tl)")
    _close_list(got["decoded"], items, "tl.decode(tl[i]) compared with items[i]")


def _runs_before(value: t.Any, item: torch.Tensor, what: str) -> int:
    """How often the Stamp transform ran before it made ``value`` (``2 * item + k``), read from the value."""
    __tracebackhide__ = True
    if type(value) is not torch.Tensor or value.shape != item.shape:
        fail(f"{what} is not the transformed item (a tensor shaped like the item).")
    k = round(float((value.double() - 2 * item.double()).mean()))
    assert_tensor_close(value, item.double() * 2 + k, what=f"{what} with a doubling transform", dtype=torch.float32,
                        device="cpu")
    return k


@pytest.mark.points(2)
def test_tfmdlists_is_lazy(student):
    """tl[i] transforms one item when it is asked for; nothing is transformed up front."""
    seed, g, rng = _draw()
    n = 30
    items = [torch.randn(2, 3, generator=g) for _ in range(n)]
    train, valid = _splits(rng, n, 9)
    probes = [rng.randrange(n) for _ in range(5)]
    got = student.scenario("lazy_access", seed=seed, items=items, splits=(train, valid), probes=probes)
    # The transform adds how often it ran before, so the values themselves say when it ran (fastai's TfmdLists
    # runs it once at construction, on the first training item, to learn the types).
    values = got["values"]
    if not isinstance(values, list) or len(values) != len(probes):
        fail(f"{len(probes)} values of tl[i] are expected.")
    before = [_runs_before(v, items[i], f"tl[{i}]") for i, v in zip(probes, values)]
    if before[0] > 1:
        fail(f"When tl[{probes[0]}] was first asked for, the transform had already run {before[0]} times: creating a "
             f"TfmdLists of {n} items must not transform them. Transform lazily: only in __getitem__, for the item "
             "asked for.")
    for i, a, b in zip(probes[1:], before, before[1:]):
        if b <= a:
            fail(f"tl[{i}] gave a value the transform made before tl[{i}] was asked for (up front or in a cache); "
                 "tl[i] runs the pipeline on items[i] each time it is asked for.")
        if b - a != 1:
            fail(f"tl[{i}] ran the transform {b - a} times; it must run it exactly once, for item {i}.")
    extra = _runs_before(got["valid0"], items[valid[0]], "tl.valid[0]") - before[-1] - 1
    if extra != 0:
        fail(f"Taking tl.train and tl.valid, then tl.valid[0], ran the transform {extra + 1} times instead of once; "
             "the splits must be lazy too.")
    if got["n_train"] != len(train):
        fail(f"len(tl.train) is {got['n_train']}, but the training split has {len(train)} items.")


@pytest.mark.points(2)
def test_no_in_place_changes(student, reference):
    """NormalizeMean and TfmdLists leave their inputs (x, the items) unchanged."""
    seed, g, rng = _draw()
    n = 9
    items = [torch.randn(3, 4, generator=g) + 2.0 for _ in range(n)]
    train, valid = _splits(rng, n, 3)
    x = torch.randn(3, 4, generator=g)
    kwargs = dict(items=items, splits=(train, valid), x=x)
    got = student.scenario("normalize_in_place", seed=seed, **kwargs)
    want = reference.scenario("normalize_in_place", seed=seed, **kwargs)
    assert_tensor_close(got["x_after"], x, what="x after NormalizeMean()(x)",
                        hints={"NormalizeMean changed x in place (x -= mean): return a new tensor": want["y"]})
    if got["x_unchanged"] is not True:
        fail("NormalizeMean()(x) changed x in place; return a new tensor (x - self.mean).")
    if got["items_unchanged"] is not True:
        fail("Setting up or using NormalizeMean in a TfmdLists changed the items in place; the raw items must "
             "stay as they are.")
    assert_tensor_close(got["y"], want["y"], what="NormalizeMean()(x) after setup(items)")
    assert_tensor_close(got["back"], x, what="nm.decode(nm(x)) compared with x")
    _close_list(got["values"], want["values"], "TfmdLists(items, [NormalizeMean()], splits)[i]")
    _close_list(got["decoded"], items, "tl.decode(tl[i]) compared with items[i]")


# -- NormalizeMean --------------------------------------------------------------------------------

@pytest.mark.points(2)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_normalize_mean_values(student, device, dtype):
    """NormalizeMean: the elementwise mean of the set-up items, subtracted and added back, in the items' dtype."""
    _, g, rng = _draw()
    items = [(torch.randn(3, 4, generator=g, dtype=dtype) * 2 + 5).to(device) for _ in range(rng.randint(5, 9))]
    x = (torch.randn(3, 4, generator=g, dtype=dtype) + 5).to(device)
    nm = student.NormalizeMean()
    nm.setup(items)
    mean = mean_ref(items)
    assert_tensor_close(nm.mean, mean, what="NormalizeMean.mean after setup(items)", dtype=dtype, device=device,
                        hints=mean_mistakes(items))
    y = nm(x)
    assert_tensor_close(y, x.detach().cpu().double() - mean, what="NormalizeMean()(x)", dtype=dtype, device=device)
    assert_tensor_close(nm.decode(y), x.double(), what="nm.decode(nm(x)) compared with x", dtype=dtype, device=device)


@pytest.mark.points(1)
def test_normalize_mean_leaves_other_types(student):
    """NormalizeMean changes tensors only: a str or an int passes through; in a tuple only the tensor changes."""
    _, g, rng = _draw()
    items = [torch.randn(2, 3, generator=g) for _ in range(4)]
    nm = student.NormalizeMean()
    nm.setup(items)
    word, number = "".join(rng.choice(string.ascii_lowercase) for _ in range(4)), rng.randint(2, 99)
    for value in (word, number):
        for name, out in (("nm", nm(value)), ("nm.decode", nm.decode(value))):
            if type(out) is not type(value) or out != value:
                fail(f"{name}({value!r}) returned {out!r}; NormalizeMean must leave non-tensors alone "
                     "(keep the `x: torch.Tensor` annotations of encodes and decodes).")
    x = torch.randn(2, 3, generator=g)
    out = nm((x, word))
    if type(out) is not tuple or len(out) != 2 or out[1] != word:
        fail("nm((x, word)) must return the tuple (x - mean, word).")
    assert_tensor_close(out[0], x.double() - mean_ref(items), what="nm((x, word))[0]", dtype=torch.float32)


# -- Categorize -----------------------------------------------------------------------------------

def _label_pool(rng: random.Random, k: int) -> list[str]:
    pool: set[str] = set()
    while len(pool) < k:
        pool.add("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 5))))
    out = sorted(pool)
    rng.shuffle(out)
    return out


@pytest.mark.points(2)
def test_categorize(student):
    """Categorize: sorted vocab, labels to 0-dim long tensors, indices back to the labels, KeyError if unknown."""
    _, _, rng = _draw()
    pool = _label_pool(rng, 6)
    labels = [rng.choice(pool[:5]) for _ in range(20)] + pool[:5]
    rng.shuffle(labels)
    cat = student.Categorize()
    cat.setup(labels)
    vocab = cat.vocab
    want = sorted(set(labels))
    if type(vocab) is not list:
        fail(f"Categorize.vocab is a {type(vocab).__name__}, but a plain list is expected.")
    if vocab != want:
        first_seen = vocab == list(dict.fromkeys(labels))
        hint = " It is in order of first appearance; the vocab must be sorted." if first_seen else ""
        fail(f"Categorize.vocab after setup(labels) is wrong.{hint}")
    for label in set(labels):
        enc = cat(label)
        if type(enc) is not torch.Tensor or enc.dtype != torch.long or enc.dim() != 0:
            got = f"{enc.dtype} tensor of shape {tuple(enc.shape)}" if isinstance(enc, torch.Tensor) \
                else type(enc).__name__
            fail(f"Categorize()({label!r}) returned a {got}, but a 0-dim torch.long tensor is expected "
                 "(torch.tensor(index)).")
        if int(enc) != want.index(label):
            fail(f"Categorize()({label!r}) is {int(enc)}, which is not the label's index in the sorted vocab.")
        dec = cat.decode(enc)
        if type(dec) is not str or dec != label:
            fail(f"Categorize.decode(Categorize()({label!r})) returned {dec!r}; the label is expected back.")
    with student_raises("KeyError", what=f"Categorize()({pool[5]!r}) for a label not seen in setup"):
        cat(pool[5])


@pytest.mark.points(2)
def test_categorize_vocab_from_training_split(student, reference):
    """In a TfmdLists, Categorize's vocab comes from the training labels only; same encodings as fastai's."""
    seed, _, rng = _draw()
    pool = _label_pool(rng, 6)
    unseen = pool[5]
    train_labels = [rng.choice(pool[:5]) for _ in range(14)] + pool[:4]  # pool[4] may be missing from train
    valid_labels = [rng.choice(pool[:4]) for _ in range(5)] + [unseen, unseen]
    n = len(train_labels) + len(valid_labels)
    order = list(range(n))
    rng.shuffle(order)
    train, valid = sorted(order[: len(train_labels)]), sorted(order[len(train_labels):])
    labels = [""] * n
    for i, label in zip(train, train_labels):
        labels[i] = label
    vl = valid_labels[:]
    rng.shuffle(vl)
    for i, label in zip(valid, vl):
        labels[i] = label
    probes = [k for k, i in enumerate(valid) if labels[i] in set(train_labels)]
    kwargs = dict(labels=labels, splits=(train, valid), probes=probes)
    got = student.scenario("categorize", seed=seed, **kwargs)
    want = reference.scenario("categorize", seed=seed, **kwargs)
    if got["vocab"] != want["vocab"]:
        if unseen in got["vocab"]:
            fail("Categorize's vocab in a TfmdLists contains a label that only the validation split has: "
                 "it must be built from the training split only (no leakage).")
        fail("Categorize's vocab in TfmdLists(labels, [Categorize()], splits) is wrong (sorted distinct training "
             "labels expected).")
    for key, what in (("train", "tl.train[i]"), ("valid", "tl.valid[i]"), ("decoded", "tl.decode(tl.train[i])")):
        if got[key] != want[key]:
            fail(f"{what} differs from fastai's TfmdLists with Categorize.")
    if got["long_scalars"] is not True:
        fail("Categorize in a TfmdLists must give 0-dim torch.long tensors.")
    if got["decoded_str"] is not True:
        fail("tl.decode(tl.train[i]) must give the label back as a str.")


# -- SiameseTransform -----------------------------------------------------------------------------

def _siamese_case(n: int, n_valid: int,
                  n_classes: int) -> tuple[int, list[torch.Tensor], list[int], tuple[list[int], list[int]]]:
    seed, g, rng = _draw()
    items = [torch.randn(2, 3, generator=g) for _ in range(n)]
    labels = [i % n_classes for i in range(n)]
    rng.shuffle(labels)
    return seed, items, labels, _splits(rng, n, n_valid)


def _index_of(items: list[torch.Tensor]) -> dict[bytes, int]:
    return {x.numpy().tobytes(): i for i, x in enumerate(items)}


def _check_pair(pair: t.Any, i: int, items: list[torch.Tensor], labels: list[int], lookup: dict[bytes, int],
                what: str) -> tuple[int, bool]:
    __tracebackhide__ = True
    if type(pair) is not tuple or len(pair) != 3:
        fail(f"{what} returned a {type(pair).__name__}, but a tuple (img1, img2, same) is expected.")
    img1, img2, same = pair
    if type(same) is not bool:
        fail(f"{what}: `same` is a {type(same).__name__}, but a Python bool is expected.")
    for name, img in (("img1", img1), ("img2", img2)):
        if type(img) is not torch.Tensor:
            fail(f"{what}: {name} is a {type(img).__name__}, but one of the items (a tensor) is expected.")
    if not torch.equal(img1, items[i]):
        fail(f"{what}: img1 is not items[{i}].")
    j = lookup.get(img2.contiguous().numpy().tobytes())
    if j is None:
        fail(f"{what}: img2 is not one of the items.")
    if same != (labels[i] == labels[j]):
        fail(f"{what}: same={same}, but the labels of the two items are "
             f"{'equal' if labels[i] == labels[j] else 'different'}. `same` must say whether the classes match.")
    return j, same


@pytest.mark.points(3)
def test_siamese_transform_pairs(student):
    """SiameseTransform: (items[i], items[j], same) consistent with the labels; fixed validation pairs; ~half same."""
    _, items, labels, (train, valid) = _siamese_case(n=200, n_valid=160, n_classes=5)
    lookup = _index_of(items)
    st = student.SiameseTransform(items, labels, (train, valid))
    first = {}
    for i in valid:
        first[i] = _check_pair(st(i), i, items, labels, lookup, f"SiameseTransform(...)({i}) for a validation index")
    for i in valid:
        again = _check_pair(st(i), i, items, labels, lookup, f"SiameseTransform(...)({i}) called again")
        if again != first[i]:
            fail(f"The pair for validation index {i} changed between two calls; validation pairs are drawn once, "
                 "in __init__, and reused.")
    share = sum(same for _, same in first.values()) / len(first)
    if not 0.3 <= share <= 0.7:  # 160 fair coins: 5 standard deviations
        fail(f"{share:.0%} of the validation pairs are same-class pairs; about half are expected "
             "(same = random.random() < 0.5, then a partner of that class or of another class).")
    for i in train[:10]:
        _check_pair(st(i), i, items, labels, lookup, f"SiameseTransform(...)({i}) for a training index")


@pytest.mark.points(2)
def test_siamese_in_tfmdlists(student):
    """TfmdLists(range(n), [SiameseTransform(...)], splits): tl.valid gives the same pairs at every pass."""
    seed, items, labels, (train, valid) = _siamese_case(n=40, n_valid=24, n_classes=4)
    lookup = _index_of(items)
    got = student.scenario("siamese_epochs", seed=seed, items=items, labels=labels, splits=(train, valid))
    passes = got["valid_passes"]
    if not isinstance(passes, list) or len(passes) != 2 or any(not isinstance(p, list) or len(p) != len(valid)
                                                                for p in passes):
        fail(f"Two passes over tl.valid must give {len(valid)} pairs each.")
    seen = [[_check_pair(pair, i, items, labels, lookup, f"tl.valid[{k}]") for k, (i, pair) in
             enumerate(zip(valid, p))] for p in passes]
    if seen[0] != seen[1]:
        fail("Two passes over tl.valid gave different pairs; validation pairs must be fixed.")
    for k, (i, pair) in enumerate(zip(train, got["train"])):
        _check_pair(pair, i, items, labels, lookup, f"tl.train[{k}]")


# -- from scratch ---------------------------------------------------------------------------------


def _star_imports(sources: t.Mapping[str, str]) -> list[str]:
    found = []
    for filename, text in sorted(sources.items()):
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and any(a.name == "*" for a in node.names):
                found.append(f"{filename}, line {node.lineno}: from {node.module} import *")
    return found




@pytest.mark.points(0)
@pytest.mark.gate
def test_from_scratch(student, student_sources):
    """Pipeline and TfmdLists are your own: no fasttransform.Pipeline, no fastai, no star imports (else no points).

    A rule, not a task: it has no points of its own (an unfinished exercise passes it), and breaking it
    voids all points of the exercise. The verdict comes from the source, read here (forbidden names and
    imports, and what the classes are built on, resolved against fasttransform in this process); the
    worker's records (modules it imported, the lineage it reports) can only add evidence.
    """
    seed, g, _ = _draw()
    # Run the student's code first, so that the module tripwire sees what it imports. Whether it works is
    # the other checks' business: an exception here must not void the exercise (this check is a gate).
    quietly(lambda: student.scenario("pipeline_order", seed=seed, x=torch.randn(2, 3, generator=g),
                                      consts=[1.5, 2.0, 0.5, 3.0]))
    items = [torch.randn(2, 3, generator=g) for _ in range(4)]
    quietly(lambda: student.scenario("lazy_access", seed=seed, items=items, splits=([0, 1], [2, 3]), probes=[1]))
    stars = _star_imports(student_sources)
    if stars:
        fail("Import what you use by name (from fasttransform import Transform); star imports hide forbidden "
             f"names: {'; '.join(stars[:3])}.")
    lineage = quietly(lambda: student.scenario("lineage", seed=seed))
    modules = quietly(student.imported_modules) or ()

    def reported_lineage():  # extra evidence only: the worker can report anything
        for name, mro in (lineage.items() if isinstance(lineage, dict) else ()):
            if not isinstance(mro, list):
                continue
            borrowed = [k for k in mro if k == "fasttransform.transform.Pipeline" or str(k).startswith("fastai.")]
            if borrowed:
                fail(f"Your {name} is built on {borrowed[0]}; write it from scratch.")

    assert_all(lambda: assert_built_from_scratch(student_sources, what="Pipeline and TfmdLists", **BUILT_FROM_SCRATCH),
               lambda: assert_from_scratch([], student_sources, forbidden_names=FORBIDDEN, forbidden_modules=["fastai"],
                                           modules_seen=modules, what="Pipeline and TfmdLists"),
               reported_lineage)
