"""Packaging beyond what pyproject.toml can declare: the shipped models.

The repository keeps its trained models in ``models/`` (beside their model card, training
logs and results). The wheel carries the QModels and the float checkpoint they came from as
package data ``hwssm/shipped_models/`` (found by :func:`hwssm.config.models_dir`), mapped here
from ``models/`` so that the files exist once in the repository.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["hwssm", "hwssm.*"]) + ["hwssm.shipped_models"],
    package_dir={"hwssm.shipped_models": "models"},
    package_data={"hwssm.shipped_models": ["*.qmodel.json", "*.qmodel.npz", "s4d_float.json", "s4d_float.npz"],
                  "": ["*.md", "*.v"]},
)
