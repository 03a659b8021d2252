"""Compare ``reference.py``'s shape rules with fastai's real ``DynamicUnet`` (not a check; run by hand).

    .venv/bin/python -m reference.unet.verify_against_fastai

For the encoders and sizes the checks use, this builds ``DynamicUnet(encoder, n_out, img_size)``
and asserts that its output shape and the spatial size of every ``UnetBlock``'s output equal what
``reference.layout``/``reference.output_shape`` say. Importing fastai's U-Net takes a few seconds,
which is why the checks themselves don't.
"""

from __future__ import annotations

import warnings

import torch

from reference.unet import reference as R

CASES = [  # (encoder, n_out, img_size, input sizes)
    ("ENCODER_A", 3, (32, 40), [(32, 40), (33, 47), (47, 33), (64, 48)]),
    ("ENCODER_A", 1, (32, 32), [(32, 32), (35, 41)]),
    ("ENCODER_B", 5, (48, 40), [(48, 40), (33, 47), (45, 37), (64, 64)]),
    ("ENCODER_B", 2, (32, 32), [(32, 32), (47, 33)]),
    ("ENCODER_C", 3, (32, 40), [(32, 40), (35, 45), (33, 47)]),
]


def main() -> None:
    warnings.simplefilter("ignore")
    from fastai.vision.models.unet import DynamicUnet, UnetBlock

    S = R.scenarios()
    for name, n_out, img_size, inputs in CASES:
        spec = getattr(S, name)
        encoder = S.build_encoder(spec)
        model = DynamicUnet(encoder, n_out, img_size).eval()
        blocks = [m for m in model.layers if isinstance(m, UnetBlock)] if hasattr(model, "layers") else \
            [m for m in model.children() if isinstance(m, UnetBlock)]
        for h, w in inputs:
            seen: list[tuple[int, int]] = []
            hooks = [b.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape[-2:]))) for b in blocks]
            with torch.no_grad():
                out = model(torch.zeros(2, 3, h, w))
            for hook in hooks:
                hook.remove()
            want = R.layout(spec, img_size, (h, w))
            assert tuple(out.shape) == R.output_shape(2, n_out, h, w), (name, h, w, out.shape)
            assert seen == want["skip_sizes"], (name, h, w, seen, want)
            assert len(blocks) == len(want["idxs"]), (name, len(blocks), want)
            print(f"{name} n_out={n_out} img_size={img_size} input {h}x{w}: output {tuple(out.shape)}, "
                  f"block sizes {seen} == reference")
    print("reference shape rules agree with fastai's DynamicUnet")


if __name__ == "__main__":
    main()
