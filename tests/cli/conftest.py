"""The provider fixtures (test CA, software key set, SoftHSM) for the CLI tests."""

from tests.providers.conftest import softhsm, software_set, test_ca

__all__ = ["softhsm", "software_set", "test_ca"]
