"""Importers: float models trained elsewhere, read into hwssm's float checkpoint format.

- :mod:`.state_dict`: read a PyTorch state dict (``torch.load(weights_only=True)``) or an NPZ of it.
- :mod:`.s4d_reference`: the ``state-spaces/s4`` example S4D classifier (``hwssm import s4d``).
- :mod:`.s5_reference`: the ``lindermanlab/S5`` (JAX/flax) S5 classifier, its variables flattened
  to NPZ (``hwssm import s5``).
"""

from .s4d_reference import NormPlacement, RealTransform, S4DImport, import_s4d
from .s5_reference import S5Activation, S5Import, import_s5, read_param_tree
from .state_dict import read_state_dict

__all__ = ["NormPlacement", "RealTransform", "S4DImport", "import_s4d", "read_state_dict", "S5Activation",
           "S5Import", "import_s5", "read_param_tree"]
