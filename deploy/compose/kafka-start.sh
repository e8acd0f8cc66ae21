#!/bin/sh
# Kafka for docker compose (apache/kafka image, KRaft, one node) with SASL only, as
# `ioc services up` runs it natively (ioc/devstack/kafka_sasl.py): clients log in with
# SCRAM-SHA-512 on CLIENT (:9092, advertised to the host) and, when IOC_KAFKA_INTERNAL is
# set (HOST:PORT, e.g. kafka:19092), on INTERNAL for the other containers (the same SASL
# login, advertised under the compose service name; it listens on IOC_KAFKA_INTERNAL_LISTEN,
# default :PORT); the controller listener takes the broker's own PLAIN admin login. New
# storage is formatted with the SCRAM users. Secrets come from the environment and reach
# Kafka only through files this user alone can read (no argv).
set -eu

user="${IOC_KAFKA_USERNAME:-ioc}"
password="${IOC_KAFKA_PASSWORD:?set IOC_KAFKA_PASSWORD (ioc services up writes it to .ioc/credentials.env)}"
admin="${IOC_KAFKA_ADMIN_PASSWORD:?set IOC_KAFKA_ADMIN_PASSWORD}"
home="${KAFKA_HOME:-/opt/kafka}"
data="${IOC_KAFKA_DATA:-/var/lib/kafka/data}"
listen="${IOC_KAFKA_LISTEN:-:9092}"
advertised="${IOC_KAFKA_ADVERTISED:-localhost:9092}"
controller="${IOC_KAFKA_CONTROLLER:-localhost:9093}"
internal="${IOC_KAFKA_INTERNAL:-}"
conf_dir="${IOC_KAFKA_CONF_DIR:-/tmp/ioc-kafka}"
log4j="${KAFKA_LOG4J:-$home/config/log4j.properties}"
marker="$data/.ioc-scram-users"

for value in "$user" "$password" "$admin"; do  # they go into JAAS and --add-scram syntax
  case "$value" in
    "" | *[!A-Za-z0-9._~+/@:-]*)
      echo "kafka-start: IOC_KAFKA_USERNAME/PASSWORD/ADMIN_PASSWORD must be characters" \
           "from A-Z a-z 0-9 . _ ~ + / @ : -" >&2
      exit 2 ;;
  esac
done
[ "$user" != admin ] || { echo "kafka-start: IOC_KAFKA_USERNAME must not be admin" >&2; exit 2; }

listeners="CLIENT://$listen"
advertised_listeners="CLIENT://$advertised"
protocols="CLIENT:SASL_PLAINTEXT"
if [ -n "$internal" ]; then
  internal_port="${internal##*:}"
  case "$internal/$internal_port" in  # HOST:PORT, one colon, a port of digits
    *[!A-Za-z0-9.:/-]* | :* | *:*:* | *:/* | */ | */*[!0-9]* | "$internal_port/$internal_port")
      echo "kafka-start: IOC_KAFKA_INTERNAL must be HOST:PORT (e.g. kafka:19092)" >&2
      exit 2 ;;
  esac
  listeners="$listeners,INTERNAL://${IOC_KAFKA_INTERNAL_LISTEN:-:$internal_port}"
  advertised_listeners="$advertised_listeners,INTERNAL://$internal"
  protocols="$protocols,INTERNAL:SASL_PLAINTEXT"
fi

umask 077
mkdir -p "$conf_dir" "$data"
conf="$conf_dir/server.properties"
scram="org.apache.kafka.common.security.scram.ScramLoginModule"
plain="org.apache.kafka.common.security.plain.PlainLoginModule"
cat > "$conf" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$controller
listeners=$listeners,CONTROLLER://$controller
advertised.listeners=$advertised_listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=$protocols,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=$scram required username="admin" password="$admin";
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=$scram required username="admin" password="$admin";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain required username="admin" password="$admin" user_admin="$admin";
log.dirs=$data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
EOF

java_opts="-Djava.awt.headless=true"
[ -f "$log4j" ] && java_opts="$java_opts -Dlog4j.configuration=file:$log4j"

if [ ! -f "$data/meta.properties" ]; then
  while :; do  # a cluster id as `kafka-storage random-uuid` prints it (not starting with -)
    cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c 1-22)"
    case "$cid" in -*) ;; *) break ;; esac
  done
  args="$conf_dir/format.args"
  printf '"%s"\n' kafka.tools.StorageTool format -t "$cid" -c "$conf" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$admin]" \
    --add-scram "SCRAM-SHA-512=[name=$user,password=$password]" > "$args"
  # shellcheck disable=SC2086  # java_opts holds separate options
  java -Xmx256m $java_opts -cp "$home/libs/*" "@$args" >/dev/null
  rm -f "$args"
  : > "$marker"
elif [ ! -f "$marker" ]; then
  echo "kafka-start: the kafka-data volume was formatted before SASL and has no SCRAM users." >&2
  echo "kafka-start: remove it (docker compose down; docker volume rm dongxoai-ioc_kafka-data)" \
       "or migrate it with the native stack (ioc services up does it in place)." >&2
  exit 3
fi

# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m} -XX:+UseG1GC $java_opts -cp "$home/libs/*" \
  kafka.Kafka "$conf"
