/*
 * libFuzzer target for the manifest module (core/manifest.c): the input
 * is parsed as an archive's manifest, and each of its lines as an index
 * record. What parses must survive a round trip (manifest_to_json or
 * index_record_format, then parsing again) with every field equal, times
 * to the microsecond the manifest keeps; a refusal must say why. Built
 * and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_string(const char *a, const char *b)
{
	/* Optional strings come back as "" from manifest_to_json. */
	if (strcmp(a ? a : "", b ? b : "") != 0)
		abort();
}

static void
same_time(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec || a.tv_nsec / 1000 != b.tv_nsec / 1000)
		abort();
}

static void
check_manifest_round_trip(const struct manifest *m)
{
	struct cairn_error err;
	struct json_value *o = manifest_to_json(m);
	struct manifest again;
	size_t length, i;
	char *text;

	text = json_serialize(o, JSON_COMPACT, &length);
	if (text == NULL)
		abort();
	manifest_init(&again);
	memset(&err, 0, sizeof(err));
	if (manifest_parse(&again, text, length, &err) != 0) {
		fprintf(stderr, "manifest_to_json's text is refused: %s\n",
			err.message);
		abort();
	}
	if (strcmp(m->id, again.id) != 0 || strcmp(m->run, again.run) != 0)
		abort();
	same_string(m->job, again.job);
	same_string(m->plugin, again.plugin);
	same_string(m->plugin_version, again.plugin_version);
	same_string(m->host, again.host);
	same_string(m->cairn_version, again.cairn_version);
	same_time(m->started, again.started);
	same_time(m->finished, again.finished);
	if (m->bytes != again.bytes || m->entries != again.entries ||
	    m->compressed != again.compressed || m->level != again.level ||
	    !json_equal(m->facts, again.facts) ||
	    m->warning_count != again.warning_count ||
	    m->index_frame_count != again.index_frame_count)
		abort();
	for (i = 0; i < m->warning_count; i++)
		same_string(m->warnings[i], again.warnings[i]);
	for (i = 0; i < m->index_frame_count; i++)
		if (m->index_frames[i] != again.index_frames[i])
			abort();
	manifest_release(&again);
	free(text);
	json_free(o);
}

static void
check_manifest(const uint8_t *data, size_t size)
{
	struct cairn_error err;
	struct manifest m;

	manifest_init(&m);
	memset(&err, 0, sizeof(err));
	if (manifest_parse(&m, (const char *)data, size, &err) != 0) {
		if (err.message[0] == '\0')
			abort();
	} else {
		check_manifest_round_trip(&m);
	}
	manifest_release(&m);
}

static void
check_record(const char *line, size_t length)
{
	struct cairn_error err;
	struct index_record r, again;
	struct buf text = BUF_INIT;

	memset(&err, 0, sizeof(err));
	if (index_record_parse(&r, line, length, &err) != 0) {
		if (err.message[0] == '\0')
			abort();
		index_record_release(&r);
		return;
	}
	(void)entry_name_check(r.name, &err);
	index_record_format(&r, &text);
	if (text.length == 0 || text.data[text.length - 1] != '\n')
		abort();
	if (index_record_parse(&again, text.data, text.length - 1, &err) != 0) {
		fprintf(stderr, "index_record_format's line is refused: %s\n",
			err.message);
		abort();
	}
	if (strcmp(r.name, again.name) != 0 || r.type != again.type ||
	    r.size != again.size || strcmp(r.sha256, again.sha256) != 0 ||
	    r.frame != again.frame || r.parts != again.parts)
		abort();
	index_record_release(&again);
	index_record_release(&r);
	buf_release(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *newline;

	check_manifest(data, size);
	/* An index chunk is JSON Lines: each line on its own. */
	while (p < end) {
		newline = memchr(p, '\n', (size_t)(end - p));
		if (newline == NULL)
			newline = end;
		check_record(p, (size_t)(newline - p));
		p = newline + 1;
	}
	return 0;
}
