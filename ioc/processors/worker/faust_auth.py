"""KafkaAccess in Faust's terms: broker URLs and SASL credentials (the faust-streaming adapter)."""

from __future__ import annotations

import faust

from ioc.core.kafka_auth import KafkaAccess

__all__ = ["faust_broker", "faust_credentials"]


def faust_broker(kafka: KafkaAccess) -> list[str]:
    """One `kafka://host:port` URL per bootstrap server."""
    return [f"kafka://{server}" for server in kafka.servers]


def faust_credentials(kafka: KafkaAccess) -> faust.SASLCredentials | None:
    """Faust's `broker_credentials` for the login, None for a PLAINTEXT broker."""
    if not kafka.sasl:
        return None
    return faust.SASLCredentials(username=kafka.username,
                                 password=kafka.password.get_secret_value(),
                                 mechanism=kafka.mechanism)
