"""admin_from_settings: the one way tools and tests become the dynamic-security admin."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from ioc.core.errors import ConfigError
from ioc.core.mqtt_admin import DynsecAdmin, admin_from_settings
from ioc.core.mqtt_identities import ADMIN_USER
from ioc.core.settings import Settings


@pytest.mark.parametrize("password", [None, SecretStr("")])
def test_missing_or_empty_admin_password_is_a_config_error(password: SecretStr | None) -> None:
    with pytest.raises(ConfigError, match="IOC_MQTT_ADMIN_PASSWORD is not set"):
        admin_from_settings(Settings(mqtt_admin_password=password))


def test_admin_is_made_for_the_settings_broker_without_connecting() -> None:
    settings = Settings(mqtt_admin_password=SecretStr("pw"), mqtt_host="10.9.8.7", mqtt_port=1)
    admin = admin_from_settings(settings)  # nothing listens there: made, not dialled
    assert isinstance(admin, DynsecAdmin)
    assert (admin._host, admin._port, admin._user) == ("10.9.8.7", 1, ADMIN_USER)
