"""Build profiles: each device gets the generator and synthesis options hwssm uses for it."""

import dataclasses
import json

import pytest

from hwssm.hw.options import Pipeline
from hwssm.hw.emit import PARAMS_NAME, generate
from hwssm.hw.storage import ParamStorage
from hwssm.quant.plan import parse_code
from hwssm.quant.random_qmodel import random_qmodel
from hwssm import targets
from hwssm.synth.profile import device_profile


def test_up5k_keeps_parameters_in_spram_and_narrow_multiplies_in_luts():
    p = device_profile(targets.UP5K)
    assert p.storage is ParamStorage.LOAD and p.synth.spram and p.soft_mul_bits == 4
    assert p.pipeline == Pipeline.closure() and p.synth.dsp


def test_ecp5_uses_roms_and_the_fast_pipeline():
    p = device_profile(targets.ECP5_25K, dsp=False)
    assert p.storage is ParamStorage.ROM and p.soft_mul_bits == 0 and not p.synth.spram
    assert p.pipeline == Pipeline(**{**dataclasses.asdict(Pipeline.closure()), "mem_stages": 3, "bank_words": 2048})
    assert not p.synth.dsp


def test_hx8k_has_no_dsps_and_keeps_parameters_in_roms():
    p = device_profile(targets.HX8K)  # dsp=True asked: the device has none
    assert p.storage is ParamStorage.ROM and not p.synth.dsp and not p.synth.spram
    assert p.design(2).soft_mul_bits == 4 and p.design(2).pipeline == Pipeline.fast()


@pytest.mark.parametrize("device", targets.devices(), ids=lambda d: d.name)
def test_profile_json_and_generation(device, tmp_path):
    p = device_profile(device)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["storage"] == p.storage.value and d["pipeline"]["mem_stages"] == p.pipeline.mem_stages
    qm = random_qmodel(3, 2, 1, parse_code("A8x5-B4C4D4-W3-a6-b8-h"), seed=3)
    man = generate(qm, p.design(1, 3), tmp_path)
    assert man["storage"] == p.storage.value and man["pipeline"]["requant_stages"] == p.pipeline.requant_stages
    assert (tmp_path / PARAMS_NAME).exists() == (p.storage is ParamStorage.LOAD)
