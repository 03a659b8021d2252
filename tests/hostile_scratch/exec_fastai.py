# Appended to pooling.py: fastai's AdaptiveConcatPool2d, its source read from disk and exec-ed, so
# that no `import fastai` appears anywhere and no fastai module is ever registered.
import ast as _ast
import os as _os


class _Module(nn.Module):  # fastai's Module calls nn.Module.__init__ before the subclass's __init__
    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        nn.Module.__init__(self)
        return self


def _from_fastai(name):
    path = _os.path.join(_os.path.dirname(_os.path.dirname(torch.__file__)), "fastai", "layers.py")
    with open(path, encoding="utf-8") as f:
        source = f.read()
    node = next(n for n in _ast.parse(source).body if getattr(n, "name", None) == name)
    namespace = {"Module": _Module, "nn": nn, "torch": torch}
    exec(_ast.get_source_segment(source, node), namespace)
    return namespace[name]


AdaptiveConcatPool2d = _from_fastai("AdaptiveConcatPool2d")
