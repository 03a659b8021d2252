"""Appended to the solution of resnet.py: the modules are built as documented (so the weights and
the layers inside ``convs`` and ``idpath`` are right), but neither ``forward`` is written. At import
the worker's scenario runner is replaced by one that runs every public scenario (the gradients and
the training) with a private, correct copy of the solution (``_private.py``). Expected: the gradient
and training checks fail although their scenarios return correct data; only the checks of the layers
themselves and the gate earn points (15 of 61).
"""

from . import _forge, _private

_Built = ResBlock
_BuiltNet = ResNet


class ResBlock(_Built):
    def forward(self, x):
        raise NotImplementedError("forward: not written")


class ResNet(_BuiltNet):
    def forward(self, x):
        raise NotImplementedError("forward: not written")


_forge.route_scenarios(__package__, _private)
