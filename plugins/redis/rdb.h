/*
 * The RDB snapshot format, as far as cairn needs it: the CRC-64 Redis
 * stamps on snapshots and DUMP payloads, and a streaming walk over an RDB
 * that checks it is whole (magic, version, structure, trailing CRC) and
 * finds every key's boundaries without decoding values.
 *
 * A key's value encoding in an RDB is exactly the body of the payload
 * that DUMP produces and RESTORE accepts (both come from rdbSaveObject),
 * so the walk can hand each key over as a ready RESTORE payload: the type
 * byte, the encoded value as it was in the file, the RDB version (2 bytes,
 * little-endian) and the CRC-64 of all that (8 bytes, little-endian).
 *
 * The walk pulls bytes through a fill function and hands every byte it
 * consumed, in order and exactly once, to a tap: a backup taps the bytes
 * into the archive while they are being checked, so nothing is read twice
 * and nothing is staged.
 */
#ifndef CAIRN_REDIS_RDB_H
#define CAIRN_REDIS_RDB_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

/* The newest RDB version whose structure the walk knows (Redis 7.2). */
#define RDB_VERSION_KNOWN 11

/* Length of the trailing checksum of an RDB of version 5 or later. */
#define RDB_CHECKSUM_SIZE 8

/*
 * CRC-64 as Redis computes it (Jones polynomial 0xad93d23594c935a9,
 * reflected, initial value 0, no final xor): crc64(0, "123456789", 9) is
 * 0xe9c6d914c4b8d9ca. Continue a running CRC by passing it back in.
 */
uint64_t rdb_crc64(uint64_t crc, const void *data, size_t length);

/*
 * Fills `buffer` with up to `size` bytes of the RDB: *got > 0 bytes, or
 * *got = 0 at the end of the stream. Returns 0, or -1 after filling err.
 */
typedef int (*rdb_fill_fn)(void *arg, void *buffer, size_t size, size_t *got,
			   struct cairn_error *err);

/* Receives consumed bytes, in order. Returns 0, or -1 after filling err. */
typedef int (*rdb_tap_fn)(void *arg, const void *data, size_t length,
			  struct cairn_error *err);

/* A growable byte buffer; the data is owned by the buffer. */
struct rdb_buf {
	unsigned char *data;
	size_t length;
	size_t capacity;
};

void rdb_buf_release(struct rdb_buf *buf);
int rdb_buf_append(struct rdb_buf *buf, const void *data, size_t length);

/*
 * One key of the snapshot, valid during the key callback only. `payload`
 * is the DUMP/RESTORE payload when the walk was asked to capture values,
 * NULL otherwise. -1 in expire_ms, idle and freq means absent.
 *
 * `empty` is 1 for a key that redis-server skips when it loads the file
 * ("rdbLoadObject skipping empty key") and whose payload RESTORE refuses
 * with "Bad data format": a list, set, sorted set or hash of the plain
 * encodings with no elements; a ziplist-encoded list, hash or sorted set
 * and a listpack-encoded hash, sorted set or set holding no entry; a
 * quicklist whose nodes are all empty. Redis' rdbLoadObject checks
 * exactly these (7.0 and later). An empty intset or zipmap is not
 * skipped: Redis' integrity checks call it corrupt and the load fails,
 * as RESTORE of it does; a stream without entries is a valid key.
 */
struct rdb_key {
	uint64_t db;
	unsigned char type;
	const unsigned char *name;
	size_t name_length;
	int64_t expire_ms; /* absolute Unix time in milliseconds */
	int64_t idle;	   /* LRU idle time in seconds */
	int freq;	   /* LFU frequency */
	const unsigned char *payload;
	size_t payload_length;
	int empty;
};

struct rdb_visitor {
	/* Whether key callbacks get RESTORE payloads. */
	int capture;
	/*
	 * Whether a type or opcode this walk does not know ends the
	 * structural walk (the rest is then only checked against the
	 * trailing CRC, and the summary says so) instead of failing it.
	 */
	int tolerant;
	/* Called for every key; NULL to only count. */
	int (*key)(void *arg, const struct rdb_key *key,
		   struct cairn_error *err);
	/*
	 * Called with each function library record (opcode byte and the
	 * library code string, as FUNCTION DUMP lays them out); NULL to
	 * skip them.
	 */
	int (*function)(void *arg, const unsigned char *record, size_t length,
			struct cairn_error *err);
	void *arg;
};

/* What the walk learnt; release with rdb_summary_release. */
struct rdb_summary {
	int version;
	char redis_version[32]; /* "redis-ver" aux field, "" if absent */
	uint64_t bytes;		/* bytes consumed, checksum included */
	int checksum;		/* 1 verified, 0 disabled in the source */
	uint64_t *keys;		/* keys per database, db_count of them */
	uint64_t *expires;	/* keys with a time to live, per database */
	size_t db_count;
	uint64_t functions;  /* function libraries */
	uint64_t module_aux; /* module auxiliary records (skipped) */
	uint64_t empty_keys; /* keys Redis skips on load: not in keys[] */
	int opaque;	     /* the walk stopped early (tolerant mode) */
	char opaque_reason[128];
};

void rdb_summary_release(struct rdb_summary *summary);
/* Total keys over all databases. */
uint64_t rdb_summary_keys(const struct rdb_summary *summary);

/*
 * Walks the RDB read through `fill`, giving every consumed byte to `tap`
 * (which may be NULL), and calls the visitor for keys and functions. The
 * stream must end right after the checksum. Fills *summary (zeroed first;
 * the caller releases it, also on failure). Returns 0 when the RDB is
 * whole, -1 with a message naming the offset otherwise.
 */
int rdb_walk(rdb_fill_fn fill, void *fill_arg, rdb_tap_fn tap, void *tap_arg,
	     const struct rdb_visitor *visitor, struct rdb_summary *summary,
	     struct cairn_error *err);

/*
 * Checks the 9-byte header "REDIS" followed by a 4-digit version and
 * returns the version, or -1 after filling err.
 */
int rdb_header_version(const unsigned char *header, size_t length,
		       struct cairn_error *err);

/* Decompresses LZF data; returns 0, or -1 when `in` is not valid LZF. */
int rdb_lzf_decompress(const unsigned char *in, size_t in_length,
		       unsigned char *out, size_t out_length);

#endif
