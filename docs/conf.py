"""Sphinx configuration of the skscor documentation.

Build (offline; warnings are errors)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

Add ``-D plot_gallery=0`` to skip running the examples (the gallery pages are
then built without outputs).
"""

from __future__ import annotations

import os
import re
from datetime import date

# Tiny networks gain nothing from intra-op threads, and on a small shared
# machine several torch threads slow down sharply under contention. This only
# affects the documentation build, which executes the gallery examples; it must
# be set before torch is first imported (by autodoc or an example).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Headless build: the gallery scrapes figures from matplotlib's Agg backend.
os.environ.setdefault("MPLBACKEND", "Agg")

import skscor  # noqa: E402  (after the environment above)

project = "skscor"
author = "skscor developers"
copyright = f"{date.today().year}, {author}"
version = release = skscor.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections are the truth
autodoc_member_order = "bysource"
# Overridden methods without a docstring (``SAM.state_dict``, ``forward``) must
# not pull in torch's docstrings, which are not numpydoc.
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False  # the autosummary templates list members
numpydoc_class_members_toctree = False

# scikit-learn's metadata-routing helpers (``set_fit_request`` and friends)
# are generated on every estimator class; their docstrings cross-reference
# scikit-learn's own glossary and user guide, which do not exist here.
_SKIP_MEMBERS = re.compile(r"^(set_\w+_request|get_metadata_routing)$")


def _skip_member(app, what, name, obj, skip, options):
    if _SKIP_MEMBERS.match(name):
        return True
    return skip


# -- sphinx-gallery ------------------------------------------------------------
# Gallery order: from the quickstart to the diagnostics; any other example
# follows by file name.
_EXAMPLE_ORDER = [
    "plot_quickstart.py",
    "plot_tabular_frame.py",
    "plot_pipeline_gridsearch.py",
    "plot_probabilities.py",
    "plot_spectral_report.py",
    "plot_class_hessian.py",
    "plot_class_disparity.py",
]


class _ExampleOrder:
    """Sort key of sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        known = filename in _EXAMPLE_ORDER
        return (not known, _EXAMPLE_ORDER.index(filename) if known else 0, filename)


# A class in sphinx_gallery_conf cannot be pickled into Sphinx's environment
# cache, which Sphinx reports as a warning; the only cost is that every build
# is a full one. (sphinx-gallery >= 0.16 also takes an importable name as a
# string, but the docs extra supports 0.15.)
suppress_warnings = ["config.cache"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": _ExampleOrder,
    "download_all_examples": False,
    "doc_module": ("skscor",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skscor": None},
    "show_memory": False,
    "abort_on_example_error": True,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}

# -- HTML ----------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skscor {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "scikit-learn neural classifiers for class-imbalanced data",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
