/*
 * `cairn plugins`: every plugin of the plugin directory with its version
 * and ABI version; one that cannot be loaded is listed with the reason.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "error.h"
#include "json.h"
#include "log.h"

int
cmd_plugins(struct context *ctx)
{
	struct json_value *array = json_new_array();
	struct cairn_error err;
	char **paths = NULL;
	size_t count = 0, i;
	int status = EXIT_OK;

	if (plugin_loader_list(ctx->plugin_dir, &paths, &count, &err) != 0) {
		log_error("%s", err.message);
		json_free(array);
		return EXIT_CONFIG;
	}
	if (!ctx->options->json)
		printf("%-10s %-10s %-4s %s\n", "NAME", "VERSION", "ABI",
		       "DESCRIPTION");
	for (i = 0; i < count; i++) {
		struct json_value *o = json_new_object();
		struct plugin p;

		json_object_set_string(o, "path", paths[i]);
		if (plugin_loader_open(&p, paths[i], &err) != 0) {
			log_error("%s", err.message);
			json_object_set_string(o, "error", err.message);
			status = EXIT_CONFIG;
		} else {
			const struct cairn_plugin *d = p.descriptor;

			json_object_set_string(o, "name", d->name);
			json_object_set_string(o, "version",
					       d->version ? d->version : "");
			json_object_set_int64(o, "abi", d->abi_version);
			json_object_set_string(o, "description",
					       d->description ? d->description
							      : "");
			if (!ctx->options->json)
				printf("%-10s %-10s %-4u %s\n", d->name,
				       d->version ? d->version : "-",
				       d->abi_version,
				       d->description ? d->description : "");
			plugin_loader_close(&p);
		}
		json_array_append(array, o);
		free(paths[i]);
	}
	free(paths);
	if (ctx->options->json)
		output_json(array);
	else
		json_free(array);
	return status;
}
