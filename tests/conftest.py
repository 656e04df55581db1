import pytest

from tests.county import County


@pytest.fixture
def county(tmp_path):
    return County(tmp_path)
