"""The cocotb testbench modules, run inside the simulation process (never imported by hwssm).

:func:`hwssm.verify.build.cocotb_runner` puts this directory on the simulation's
``PYTHONPATH``, so the test module is the top-level ``tb_core``
(:data:`hwssm.verify.build.TB_MODULE`). It ships in the wheel with the package.
"""
