"""Sphinx configuration of the storescu documentation.

Built by scripts/test.sh with warnings as errors and nitpicky references:

    sphinx-build -W --keep-going -n -E -b html docs build/docs/html

The command line, SCP options, exit codes and the conformance statement's
tables come from the code (docs/_ext/storescu_docs.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

from storescu.kernel import constants
from storescu.kernel.version import __version__

project = "storescu"
author = "the storescu developers"
copyright = "the storescu developers"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "storescu_docs",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# ARCHITECTURE.md is the main developer's file; explanation/architecture.md includes it.
exclude_patterns = ["_build", "ARCHITECTURE.md"]

myst_enable_extensions = ["colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
# Values quoted in the prose, taken from the code.
myst_substitutions = {
    "version": __version__,
    "implementation_class_uid": constants.IMPLEMENTATION_CLASS_UID,
    "implementation_version_name": constants.IMPLEMENTATION_VERSION_NAME,
    "default_calling_aet": constants.DEFAULT_CALLING_AET,
    "default_called_aet": constants.DEFAULT_CALLED_AET,
    "default_max_pdu": str(constants.DEFAULT_MAX_PDU),
    "min_max_pdu": str(constants.MIN_MAX_PDU),
    "max_max_pdu": str(constants.MAX_MAX_PDU),
    "max_association_pdu": str(constants.MAX_ASSOCIATION_PDU),
    "max_contexts": str(constants.MAX_PRESENTATION_CONTEXTS),
    "builtin_classes": str(len(constants.STORAGE_SOP_CLASSES)),
    "builtin_contexts": str(2 * len(constants.STORAGE_SOP_CLASSES)),
}

nitpicky = True
# Names from outside the project (no network: no intersphinx inventories).
_ROLES = r"py:(class|obj|exc|func|data|mod|meth|attr)"
_BUILTINS = (
    "int|str|bytes|bool|float|object|None|dict|list|tuple|set|frozenset|type|callable|"
    "iterable|optional|BaseException|Exception|KeyboardInterrupt|OSError|ValueError|"
    "TypeError|KeyError"
)
_STDLIB = (
    "ssl|socket|os|io|pathlib|typing|collections|enum|logging|threading|dataclasses|"
    "datetime|argparse"
)
nitpick_ignore_regex = [
    (_ROLES, rf"(builtins\.)?({_BUILTINS})"),
    (_ROLES, rf"({_STDLIB})(\..*)?"),
    (_ROLES, r"(pydicom|numpy|dask|distributed)(\..*)?"),
]

# Internal names that module docstrings mention and the API reference does not document.
nitpick_ignore = [
    ("py:class", "ParallelSender"),
    ("py:class", "storescu.run.sender.Sender"),
    ("py:data", "WINDOW"),
    ("py:func", "ensure_loaded"),
    ("py:class", "(int"),
    ("py:class", "int)"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_preprocess_types = True
napoleon_type_aliases = {"text stream": "typing.TextIO"}

html_theme = "alabaster"
html_title = f"storescu {__version__}"
html_static_path: list[str] = []
