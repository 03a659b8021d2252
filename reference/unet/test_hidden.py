"""Hidden checks for `unet`: shapes as fastai's DynamicUnet, concatenated skips paired deepest
first, gradient through the skips, dtype/device, an untouched encoder, no fastai.

Inputs come from fresh seeds; the expected layout is computed here from the same encoder
(``reference.layout``, fastai's rules). Values are not compared with a reference model (the
decoder's details are the student's choice), so precision mutants do not apply (README).
"""

import random

import pytest
import torch

from grader.sandbox import StudentError
from grader.scenarios import fresh_seed
from grader.testing import assert_from_scratch, fail
from reference.unet import reference as R

S = R.scenarios()


def _spec(name, seed):
    """The encoder ``name`` with channel widths drawn from ``seed`` (so canned layouts don't fit)."""
    base = getattr(S, name)
    n_convs = sum(1 for item in base if item[0] == "conv")
    widths = iter(sorted(random.Random(seed).sample(range(4, 33), n_convs)))
    spec, c = [], 3
    for item in base:
        if item[0] == "conv":
            new = next(widths)
            spec.append(("conv", c, new, item[3]))
            c = new
        elif item[0] == "bn":
            spec.append(("bn", c))
        else:
            spec.append(item)
    return spec


def _x(n, h, w, device, dtype=torch.float32):
    return torch.randn(n, 3, h, w, generator=torch.Generator().manual_seed(fresh_seed()), dtype=dtype).to(device)


SHAPE_CASES = [  # (encoder, n_out, img_size, input (n, h, w))
    ("ENCODER_A", 3, (32, 40), (2, 32, 40)),
    ("ENCODER_A", 1, (32, 40), (1, 33, 47)),
    ("ENCODER_A", 5, (32, 32), (2, 47, 33)),
    ("ENCODER_B", 5, (48, 40), (1, 48, 40)),
    ("ENCODER_B", 1, (48, 40), (2, 33, 47)),
    ("ENCODER_B", 3, (32, 32), (1, 45, 37)),
    ("ENCODER_B", 2, (32, 32), (1, 64, 48)),
]


@pytest.mark.points(1)
@pytest.mark.parametrize("case", range(len(SHAPE_CASES)))
def test_shape_like_dynamic_unet(student, device, case):
    """Output (N, n_out, H, W) like fastai's DynamicUnet, for even, odd and non-square sizes."""
    name, n_out, img_size, (n, h, w) = SHAPE_CASES[case]
    x = _x(n, h, w, device)
    out = student.scenario("forward", spec=getattr(S, name), n_out=n_out, img_size=img_size, x=x, seed=fresh_seed())
    what = f"UNet(encoder, n_out={n_out}, img_size={img_size}) on a {n}x3x{h}x{w} input"
    if not isinstance(out, torch.Tensor):
        fail(f"{what} returned a {type(out).__name__}, but a tensor is expected.")
    want = R.output_shape(n, n_out, h, w)
    if tuple(out.shape) != want:
        extra = ""
        if out.dim() == 4 and out.shape[1] != n_out:
            extra = " The number of output channels is not n_out."
        elif out.dim() == 4 and tuple(out.shape[-2:]) != (h, w):
            extra = (" Height/width differ from the input's: resize to the input's size at the end "
                     "(F.interpolate), odd sizes lose a pixel when halved.")
        fail(f"{what} has shape {tuple(out.shape)}, but {want} is expected.{extra}")


def _structure(student, spec, img_size, x):
    result = student.scenario("structure", spec=spec, n_out=2, img_size=img_size, x=x, seed=fresh_seed())
    if not isinstance(result, dict) or not isinstance(result.get("blocks"), list):
        fail("The scenario 'structure' could not read your model's decoder blocks.")
    return result


@pytest.mark.points(3)
@pytest.mark.parametrize("name", ["ENCODER_A", "ENCODER_B"])
def test_decoder_concatenates_skips(student, device, name):
    """One block per size change; each block's conv1 sees the upsampled channels (halved) plus the skip's (concatenation)."""
    spec, img_size = _spec(name, fresh_seed()), (32, 40)
    layout = R.layout(spec, img_size)
    result = _structure(student, spec, img_size, _x(1, 32, 40, device))
    blocks = result["blocks"]
    if len(blocks) != len(layout["idxs"]):
        fail(f"The encoder changes its spatial size {len(layout['idxs'])} times, so `blocks` needs "
             f"{len(layout['idxs'])} decoder blocks, but it has {len(blocks)}.")
    up_c = layout["out_channels"]
    for i, (block, skip_c) in enumerate(zip(blocks, layout["skip_channels"])):
        kind1, in1, out1 = block["conv1"]
        kind2, in2, out2 = block["conv2"]
        if kind1 != "Conv2d" or kind2 != "Conv2d":
            fail(f"blocks[{i}].conv1 and .conv2 must be nn.Conv2d layers (found {kind1}, {kind2}).")
        if in1 != up_c // 2 + skip_c:
            hint = ""
            if in1 == skip_c or in1 == up_c // 2:
                hint = " It looks like the skip is added (or left out) instead of concatenated."
            elif in1 == up_c + skip_c:
                hint = " It looks like the upsampling keeps all channels instead of halving them."
            elif in1 in [u // 2 + c for u in (up_c,) for c in layout["skip_channels"] if c != skip_c]:
                hint = " It looks like the skips are paired with the wrong blocks (deepest skip first)."
            fail(f"blocks[{i}].conv1 has {in1} input channels; this block gets {up_c} channels from below "
                 f"(upsampled to {up_c // 2}) and a skip with {skip_c} channels, concatenated: "
                 f"{up_c // 2 + skip_c} are expected.{hint}")
        if in2 != out1:
            fail(f"blocks[{i}].conv2 has {in2} input channels but conv1 gives {out1}.")
        up_c = out2


@pytest.mark.points(3)
@pytest.mark.parametrize("name", ["ENCODER_A", "ENCODER_B"])
def test_skips_paired_deepest_first(student, device, name):
    """Block i works at the resolution of the i-th skip, deepest first (odd input size)."""
    spec, img_size = getattr(S, name), (32, 40)
    rng = random.Random(fresh_seed())
    h, w = rng.choice([33, 35, 45]), rng.choice([37, 41, 47])
    layout = R.layout(spec, img_size, (h, w))
    result = _structure(student, spec, img_size, _x(1, h, w, device))
    got = [tuple(s[-2:]) for s in result.get("block_shapes", [])]
    want = layout["skip_sizes"]
    if got != want:
        hint = ""
        if got == want[::-1]:
            hint = " That is the reverse order: the first block (after the middle) takes the deepest skip."
        fail(f"For a {h}x{w} input the decoder blocks output the sizes {got}, but the skips "
             f"(deepest first) have the sizes {want}: each block must end at its skip's height and width.{hint}")


def _grad_norms(student, spec, x, cut):
    norms = student.scenario("encoder_gradients", spec=spec, n_out=2, img_size=(32, 40), x=x, cut_bottom=cut,
                             seed=fresh_seed())
    if not isinstance(norms, list) or len(norms) != len(spec):
        fail("The scenario 'encoder_gradients' did not return one entry per encoder layer.")
    return norms


@pytest.mark.points(2)
def test_gradient_reaches_every_encoder_layer(student, device):
    """After backward, every encoder layer with parameters has a nonzero gradient."""
    spec = _spec("ENCODER_B", fresh_seed())
    norms = _grad_norms(student, spec, _x(2, 32, 40, device), cut=False)
    dead = [i for i, v in enumerate(norms) if v is not None and not v > 0]
    if dead:
        fail(f"After backward, the encoder layers {dead} got no gradient: the encoder must stay part of the "
             "graph (no torch.no_grad() or .detach() around it).")


@pytest.mark.points(3)
@pytest.mark.parametrize("name", ["ENCODER_A", "ENCODER_B"])
def test_skips_carry_gradient(student, device, name):
    """With the encoder's last output zeroed, gradient still reaches the earlier stages through the skips."""
    spec = _spec(name, fresh_seed())
    layout = R.layout(spec, (32, 40))
    norms = _grad_norms(student, spec, _x(2, 32, 40, device), cut=True)
    deepest_skip = max(layout["idxs"])
    dead = [i for i, v in enumerate(norms[:deepest_skip + 1]) if v is not None and not v > 0]
    if dead:
        fail(f"With the path through the bottom of the U cut, encoder layers {dead} got no gradient, although "
             "their activations reach the decoder through the skips. Don't detach the stored activations, "
             "and use them (concatenate) in the decoder.")


@pytest.mark.points(1)
def test_keeps_dtype_and_device(student, device):
    """A float64 encoder and input give a float64 output on the input's device."""
    x = _x(1, 33, 40, device, dtype=torch.float64)
    try:
        out = student.scenario("forward", spec=S.ENCODER_B, n_out=2, img_size=(32, 32), x=x, seed=fresh_seed())
    except StudentError as exc:
        fail(f"Building or running the UNet on a float64 encoder (on {device}) raised {exc.type_name}: "
             f"{exc.message[:200]}. Make the dummy input with the encoder's dtype and device.")
    if not isinstance(out, torch.Tensor):
        fail(f"The model returned a {type(out).__name__}, but a tensor is expected.")
    if out.dtype != torch.float64 or out.device.type != device.type:
        fail(f"With a float64 model and input on {device}, the output is {out.dtype} on {out.device}: "
             "build the dummy input with the encoder's dtype and device, and keep the input's dtype.")
    if tuple(out.shape) != (1, 2, 33, 40):
        fail(f"The output has shape {tuple(out.shape)}, but (1, 2, 33, 40) is expected.")


@pytest.mark.points(2)
def test_building_leaves_encoder_alone(student, device):
    """`model.encoder` is the given encoder, and building the model changes none of its weights or BN statistics."""
    result = _structure(student, S.ENCODER_B, (32, 40), _x(1, 32, 40, device))
    if result.get("same_encoder") is not True:
        fail("model.encoder is not the encoder that was passed in (keep it, don't copy or rebuild it: "
             "its pretrained weights are the point).")
    before, after = result.get("before"), result.get("after")
    if not isinstance(before, dict) or not isinstance(after, dict) or before.keys() != after.keys():
        fail("The encoder's state_dict changed its keys while the UNet was built.")
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    if changed:
        fail(f"Building the UNet changed the encoder's {', '.join(changed[:3])}: run the dummy pass in eval() "
             "mode under torch.no_grad() (in training mode BatchNorm updates its running statistics).")


@pytest.mark.points(2)
@pytest.mark.gate
def test_from_scratch(student, device, student_sources):
    """No fastai (DynamicUnet, UnetBlock, hooks, layers), not even indirectly."""
    # Only modules imported while this exercise's code ran: in batch grading one worker serves all of a
    # student's exercises, and another exercise may import fastai legitimately (the source scan covers
    # imports at module level).
    before = student.imported_modules()
    with student.recording_ops() as ops:
        student.scenario("forward", spec=S.ENCODER_A, n_out=2, img_size=(32, 32), x=_x(1, 32, 32, device),
                         seed=fresh_seed())
    assert_from_scratch(ops, student_sources, forbidden_names=["fastai.vision.models.unet.DynamicUnet"],
                        forbidden_modules=["fastai", "fasttransform"], modules_seen=student.imported_modules() - before,
                        what="UNet")
