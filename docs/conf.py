"""Sphinx configuration: the guide (MyST Markdown), the API reference (autodoc)
and doctest-checked examples.  Built with ``tox -e docs`` (warnings are errors).

autodoc imports the installed eventhub, so the reference shows the compiled
modules when they were built and the pure ones always.
"""

from __future__ import annotations

import warnings

import eventhub

# autodoc imports the eventlet adapter, and eventlet warns on import that it
# is deprecated: true, and not the docs' concern.
warnings.filterwarnings("ignore", message="\nEventlet is deprecated")

project = "eventhub"
author = "eventhub developers"
copyright = "2026, eventhub developers"
release = eventhub.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Every doctest group starts on a fresh hub of this thread.
doctest_global_setup = """
import eventhub
from eventhub import hubs
hubs.use_hub()
"""

html_theme = "alabaster"
html_title = f"eventhub {release}"
