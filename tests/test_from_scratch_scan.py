"""The from-scratch rule fails closed (DESIGN.md, principle 7; ``grader/scratch.py``).

Fast unit tests of :func:`read_sources` and the scan on small file trees, and a few hostile
submissions graded end to end on ``pooling`` (whose from-scratch check is a gate): every file
trick the old scan missed scores 0.
"""

from __future__ import annotations

import os
import py_compile
import shutil
from pathlib import Path

import pytest

from grader.catalog import find_course

from grader.i18n import Translator
from grader.scratch import (MAX_FILE_BYTES, MAX_FILES, Sources, assert_from_scratch, find_dynamic_code,
                            find_forbidden_names, find_outside_imports, read_sources)
from grader.testing import CheckFailed

from conftest import REPO, TEST_LIMITS

HOSTILE = Path(__file__).resolve().parent / "hostile_scratch"


def package(root: Path, files: dict[str, str | bytes], name: str = "pkg") -> Path:
    """``root/name/`` with ``__init__.py`` and ``files`` (text or bytes)."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in {"__init__.py": "", **files}.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def problems_of(tmp_path: Path, files: dict[str, str | bytes]) -> list[str]:
    return read_sources(package(tmp_path, files), tmp_path).problems


# -- reading: every file in full, or a problem with the file named ----------------------------------

@pytest.mark.parametrize("files, expected", [
    ({"big.py": "#" * MAX_FILE_BYTES + "\nimport torch\n"}, "pkg/big.py is larger than 1024 KiB"),
    ({"seven.py": b"# coding: utf-7\nx = 1 +AAo-import os\n"}, "pkg/seven.py declares the encoding utf-7"),
    ({"latin.py": b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"}, "pkg/latin.py declares the encoding iso-8859-1"),
    ({"odd.py": b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n"}, "declares the encoding cp1252"),
    ({"bad.py": b"x = '\xff'\n"}, "pkg/bad.py is not valid UTF-8 (byte 5)"),
    ({"nul.py": b"x = 1\0\n"}, "pkg/nul.py contains NUL bytes"),
    ({"broken.py": "def f(:\n"}, "pkg/broken.py is not valid Python"),
    ({"_fast.pyc": b"\x00\x01compiled"}, "pkg/_fast.pyc is compiled code or an archive (.pyc)"),
    ({"fast.cpython-311-x86_64-linux-gnu.so": b"\x7fELF"}, "is compiled code or an archive (.so)"),
    ({"hook.pth": "import os\n"}, "pkg/hook.pth is compiled code or an archive (.pth)"),
    ({"lib.zip": b"PK\x03\x04"}, "(.zip)"),
    ({"data.bin": b"\x00\x01\x02"}, "pkg/data.bin is a binary file"),
    ({"notes.txt": b"caf\xe9\n"}, "pkg/notes.txt is a binary file"),
    ({f"m{i:03d}.py": "" for i in range(MAX_FILES)}, f"more than {MAX_FILES} files and folders"),
])
def test_what_cannot_be_read_as_utf8_python_is_a_problem(tmp_path, files, expected):
    found = problems_of(tmp_path, files)
    assert any(expected in p for p in found), found


def test_utf8_declarations_bom_and_text_data_are_fine(tmp_path):
    sources = read_sources(package(tmp_path, {
        "a.py": "# -*- coding: utf-8 -*-\nx = 'é'\n", "b.py": b"\xef\xbb\xbfy = 1\n", "c.py": "# coding=utf8\n",
        "README.md": "# Notes\n", "data.json": '{"a": 1}', "sub/d.py": "z = 2\n"}), tmp_path)
    assert sources.problems == []
    assert sorted(sources) == ["__init__.py", "a.py", "b.py", "c.py", "sub/d.py"]  # Python files only, in full
    assert sorted(sources.data) == ["README.md", "data.json"] and sources["b.py"] == "y = 1\n"
    assert isinstance(sources, dict) and isinstance(sources.copy(), Sources) and sources.copy().problems == []


def test_pycache_is_ignored_but_links_special_files_and_missing_parts_are_problems(tmp_path):
    folder = package(tmp_path, {"__pycache__/pkg.cpython-311.pyc": b"\0" * 10, "__pycache__/x.py": "exec('')"})
    assert read_sources(folder, tmp_path).problems == []  # the worker never reads __pycache__ (see scratch.py)
    (folder / "link.py").symlink_to(folder / "__init__.py")
    os.mkfifo(folder / "pipe.py")
    found = read_sources(folder, tmp_path).problems
    assert any("pkg/link.py is a symbolic link" in p for p in found)
    assert any("pkg/pipe.py is not a regular file" in p for p in found), found
    (folder / "__init__.py").unlink()
    (folder / "link.py").unlink()
    assert any("pkg/__init__.py is missing" in p for p in read_sources(folder, tmp_path).problems)
    assert "no package folder nothing/" in read_sources(tmp_path / "nothing", tmp_path).problems[0]


def test_whole_package_limits_and_odd_names(tmp_path):
    folder = package(tmp_path, {f"m{i}.txt": "x" * (MAX_FILE_BYTES - 10) for i in range(3)})
    assert any("more than 2 MiB" in p for p in read_sources(folder, tmp_path).problems)
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "__init__.py").write_text("")
    (tmp_path / "q" / "bad\x01name.py").write_text("")
    assert any("not printable UTF-8 text" in p for p in read_sources(tmp_path / "q", tmp_path).problems)


# -- dynamic code: always a violation, named with file and line ----------------------------------------

DYNAMIC = {
    "exec": "exec('x = 1')", "eval": "y = eval('1')", "compile": "c = compile('1', 'f', 'eval')",
    "runpy": "import runpy", "importlib": "from importlib import import_module",
    "__import__": "m = __import__('fastai')", "marshal": "import marshal",
    "code object": "import types\nf = types.FunctionType(c, {})", "__code__": "def f(): pass\ng = f.__code__",
    "ctypes": "import ctypes", "cffi": "import cffi", "dill": "import dill",
    "shelve": "import shelve", "module __dict__": "import torch.nn.functional as F\nf = F.__dict__['conv2d']",
    "vars(module)": "from torch.nn import functional\nf = vars(functional)", "vars()": "x = vars()",
    "globals()": "g = globals()", "locals()": "def f():\n    return locals()", "builtins": "import builtins",
    "__builtins__": "b = __builtins__", "__globals__": "def f(): pass\ng = f.__globals__",
    "__subclasses__": "x = object.__subclasses__()", "__loader__": "spec = __loader__",
    "__spec__": "import torch\ns = torch.__spec__", "sys.modules": "import sys\nm = sys.modules['torch']",
    "sys.path": "import sys\nsys.path.insert(0, '/tmp')", "sys.meta_path": "import sys as s\ns.meta_path.append(1)",
    "attrgetter": "from operator import attrgetter", "methodcaller": "import operator\noperator.methodcaller('x')",
    "zipimport": "import zipimport", "pkgutil": "import pkgutil", "imp": "import imp",
    "subprocess": "import subprocess", "os.system": "import os\nos.system('python -c 1')",
    "os.exec": "from os import execv", "os.spawn": "import os\nos.spawnl(0, 'python')", "pty": "import pty",
    "exec of a file": "exec(open('x.txt').read())",
    "getattr computed": "import torch\nname = 'nn'\nm = getattr(torch, name)",
    "getattr alias": "import torch\nm = torch.nn.functional\ndef f(n):\n    return getattr(m, n)",
    "getattr chain": "import torch\ndef f(n):\n    return getattr(torch.nn.functional, n)",
    "getattr as a value": "import functools\nimport torch\nf = functools.reduce(getattr, ['nn'], torch)",
    "module passed on": "import torch.nn.functional as F\ndef pick(m, n):\n    return getattr(m, n)\npick(F, 'x')",
    "module in a class": "import torch\nclass A:\n    m = torch",
    "global alias": "import torch\ndef setup():\n    global M\n    M = torch.nn.functional\ndef f(n):\n    return getattr(M, n)",
    "monkeypatching": "import torch\ntorch.Tensor.unfold = None", "type patching": "x = 1\ntype(x).real = 2",
    "frames": "import sys\nf = sys._getframe()", "inspect": "import inspect\nf = inspect.currentframe()",
    "gc": "import gc\nobjects = gc.get_objects()", "pickle": "import pickle\nx = pickle.loads(b'')",
    "eval_str": "import inspect\ns = inspect.signature(f, eval_str=True)",
    "dunder text": "def f(x):\n    return getattr(x, '__glob' 'als__')", "__self__": "b = print.__self__",
    "star import of os": "from os import *\nsystem('python')", "star import of sys": "from sys import *\nx = modules", "torch.load": "import torch\nw = torch.load('w.pt')",
    "__path__": "__path__.append('/tmp')", "class shadow": "class A:\n    eval = 1\n    def f(self, c):\n        return eval(c)",
    "get_type_hints": "import typing\nh = typing.get_type_hints(f)", "mock": "from unittest import mock",
    "private stdlib": "import warnings\nwarnings._getcategory('x')",
    "string annotation": "import functools\n@functools.singledispatch\ndef f(x): pass\n@f.register\n"
                         "def _(x: \"eval(open('a').read())\"): pass",
    "getattr on another object's class": "def f(x, n):\n    return getattr(type(x), n)",
    "getattr(module, '__dict__')": "import torch\nd = getattr(torch, '__dict__')",
    "/proc/self/mem": "f = open('/proc/self/mem', 'wb')", "TorchScript from text": "import torch\nc = torch.jit.CompilationUnit(s)",
}


@pytest.mark.parametrize("name", sorted(DYNAMIC))
def test_each_dynamic_route_is_named_with_file_and_line(name):
    source = "import math\n\n" + DYNAMIC[name] + "\n"
    hits = find_dynamic_code({"sub/mod.py": source})
    assert hits and all(h.startswith("sub/mod.py, line ") for h in hits), hits
    assert int(hits[0].split("line ")[1].split(":")[0]) >= 3, hits  # the line of the construct, not the import of math


CORRECT = {
    "callback dispatch": "class L:\n    def run(self, event_name):\n        for cb in self.cbs:\n"
                         "            getattr(cb, event_name, lambda: None)()\n            getattr(self, 'x' + event_name)",
    "partial": "from functools import partial\nimport torch\nf = partial(torch.add, alpha=2)",
    "typing": "import typing as t\nx: t.Any = None\ndef f(a: t.Sequence[int]) -> t.Optional[int]:\n    return t.cast(int, a[0])",
    "math, collections, random": "import math\nimport random\nfrom collections import OrderedDict, defaultdict\n"
                                 "import collections.abc\nd = defaultdict(list)\nok = isinstance(d, collections.abc.Mapping)\n"
                                 "random.shuffle([math.pi])",
    "relative imports": "from .helpers import x\nfrom . import other",
    "vars(self) and self.__dict__": "class M:\n    def params(self):\n        return list(vars(self).values())\n"
                                    "    def __setattr__(self, k, v):\n        self.__dict__[k] = v",
    "model.eval() and a parameter named eval": "def fit(model, eval=True):\n    model.eval()\n    return eval",
    "re.compile": "import re\np = re.compile('x')",
    "isinstance with library classes": "import torch\nfrom torch import nn\ndef f(x):\n"
                                       "    return isinstance(x, (torch.Tensor, nn.Module))",
    "getattr and hasattr with constant names": "import torch\nf = getattr(torch, 'relu', None)\nok = hasattr(torch, 'compile')",
    "safe torch.load": "import torch\nw = torch.load('w.pt', weights_only=True)",
    "docstring naming dunders": '"""Do not use __import__ or __globals__."""\nx = 1',
    "__name__ and type names": "if __name__ == '__main__':\n    pass\nclass A:\n    def n(self, x):\n"
                               "        return type(self).__name__ + type(x).__name__",
    "setattr on self": "class A:\n    def f(self, name, v):\n        setattr(self, name, v)\n        return getattr(self, name)",
    "nn.Module subclass": "from torch import nn\nimport torch.nn.functional as F\nclass B(nn.Module):\n"
                          "    def forward(self, x):\n        return F.relu(x)",
    "harmless parts of inspect, gc, pickle, sys": "import gc\nimport inspect\nimport pickle\nimport sys\n"
                                                  "s = inspect.signature(len)\ngc.collect()\nb = pickle.dumps(1)\n"
                                                  "e = sys.exc_info()\nm = sys.maxsize",
    "star import of math": "from math import *\nx = sqrt(pi)",
    "string annotations and own class lookups": "import typing as t\nclass A:\n    def f(self, x: 't.Optional[int]', n: str) "
                                                "-> 'A':\n        return getattr(type(self), n)",
    "loop variable named like a module alias": "import typing as t\ndef f(tfms, x):\n    for t in tfms:\n"
                                               "        x = t(x)\n    return sorted(tfms, key=lambda t: getattr(t, 'order', 0))",
}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_routes_are_not_dynamic_code(name):
    assert find_dynamic_code({"mod.py": CORRECT[name]}) == []


def test_no_solution_or_sample_submission_trips_the_scan():
    roots = [REPO / "solutions", REPO / "examples" / "submissions" / "full_marks",
             REPO / "examples" / "submissions" / "partial"]
    depends = {name: ex.depends for name, ex in find_course(REPO).exercises().items()}
    for root in roots:
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"):
            sources = read_sources(folder, root, depends=depends)
            assert (sources.problems, find_dynamic_code(sources), find_outside_imports(sources)) == ([], [], []), folder


# -- imports of code the scan did not read ---------------------------------------------------------

def test_imports_from_outside_the_package_are_named(tmp_path):
    package(tmp_path, {"pooling.py": "x = 1\n"}, name="pooling")
    (tmp_path / "helper.py").write_text("y = 2\n")
    folder = package(tmp_path, {
        "conv.py": "import pooling\nfrom helper import y\nfrom .gen import z\nfrom .__pycache__ import w\n"
                   "from . import missing\nimport conv.nothere\n",
        "ok.py": "from . import conv\nfrom .conv import conv2d\nfrom .sub import thing\nfrom conv.sub.inner import a\n"
                 "import conv.ok\nfrom .. import beyond\n",
        "sub/__init__.py": "from .inner import *\n", "sub/inner.py": "thing = a = 1\n"}, name="conv")
    (folder / "__init__.py").write_text("from .conv import conv2d\n")
    (folder / "conv.py").write_text((folder / "conv.py").read_text() + "def conv2d():\n    pass\n")
    found = find_outside_imports(read_sources(folder, tmp_path))
    assert [h.split(": ", 1)[1] for h in found] == [
        "import pooling", "from helper import y", "from .gen import z", "from .__pycache__ import w",
        "from . import missing", "import conv.nothere"], found
    assert all(h.startswith("conv.py, line ") for h in found)


def test_a_package_graded_in_the_same_worker_that_could_change_this_one_is_a_problem(tmp_path):
    clean = package(tmp_path, {"pooling.py": "def f():\n    return 1\n"}, name="pooling")
    package(tmp_path, {"conv.py": "import pooling.pooling as p\np.f = None\n"}, name="conv")
    package(tmp_path, {"basics.py": "x = 1\n"}, name="basics")
    assert read_sources(clean, tmp_path, loaded_with=["basics", "gone"]).problems == []
    found = read_sources(clean, tmp_path, loaded_with=["basics", "conv", "pooling"]).problems
    assert len(found) == 1 and "conv/ is graded in the same worker" in found[0], found
    assert "conv.py, line 2: p.f = ..." in found[0]


def test_a_sibling_with_a_syntax_error_is_no_threat_but_one_python_could_read_differently_is(tmp_path):
    """A file Python cannot compile never runs, so one broken exercise does not void the others; a file
    the grader cannot read as Python would (another encoding) still fails closed."""
    clean = package(tmp_path, {"pooling.py": "def f():\n    return 1\n"}, name="pooling")
    package(tmp_path, {"conv.py": "def conv2d(x, w)\n    return x\n"}, name="conv")
    assert read_sources(clean, tmp_path, loaded_with=["conv", "pooling"]).problems == []
    assert read_sources(tmp_path / "conv", tmp_path).problems, "its own package still cannot be read"
    (tmp_path / "conv" / "conv.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    found = read_sources(clean, tmp_path, loaded_with=["conv", "pooling"]).problems
    assert len(found) == 1 and "conv/ is graded in the same worker" in found[0], found


def test_star_imports_of_a_forbidden_library_count_as_mentions():
    source = "from torch.nn.functional import *\ndef mine(x):\n    return x\ny = conv2d(1, 2)\nz = mine(1)\n"
    assert find_forbidden_names({"a.py": source}, ["torch.nn.functional.conv2d", "torch.nn.functional.mine"]) == [
        "a.py, line 4: conv2d (from a star import)"]


# -- the verdict and its message ------------------------------------------------------------------------

def test_assert_from_scratch_fails_on_problems_and_dynamic_code_without_forbidden_modules(tmp_path):
    sources = read_sources(package(tmp_path, {"x.pyc": b"\0", "m.py": "import math\nf = eval('1')\n"}), tmp_path)
    with pytest.raises(CheckFailed) as failed:
        assert_from_scratch([], sources, forbidden_names=[], what="pkg")
    message = str(failed.value)
    assert message.startswith("pkg must be written from scratch.\n")
    assert "pkg/x.pyc is compiled code" in message and "m.py, line 2: eval('1')" in message
    german = Translator("de")
    text = german.text(message)
    assert not german.untranslated, german.untranslated
    assert "muss von Grund auf geschrieben werden" in text and "Zeile 2" in text
    assert_from_scratch([], {"ok.py": "import torch\n"}, forbidden_names=["torch.relu"])


def test_every_message_of_the_rule_has_german(tmp_path):
    """Each kind of problem and hit, translated: no English line may remain."""
    package(tmp_path, {"pooling.py": "x = 1\n"}, name="pooling")
    files: dict[str, str | bytes] = {
        "a.pyc": b"\0", "b.bin": b"\0", "c.py": b"# coding: utf-7\n", "d.py": b"\xff", "e.py": b"\0",
        "f.py": "def (:\n", "g.py": "#" * MAX_FILE_BYTES,
        "h.py": "import torch\nimport pooling\nfrom .nothere import x\ntorch.Tensor.t = 1\nprint(torch)\nexec('')\n"}
    sources = read_sources(package(tmp_path, files), tmp_path, loaded_with=["pooling"])
    (tmp_path / "pkg" / "link").symlink_to(tmp_path)
    more = read_sources(tmp_path / "pkg", tmp_path).problems + read_sources(tmp_path / "none", tmp_path).problems
    star = find_forbidden_names({"s.py": "from torch import *\ny = relu(1)\n"}, ["torch.relu"])
    german = Translator("de")
    for line in [*sources.problems, *more, *star, *find_dynamic_code(sources), *find_outside_imports(sources)]:
        german.text(line)
    with pytest.raises(CheckFailed) as failed:
        assert_from_scratch([], sources, forbidden_names=["torch.relu"])
    german.text(str(failed.value))
    assert not german.untranslated, german.untranslated


# -- end to end: hostile pooling submissions score 0 ----------------------------------------------------

def _pooling(root: Path, appendix: str = "", files: dict[str, str | bytes] | None = None) -> Path:
    folder = root / "pooling"
    shutil.copytree(REPO / "solutions" / "pooling", folder, ignore=shutil.ignore_patterns("__pycache__"))
    module = folder / "pooling.py"
    module.write_text(module.read_text() + "\n" + (HOSTILE / "partial.py").read_text() + "\n" + appendix)
    for rel, content in (files or {}).items():
        (root / rel).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def _pyc(root: Path) -> Path:
    _pooling(root, "from ._fast import max_pool2d  # noqa\n")
    py_compile.compile(str(HOSTILE / "pyc_source.py"), cfile=str(root / "pooling" / "_fast.pyc"), doraise=True)
    return root


def _hostile(name: str) -> str:
    return (HOSTILE / name).read_text()


FAST = "from ._fast import max_pool2d  # noqa\n"
#: trick -> (build the submission in a folder, text the gate's message must hold)
TRICKS = {
    "code past the first MiB": (lambda r: _pooling(r, FAST, {"pooling/_fast.py": "#" * MAX_FILE_BYTES + "\n" + _hostile("pyc_source.py")}),
                                "pooling/_fast.py is larger than 1024 KiB"),
    "file 201": (lambda r: _pooling(r, "from .zz_fast import max_pool2d  # noqa\n", {
        **{f"pooling/_pad{i:03d}.py": "" for i in range(MAX_FILES)}, "pooling/zz_fast.py": _hostile("pyc_source.py")}),
        f"more than {MAX_FILES} files"),
    "utf-7 coding line": (lambda r: _pooling(r, FAST, {"pooling/_fast.py": (HOSTILE / "utf7_fast.py").read_bytes()}),
                          "pooling/_fast.py declares the encoding utf-7"),
    "sourceless .pyc": (_pyc, "pooling/_fast.pyc is compiled code"),
    "runpy": (lambda r: _pooling(r, _hostile("runpy_loader.py"), {"pooling/notes.txt": _hostile("runpy_notes.txt")}),
              "import runpy"),
    "fastai's source exec-ed": (lambda r: _pooling(r, _hostile("exec_fastai.py")), "exec("),
    "module __dict__ lookup": (lambda r: _pooling(r, _hostile("module_dict.py")), "F.__dict__"),
    "sibling module": (lambda r: _pooling(r, "from helper import max_pool2d  # noqa\n",
                                          {"helper.py": _hostile("sibling_helper.py")}), "from helper import max_pool2d"),
}

#: Tricks the worker itself refuses (it imports only ``.py`` source from a submission), before the gate.
BLOCKED_AT_IMPORT = {"sourceless .pyc"}


@pytest.fixture(scope="module")
def launcher():
    from grader.forkserver import ForkServerLauncher

    warm = ForkServerLauncher(unprivileged=False)
    yield warm
    warm.close()


@pytest.mark.parametrize("trick", list(TRICKS))
def test_file_tricks_score_zero(course, tmp_path, launcher, trick):
    from grader.runner import run_checks
    from grader.sandbox import Sandbox

    build, expected = TRICKS[trick]
    root = build(tmp_path)
    with Sandbox(root, ["pooling"], TEST_LIMITS, launcher=launcher) as sandbox:
        result = run_checks(course.exercise("pooling"), sandbox, root, hidden=True)
    gate = next(c for c in result.checks if c.function == "pooling::test_from_scratch")
    assert not gate.passed and expected in gate.message, gate.message
    assert result.score == 0, [(c.check_id, c.score) for c in result.checks if c.score]
    if trick in BLOCKED_AT_IMPORT:  # the worker never loads it: nothing passed, the file is named
        assert "grader imports only .py source files" in gate.message, gate.message
    else:
        assert any(c.passed and "Not counted" in c.message for c in result.checks), "no points were there to void"
