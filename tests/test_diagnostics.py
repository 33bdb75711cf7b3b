"""An extension that is installed but does not import is named, never passed over in silence."""

from __future__ import annotations

from conftest import RunPython

# Stands in for an extension built against another Python: the import fails
# with the loader's error, as `undefined symbol` did on 3.13 before pycompat.
BROKEN_LIBEVENT = """
import importlib, warnings
real_import = importlib.import_module

def import_module(name, *args):
    if name == "eventhub.hubs._pyevent":
        raise ImportError("_pyevent.so: undefined symbol: _PyObject_LookupAttr")
    return real_import(name, *args)

importlib.import_module = import_module
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from eventhub import hubs
    from eventhub.hubs import pyevent
print("warned:", [str(w.message) for w in caught if w.category is RuntimeWarning])
print("warned at:", [w.filename for w in caught if w.category is RuntimeWarning])
try:
    hubs.use_hub("pyevent")
except hubs.HubError as e:
    print("use_hub:", e)
from eventhub.__main__ import main
print("status:", main())
"""


def test_a_broken_extension_is_named_by_the_warning_use_hub_and_python_m_eventhub(run_python: RunPython) -> None:
    out = run_python(["-c", BROKEN_LIBEVENT], env={"EVENTHUB_NO_EXTENSIONS": ""}).stdout
    error = "ImportError: _pyevent.so: undefined symbol: _PyObject_LookupAttr"
    warned = next(line for line in out.splitlines() if line.startswith("warned:"))
    assert "eventhub.hubs._pyevent is installed but does not import" in warned and error in warned
    # The warning points at the import that wanted the extension: the backend module.
    warned_at = next(line for line in out.splitlines() if line.startswith("warned at:"))
    assert "/eventhub/hubs/pyevent.py'" in warned_at and "_variant.py" not in warned_at
    use_hub = next(line for line in out.splitlines() if line.startswith("use_hub:"))
    assert f"is installed but does not import: {error}" in use_hub
    assert "reinstall" not in use_hub  # a compiler was there: reinstalling would not help
    assert f"installed but does not import: eventhub.hubs._pyevent: {error}" in out
    assert "status: 1" in out
