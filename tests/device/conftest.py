"""Shared fixtures of the device-model tests: every model × devices-per-polarity combination."""

import pytest

from chipsim.device import make_device
from chipsim.spec import DeviceModel, DeviceSpec

CONFIGS = {
    "pcm_like-1": (DeviceModel.PCM_LIKE, 1),
    "pcm_like-2": (DeviceModel.PCM_LIKE, 2),
    "hermes-1": (DeviceModel.HERMES, 1),
    "hermes-2": (DeviceModel.HERMES, 2),
}


@pytest.fixture(params=sorted(CONFIGS))
def config(request):
    """``(model, devices_per_polarity)`` for each combination."""
    return CONFIGS[request.param]


@pytest.fixture
def dev(config):
    """The default-resolved :class:`PCMDevice` of each combination."""
    model, devices = config
    return make_device(DeviceSpec(model=model), devices)
