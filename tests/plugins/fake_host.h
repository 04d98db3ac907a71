/*
 * A fake struct cairn_host for testing plugins without the core: it keeps
 * log lines, facts, report lines and the whole entry stream in memory, and
 * can replay recorded entries as a restore source. Single-threaded use only
 * except for the stream functions, which take a lock.
 */
#ifndef CAIRN_FAKE_HOST_H
#define CAIRN_FAKE_HOST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

struct fake_entry {
	/* A copy of the plugin's entry: its strings and xattr values point
	 * into `strings`, its xattrs and extents into the two arrays, all
	 * three owned here. */
	struct cairn_entry meta;
	char *strings;
	struct cairn_xattr *xattrs;
	struct cairn_extent *extents;
	/*
	 * What the plugin wrote: the logical content, or for a sparse
	 * entry (meta.extent_count > 0) its data regions back to back.
	 */
	unsigned char *data;
	size_t length;
};

struct fake_host {
	struct cairn_host host; /* first member: the plugin sees this */
	/* fh itself, for the host callbacks, which get a const host. */
	struct fake_host *self;

	char **log_lines; /* "warning: ..." and so on */
	size_t log_count;

	char **facts; /* "key=value" */
	size_t fact_count;

	char **report_lines; /* "item key=value" or "problem text" */
	size_t report_count;

	struct fake_entry *entries;
	size_t entry_count;
	pthread_mutex_t lock;

	/* Source position while replaying. */
	size_t next_entry;
	size_t current;	  /* index + 1 of the entry being read, 0 if none */
	int block_served; /* whether the current entry's data was returned */
	/*
	 * Sparse entries are replayed one extent per block, at the
	 * extent's offset: the next extent to serve and where its bytes
	 * start in `data`.
	 */
	size_t extent_next;
	size_t extent_position;
};

/* Initialises fh; release with fake_host_release. */
void fake_host_init(struct fake_host *fh);
void fake_host_release(struct fake_host *fh);

/* The opaque handles to hand to plugin callbacks. */
struct cairn_sink *fake_host_sink(struct fake_host *fh);
struct cairn_source *fake_host_source(struct fake_host *fh);
struct cairn_report *fake_host_report(struct fake_host *fh);

/* Restarts replaying entries from the first one. */
void fake_host_rewind(struct fake_host *fh);

/* Lookups for assertions; NULL when absent. */
const struct fake_entry *fake_host_entry(const struct fake_host *fh,
					 const char *name);
const char *fake_host_fact(const struct fake_host *fh, const char *key);
/* Whether any log line contains `needle`. */
int fake_host_logged(const struct fake_host *fh, const char *needle);

#endif
