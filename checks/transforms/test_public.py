"""Public checks for `transforms`: run them with `grade check transforms`.

They drive your Pipeline and TfmdLists with the small transforms in `scenarios.py` and call your
NormalizeMean, Categorize and SiameseTransform directly. The hidden checks do the same with random
values and compare with fasttransform's Pipeline and fastai's TfmdLists.
"""

import pytest
import torch

from grader.testing import assert_tensor_close, fail


@pytest.mark.points(1)
def test_pipeline_sorts_by_order(student):
    """Pipeline sorts by `order` and decode undoes the steps in reverse order."""
    x = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    a, b, c, d = 1.5, 2.0, 0.5, 3.0
    got = student.scenario("pipeline_order", x=x, consts=[a, b, c, d])
    # orders: Scale(d) -1, Scale(b) 1, Add(c) 1 (ties keep the given order), Add(a) 2
    assert_tensor_close(got["encoded"], x * d * b + c + a, what="Pipeline([Add(a, order=2), Scale(b, order=1), "
                        "Add(c, order=1), Scale(d, order=-1)])(x)")
    assert_tensor_close(got["decoded"], x, what="p.decode(p(x))")


@pytest.mark.points(1)
def test_tfmdlists_with_normalize_mean(student):
    """TfmdLists(items, [NormalizeMean()], splits): the mean of the training items only."""
    items = [torch.full((2, 3), float(v)) for v in (1, 2, 3, 4, 10, 20)]
    splits = ([0, 1, 2, 3], [4, 5])
    got = student.scenario("normalize_in_place", items=items, splits=splits, x=torch.ones(2, 3))
    mean = 2.5  # of the training items 1, 2, 3, 4
    assert_tensor_close(got["values"][0], items[0] - mean, what="tl[0]")
    assert_tensor_close(got["values"][5], items[5] - mean, what="tl[5] (a validation item)")
    assert_tensor_close(got["decoded"][4], items[4], what="tl.decode(tl[4])")


@pytest.mark.points(1)
def test_categorize(student):
    """Categorize: a sorted vocab; labels become 0-dim long tensors and decode back."""
    cat = student.Categorize()
    cat.setup(["dog", "cat", "dog", "bird"])
    if cat.vocab != ["bird", "cat", "dog"]:
        fail(f"Categorize.vocab is {cat.vocab!r}, but the sorted distinct labels are expected.")
    enc = cat("dog")
    if type(enc) is not torch.Tensor or enc.dtype != torch.long or enc.dim() != 0 or int(enc) != 2:
        fail(f"Categorize()('dog') returned {enc!r}, but tensor(2) (0-dim, torch.long) is expected.")
    if cat.decode(enc) != "dog":
        fail("Categorize.decode(tensor(2)) must give 'dog' back.")


@pytest.mark.points(1)
def test_siamese_validation_pairs(student):
    """SiameseTransform: a validation index gives the same (img1, img2, same) at every call."""
    items = [torch.full((2, 3), float(i)) for i in range(8)]
    labels = [0, 1, 0, 1, 0, 1, 0, 1]
    st = student.SiameseTransform(items, labels, ([0, 1, 2, 3], [4, 5, 6, 7]))
    for i in (4, 5, 6, 7):
        first, second = st(i), st(i)
        if type(first) is not tuple or len(first) != 3:
            fail(f"SiameseTransform(...)({i}) must return a tuple (img1, img2, same).")
        img1, img2, same = first
        if type(same) is not bool:
            fail(f"`same` must be a Python bool, not {type(same).__name__}.")
        assert_tensor_close(img1, items[i], what=f"img1 of pair {i}")
        j = int(img2[0, 0])
        if same != (labels[i] == labels[j]):
            fail(f"Pair {i}: same={same}, but the labels are {labels[i]} and {labels[j]}.")
        if type(second) is not tuple or not torch.equal(second[1], img2) or second[2] != same:
            fail(f"The pair for validation index {i} changed between calls; draw validation pairs once.")
