"""Build script for the optional Cython extensions; metadata is in pyproject.toml.

Environment:
  EVENTHUB_NO_EXTENSIONS=1       build nothing: a pure-Python install.
  EVENTHUB_REQUIRE_EXTENSIONS=1  a failed extension build is an error, and so
                                 are the C warnings that newer compilers
                                 treat as errors (CI).
Otherwise a failed build (no compiler, no Cython) leaves the pure-Python hubs
and prints one warning line.

The pyevent hub (eventhub.hubs._pyevent) links against the libevent 2.1
runtime library, libevent_core-2.1.so.7 (Debian: libevent-core-2.1-7), by its
versioned name: no libevent headers are needed.  Without that library the
extension is skipped (named in the warning line), and pyevent is unavailable.

Binary wheels (.ci/build-wheels) link pyevent against a libevent built for
the wheel's glibc instead of the system's:
  EVENTHUB_LIBRARY_DIR=DIR       look for the libraries extensions link against
                                 in DIR only (not the system's folders).
"""

from __future__ import annotations

import fcntl
import glob
import os
import sys
from contextlib import contextmanager
from typing import Iterator

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


NO_EXTENSIONS = _flag("EVENTHUB_NO_EXTENSIONS")
REQUIRE_EXTENSIONS = _flag("EVENTHUB_REQUIRE_EXTENSIONS")
LIBRARY_DIR = os.environ.get("EVENTHUB_LIBRARY_DIR", "")

#: One set of directives for every module.
DIRECTIVES = {
    "language_level": 3,
    "embedsignature": True,
    "auto_pickle": False,
    "binding": True,
    "cdivision": True,
    "initializedcheck": False,
    # The modules rely on the GIL (per-module caches, a shared read buffer):
    # on a free-threaded CPython, importing one turns the GIL back on.
    "freethreading_compatible": False,
}

#: C mistakes that GCC 14 rejects by default while older compilers only warn.
#: Required builds (CI) make them errors here, so such a mistake fails CI
#: instead of leaving users of newer compilers with the pure hubs.
STRICT_C_ERRORS = [
    "-Werror=incompatible-pointer-types",
    "-Werror=implicit-function-declaration",
    "-Werror=int-conversion",
    "-Werror=implicit-int",
]

#: extension name -> sources; all share the C declarations in eventhub/includes.
MODULES = {
    "eventhub.hubs._core": ["eventhub/hubs/_core.pyx"],
    "eventhub.hubs._stackcache": ["eventhub/hubs/_stackcache.pyx"],
    "eventhub.hubs._epolls": ["eventhub/hubs/_epolls.pyx"],
    "eventhub.hubs._poll": ["eventhub/hubs/_poll.pyx"],
    "eventhub.hubs._selects": ["eventhub/hubs/_selects.pyx"],
    "eventhub.hubs._pyevent": ["eventhub/hubs/_pyevent.pyx"],
    "eventhub.hubs._asyncio": ["eventhub/hubs/_asyncio.pyx"],
    "eventhub._net": ["eventhub/_net.pyx"],
    "eventhub._timeout": ["eventhub/_timeout.pyx"],
    "eventhub._greenthread": ["eventhub/_greenthread.pyx"],
    "eventhub._queue": ["eventhub/_queue.pyx"],
    "eventhub._locks": ["eventhub/_locks.pyx"],
    "eventhub._eventlet_greenio": ["eventhub/_eventlet_greenio.pyx"],
}

#: extension name -> (shared library it links against, how to get it).
NEEDS_LIBRARY = {
    "eventhub.hubs._pyevent": ("event_core-2.1", "Debian: apt-get install libevent-core-2.1-7"),
}


#: Extensions left out because a library they link against is missing (with why).
SKIPPED: list[str] = []


def _find_library(name: str) -> tuple[str, str | None] | None:
    """(versioned file name, folder or None if on the linker's path) of ``lib<name>``, or None.

    Looks in EVENTHUB_LIBRARY_DIR alone when it is set; otherwise asks
    ldconfig's cache (ctypes), then looks in the usual library folders.
    """
    import sysconfig
    from ctypes.util import find_library

    if LIBRARY_DIR:
        folders: tuple[str, ...] = (LIBRARY_DIR,)
    else:
        found = find_library(name)
        if found and found.startswith(f"lib{name}.so"):
            return found, None
        multiarch = sysconfig.get_config_var("MULTIARCH") or ""
        folders = (f"/usr/lib/{multiarch}", f"/lib/{multiarch}", "/usr/lib64", "/usr/lib", "/usr/local/lib")
    for folder in folders:
        matches = sorted(glob.glob(os.path.join(folder, f"lib{name}.so.*")))
        if matches:
            return os.path.basename(matches[0]), folder
    return None


def _warn(message: str, fallback: str = "installing the pure-Python hubs only") -> None:
    sys.stderr.write(f"WARNING: eventhub: {message}; {fallback}\n")


class OptionalBuildExt(build_ext):
    """build_ext that turns failed compiles into one warning line unless required."""

    def run(self) -> None:
        self.failed: list[str] = []
        try:
            super().run()
        except Exception as e:
            if REQUIRE_EXTENSIONS:
                raise
            _warn(f"could not build the C extensions ({type(e).__name__}: {e})")
            return
        not_built = self.failed + SKIPPED
        if not_built:
            _warn(
                f"could not build {', '.join(not_built)}",
                "their pure-Python twins are used (pyevent has none: it is unavailable)",
            )

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception:
            if REQUIRE_EXTENSIONS:
                raise
            self.failed.append(ext.name)


class BuildPyWithStubs(build_py):
    """build_py that also puts each ``stubs/eventhub/**.pyi`` beside the module it types."""

    def run(self) -> None:
        super().run()
        for stub in sorted(glob.glob("stubs/eventhub/**/*.pyi", recursive=True)):
            target = os.path.join(self.build_lib, os.path.relpath(stub, "stubs"))
            self.mkpath(os.path.dirname(target))
            self.copy_file(stub, target)


def extensions() -> list:  # type: ignore[type-arg]
    if NO_EXTENSIONS:
        return []
    try:
        import greenlet
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError as e:
        if REQUIRE_EXTENSIONS:
            raise
        _warn(f"Cython or greenlet is missing ({e})")
        return []
    include = [os.path.dirname(greenlet.__file__)]
    compile_args = STRICT_C_ERRORS if REQUIRE_EXTENSIONS else []
    exts = []
    for name, sources in MODULES.items():
        link_args = []
        if name in NEEDS_LIBRARY:
            library, how = NEEDS_LIBRARY[name]
            found = _find_library(library)
            if found is None:
                where = f" in EVENTHUB_LIBRARY_DIR={LIBRARY_DIR}" if LIBRARY_DIR else ""
                SKIPPED.append(f"{name} (lib{library} not found{where}; {how})")
                continue
            soname, folder = found
            # The runtime library by its versioned name: no -dev package needed.
            link_args = ([f"-L{folder}"] if folder else []) + [f"-l:{soname}"]
        exts.append(
            Extension(name, sources, include_dirs=include, extra_compile_args=compile_args, extra_link_args=link_args)
        )
    if SKIPPED and REQUIRE_EXTENSIONS:
        raise SystemExit(f"eventhub: cannot build {', '.join(SKIPPED)}")
    try:
        built = cythonize(exts, compiler_directives=DIRECTIVES, include_path=["."])
    except Exception as e:
        if REQUIRE_EXTENSIONS:
            raise
        _warn(f"Cython failed ({e})")
        return []
    # cythonize() returns new Extension objects: mark these optional.
    for ext in built:
        ext.optional = not REQUIRE_EXTENSIONS
    return built


@contextmanager
def one_build_at_a_time() -> Iterator[None]:
    """Hold this tree's build lock: builds running side by side (tox -p builds
    each Python's wheel here; CI's sdist, wheels and memcheck jobs too) would
    share Cython's .c files, build/ and the egg-info."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


with one_build_at_a_time():
    setup(
        ext_modules=extensions(),
        cmdclass={"build_ext": OptionalBuildExt, "build_py": BuildPyWithStubs},
        # Wheels carry compiled modules, .pxd (for cimport), stubs and py.typed; no .c/.pyx/.pxi.
        exclude_package_data={"": ["*.c", "*.pyx", "*.pxi", "*.html"]},
    )
