"""Hidden checks for `fine_tune`: the student's fine_tune, on their own parts, against fastai's run.

Every run check calls a public scenario (``checks/fine_tune/scenarios.py``) twice with a seed
drawn now: in the sandbox on the student's package (and so on their callbacks, optimizers,
one_cycle, cnn_learner and lr_find), and here on fastai's ``Learner.fine_tune``. The seed decides
the data, the model and the sizes (batches per epoch, epochs), so a canned run cannot match. The
trained weights are also loaded here into a trusted rebuild and judged on images drawn here.

When a check fails and a package the student's fine_tune imports fails its own checks, the message
says which exercise to fix first (:mod:`grader.dependencies`); that changes no point.
"""

import pytest
import torch

from grader.sandbox import WorkerError
from grader.scenarios import fresh_seed, load_scenarios
from grader.testing import assert_from_scratch, assert_tensor_close, fail
from grader.weights import load_weights
from reference.fine_tune.runs import assert_same_schedule, assert_same_training

#: Hidden checks of the packages fine_tune builds on that decide "fix X first" (after their public ones).
PROBES = {
    "callbacks": ["test_normal_fit_events", "test_training_matches_fastai"],
    "optimizers": ["test_adam_defaults", "test_adam_hyperparameters", "test_weight_decay", "test_zero_grad"],
    "one_cycle": ["test_sched_cos", "test_combine_scheds", "test_combined_cos"],
    "cnn_learner": ["test_cnn_splitter_like_fastai"],
    "lr_find": ["test_realistic_run", "test_save_and_restore", "test_suggest_valley"],
}
FORBIDDEN_MODULES = ["fastai", "fasttransform"]
#: fine_tune trains with the student's own optimizer, not torch's.
FORBIDDEN_NAMES = ["torch.optim"]


def sizes(seed: int) -> dict:
    """Batches per epoch and epochs drawn from the seed: a canned run has the wrong length."""
    return {"n_train": 2 + seed % 3, "epochs": 1 + (seed // 3) % 2}


def norm_mask(reference) -> str:
    """Which parameters of the scenario's model belong to normalisation layers ("1")."""
    model = load_scenarios(reference.exercise).make_model(0)
    norms = {id(p) for p in reference.norm_bias_params(model, with_bias=False)}
    return "".join("1" if id(p) in norms else "0" for p in model.parameters())


def run_both(student, reference, device, name, **options):
    seed = fresh_seed()
    options = {**(sizes(seed) if name == "fine_tune_run" else {"n_train": 2 + seed % 3}), **options}
    got = student.scenario(name, seed=seed, device=str(device), **options)
    want = reference.scenario(name, seed=seed, device=str(device), **options)
    return got, want, options


def phases_of(options: dict) -> list:
    return [options.get("freeze_epochs", 1) * options["n_train"], options["epochs"] * options["n_train"]]


@pytest.mark.points(1)
def test_lr_range(student, reference, dependencies):
    """slice(start, stop) spaced geometrically, slice(stop), a number, a list: one value per group."""
    g = torch.Generator().manual_seed(fresh_seed())
    cases = []
    for n in (1, 2, 3, 5):
        start, stop = sorted(float(v) for v in 10 ** (-6 * torch.rand(2, generator=g, dtype=torch.float64)))
        cases += [["slice", start, stop, n], ["slice", None, stop, n], ["number", start, None, n]]
    cases.append(["list", [0.3, 0.01, 0.2], None, 3])
    with dependencies.blamed(PROBES):
        got = student.scenario("lr_ranges", seed=0, cases=cases)
        if not isinstance(got, list) or len(got) != len(cases):
            fail("lr_range: the scenario did not return one list per case.")
        for (kind, a, b, n), values in zip(cases, got):
            want = reference.lr_range(slice(a, b) if kind == "slice" else a, n)
            shown = f"slice({'start, ' if a is not None else ''}stop)" if kind == "slice" else kind
            if not isinstance(values, list) or len(values) != n:
                fail(f"lr_range({shown}, {n}) must give {n} values.")
            for i, (x, y) in enumerate(zip(values, want)):
                if abs(x - y) > 1e-12 * abs(y):
                    hint = ""
                    if kind == "slice" and a is not None and n > 2:
                        linear = a + (b - a) * i / (n - 1)
                        if abs(x - linear) <= 1e-9 * abs(linear):
                            hint = " It looks like the rates are spaced linearly instead of geometrically."
                    fail(f"lr_range({shown}, {n}): value {i} is wrong.{hint}")


@pytest.mark.points(1)
@pytest.mark.parametrize("with_bias", [True, False])
def test_norm_bias_params(student, reference, dependencies, with_bias):
    """Normalisation layers' parameters (nested too, no GroupNorm) and, with_bias, every other bias."""
    seed = fresh_seed()
    with dependencies.blamed(PROBES):
        got = student.scenario("norm_bias_indices", seed=seed, with_bias=with_bias)
        want = reference.scenario("norm_bias_indices", seed=seed, with_bias=with_bias)
        if got != want:
            if isinstance(got, list) and sorted(got) == sorted(want):
                fail(f"norm_bias_params(model, with_bias={with_bias}): the right parameters in another order "
                     "(each module's children first, then its own bias).")
            fail(f"norm_bias_params(model, with_bias={with_bias}) returns other parameters than fastai's.")


@pytest.mark.points(1)
@pytest.mark.parametrize("groups,train_bn", [(2, True), (3, True), (3, False)])
def test_freeze_flags(student, reference, device, dependencies, groups, train_bn):
    """freeze, unfreeze and freeze_to(n) (negative too): which parameters train, BatchNorm kept with train_bn."""
    seed = fresh_seed()
    calls = ["freeze", "unfreeze", "freeze_to:1", "freeze_to:-2", "freeze"] if groups == 3 else ["freeze", "unfreeze"]
    with dependencies.blamed(PROBES):
        got = student.scenario("freeze_flags", seed=seed, groups=groups, train_bn=train_bn, calls=calls,
                               device=str(device))
        want = reference.scenario("freeze_flags", seed=seed, groups=groups, train_bn=train_bn, calls=calls,
                                  device=str(device))
        if not isinstance(got, list) or len(got) != len(want):
            fail("freeze_flags: the scenario did not return one mask per call.")
        mask = norm_mask(reference)
        for call, a, b in zip(calls, got, want):
            if a != b:
                wrong = [k for k, (x, y) in enumerate(zip(str(a), b)) if x != y]
                hint = ""
                if wrong and all(mask[k] == "1" for k in wrong if k < len(mask)):
                    hint = (" It looks like the freeze also froze the normalisation layers of the body (train_bn)."
                            if train_bn else " It looks like the normalisation layers were kept trainable although "
                            "train_bn is False.")
                fail(f"After {call.replace(':', '(')}{')' if ':' in call else '()'} ({groups} parameter groups, "
                     f"train_bn={train_bn}), other parameters have requires_grad than with fastai.{hint}")


@pytest.mark.points(2)
def test_fine_tune_schedule(student, reference, device, dependencies):
    """fine_tune's defaults: each group's lr and mom at every training batch, and what trains, as fastai's."""
    with dependencies.blamed(PROBES):
        got, want, options = run_both(student, reference, device, "fine_tune_run")
        assert_same_schedule(got, want, what="fine_tune(learn, epochs)", phases=phases_of(options), lr_mult=100,
                             norm_mask=norm_mask(reference))


@pytest.mark.points(2)
@pytest.mark.parametrize("options", [
    dict(groups=3, freeze_epochs=2, lr_mult=10, pct_start=0.5, div=3.0, base_lr=1e-2),
    dict(groups=2, lr_mult=30, pct_start=0.2, base_lr=5e-3, train_bn=False),
], ids=["three-groups", "no-train-bn"])
def test_fine_tune_options(student, reference, device, dependencies, options):
    """freeze_epochs, lr_mult, pct_start, div, base_lr, three parameter groups, train_bn=False."""
    with dependencies.blamed(PROBES):
        got, want, options = run_both(student, reference, device, "fine_tune_run", **options)
        assert_same_schedule(got, want, what="fine_tune(learn, epochs, ...)", phases=phases_of(options),
                             lr_mult=options["lr_mult"], norm_mask=norm_mask(reference) if options.get("train_bn", True) else "")


@pytest.mark.points(2)
@pytest.mark.parametrize("options", [{}, dict(groups=3, freeze_epochs=2, lr_mult=10, div=3.0, base_lr=1e-2)],
                         ids=["defaults", "three-groups"])
def test_fine_tune_training(student, reference, device, dependencies, options):
    """Every loss and the final weights equal fastai's fine_tune of the same model, data and seed."""
    with dependencies.blamed(PROBES):
        got, want, _ = run_both(student, reference, device, "fine_tune_run", **options)
        assert_same_training(got, want, what="fine_tune")


@pytest.mark.points(1)
def test_trained_weights_on_private_images(student, reference, device, dependencies):
    """The weights your fine_tune trained, loaded here, predict new images as fastai's trained model does."""
    with dependencies.blamed(PROBES):
        got, want, _ = run_both(student, reference, device, "fine_tune_run", base_lr=2e-2)
        scenarios = load_scenarios(reference.exercise)
        mine = load_weights(scenarios.make_model(0), got.get("state") if isinstance(got, dict) else got,
                            what="the fine-tuned model")
        theirs = load_weights(scenarios.make_model(0), want["state"], what="fastai's model")
        g = torch.Generator().manual_seed(fresh_seed())
        images = 2 * torch.randn(64, 3, 10, 10, generator=g, dtype=torch.float64) + torch.rand(
            64, 3, 1, 1, generator=g, dtype=torch.float64)
        with torch.no_grad():
            assert_tensor_close(mine(images), theirs(images), what="the fine-tuned model's outputs on new images",
                                rtol=1e-6, atol=1e-8)


@pytest.mark.points(2)
@pytest.mark.parametrize("options", [
    dict(lr_max=(1e-4, 1e-2), div=10.0, div_final=1e3, pct_start=0.4, moms=(0.9, 0.8, 0.85)),
    dict(lr_max=3e-3, groups=3, freeze=True),
], ids=["slice-and-options", "frozen-number"])
def test_fit_one_cycle(student, reference, device, dependencies, options):
    """fit_one_cycle with a slice or a number, div, div_final, pct_start, moms, frozen: schedule and training."""
    with dependencies.blamed(PROBES):
        seed = fresh_seed()
        options = {"n_train": 2 + seed % 3, "n_epoch": 1 + (seed // 3) % 2, **options}
        got = student.scenario("one_cycle_run", seed=seed, device=str(device), **options)
        want = reference.scenario("one_cycle_run", seed=seed, device=str(device), **options)
        assert_same_schedule(got, want, what="fit_one_cycle", norm_mask=norm_mask(reference))
        assert_same_training(got, want, what="fit_one_cycle")


@pytest.mark.points(2)
@pytest.mark.cpu_budget(60)
def test_suggested_base_lr(student, reference, device, dependencies):
    """base_lr=None: freeze, lr_find on your Learner, fastai's valley suggestion as base_lr; then as before."""
    with dependencies.blamed(PROBES):
        got, want, options = run_both(student, reference, device, "fine_tune_run", base_lr=None, n_train=4)
        assert_same_schedule(got, want, what="fine_tune(learn, epochs, base_lr=None)", phases=phases_of(options),
                             lr_mult=100, norm_mask=norm_mask(reference))
        assert_same_training(got, want, what="fine_tune(learn, epochs, base_lr=None)")


@pytest.mark.gate
@pytest.mark.points(0)
def test_no_fastai(student, device, student_sources, dependencies):
    """No fastai, fasttransform or torch.optim in fine_tune or in the packages of yours it imports."""
    try:
        student.scenario("fine_tune_run", seed=fresh_seed(), epochs=1, n_train=2, device=str(device))
    except WorkerError:
        pass
    try:
        modules = student.imported_modules()
    except WorkerError:  # the package does not import: the source decides alone
        modules = set()
    assert_from_scratch(set(), student_sources, forbidden_names=FORBIDDEN_NAMES, forbidden_modules=FORBIDDEN_MODULES,
                        modules_seen=modules, what="fine_tune")
    for name in dependencies.used:
        assert_from_scratch(set(), dependencies.sources(name), forbidden_names=[], forbidden_modules=FORBIDDEN_MODULES,
                            what=f"{name} (imported by fine_tune)")
