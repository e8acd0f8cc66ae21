#!/bin/sh
# docker compose healthcheck of the kafka service (apache/kafka image): a metadata round trip
# (ApiVersions) on the containers' listener, logged in with the clients' SCRAM secret as
# bridge, worker and API log in. The secret reaches the tool only through a file this user
# alone can read (no argv). kafka-start.sh has checked the characters of the secrets.
set -eu

user="${IOC_KAFKA_USERNAME:-ioc}"
password="${IOC_KAFKA_PASSWORD:?set IOC_KAFKA_PASSWORD}"
home="${KAFKA_HOME:-/opt/kafka}"
bootstrap="${IOC_KAFKA_INTERNAL:-${IOC_KAFKA_ADVERTISED:-localhost:9092}}"
conf_dir="${IOC_KAFKA_CONF_DIR:-/tmp/ioc-kafka}"

umask 077
mkdir -p "$conf_dir"
conf="$conf_dir/health.properties"
cat > "$conf" <<END
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$user" password="$password";
request.timeout.ms=10000
END
# a small JVM and only the error on failure (the tool prints every API version otherwise)
exec java -Xmx128m -Djava.awt.headless=true -Dlog4j.configuration=file:/dev/null \
  -cp "$home/libs/*" kafka.admin.BrokerApiVersionsCommand \
  --bootstrap-server "$bootstrap" --command-config "$conf" >/dev/null
