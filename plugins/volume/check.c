/*
 * Check: for each configured path, whether it is a readable directory,
 * how many files and bytes a backup would read from it and how much room
 * its file system has left. The tree is walked as a backup walks it,
 * counting instead of reading files, so what the walk cannot read (a
 * directory, a name it cannot stat) is a problem of the report: the
 * first VOLUME_CHECK_PROBLEMS of them, then how many more.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void
volume_human(char *text, size_t size, double bytes)
{
	static const char *const units[] = {"B",   "KiB", "MiB",
					    "GiB", "TiB", "PiB"};
	size_t unit = 0;

	while (bytes >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1024;
		unit++;
	}
	(void)snprintf(text, size, unit == 0 ? "%.0f %s" : "%.1f %s", bytes,
		       units[unit]);
}

int
volume_check(void *state, const struct cairn_host *host,
	     struct cairn_report *report, struct cairn_error *err)
{
	const struct volume *vol = state;
	struct volume_walk w;
	char value[256], size[32], free_text[32];
	int64_t files = 0, bytes = 0;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.vol = vol;
	w.host = host;
	w.report = report;
	w.err = err;
	for (i = 0; i < vol->path_count; i++) {
		const char *path = vol->paths[i];
		struct statvfs fs;
		struct stat st;

		if (stat(path, &st) == -1) {
			host->report_problem(report, "path '%s': %s", path,
					     strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			host->report_problem(report,
					     "path '%s' is not a directory",
					     path);
			continue;
		}
		if (access(path, R_OK | X_OK) == -1) {
			host->report_problem(report,
					     "path '%s' is not readable: %s",
					     path, strerror(errno));
			continue;
		}
		w.entries = w.files = w.bytes = 0;
		err->message[0] = '\0';
		if (volume_walk_root(&w, path) == -1) {
			host->report_problem(report, "path '%s': %s", path,
					     err->message);
			continue;
		}
		volume_human(size, sizeof(size), (double)w.bytes);
		if (statvfs(path, &fs) == 0)
			volume_human(free_text, sizeof(free_text),
				     (double)fs.f_bavail * fs.f_frsize);
		else
			(void)snprintf(free_text, sizeof(free_text), "unknown");
		(void)snprintf(value, sizeof(value),
			       "%" PRId64 " files, %" PRId64
			       " bytes (%s), %s free",
			       w.files, w.bytes, size, free_text);
		host->report_item(report, path, value);
		files += w.files;
		bytes += w.bytes;
	}
	if (w.problems > VOLUME_CHECK_PROBLEMS)
		host->report_problem(report,
				     "%" PRId64 " more unreadable files",
				     w.problems - VOLUME_CHECK_PROBLEMS);
	(void)snprintf(value, sizeof(value), "%" PRId64, files);
	host->report_item(report, "files", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, bytes);
	host->report_item(report, "bytes", value);
	volume_walk_release(&w);
	err->message[0] = '\0';
	return 0;
}
