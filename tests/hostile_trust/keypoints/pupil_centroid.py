"""Appended to the solution of keypoints.py: the point functions are right, but the "model" learns
nothing. It keeps an ``encoder`` and a ``head`` (so its weights have the published names) and
returns the centroid of the black pixels in each half of the image: the pupils the public face
generator draws, found within a fraction of a pixel on every public face. Expected: every model and
training check fails; only the point functions' checks earn points (22 of 34).
"""

_LearnedNothing = KeypointModel


class KeypointModel(_LearnedNothing):
    def forward(self, x):
        self.head(self.encoder(x).flatten(1))  # lets the lazy head find its size: the weights look right
        n, _, h, w = x.shape
        dark = (x <= 0.02).all(1).to(x.dtype)  # (n, h, w): the pupils are pure black
        xs = (torch.arange(w, dtype=x.dtype, device=x.device) + 0.5).view(1, 1, w).expand(1, h, w)
        ys = (torch.arange(h, dtype=x.dtype, device=x.device) + 0.5).view(1, h, 1).expand(1, h, w)
        eyes = []
        for half in (slice(0, w // 2), slice(w // 2, w)):
            m = dark[:, :, half]
            count = m.sum((1, 2)).clamp_min(1)
            cx = (m * xs[:, :, half]).sum((1, 2)) / count
            cy = (m * ys[:, :, half]).sum((1, 2)) / count
            eyes.append(torch.stack([cx * 2 / w - 1, cy * 2 / h - 1], -1))
        points = torch.stack(eyes, 1)  # (n, 2, 2) scaled
        return points[:, [k % 2 for k in range(self.n_points)]]
