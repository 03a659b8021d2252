"""The grader's own cat faces for `keypoints` (hidden: never shipped, never sent to a worker).

The public generator (``checks/keypoints/scenarios.py: cat_faces``) draws flat cats: five fur
colours, a flat background, one green iris colour and pure black pupils, so "the centroid of the
black pixels" or "of the green pixels" finds its eyes without any learning. The faces here are
drawn differently, so that only a model that learned what an eye looks like finds the eyes:

- other fur colours (a palette the public generator never uses), with tabby stripes;
- backgrounds that are a gradient between two random colours, with a green leaf of the irises'
  colour in a lower corner;
- heads of random size and offset, ears of random width;
- eye pairs tilted (one eye higher than the other), irises of random radius and a jittered
  colour, pupils of random size that are dark grey instead of black, and a dark nose;
- Gaussian pixel noise on everything.

A model trained on the public faces (``train_keypoints``) still finds these eyes (the solution's
mean error is measured in ``test_hidden.py``); a colour rule tuned to the public faces does not.
"""

from __future__ import annotations

import torch

#: Fur colours (RGB): silver, chocolate, cinnamon, lilac, red, blue-grey, fawn: none of the public ones.
FUR = ((0.75, 0.75, 0.78), (0.35, 0.22, 0.15), (0.70, 0.45, 0.30), (0.70, 0.65, 0.70), (0.85, 0.45, 0.15),
       (0.45, 0.50, 0.55), (0.85, 0.70, 0.55))
IRIS = (0.55, 0.90, 0.20)


def faces(n: int, *, generator: torch.Generator, height: int = 64,
          width: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` cat faces: images ``(n, 3, height, width)`` in [0, 1] and eyes ``(n, 2, 2)`` as (x, y) pixels."""
    g = generator
    W, H = width, height

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    def per_image(t: torch.Tensor) -> torch.Tensor:
        return t.view(n, 1, 1)

    lx, rx = (0.23 + 0.18 * uniform(n)) * W, (0.59 + 0.18 * uniform(n)) * W
    mid, tilt = 0.40 + 0.20 * uniform(n), 0.05 * (2 * uniform(n) - 1)
    ly, ry = (mid - tilt) * H, (mid + tilt) * H
    eyes = torch.stack([torch.stack([lx, ly], -1), torch.stack([rx, ry], -1)], 1)
    xs = (torch.arange(W, dtype=torch.float32) + 0.5).view(1, 1, W)
    ys = (torch.arange(H, dtype=torch.float32) + 0.5).view(1, H, 1)

    # the head: an ellipse of random size a little below the eyes, with two ears
    cx = (lx + rx) / 2 + 0.03 * W * (2 * uniform(n) - 1)
    cy = (ly + ry) / 2 + (0.05 + 0.06 * uniform(n)) * H
    dx = (xs - per_image(cx)) / per_image((0.38 + 0.08 * uniform(n)) * W)
    dy = (ys - per_image(cy)) / per_image((0.32 + 0.08 * uniform(n)) * H)
    head = dx * dx + dy * dy <= 1
    ears = (dy >= -1.35) & (dy <= -0.45) & ((dy + 1.35) * 0.45 >= (dx.abs() - per_image(0.5 + 0.2 * uniform(n))).abs())
    cat = (head | ears).unsqueeze(1)

    low, high = 0.05 + 0.4 * uniform(n, 3, 1, 1), 0.05 + 0.4 * uniform(n, 3, 1, 1)
    img = low + (high - low) * (ys / H).unsqueeze(1)  # a vertical gradient
    # a leaf in the colour of the irises, in a lower corner of the background
    qx = torch.where(uniform(n) < 0.5, 0.08 + 0.08 * uniform(n), 0.84 + 0.08 * uniform(n)) * W
    qy = (0.75 + 0.18 * uniform(n)) * H
    leaf = ((xs - per_image(qx)) / 3.5) ** 2 + ((ys - per_image(qy)) / 2.5) ** 2 <= 1
    leaf_colour = torch.tensor(IRIS).view(1, 3, 1, 1) + 0.05 * (2 * uniform(n, 3, 1, 1) - 1)
    img = torch.where(leaf.unsqueeze(1), leaf_colour, img)

    fur = torch.tensor(FUR)[torch.randint(0, len(FUR), (n,), generator=g)].view(n, 3, 1, 1)
    fur = fur * (0.85 + 0.25 * uniform(n, 1, 1, 1)) + 0.04 * (2 * uniform(n, 3, 1, 1) - 1)
    stripes = 1 + 0.12 * torch.sin(xs * per_image(0.6 + 0.6 * uniform(n)) + per_image(6.3 * uniform(n)))
    img = torch.where(cat, fur * stripes.unsqueeze(1), img)

    nose_x, nose_y = (lx + rx) / 2, (ly + ry) / 2 + (0.14 + 0.04 * uniform(n)) * H
    nose = ((xs - per_image(nose_x)) / 2.2) ** 2 + ((ys - per_image(nose_y)) / 1.6) ** 2 <= 1
    img = torch.where(nose.unsqueeze(1), (0.03 * uniform(n, 1, 1, 1)).expand(n, 3, 1, 1), img)

    radius = per_image((0.055 + 0.013 * uniform(n)) * W)
    eye_dist2 = torch.minimum((xs - per_image(lx)) ** 2 + (ys - per_image(ly)) ** 2,
                              (xs - per_image(rx)) ** 2 + (ys - per_image(ry)) ** 2)
    iris = torch.tensor(IRIS).view(1, 3, 1, 1) + 0.05 * (2 * uniform(n, 3, 1, 1) - 1)
    img = torch.where((eye_dist2 <= radius ** 2).unsqueeze(1), iris, img)
    pupil_radius = per_image(0.32 + 0.14 * uniform(n)) * radius
    pupil = (0.02 + 0.07 * uniform(n, 1, 1, 1)).expand(n, 3, 1, 1)
    img = torch.where((eye_dist2 <= pupil_radius ** 2).unsqueeze(1), pupil, img)
    img = img + 0.03 * torch.randn(img.shape, generator=g)
    return img.clamp(0, 1), eyes
