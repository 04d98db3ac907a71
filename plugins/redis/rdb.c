/*
 * The RDB format: CRC-64, and a streaming walk that checks a snapshot is
 * whole and cuts each key's encoded value out of it as a RESTORE payload
 * (see rdb.h).
 *
 * The walk follows rdb.c of Redis 7.2 (RDB versions up to 11): opcodes
 * before and between keys, then per value type the layout rdbSaveObject
 * writes. Values are never decoded, only skipped over: strings by their
 * length (integer and LZF encodings included), aggregates by their element
 * counts, module values by the opcodes RDB_TYPE_MODULE_2 annotates them
 * with. Only key names and aux fields are decoded, and the few bytes that
 * tell whether an aggregate is empty (Redis skips such keys on load and
 * RESTORE refuses them, so callers must know).
 *
 * Invariants of struct rdb_reader: buffer[pos, end) holds unread bytes;
 * buffer[tapped, pos) holds consumed bytes not yet given to the tap and
 * the CRC; every consumed byte goes through reader_flush exactly once.
 */
#include "autoconfig.h"

#include "rdb.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opcodes (rdb.h of Redis). */
#define RDB_OPCODE_SLOT_INFO 244
#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_FUNCTION_PRE_GA 246
#define RDB_OPCODE_MODULE_AUX 247
#define RDB_OPCODE_IDLE 248
#define RDB_OPCODE_FREQ 249
#define RDB_OPCODE_AUX 250
#define RDB_OPCODE_RESIZEDB 251
#define RDB_OPCODE_EXPIRETIME_MS 252
#define RDB_OPCODE_EXPIRETIME 253
#define RDB_OPCODE_SELECTDB 254
#define RDB_OPCODE_EOF 255

/* Value types. */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_MODULE_PRE_GA 6
#define RDB_TYPE_MODULE_2 7
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS_2 19
#define RDB_TYPE_SET_LISTPACK 20
#define RDB_TYPE_STREAM_LISTPACKS_3 21

/* Length encodings. */
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Module value opcodes. */
#define RDB_MODULE_OPCODE_EOF 0
#define RDB_MODULE_OPCODE_SINT 1
#define RDB_MODULE_OPCODE_UINT 2
#define RDB_MODULE_OPCODE_FLOAT 3
#define RDB_MODULE_OPCODE_DOUBLE 4
#define RDB_MODULE_OPCODE_STRING 5

#define RDB_READ_BUFFER (1024 * 1024)
/* The most databases a snapshot may name; Redis' own limit is INT_MAX,
 * but a count table this size is already absurd. */
#define RDB_MAX_DB 1048576

/* Returned by walk steps that met an unknown type in tolerant mode. */
#define RDB_UNKNOWN (-2)

struct rdb_reader {
	rdb_fill_fn fill;
	void *fill_arg;
	rdb_tap_fn tap;
	void *tap_arg;
	unsigned char *buffer;
	size_t pos, end, tapped;
	int at_end;
	uint64_t offset; /* bytes consumed */
	uint64_t crc;	 /* of every tapped byte but the last 8 */
	unsigned char trailer[RDB_CHECKSUM_SIZE];
	size_t trailer_length;
	struct rdb_buf *capture; /* consumed bytes also go here */
	struct cairn_error *err;
};

static uint64_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	const uint64_t poly = 0x95ac9329ac4bc9b5ULL; /* reflected Jones */
	unsigned int i, k;

	for (i = 0; i < 256; i++) {
		uint64_t crc = i;

		for (k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
		crc_table[0][i] = crc;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_table[k][i] =
				(crc_table[k - 1][i] >> 8) ^
				crc_table[0][crc_table[k - 1][i] & 0xff];
}

uint64_t
rdb_crc64(uint64_t crc, const void *data, size_t length)
{
	const unsigned char *p = data;

	pthread_once(&crc_once, crc_init);
	/* Slicing by 8: eight table lookups per 8 bytes. */
	while (length >= 8) {
		uint64_t word = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
				(uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
				(uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
				(uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;

		crc ^= word;
		crc = crc_table[7][crc & 0xff] ^
		      crc_table[6][(crc >> 8) & 0xff] ^
		      crc_table[5][(crc >> 16) & 0xff] ^
		      crc_table[4][(crc >> 24) & 0xff] ^
		      crc_table[3][(crc >> 32) & 0xff] ^
		      crc_table[2][(crc >> 40) & 0xff] ^
		      crc_table[1][(crc >> 48) & 0xff] ^
		      crc_table[0][crc >> 56];
		p += 8;
		length -= 8;
	}
	while (length-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

void
rdb_buf_release(struct rdb_buf *buf)
{
	free(buf->data);
	memset(buf, 0, sizeof(*buf));
}

int
rdb_buf_append(struct rdb_buf *buf, const void *data, size_t length)
{
	if (length > SIZE_MAX - buf->length - 1)
		return -1;
	if (buf->length + length > buf->capacity) {
		size_t capacity = buf->capacity ? buf->capacity : 256;
		unsigned char *grown;

		while (capacity < buf->length + length)
			capacity *= 2;
		grown = realloc(buf->data, capacity);
		if (grown == NULL)
			return -1;
		buf->data = grown;
		buf->capacity = capacity;
	}
	if (length > 0)
		memcpy(buf->data + buf->length, data, length);
	buf->length += length;
	return 0;
}

void
rdb_summary_release(struct rdb_summary *summary)
{
	free(summary->keys);
	free(summary->expires);
	summary->keys = summary->expires = NULL;
	summary->db_count = 0;
}

uint64_t
rdb_summary_keys(const struct rdb_summary *summary)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < summary->db_count; i++)
		total += summary->keys[i];
	return total;
}

int
rdb_header_version(const unsigned char *header, size_t length,
		   struct cairn_error *err)
{
	int version = 0, i;

	if (length < 9 || memcmp(header, "REDIS", 5) != 0) {
		snprintf(err->message, sizeof(err->message),
			 "not an RDB snapshot: it does not start with 'REDIS'");
		return -1;
	}
	for (i = 5; i < 9; i++) {
		if (header[i] < '0' || header[i] > '9') {
			snprintf(err->message, sizeof(err->message),
				 "not an RDB snapshot: bad version in header");
			return -1;
		}
		version = version * 10 + (header[i] - '0');
	}
	if (version < 1) {
		snprintf(err->message, sizeof(err->message),
			 "not an RDB snapshot: version 0 in header");
		return -1;
	}
	return version;
}

int
rdb_lzf_decompress(const unsigned char *in, size_t in_length,
		   unsigned char *out, size_t out_length)
{
	const unsigned char *ip = in, *in_end = in + in_length;
	unsigned char *op = out, *out_end = out + out_length;

	while (ip < in_end) {
		unsigned int ctrl = *ip++;

		if (ctrl < (1 << 5)) {
			/* A literal run of ctrl + 1 bytes. */
			ctrl++;
			if ((size_t)(out_end - op) < ctrl ||
			    (size_t)(in_end - ip) < ctrl)
				return -1;
			memcpy(op, ip, ctrl);
			op += ctrl;
			ip += ctrl;
		} else {
			/* A back reference. */
			size_t len = ctrl >> 5, back;
			unsigned char *ref;

			back = (size_t)(ctrl & 0x1f) << 8;
			if (len == 7) {
				if (ip >= in_end)
					return -1;
				len += *ip++;
			}
			if (ip >= in_end)
				return -1;
			back += *ip++;
			len += 2;
			if (back + 1 > (size_t)(op - out) ||
			    (size_t)(out_end - op) < len)
				return -1;
			ref = op - back - 1;
			while (len-- > 0)
				*op++ = *ref++;
		}
	}
	return op == out_end ? 0 : -1;
}

/* Makes room for `length` bytes from the start of buf (and a NUL). */
static int
buf_reserve(struct rdb_buf *buf, size_t length)
{
	unsigned char *grown;

	if (buf->capacity >= length + 1)
		return 0;
	grown = realloc(buf->data, length + 1);
	if (grown == NULL)
		return -1;
	buf->data = grown;
	buf->capacity = length + 1;
	return 0;
}

static int
reader_error(struct rdb_reader *r, const char *format, ...)
{
	size_t used;
	va_list ap;
	int n;

	n = snprintf(r->err->message, sizeof(r->err->message),
		     "bad RDB at offset %llu: ", (unsigned long long)r->offset);
	used = n > 0 && (size_t)n < sizeof(r->err->message) ? (size_t)n : 0;
	va_start(ap, format);
	vsnprintf(r->err->message + used, sizeof(r->err->message) - used,
		  format, ap);
	va_end(ap);
	return -1;
}

/* Feeds consumed bytes to the CRC, holding back the last 8. */
static void
reader_crc(struct rdb_reader *r, const unsigned char *data, size_t length)
{
	if (length >= RDB_CHECKSUM_SIZE) {
		r->crc = rdb_crc64(r->crc, r->trailer, r->trailer_length);
		r->crc = rdb_crc64(r->crc, data, length - RDB_CHECKSUM_SIZE);
		memcpy(r->trailer, data + length - RDB_CHECKSUM_SIZE,
		       RDB_CHECKSUM_SIZE);
		r->trailer_length = RDB_CHECKSUM_SIZE;
		return;
	}
	if (r->trailer_length + length > RDB_CHECKSUM_SIZE) {
		size_t out = r->trailer_length + length - RDB_CHECKSUM_SIZE;

		r->crc = rdb_crc64(r->crc, r->trailer, out);
		memmove(r->trailer, r->trailer + out, r->trailer_length - out);
		r->trailer_length -= out;
	}
	memcpy(r->trailer + r->trailer_length, data, length);
	r->trailer_length += length;
}

static int
reader_flush(struct rdb_reader *r)
{
	size_t length = r->pos - r->tapped;

	if (length == 0)
		return 0;
	reader_crc(r, r->buffer + r->tapped, length);
	if (r->tap != NULL &&
	    r->tap(r->tap_arg, r->buffer + r->tapped, length, r->err) == -1)
		return -1;
	r->tapped = r->pos;
	return 0;
}

/* Makes at least one unread byte available; 0 when there is none left. */
static int
reader_more(struct rdb_reader *r, int *available)
{
	size_t got = 0;

	*available = 0;
	if (r->pos < r->end) {
		*available = 1;
		return 0;
	}
	if (r->at_end)
		return 0;
	if (reader_flush(r) == -1)
		return -1;
	r->pos = r->end = r->tapped = 0;
	if (r->fill(r->fill_arg, r->buffer, RDB_READ_BUFFER, &got, r->err) ==
	    -1)
		return -1;
	if (got == 0) {
		r->at_end = 1;
		return 0;
	}
	r->end = got;
	*available = 1;
	return 0;
}

/* Consumes `length` bytes into `out` (which may be NULL to skip them). */
static int
reader_read(struct rdb_reader *r, void *out, size_t length)
{
	unsigned char *o = out;

	while (length > 0) {
		size_t chunk;
		int available;

		if (reader_more(r, &available) == -1)
			return -1;
		if (!available)
			return reader_error(r, "truncated: the snapshot ends "
					       "in the middle of a record");
		chunk = r->end - r->pos;
		if (chunk > length)
			chunk = length;
		if (o != NULL) {
			memcpy(o, r->buffer + r->pos, chunk);
			o += chunk;
		}
		if (r->capture != NULL &&
		    rdb_buf_append(r->capture, r->buffer + r->pos, chunk) == -1)
			return reader_error(r, "out of memory");
		r->pos += chunk;
		r->offset += chunk;
		length -= chunk;
	}
	return 0;
}

static int
reader_byte(struct rdb_reader *r, unsigned char *byte)
{
	return reader_read(r, byte, 1);
}

/* An RDB length; *encoded is set for the special string encodings. */
static int
read_length(struct rdb_reader *r, uint64_t *length, int *encoded)
{
	unsigned char b, more[8];
	int i;

	if (encoded != NULL)
		*encoded = 0;
	if (reader_byte(r, &b) == -1)
		return -1;
	switch (b >> 6) {
	case 0:
		*length = b & 0x3f;
		return 0;
	case 1:
		if (reader_byte(r, more) == -1)
			return -1;
		*length = ((uint64_t)(b & 0x3f) << 8) | more[0];
		return 0;
	case 2:
		if (b == 0x80) {
			if (reader_read(r, more, 4) == -1)
				return -1;
			*length = 0;
			for (i = 0; i < 4; i++)
				*length = (*length << 8) | more[i];
			return 0;
		}
		if (b == 0x81) {
			if (reader_read(r, more, 8) == -1)
				return -1;
			*length = 0;
			for (i = 0; i < 8; i++)
				*length = (*length << 8) | more[i];
			return 0;
		}
		return reader_error(r, "unknown length encoding 0x%02x", b);
	default:
		if (encoded == NULL)
			return reader_error(r, "encoded value where a length "
					       "was expected");
		*encoded = 1;
		*length = b & 0x3f;
		return 0;
	}
}

static int
read_count(struct rdb_reader *r, uint64_t *count)
{
	return read_length(r, count, NULL);
}

/*
 * A string. With `out`, it is decoded into out (replacing its content):
 * integers as decimal text, LZF data decompressed, unless its decoded
 * length is above `limit`: then it is skipped and 1 returned. Without
 * `out`, it is skipped. Returns 0, 1, or -1 on error.
 */
static int
read_string_upto(struct rdb_reader *r, struct rdb_buf *out, uint64_t limit)
{
	uint64_t length, clen, ulen;
	unsigned char raw[4];
	int encoded;

	if (out != NULL)
		out->length = 0;
	if (read_length(r, &length, &encoded) == -1)
		return -1;
	if (!encoded) {
		if (out == NULL)
			return reader_read(r, NULL, length);
		if (length > limit)
			return reader_read(r, NULL, length) == -1 ? -1 : 1;
		if (length > SIZE_MAX / 2 || buf_reserve(out, length) == -1)
			return reader_error(r, "out of memory");
		if (reader_read(r, out->data, length) == -1)
			return -1;
		out->length = length;
		return 0;
	}
	switch (length) {
	case RDB_ENC_INT8:
	case RDB_ENC_INT16:
	case RDB_ENC_INT32: {
		size_t size = length == RDB_ENC_INT8	? 1
			      : length == RDB_ENC_INT16 ? 2
							: 4;
		char text[16];
		long value;
		int n;

		if (reader_read(r, raw, size) == -1)
			return -1;
		if (out == NULL)
			return 0;
		if (size == 1)
			value = (signed char)raw[0];
		else if (size == 2)
			value = (int16_t)(raw[0] | raw[1] << 8);
		else
			value = (int32_t)((uint32_t)raw[0] |
					  (uint32_t)raw[1] << 8 |
					  (uint32_t)raw[2] << 16 |
					  (uint32_t)raw[3] << 24);
		n = snprintf(text, sizeof(text), "%ld", value);
		if (n < 0 || (size_t)n >= sizeof(text) ||
		    rdb_buf_append(out, text, (size_t)n) == -1)
			return reader_error(r, "out of memory");
		return 0;
	}
	case RDB_ENC_LZF: {
		unsigned char *compressed;
		int rc;

		if (read_count(r, &clen) == -1 || read_count(r, &ulen) == -1)
			return -1;
		if (out == NULL)
			return reader_read(r, NULL, clen);
		if (ulen > limit)
			return reader_read(r, NULL, clen) == -1 ? -1 : 1;
		if (clen > SIZE_MAX / 2 || ulen > SIZE_MAX / 2)
			return reader_error(r, "compressed string too long");
		compressed = malloc(clen ? clen : 1);
		if (compressed == NULL)
			return reader_error(r, "out of memory");
		if (reader_read(r, compressed, clen) == -1) {
			free(compressed);
			return -1;
		}
		if (buf_reserve(out, ulen) == -1) {
			free(compressed);
			return reader_error(r, "out of memory");
		}
		rc = rdb_lzf_decompress(compressed, clen, out->data, ulen);
		free(compressed);
		if (rc == -1)
			return reader_error(r, "bad LZF-compressed string");
		out->length = ulen;
		return 0;
	}
	default:
		return reader_error(r, "unknown string encoding %llu",
				    (unsigned long long)length);
	}
}

static int
read_string(struct rdb_reader *r, struct rdb_buf *out)
{
	return read_string_upto(r, out, UINT64_MAX);
}

/*
 * Empty encoded aggregates. Redis' integrity checks accept a ziplist or
 * listpack only when the byte count in its header is its size and it
 * ends with the end byte 0xff right after its last entry, so one without
 * entries is exactly its header and the end byte; its entry count is 0,
 * or UINT16_MAX ("count them"). A peek at strings this short suffices.
 */
#define ZIPLIST_EMPTY_SIZE 11 /* bytes, tail offset, count; end */
#define LISTPACK_EMPTY_SIZE 7 /* bytes, count; end */
#define EMPTY_PEEK_LIMIT 16
#define COUNT_UNKNOWN 0xffff
/* Quicklist node containers (quicklist.h of Redis). */
#define QUICKLIST_NODE_CONTAINER_PACKED 2

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int
ziplist_is_empty(const struct rdb_buf *z)
{
	const unsigned char *p = z->data;
	unsigned int count;

	if (z->length != ZIPLIST_EMPTY_SIZE)
		return 0;
	count = (unsigned int)p[8] | (unsigned int)p[9] << 8;
	return le32(p) == ZIPLIST_EMPTY_SIZE &&
	       le32(p + 4) == ZIPLIST_EMPTY_SIZE - 1 &&
	       (count == 0 || count == COUNT_UNKNOWN) && p[10] == 0xff;
}

static int
listpack_is_empty(const struct rdb_buf *l)
{
	const unsigned char *p = l->data;
	unsigned int count;

	if (l->length != LISTPACK_EMPTY_SIZE)
		return 0;
	count = (unsigned int)p[4] | (unsigned int)p[5] << 8;
	return le32(p) == LISTPACK_EMPTY_SIZE &&
	       (count == 0 || count == COUNT_UNKNOWN) && p[6] == 0xff;
}

/* An encoded aggregate; sets *empty when it holds no entry. */
static int
skip_encoded(struct rdb_reader *r, struct rdb_buf *peek,
	     int (*is_empty)(const struct rdb_buf *), int *empty)
{
	int rc = read_string_upto(r, peek, EMPTY_PEEK_LIMIT);

	if (rc == -1)
		return -1;
	*empty = rc == 0 && is_empty(peek);
	return 0;
}

/* A score of the old ZSET type: a length byte, then that many bytes. */
static int
skip_double_text(struct rdb_reader *r)
{
	unsigned char length;

	if (reader_byte(r, &length) == -1)
		return -1;
	if (length >= 253) /* nan, +inf, -inf */
		return 0;
	return reader_read(r, NULL, length);
}

static int
skip_strings(struct rdb_reader *r, uint64_t count)
{
	while (count-- > 0)
		if (read_string(r, NULL) == -1)
			return -1;
	return 0;
}

/* Module data annotated with opcodes, up to RDB_MODULE_OPCODE_EOF. */
static int
skip_module_data(struct rdb_reader *r)
{
	uint64_t opcode, value;

	for (;;) {
		if (read_count(r, &opcode) == -1)
			return -1;
		switch (opcode) {
		case RDB_MODULE_OPCODE_EOF:
			return 0;
		case RDB_MODULE_OPCODE_SINT:
		case RDB_MODULE_OPCODE_UINT:
			if (read_count(r, &value) == -1)
				return -1;
			break;
		case RDB_MODULE_OPCODE_FLOAT:
			if (reader_read(r, NULL, 4) == -1)
				return -1;
			break;
		case RDB_MODULE_OPCODE_DOUBLE:
			if (reader_read(r, NULL, 8) == -1)
				return -1;
			break;
		case RDB_MODULE_OPCODE_STRING:
			if (read_string(r, NULL) == -1)
				return -1;
			break;
		default:
			return reader_error(r, "unknown module opcode %llu",
					    (unsigned long long)opcode);
		}
	}
}

static int
skip_stream_pel(struct rdb_reader *r, int nacks)
{
	uint64_t count, value;

	if (read_count(r, &count) == -1)
		return -1;
	while (count-- > 0) {
		if (reader_read(r, NULL, 16) == -1) /* stream ID */
			return -1;
		if (nacks && (reader_read(r, NULL, 8) == -1 || /* delivery */
			      read_count(r, &value) == -1))
			return -1;
	}
	return 0;
}

static int
skip_stream(struct rdb_reader *r, unsigned char type)
{
	uint64_t count, groups, consumers, value;
	int i;

	/* Listpacks: a master ID and a listpack each. */
	if (read_count(r, &count) == -1 || skip_strings(r, count * 2) == -1)
		return -1;
	if (count > UINT64_MAX / 2)
		return reader_error(r, "bad stream node count");
	/* Length, last ID; then first ID, max deleted ID, entries added. */
	for (i = 0; i < (type >= RDB_TYPE_STREAM_LISTPACKS_2 ? 8 : 3); i++)
		if (read_count(r, &value) == -1)
			return -1;
	if (read_count(r, &groups) == -1)
		return -1;
	while (groups-- > 0) {
		if (read_string(r, NULL) == -1 || read_count(r, &value) == -1 ||
		    read_count(r, &value) == -1)
			return -1;
		if (type >= RDB_TYPE_STREAM_LISTPACKS_2 &&
		    read_count(r, &value) == -1) /* entries read */
			return -1;
		if (skip_stream_pel(r, 1) == -1 ||
		    read_count(r, &consumers) == -1)
			return -1;
		while (consumers-- > 0) {
			if (read_string(r, NULL) == -1 ||
			    reader_read(r, NULL, 8) == -1) /* seen time */
				return -1;
			if (type >= RDB_TYPE_STREAM_LISTPACKS_3 &&
			    reader_read(r, NULL, 8) == -1) /* active time */
				return -1;
			if (skip_stream_pel(r, 0) == -1)
				return -1;
		}
	}
	return 0;
}

static int
is_value_type(unsigned char type)
{
	return type <= RDB_TYPE_MODULE_2 ||
	       (type >= RDB_TYPE_HASH_ZIPMAP &&
		type <= RDB_TYPE_STREAM_LISTPACKS_3);
}

/*
 * Quicklists: empty when every node is (Redis drops empty nodes, then
 * skips the key when none is left). Nodes of RDB_TYPE_LIST_QUICKLIST are
 * ziplists; those of RDB_TYPE_LIST_QUICKLIST_2 a container number, then
 * a listpack (packed) or one element (plain, never empty).
 */
static int
skip_quicklist(struct rdb_reader *r, unsigned char type, struct rdb_buf *peek,
	       int *empty)
{
	uint64_t count, container = QUICKLIST_NODE_CONTAINER_PACKED;
	int node_empty;

	if (read_count(r, &count) == -1)
		return -1;
	*empty = 1;
	while (count-- > 0) {
		if (type == RDB_TYPE_LIST_QUICKLIST_2 &&
		    read_count(r, &container) == -1)
			return -1;
		if (skip_encoded(r, peek,
				 type == RDB_TYPE_LIST_QUICKLIST
					 ? ziplist_is_empty
					 : listpack_is_empty,
				 &node_empty) == -1)
			return -1;
		if (!node_empty || container != QUICKLIST_NODE_CONTAINER_PACKED)
			*empty = 0;
	}
	return 0;
}

/*
 * Skips a value of `type`; RDB_UNKNOWN for a type it cannot skip. Sets
 * *empty for a value Redis would skip as empty (see struct rdb_key);
 * `peek` is scratch space for that.
 */
static int
skip_value(struct rdb_reader *r, unsigned char type, struct rdb_buf *peek,
	   int *empty)
{
	uint64_t count;

	*empty = 0;
	switch (type) {
	case RDB_TYPE_STRING:
	case RDB_TYPE_HASH_ZIPMAP:
	case RDB_TYPE_SET_INTSET:
		return read_string(r, NULL);
	case RDB_TYPE_LIST_ZIPLIST:
	case RDB_TYPE_ZSET_ZIPLIST:
	case RDB_TYPE_HASH_ZIPLIST:
		return skip_encoded(r, peek, ziplist_is_empty, empty);
	case RDB_TYPE_HASH_LISTPACK:
	case RDB_TYPE_ZSET_LISTPACK:
	case RDB_TYPE_SET_LISTPACK:
		return skip_encoded(r, peek, listpack_is_empty, empty);
	case RDB_TYPE_LIST:
	case RDB_TYPE_SET:
		if (read_count(r, &count) == -1)
			return -1;
		*empty = count == 0;
		return skip_strings(r, count);
	case RDB_TYPE_LIST_QUICKLIST:
	case RDB_TYPE_LIST_QUICKLIST_2:
		return skip_quicklist(r, type, peek, empty);
	case RDB_TYPE_HASH:
		if (read_count(r, &count) == -1)
			return -1;
		if (count > UINT64_MAX / 2)
			return reader_error(r, "bad hash length");
		*empty = count == 0;
		return skip_strings(r, count * 2);
	case RDB_TYPE_ZSET:
		if (read_count(r, &count) == -1)
			return -1;
		*empty = count == 0;
		while (count-- > 0)
			if (read_string(r, NULL) == -1 ||
			    skip_double_text(r) == -1)
				return -1;
		return 0;
	case RDB_TYPE_ZSET_2:
		if (read_count(r, &count) == -1)
			return -1;
		*empty = count == 0;
		while (count-- > 0)
			if (read_string(r, NULL) == -1 ||
			    reader_read(r, NULL, 8) == -1)
				return -1;
		return 0;
	case RDB_TYPE_STREAM_LISTPACKS:
	case RDB_TYPE_STREAM_LISTPACKS_2:
	case RDB_TYPE_STREAM_LISTPACKS_3:
		return skip_stream(r, type);
	case RDB_TYPE_MODULE_2:
		if (read_count(r, &count) == -1) /* module id */
			return -1;
		return skip_module_data(r);
	default:
		return RDB_UNKNOWN;
	}
}

static int
summary_count(struct rdb_reader *r, struct rdb_summary *s, uint64_t db,
	      int expires)
{
	if (db >= s->db_count) {
		size_t count = (size_t)db + 1, i;
		uint64_t *keys, *exp;

		keys = realloc(s->keys, count * sizeof(*keys));
		if (keys == NULL)
			return reader_error(r, "out of memory");
		s->keys = keys;
		exp = realloc(s->expires, count * sizeof(*exp));
		if (exp == NULL)
			return reader_error(r, "out of memory");
		s->expires = exp;
		for (i = s->db_count; i < count; i++)
			s->keys[i] = s->expires[i] = 0;
		s->db_count = count;
	}
	s->keys[db]++;
	if (expires)
		s->expires[db]++;
	return 0;
}

static int64_t
little_endian(const unsigned char *p, size_t size)
{
	uint64_t value = 0;

	while (size-- > 0)
		value = (value << 8) | p[size];
	return (int64_t)value;
}

struct walk {
	struct rdb_reader *r;
	const struct rdb_visitor *v;
	struct rdb_summary *s;
	struct rdb_buf name;
	struct rdb_buf aux_value;
	struct rdb_buf payload;
	struct rdb_buf peek; /* small encoded values, to see if empty */
	uint64_t db;
	int64_t expire_ms, idle;
	int freq;
};

/* One key: its name, its value, and the callback. */
static int
walk_key(struct walk *w, unsigned char type)
{
	struct rdb_reader *r = w->r;
	struct rdb_key key;
	unsigned char footer[10];
	uint64_t crc;
	int rc, empty;

	if (read_string(r, &w->name) == -1)
		return -1;
	if (w->v->capture) {
		w->payload.length = 0;
		if (rdb_buf_append(&w->payload, &type, 1) == -1)
			return reader_error(r, "out of memory");
		r->capture = &w->payload;
	}
	rc = skip_value(r, type, &w->peek, &empty);
	r->capture = NULL;
	if (rc != 0)
		return rc;
	if (empty)
		w->s->empty_keys++;
	else if (summary_count(r, w->s, w->db, w->expire_ms != -1) == -1)
		return -1;
	memset(&key, 0, sizeof(key));
	key.db = w->db;
	key.type = type;
	key.name = w->name.data;
	key.name_length = w->name.length;
	key.expire_ms = w->expire_ms;
	key.idle = w->idle;
	key.freq = w->freq;
	key.empty = empty;
	if (w->v->capture) {
		footer[0] = (unsigned char)(w->s->version & 0xff);
		footer[1] = (unsigned char)((w->s->version >> 8) & 0xff);
		if (rdb_buf_append(&w->payload, footer, 2) == -1)
			return reader_error(r, "out of memory");
		crc = rdb_crc64(0, w->payload.data, w->payload.length);
		for (rc = 0; rc < 8; rc++)
			footer[rc] = (unsigned char)(crc >> (8 * rc));
		if (rdb_buf_append(&w->payload, footer, 8) == -1)
			return reader_error(r, "out of memory");
		key.payload = w->payload.data;
		key.payload_length = w->payload.length;
	}
	w->expire_ms = w->idle = -1;
	w->freq = -1;
	if (w->v->key != NULL && w->v->key(w->v->arg, &key, r->err) == -1)
		return -1;
	return 0;
}

static int
walk_aux(struct walk *w)
{
	if (read_string(w->r, &w->name) == -1 ||
	    read_string(w->r, &w->aux_value) == -1)
		return -1;
	if (w->name.length == 9 && memcmp(w->name.data, "redis-ver", 9) == 0 &&
	    w->aux_value.length < sizeof(w->s->redis_version)) {
		memcpy(w->s->redis_version, w->aux_value.data,
		       w->aux_value.length);
		w->s->redis_version[w->aux_value.length] = '\0';
	}
	return 0;
}

static int
walk_function(struct walk *w)
{
	unsigned char opcode = RDB_OPCODE_FUNCTION2;
	struct rdb_reader *r = w->r;

	w->payload.length = 0;
	if (rdb_buf_append(&w->payload, &opcode, 1) == -1)
		return reader_error(r, "out of memory");
	r->capture = &w->payload;
	if (read_string(r, NULL) == -1) {
		r->capture = NULL;
		return -1;
	}
	r->capture = NULL;
	w->s->functions++;
	if (w->v->function != NULL &&
	    w->v->function(w->v->arg, w->payload.data, w->payload.length,
			   r->err) == -1)
		return -1;
	return 0;
}

/* The records after the header, up to and including the EOF opcode. */
static int
walk_records(struct walk *w)
{
	struct rdb_reader *r = w->r;
	unsigned char type, raw[8];
	uint64_t value;

	for (;;) {
		if (reader_byte(r, &type) == -1)
			return -1;
		switch (type) {
		case RDB_OPCODE_EOF:
			return 0;
		case RDB_OPCODE_EXPIRETIME_MS:
			if (reader_read(r, raw, 8) == -1)
				return -1;
			w->expire_ms = little_endian(raw, 8);
			break;
		case RDB_OPCODE_EXPIRETIME:
			if (reader_read(r, raw, 4) == -1)
				return -1;
			w->expire_ms = (int64_t)(int32_t)little_endian(raw, 4) *
				       1000;
			break;
		case RDB_OPCODE_IDLE:
			if (read_count(r, &value) == -1)
				return -1;
			w->idle = value > INT64_MAX ? INT64_MAX
						    : (int64_t)value;
			break;
		case RDB_OPCODE_FREQ:
			if (reader_byte(r, raw) == -1)
				return -1;
			w->freq = raw[0];
			break;
		case RDB_OPCODE_SELECTDB:
			if (read_count(r, &value) == -1)
				return -1;
			if (value >= RDB_MAX_DB)
				return reader_error(r,
						    "database number %llu "
						    "out of range",
						    (unsigned long long)value);
			w->db = value;
			break;
		case RDB_OPCODE_RESIZEDB:
			if (read_count(r, &value) == -1 ||
			    read_count(r, &value) == -1)
				return -1;
			break;
		case RDB_OPCODE_SLOT_INFO:
			if (read_count(r, &value) == -1 ||
			    read_count(r, &value) == -1 ||
			    read_count(r, &value) == -1)
				return -1;
			break;
		case RDB_OPCODE_AUX:
			if (walk_aux(w) == -1)
				return -1;
			break;
		case RDB_OPCODE_MODULE_AUX:
			/* Module id, "when" (as a UINT opcode and value). */
			if (read_count(r, &value) == -1 ||
			    read_count(r, &value) == -1 ||
			    read_count(r, &value) == -1 ||
			    skip_module_data(r) == -1)
				return -1;
			w->s->module_aux++;
			break;
		case RDB_OPCODE_FUNCTION2:
			if (walk_function(w) == -1)
				return -1;
			break;
		default:
			if (!is_value_type(type) ||
			    type == RDB_TYPE_MODULE_PRE_GA) {
				snprintf(w->s->opaque_reason,
					 sizeof(w->s->opaque_reason),
					 "type or opcode %u at offset %llu",
					 type,
					 (unsigned long long)(r->offset - 1));
				return RDB_UNKNOWN;
			}
			{
				int rc = walk_key(w, type);

				if (rc == RDB_UNKNOWN)
					snprintf(w->s->opaque_reason,
						 sizeof(w->s->opaque_reason),
						 "value type %u", type);
				if (rc != 0)
					return rc;
			}
		}
	}
}

/* Consumes the rest of the stream, for the trailing CRC only. */
static int
walk_drain(struct rdb_reader *r)
{
	for (;;) {
		int available;

		if (reader_more(r, &available) == -1)
			return -1;
		if (!available)
			return 0;
		r->offset += r->end - r->pos;
		r->pos = r->end;
	}
}

/* The trailing checksum: compares the held-back 8 bytes with the CRC. */
static int
walk_checksum(struct rdb_reader *r, struct rdb_summary *s)
{
	uint64_t stored;

	if (reader_flush(r) == -1)
		return -1;
	if (r->trailer_length < RDB_CHECKSUM_SIZE)
		return reader_error(r, "truncated: no room for the checksum");
	stored = (uint64_t)little_endian(r->trailer, RDB_CHECKSUM_SIZE);
	if (stored == 0) {
		s->checksum = 0;
		return 0;
	}
	if (stored != r->crc)
		return reader_error(r,
				    "checksum mismatch: the snapshot says "
				    "%016llx, its content gives %016llx",
				    (unsigned long long)stored,
				    (unsigned long long)r->crc);
	s->checksum = 1;
	return 0;
}

int
rdb_walk(rdb_fill_fn fill, void *fill_arg, rdb_tap_fn tap, void *tap_arg,
	 const struct rdb_visitor *visitor, struct rdb_summary *summary,
	 struct cairn_error *err)
{
	struct rdb_reader reader;
	struct walk w;
	unsigned char header[9];
	int rc = -1, step, available;

	memset(summary, 0, sizeof(*summary));
	memset(&reader, 0, sizeof(reader));
	memset(&w, 0, sizeof(w));
	reader.fill = fill;
	reader.fill_arg = fill_arg;
	reader.tap = tap;
	reader.tap_arg = tap_arg;
	reader.err = err;
	reader.buffer = malloc(RDB_READ_BUFFER);
	if (reader.buffer == NULL) {
		snprintf(err->message, sizeof(err->message), "out of memory");
		return -1;
	}
	w.r = &reader;
	w.v = visitor;
	w.s = summary;
	w.expire_ms = w.idle = -1;
	w.freq = -1;

	if (reader_read(&reader, header, sizeof(header)) == -1) {
		if (reader.offset == 0)
			snprintf(err->message, sizeof(err->message),
				 "empty snapshot: no RDB header");
		goto out;
	}
	summary->version = rdb_header_version(header, sizeof(header), err);
	if (summary->version == -1)
		goto out;
	if (summary->version > RDB_VERSION_KNOWN) {
		snprintf(summary->opaque_reason, sizeof(summary->opaque_reason),
			 "RDB version %d", summary->version);
		step = RDB_UNKNOWN;
	} else {
		step = walk_records(&w);
	}
	if (step == -1)
		goto out;
	if (step == RDB_UNKNOWN) {
		if (!visitor->tolerant) {
			snprintf(err->message, sizeof(err->message),
				 "unsupported RDB content: %s (this build "
				 "knows RDB versions up to %d)",
				 summary->opaque_reason, RDB_VERSION_KNOWN);
			goto out;
		}
		summary->opaque = 1;
		if (walk_drain(&reader) == -1 ||
		    walk_checksum(&reader, summary) == -1)
			goto out;
	} else if (summary->version >= 5) {
		if (reader_read(&reader, NULL, RDB_CHECKSUM_SIZE) == -1 ||
		    walk_checksum(&reader, summary) == -1)
			goto out;
	} else if (reader_flush(&reader) == -1) {
		goto out;
	}
	if (!summary->opaque) {
		if (reader_more(&reader, &available) == -1)
			goto out;
		if (available) {
			reader_error(&reader, "unexpected data after the end "
					      "of the snapshot");
			goto out;
		}
	}
	summary->bytes = reader.offset;
	rc = 0;
out:
	free(reader.buffer);
	rdb_buf_release(&w.name);
	rdb_buf_release(&w.aux_value);
	rdb_buf_release(&w.payload);
	rdb_buf_release(&w.peek);
	return rc;
}
