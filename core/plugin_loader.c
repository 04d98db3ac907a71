/*
 * The plugin loader of plugin_loader.h.
 */
#include "plugin_loader.h"

#include "autoconfig.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"

int
plugin_loader_open(struct plugin *p, const char *path, struct cairn_error *err)
{
	const struct cairn_plugin *d;

	memset(p, 0, sizeof(*p));
	/* RTLD_LOCAL: plugins do not see each other's symbols. */
	p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (p->handle == NULL) {
		error_set(err, "cannot load plugin '%s': %s", path, dlerror());
		return -1;
	}
	d = dlsym(p->handle, CAIRN_PLUGIN_ENTRY_SYMBOL);
	if (d == NULL) {
		error_set(err, "'%s' is not a cairn plugin: it has no '%s'",
			  path, CAIRN_PLUGIN_ENTRY_SYMBOL);
		goto fail;
	}
	if (d->abi_version != CAIRN_PLUGIN_ABI_VERSION) {
		error_set(err,
			  "plugin '%s' was built for plugin ABI %u, this "
			  "cairn speaks ABI %u: rebuild it against this "
			  "cairn's <cairn/plugin.h>",
			  path, d->abi_version, CAIRN_PLUGIN_ABI_VERSION);
		goto fail;
	}
	if (d->name == NULL || d->keys == NULL || d->configure == NULL ||
	    d->backup == NULL || d->restore == NULL || d->release == NULL) {
		error_set(err,
			  "plugin '%s' lacks its name, keys, or one of the "
			  "configure, backup, restore and release callbacks",
			  path);
		goto fail;
	}
	for (const char *const *k = d->keys; *k != NULL; k++)
		if (config_is_core_job_key(*k)) {
			error_set(err,
				  "plugin '%s' claims the key '%s', which "
				  "cairn itself handles",
				  path, *k);
			goto fail;
		}
	p->descriptor = d;
	p->path = xstrdup(path);
	return 0;
fail:
	dlclose(p->handle);
	p->handle = NULL;
	return -1;
}

int
plugin_loader_open_named(struct plugin *p, const char *dir, const char *name,
			 struct cairn_error *err)
{
	struct buf path = BUF_INIT;
	int rc;

	if (strchr(name, '/') != NULL || name[0] == '.') {
		error_set(err, "'%s' is not a plugin name", name);
		return -1;
	}
	buf_printf(&path, "%s/%s.so", dir, name);
	rc = plugin_loader_open(p, buf_str(&path), err);
	if (rc == 0 && strcmp(p->descriptor->name, name) != 0) {
		error_set(err, "plugin file '%s' holds plugin '%s'",
			  buf_str(&path), p->descriptor->name);
		plugin_loader_close(p);
		rc = -1;
	}
	if (rc != 0 && access(buf_str(&path), F_OK) != 0)
		error_set(err, "no plugin '%s' in '%s'", name, dir);
	buf_release(&path);
	return rc;
}

void
plugin_loader_close(struct plugin *p)
{
#ifndef CAIRN_SANITIZERS
	if (p->handle != NULL)
		dlclose(p->handle);
#endif
	free(p->path);
	memset(p, 0, sizeof(*p));
}

int
plugin_accepts_key(const struct plugin *p, const char *key)
{
	const char *const *k;

	for (k = p->descriptor->keys; *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
plugin_loader_list(const char *dir, char ***paths, size_t *count,
		   struct cairn_error *err)
{
	struct dirent *d;
	DIR *handle = opendir(dir);
	struct buf path = BUF_INIT;

	*paths = NULL;
	*count = 0;
	if (handle == NULL) {
		error_errno(err, errno, "cannot read plugin directory '%s'",
			    dir);
		return -1;
	}
	while ((d = readdir(handle)) != NULL) {
		size_t length = strlen(d->d_name);

		if (length < 4 || strcmp(d->d_name + length - 3, ".so") != 0)
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/%s", dir, d->d_name);
		*paths = xrealloc(*paths, (*count + 1) * sizeof(char *));
		(*paths)[(*count)++] = xstrdup(buf_str(&path));
	}
	closedir(handle);
	buf_release(&path);
	if (*count > 1) /* qsort's array must not be NULL, even empty */
		qsort(*paths, *count, sizeof(char *), by_name);
	return 0;
}
