"""What the from-scratch scan (``grader/_scratch_scan.py``) counts as dynamic code: module paths,
attributes and names through which code runs or is reached by a name the scan cannot see."""

import re

#: Modules whose import (or any part of them) is dynamic code.
DANGER_MODULES = frozenset({
    "importlib", "imp", "zipimport", "pkgutil", "runpy", "marshal", "cPickle", "dill", "cloudpickle", "shelve",
    "jsonpickle", "joblib", "ctypes", "_ctypes", "cffi", "code", "codeop", "subprocess", "_posixsubprocess", "pty",
    "multiprocessing", "_multiprocessing", "builtins", "__builtin__", "timeit", "doctest", "pdb", "bdb", "profile",
    "cProfile", "trace", "pydoc", "site", "sitecustomize", "usercustomize", "pkg_resources", "importlib_metadata",
    "importlib_resources", "mock", "unittest.mock", "logging.config", "posix", "nt", "annotationlib", "torch.hub",
    "torch.package", "torch.utils.cpp_extension", "torch.multiprocessing", "torch.jit", "torch.serialization",
    "numpy.ctypeslib", "numpy.f2py", "webbrowser", "ensurepip", "venv", "distutils", "setuptools",
    "concurrent.futures.process", "types.CodeType", "types.FunctionType", "types.LambdaType"})
#: Attributes of modules that are dynamic code.
DANGER_ATTRS = frozenset({
    "sys.modules", "sys.path", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache", "sys._getframe",
    "sys._current_frames", "sys._current_exceptions", "sys.settrace", "sys.setprofile", "sys.addaudithook",
    "sys.breakpointhook", "pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load", "_pickle.loads",
    "_pickle.Unpickler", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "inspect.currentframe",
    "inspect.stack", "inspect.trace", "inspect.getmembers", "inspect.getmembers_static", "inspect.getmodule",
    "inspect.getouterframes", "inspect.getinnerframes", "inspect.getattr_static", "inspect.getclosurevars",
    "inspect.get_annotations", "inspect.getframeinfo", "os.popen", "os.system", "os.startfile", "operator.attrgetter",
    "operator.methodcaller", "typing.get_type_hints", "typing.ForwardRef", "typing.evaluate_forward_ref",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "asyncio.subprocess", "torch.load",
    "torch.jit.load", "torch.ops.load_library", "torch.classes.load_library", "pandas.read_pickle", "yaml.load",
    "yaml.load_all", "yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all", "yaml.Loader",
    "yaml.UnsafeLoader", "yaml.FullLoader", "concurrent.futures.ProcessPoolExecutor", "string.Formatter",
    "threading.settrace", "threading.setprofile"})
_OS_EXEC = re.compile(r"^(os|posix)\.(exec\w*|spawn\w*|posix_spawn\w*|fork\w*)$")
#: Attributes that reach code, frames, globals or the import system, on any object.
DANGER_DUNDERS = frozenset({
    "__globals__", "__builtins__", "__subclasses__", "__code__", "__self__", "__loader__", "__spec__", "__path__",
    "__import__", "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame", "gi_frame", "cr_frame",
    "ag_frame", "gi_code", "cr_code", "ag_code"})
#: On a module (or what hangs off one) these look names up by a computed key.
MODULE_LOOKUPS = frozenset({"__dict__", "__getattribute__", "__getattr__", "__dir__"})
#: Builtins that run or reach code dynamically; flagged unless a local variable of that name is meant.
DANGER_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "globals", "locals", "breakpoint", "help",
                             "__build_class__", "__builtins__", "__loader__", "__spec__", "__path__", "__package__",
                             "__cached__"})
#: Builtins that are dynamic when used as a value (``functools.reduce(getattr, ...)``) or on a module.
VALUE_BUILTINS = frozenset({"getattr", "vars", "setattr", "delattr"})
_DECLARED = "<global or nonlocal>"
_MODULE_STORES = frozenset({"__path__", "__name__", "__package__", "__spec__", "__loader__", "__builtins__"})
#: Text that names such an attribute, e.g. for ``getattr(f, "__glob" "als__")``.
_DANGER_TEXT = re.compile(r"__(globals|builtins|subclasses|code|import|loader|spec|self)__|\bf_(globals|builtins|locals)\b"
                          r"|/proc/")
