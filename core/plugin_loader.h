/*
 * Finding and loading plugins: shared objects named NAME.so in the plugin
 * directory, each exporting cairn_plugin_entry. The ABI version is read
 * before anything else and a mismatch is refused, naming the file and
 * both versions; so are a missing symbol and missing required callbacks.
 */
#ifndef CAIRN_PLUGIN_LOADER_H
#define CAIRN_PLUGIN_LOADER_H

#include <stddef.h>

#include <cairn/plugin.h>

struct plugin {
	char *path;
	void *handle;
	const struct cairn_plugin *descriptor; /* inside the loaded object */
};

/* Loads the shared object at `path`. 0 or -1. */
int plugin_loader_open(struct plugin *p, const char *path,
		       struct cairn_error *err);
/* Loads DIR/NAME.so and checks that it calls itself NAME. */
int plugin_loader_open_named(struct plugin *p, const char *dir,
			     const char *name, struct cairn_error *err);
/* Unloads (kept loaded in sanitizer builds, so leak reports can name
 * the plugin's frames). */
void plugin_loader_close(struct plugin *p);

/* Whether the plugin lists `key` among its configuration keys. */
int plugin_accepts_key(const struct plugin *p, const char *key);

/*
 * Every *.so of `dir`, sorted by name, in a malloc'd array (*count items)
 * of paths owned by the caller (free each, then the array).
 */
int plugin_loader_list(const char *dir, char ***paths, size_t *count,
		       struct cairn_error *err);

#endif
