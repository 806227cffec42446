"""Training in torch (optional ``train`` extra): the float S4D recipe and, later, QAT.

Nothing outside this package imports torch; :mod:`hwssm.commands.train` imports these
modules inside its handler only, so ``hwssm --help`` works without torch.
"""
