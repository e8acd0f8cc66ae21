/*
 * Write-ahead journal for Mosquitto 2.0 (plugin API v5): nothing a QoS >= 1 publisher got
 * a PUBACK for is lost when the broker process dies (SIGKILL, OOM, crash).
 *
 * Mosquitto 2.0 writes its store only every autosave_interval. In handle_publish.c the
 * MOSQ_EVT_MESSAGE plugin event runs before the message is stored and PUBACKed, so this
 * plugin appends each incoming QoS >= 1 message to a segment file with one writev(2) there:
 * the record is in the kernel's page cache before the publisher gets its PUBACK, which
 * survives the death of the process (a power cut only with plugin_opt_fsync true).
 *
 * At start (plugin init runs after the store was restored, before the first packet is
 * read) every record received at or after mtime(store) - margin is published again
 * (mosquitto_broker_publish: to every matching subscription, with the record's QoS and
 * retain flag), ahead of anything new: duplicates of what was delivered after the last
 * save, never a loss. The store is saved synchronously in the broker's only thread, so a
 * closed segment whose newest record is older than mtime(store) - margin is not needed
 * any more and is unlinked on a TICK (rate limited to once a second), as are segments
 * rotated by age or size.
 *
 * Record (little endian): u32 magic "JNL1", u32 topic_len, u32 payload_len, u64 received
 * (epoch us, CLOCK_REALTIME), u8 qos, u8 retain, u16 0, topic, payload, u32 CRC-32 (IEEE)
 * of everything before it. A torn or corrupt record ends the reading of its segment.
 *
 * Options (plugin_opt_<name>): journal_dir (required), db_file (required: the broker's
 * persistence file), fsync (false), segment_seconds (10), segment_bytes (67108864),
 * margin_ms (1000), on_write_error (disconnect: the publisher gets no PUBACK and resends;
 * or continue).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAGIC 0x314C4E4Au /* "JNL1" */
#define HEADER 24
#define SUFFIX ".jnl"

struct segment {
	char path[PATH_MAX];
	int64_t newest_us;
};

static struct {
	mosquitto_plugin_id_t *id;
	char dir[PATH_MAX - 512]; /* room for a segment's name in a PATH_MAX path */
	char db_file[PATH_MAX];
	bool fsync, disconnect_on_error;
	int64_t segment_us, segment_bytes, margin_us;
	int fd;                       /* open segment, -1 if none */
	struct segment current;       /* its path and newest record */
	int64_t opened_us, size;
	struct segment *closed;
	size_t n_closed, cap_closed;
	int64_t last_tick_us, last_error_log_us;
	struct timespec db_mtime;
} J = {.fd = -1};

static uint32_t crc_table[256];

static void crc_init(void)
{
	for(uint32_t i = 0; i < 256; i++){
		uint32_t c = i;
		for(int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;
	crc = ~crc;
	while(len--) crc = crc_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v){ for(int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8*i)); }
static void put64(uint8_t *p, uint64_t v){ for(int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8*i)); }
static uint32_t get32(const uint8_t *p){ uint32_t v = 0; for(int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static uint64_t get64(const uint8_t *p){ uint64_t v = 0; for(int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }

static int64_t clock_us(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* mtime of the store in epoch us, or INT64_MIN when there is none (then all is replayed) */
static int64_t db_mtime_us(struct timespec *out)
{
	struct stat st;
	if(stat(J.db_file, &st) != 0) return INT64_MIN;
	if(out) *out = st.st_mtim;
	return (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
}

static void remember_closed(const struct segment *seg)
{
	if(J.n_closed == J.cap_closed){
		size_t cap = J.cap_closed ? 2 * J.cap_closed : 16;
		struct segment *grown = realloc(J.closed, cap * sizeof(*grown));
		if(grown == NULL) return; /* not forgotten for good: a restart scans the directory */
		J.closed = grown;
		J.cap_closed = cap;
	}
	J.closed[J.n_closed++] = *seg;
}

static int open_segment(void)
{
	int64_t start = clock_us(CLOCK_REALTIME);
	for(int tries = 0; tries < 1000; tries++, start++){
		snprintf(J.current.path, sizeof(J.current.path), "%s/%020" PRId64 SUFFIX, J.dir, start);
		J.fd = open(J.current.path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
		if(J.fd >= 0 || errno != EEXIST) break;
	}
	if(J.fd < 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "journal: cannot create a segment in %s: %s", J.dir, strerror(errno));
		return MOSQ_ERR_ERRNO;
	}
	J.current.newest_us = INT64_MIN;
	J.opened_us = clock_us(CLOCK_MONOTONIC);
	J.size = 0;
	return MOSQ_ERR_SUCCESS;
}

static void close_segment(void)
{
	if(J.fd < 0) return;
	close(J.fd);
	J.fd = -1;
	if(J.size == 0) unlink(J.current.path);
	else remember_closed(&J.current);
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *m = event_data;
	uint8_t head[HEADER], tail[4];
	(void)event; (void)userdata;
	if(m->qos == 0) return MOSQ_ERR_SUCCESS; /* no delivery promise to keep */
	size_t topic_len = strlen(m->topic);
	int64_t now = clock_us(CLOCK_REALTIME);
	put32(head, MAGIC);
	put32(head + 4, (uint32_t)topic_len);
	put32(head + 8, m->payloadlen);
	put64(head + 12, (uint64_t)now);
	head[20] = m->qos; head[21] = m->retain ? 1 : 0; head[22] = 0; head[23] = 0;
	uint32_t crc = crc_update(0, head, HEADER);
	crc = crc_update(crc, m->topic, topic_len);
	crc = crc_update(crc, m->payload, m->payloadlen);
	put32(tail, crc);
	struct iovec iov[4] = {{head, HEADER}, {m->topic, topic_len}, {m->payload, m->payloadlen}, {tail, 4}};
	ssize_t want = (ssize_t)(HEADER + topic_len + m->payloadlen + 4);
	if(J.fd < 0) open_segment(); /* a rotation that could not create its segment: try again */
	errno = EBADF;
	ssize_t got = J.fd >= 0 ? writev(J.fd, iov, 4) : -1;
	if(got == want && (!J.fsync || fdatasync(J.fd) == 0)){
		J.size += got;
		J.current.newest_us = now;
		return MOSQ_ERR_SUCCESS;
	}
	if(got > 0 && got < want){
		/* a torn record in the middle would end the reading of this segment: start another */
		close_segment();
		open_segment();
	}
	if(now - J.last_error_log_us > 10000000){
		J.last_error_log_us = now;
		mosquitto_log_printf(MOSQ_LOG_ERR, "journal: write to %s failed (%s); %s", J.current.path,
				got < 0 ? strerror(errno) : "short write",
				J.disconnect_on_error ? "publishers are disconnected without PUBACK" : "messages pass unjournaled");
	}
	return J.disconnect_on_error ? MOSQ_ERR_UNKNOWN : MOSQ_ERR_SUCCESS;
}

/* Replays one segment's records received at or after cutoff; returns its newest record. */
static int64_t replay_segment(const char *path, int64_t cutoff, long *replayed, long *torn)
{
	int64_t newest = INT64_MIN;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if(fd < 0 || fstat(fd, &st) != 0){
		if(fd >= 0) close(fd);
		mosquitto_log_printf(MOSQ_LOG_ERR, "journal: cannot read %s: %s", path, strerror(errno));
		return INT64_MAX; /* kept: never delete what could not be read */
	}
	uint8_t *buf = st.st_size > 0 ? malloc((size_t)st.st_size) : NULL;
	size_t len = 0;
	while(buf && len < (size_t)st.st_size){
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if(n <= 0) break;
		len += (size_t)n;
	}
	close(fd);
	size_t pos = 0;
	while(buf && pos + HEADER + 4 <= len){
		const uint8_t *r = buf + pos;
		uint64_t topic_len = get32(r + 4), payload_len = get32(r + 8);
		uint64_t size = HEADER + topic_len + payload_len + 4;
		if(get32(r) != MAGIC || size > len - pos || r[20] > 2
				|| get32(r + size - 4) != crc_update(0, r, (size_t)size - 4)){
			break;
		}
		int64_t at = (int64_t)get64(r + 12);
		if(at > newest) newest = at;
		if(at >= cutoff){
			char *topic = strndup((const char *)r + HEADER, (size_t)topic_len);
			if(topic && mosquitto_broker_publish_copy(NULL, topic, (int)payload_len,
						r + HEADER + topic_len, r[20], r[21] != 0, NULL) == MOSQ_ERR_SUCCESS){
				(*replayed)++;
			}
			free(topic);
		}
		pos += (size_t)size;
	}
	if(pos < len){
		(*torn)++;
		mosquitto_log_printf(MOSQ_LOG_WARNING, "journal: %s: %zu bytes after offset %zu are a torn or corrupt record; ignored",
				path, len - pos, pos);
	}
	free(buf);
	return newest;
}

static int by_name(const struct dirent **a, const struct dirent **b){ return strcmp((*a)->d_name, (*b)->d_name); }

static int is_segment(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > strlen(SUFFIX) && strcmp(d->d_name + n - strlen(SUFFIX), SUFFIX) == 0;
}

/* Replays what the store may lack, oldest segment first; forgets segments the store covers. */
static void replay(void)
{
	struct dirent **names;
	int64_t mtime = db_mtime_us(&J.db_mtime);
	int64_t cutoff = mtime == INT64_MIN ? INT64_MIN : mtime - J.margin_us;
	long replayed = 0, torn = 0, removed = 0;
	int n = scandir(J.dir, &names, is_segment, by_name);
	for(int i = 0; i < n; i++){
		struct segment seg;
		snprintf(seg.path, sizeof(seg.path), "%s/%s", J.dir, names[i]->d_name);
		seg.newest_us = replay_segment(seg.path, cutoff, &replayed, &torn);
		if(seg.newest_us < cutoff){
			unlink(seg.path);
			removed++;
		}else{
			remember_closed(&seg);
		}
		free(names[i]);
	}
	if(n >= 0) free(names);
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "journal: replayed %ld message(s) received since the store was saved%s; "
			"%d segment(s) read, %ld removed, %ld with a torn tail",
			replayed, mtime == INT64_MIN ? " (no store: all)" : "", n < 0 ? 0 : n, removed, torn);
}

/* Unlinks closed segments whose every record the store holds (or had already delivered). */
static void prune(void)
{
	struct timespec ts;
	int64_t mtime = db_mtime_us(&ts);
	if(mtime == INT64_MIN || (ts.tv_sec == J.db_mtime.tv_sec && ts.tv_nsec == J.db_mtime.tv_nsec)) return;
	J.db_mtime = ts;
	size_t keep = 0;
	for(size_t i = 0; i < J.n_closed; i++){
		if(J.closed[i].newest_us < mtime - J.margin_us) unlink(J.closed[i].path);
		else J.closed[keep++] = J.closed[i];
	}
	J.n_closed = keep;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event; (void)event_data; (void)userdata;
	int64_t now = clock_us(CLOCK_MONOTONIC);
	if(now - J.last_tick_us < 1000000) return MOSQ_ERR_SUCCESS; /* every loop pass: once a second is enough */
	J.last_tick_us = now;
	if(J.fd < 0 || (J.size > 0 && (now - J.opened_us >= J.segment_us || J.size >= J.segment_bytes))){
		close_segment();
		open_segment();
	}
	prune();
	return MOSQ_ERR_SUCCESS;
}

static bool parse_options(struct mosquitto_opt *options, int option_count)
{
	J.segment_us = 10 * 1000000LL;
	J.segment_bytes = 64LL * 1024 * 1024;
	J.margin_us = 1000000;
	J.disconnect_on_error = true;
	for(int i = 0; i < option_count; i++){
		const char *k = options[i].key, *v = options[i].value;
		if(!strcasecmp(k, "journal_dir")) snprintf(J.dir, sizeof(J.dir), "%s", v);
		else if(!strcasecmp(k, "db_file")) snprintf(J.db_file, sizeof(J.db_file), "%s", v);
		else if(!strcasecmp(k, "fsync")) J.fsync = !strcasecmp(v, "true");
		else if(!strcasecmp(k, "segment_seconds")) J.segment_us = atoll(v) * 1000000LL;
		else if(!strcasecmp(k, "segment_bytes")) J.segment_bytes = atoll(v);
		else if(!strcasecmp(k, "margin_ms")) J.margin_us = atoll(v) * 1000LL;
		else if(!strcasecmp(k, "on_write_error")) J.disconnect_on_error = strcasecmp(v, "continue") != 0;
	}
	if(!J.dir[0] || strlen(J.dir) >= sizeof(J.dir) - 1 || !J.db_file[0] || J.segment_us <= 0 || J.segment_bytes <= 0 || J.margin_us < 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "journal: plugin_opt_journal_dir (< 3583 bytes) and plugin_opt_db_file are required; "
				"segment_seconds and segment_bytes must be > 0, margin_ms >= 0");
		return false;
	}
	return true;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **user_data,
		struct mosquitto_opt *options, int option_count)
{
	(void)user_data;
	crc_init();
	if(!parse_options(options, option_count)) return MOSQ_ERR_INVAL;
	if(mkdir(J.dir, 0700) != 0 && errno != EEXIST){
		mosquitto_log_printf(MOSQ_LOG_ERR, "journal: cannot create %s: %s", J.dir, strerror(errno));
		return MOSQ_ERR_ERRNO;
	}
	J.id = identifier;
	replay();
	int rc = open_segment();
	if(rc) return rc;
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "journal: writing QoS 1/2 messages to %s (fsync %s)",
			J.dir, J.fsync ? "on" : "off");
	rc = mosquitto_callback_register(J.id, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
	if(rc == MOSQ_ERR_SUCCESS) rc = mosquitto_callback_register(J.id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
	return rc;
}

int mosquitto_plugin_cleanup(void *user_data, struct mosquitto_opt *options, int option_count)
{
	(void)user_data; (void)options; (void)option_count;
	if(J.id){
		mosquitto_callback_unregister(J.id, MOSQ_EVT_MESSAGE, on_message, NULL);
		mosquitto_callback_unregister(J.id, MOSQ_EVT_TICK, on_tick, NULL);
	}
	/* the broker saved its store before this runs on a clean shutdown: the next start prunes */
	close_segment();
	free(J.closed);
	J.closed = NULL;
	J.n_closed = J.cap_closed = 0;
	return MOSQ_ERR_SUCCESS;
}
