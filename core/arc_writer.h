/*
 * Writing one archive: entries from a plugin, through libarchive's pax
 * writer, into the zstd container of zstd_io.h, in a temporary file of the
 * repository; the SHA-256 of every entry computed as it streams; the index
 * and the manifest written at the end; and only then the file fsynced and
 * renamed to its final name.
 *
 * Entries of unknown size: a tar header carries the size before the data,
 * so a stream whose length is unknown (a dump from a child process) is
 * cut into parts of PART_SIZE bytes, each a tar entry of known size named
 * "NAME.part-000001", "NAME.part-000002", ...; concatenating the parts in
 * order gives the content (`tar -xOf A --wildcards 'NAME.part-*'`). Only
 * one part per stream is held in memory, so several streams may be open
 * at once (parallel dumps) and their parts interleave.
 *
 * Thread safety: the stream functions may be called from several threads;
 * an entry of known size holds the archive from open to close.
 */
#ifndef CAIRN_ARC_WRITER_H
#define CAIRN_ARC_WRITER_H

#include <pthread.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "age_sink.h"
#include "buf.h"
#include "manifest.h"
#include "sha256.h"
#include "zstd_io.h"

#define ARC_PART_SIZE (4 * 1024 * 1024)

struct arc_stream;

struct arc_writer {
	int fd;
	char *temporary_path;
	struct byte_sink *out; /* where zstd's output goes, over fd; owned */
	struct zstd_writer zstd;
	struct archive *tar;

	pthread_mutex_t lock;
	pthread_cond_t released;
	int busy; /* someone is writing to the tar stream */
	int failed;
	struct cairn_error error; /* the first write error */

	struct buf index; /* records not yet written out */
	unsigned int index_parts;
	uint64_t *index_frames;
	size_t index_frame_count;
	uint64_t bytes;
	uint64_t entries;
	struct manifest *manifest; /* facts go here; not owned */
	struct arc_stream *open_streams;
	struct timespec part_time;
	/* Set when the archive is an age file: what its sink wrote. */
	int encrypted;
	struct age_sink_result sealed;

	/* Incremental backups: removals not yet written out, NUL-ended. */
	struct buf removed;
	unsigned int removed_parts;
	uint64_t *removed_frames;
	size_t removed_frame_count;
	uint64_t removed_count;
	/*
	 * Told every index record as it is added (under the writer's
	 * ownership), to keep the job's view of its tree (chain.h).
	 */
	void (*on_record)(void *context, const struct index_record *r);
	void *on_record_context;
	/* What an incremental backup builds on (struct backup_base of
	 * chain.h), or NULL; not owned. */
	void *base;
};

/*
 * Creates the temporary file `path` (mode 0600, never through a symlink)
 * and starts the archive. `manifest` receives facts and is written at
 * commit; it must outlive the writer. With `recipients` (not kept) the
 * file is an age v1 file whose payload is the .tar.zst stream; then
 * `sealed` holds its size and SHA-256 after commit.
 */
int arc_writer_open(struct arc_writer *w, const char *path,
		    struct manifest *manifest, int compress, int level,
		    int threads, const struct age_recipients *recipients,
		    struct cairn_error *err);

/* The host's stream services (include/cairn/plugin.h). */
int arc_writer_stream_open(struct arc_writer *w,
			   const struct cairn_entry *entry,
			   struct arc_stream **stream, struct cairn_error *err);
int arc_writer_stream_write(struct arc_stream *stream, const void *data,
			    size_t length, struct cairn_error *err);
int arc_writer_stream_close(struct arc_stream *stream, struct cairn_error *err);
void arc_writer_set_fact(struct arc_writer *w, const char *key,
			 const char *value);
/* stream_state: the state string of the stream's index record (copied). */
int arc_writer_stream_state(struct arc_stream *stream, const char *state,
			    struct cairn_error *err);
/*
 * Records that `name` is gone since the parent archive (or changed type):
 * written in chunks `.cairn/removed.part-NNNNNN` (NUL-terminated names).
 * Must not be called while the same thread holds an entry of known size.
 */
int arc_writer_removed(struct arc_writer *w, const char *name,
		       struct cairn_error *err);
/* Calls on_record for a record that is not written (an unchanged entry of
 * an incremental backup), in order with the others. */
int arc_writer_carry(struct arc_writer *w, const struct index_record *r,
		     struct cairn_error *err);

/*
 * Writes the index and the manifest (finished time, totals set here),
 * fsyncs, renames the file to `final_path` and fsyncs the directory.
 * *stored receives the file's size. The writer is released either way.
 */
int arc_writer_commit(struct arc_writer *w, const char *final_path,
		      uint64_t *stored, struct cairn_error *err);

/* Drops the archive: closes and removes the temporary file. */
void arc_writer_abort(struct arc_writer *w);

/* A warning of the job's, for the manifest (any thread; copied). */
void arc_writer_warning(struct arc_writer *w, const char *message);
/* The first write error, or NULL while writing has not failed. */
const struct cairn_error *arc_writer_error(const struct arc_writer *w);
/* What an incremental backup builds on (chain.h's struct backup_base,
 * not owned), before the plugin writes. */
void arc_writer_set_base(struct arc_writer *w, void *base);
/* on_record below, before the plugin writes. */
void arc_writer_on_record(struct arc_writer *w,
			  void (*on_record)(void *context,
					    const struct index_record *r),
			  void *context);
/* After a commit with recipients: the SHA-256 of the age file, in hex. */
const char *arc_writer_sealed_sha256(const struct arc_writer *w);

#endif
