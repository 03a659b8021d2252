"""Mistake: wraps fastai's ResBlock instead of building the block (fastai is forbidden here)."""

from fastai.layers import NormType as _NormType
from fastai.layers import ResBlock as _FastaiResBlock


class ResBlock(nn.Module):
    def __init__(self, ni, nf, stride=1):
        super().__init__()
        inner = _FastaiResBlock(1, ni, nf, stride=stride, norm_type=_NormType.Batch, act_cls=nn.ReLU)
        nn.init.ones_(inner.convpath[-1][1].weight)
        self.convs = nn.Sequential(*inner.convpath[0], *inner.convpath[1])
        self.idpath = nn.Sequential(*[m for layer in inner.idpath for m in (layer if isinstance(layer, nn.Sequential)
                                                                             else [layer])])

    def forward(self, x):
        return F.relu(self.convs(x) + self.idpath(x))
