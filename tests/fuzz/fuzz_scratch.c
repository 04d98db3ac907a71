/*
 * The scratch directory of fuzz_scratch.h. Errors here are the harness's,
 * not the code's under test, so they abort with a message: libFuzzer
 * then stops on the first input rather than reporting nonsense.
 */
#include "fuzz_scratch.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[4096];

/* Removes the files the targets made (no subdirectories), then the
 * directory; libFuzzer leaves through exit() when its time is up. */
static void
remove_scratch(void)
{
	char path[sizeof(scratch) + 256];
	struct dirent *entry;
	DIR *dir = opendir(scratch);

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 ||
		    strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", scratch, entry->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(scratch);
}

static void
harness_failure(const char *what, const char *path)
{
	perror(what);
	fprintf(stderr, "fuzz harness: cannot use '%s'\n", path);
	abort();
}

const char *
fuzz_scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0] != '\0')
		return scratch;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(scratch, sizeof(scratch), "%s/cairn-fuzz.XXXXXX",
			     tmp) >= sizeof(scratch))
		harness_failure("snprintf", tmp);
	if (mkdtemp(scratch) == NULL)
		harness_failure("mkdtemp", scratch);
	atexit(remove_scratch);
	return scratch;
}

char *
fuzz_scratch_write(const char *dir, const char *name, const void *data,
		   size_t size)
{
	size_t length = strlen(dir) + strlen(name) + 2, done = 0;
	char *path = malloc(length);
	ssize_t n;
	int fd;

	if (path == NULL)
		abort();
	snprintf(path, length, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		harness_failure("open", path);
	while (done < size) {
		n = write(fd, (const char *)data + done, size - done);
		if (n <= 0)
			harness_failure("write", path);
		done += (size_t)n;
	}
	if (close(fd) != 0)
		harness_failure("close", path);
	return path;
}

void
fuzz_scratch_remove(const char *dir, const char *name)
{
	char path[sizeof(scratch) + 256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}
