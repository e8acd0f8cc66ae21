"""How a process reaches Kafka and logs in: bootstrap servers plus SASL/SCRAM credentials.

Every Kafka client in the project is built from one KafkaAccess, so none can forget the
login. `client_options()` are keyword arguments that kafka-python (KafkaProducer,
KafkaConsumer, KafkaAdminClient) and aiokafka both accept; the Faust worker turns the same
object into Faust's broker credentials in its own adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretStr

from ioc.core.errors import ConfigError
from ioc.core.settings import DEV_PLACEHOLDER, Settings

__all__ = ["KafkaAccess", "SaslMechanism", "SecurityProtocol", "kafka_access"]

SecurityProtocol = Literal["SASL_PLAINTEXT", "PLAINTEXT"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]
_NO_PASSWORD = SecretStr("")


@dataclass(frozen=True)
class KafkaAccess:
    """Where the brokers are and how this process proves who it is to them."""

    bootstrap: str
    protocol: SecurityProtocol = "SASL_PLAINTEXT"
    mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str = ""
    password: SecretStr = _NO_PASSWORD

    def __post_init__(self) -> None:
        if not self.servers:
            raise ConfigError("no Kafka bootstrap server given (IOC_KAFKA_BOOTSTRAP)")
        if self.sasl and not (self.username and self.password.get_secret_value()):
            raise ConfigError(f"Kafka over {self.protocol} needs IOC_KAFKA_USERNAME and "
                              "IOC_KAFKA_PASSWORD (`ioc services up` writes them to "
                              ".ioc/credentials.env)")
        if self.sasl and self.password.get_secret_value() == DEV_PLACEHOLDER:
            # a published default is no login: refused in every profile, like the API secret
            raise ConfigError("IOC_KAFKA_PASSWORD is the placeholder "
                              f"{DEV_PLACEHOLDER!r}; unset it to use the one `ioc services "
                              "up` generated in .ioc/credentials.env, or set a real one")

    @property
    def servers(self) -> list[str]:
        """The bootstrap `host:port` entries."""
        return [part.strip() for part in self.bootstrap.split(",") if part.strip()]

    @property
    def sasl(self) -> bool:
        """True when the client must log in."""
        return self.protocol != "PLAINTEXT"

    def security_options(self) -> dict[str, Any]:
        """security_protocol and, with SASL, the mechanism and login (kafka-python, aiokafka)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            options.update(sasl_mechanism=self.mechanism, sasl_plain_username=self.username,
                           sasl_plain_password=self.password.get_secret_value())
        return options

    def client_options(self) -> dict[str, Any]:
        """bootstrap_servers plus security_options(): spread into any kafka-python client."""
        return {"bootstrap_servers": self.servers, **self.security_options()}

    def librdkafka_options(self) -> dict[str, Any]:
        """bootstrap.servers, security.protocol and the SASL login as librdkafka properties."""
        props: dict[str, Any] = {"bootstrap.servers": self.bootstrap,
                                 "security.protocol": self.protocol}
        if self.sasl:
            props.update({"sasl.mechanisms": self.mechanism, "sasl.username": self.username,
                          "sasl.password": self.password.get_secret_value()})
        return props

    def with_login(self, username: str, password: str) -> KafkaAccess:
        """The same brokers and mechanism with another SASL login."""
        return KafkaAccess(self.bootstrap, "SASL_PLAINTEXT", self.mechanism, username,
                           SecretStr(password))


def kafka_access(settings: Settings) -> KafkaAccess:
    """This process's KafkaAccess from IOC_KAFKA_* settings."""
    return KafkaAccess(settings.kafka_bootstrap, settings.kafka_security_protocol,
                       settings.kafka_sasl_mechanism, settings.kafka_username,
                       settings.kafka_password)
