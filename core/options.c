/*
 * Command-line parsing of options.h, with getopt_long.
 */
#include "options.h"

#include "autoconfig.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

enum long_only {
	OPT_JSON = 256,
	OPT_NO_PROGRESS,
	OPT_JOB,
	OPT_TO,
	OPT_ONLY,
	OPT_DRY_RUN,
	OPT_FORCE,
	OPT_WAIT,
	OPT_HELP,
	OPT_VERSION,
	OPT_REMOTE,
	OPT_FROM,
	OPT_DEEP,
};

/* Which commands take which specific option. */
#define ALLOW_JOB                                                              \
	((1u << COMMAND_LIST) | (1u << COMMAND_PRUNE) | (1u << COMMAND_COPY))
#define ALLOW_TO ((1u << COMMAND_RESTORE) | (1u << COMMAND_COPY))
#define ALLOW_REMOTE                                                           \
	((1u << COMMAND_LIST) | (1u << COMMAND_VERIFY) | (1u << COMMAND_PRUNE))
#define ALLOW_FROM                                                             \
	((1u << COMMAND_RESTORE) | (1u << COMMAND_CAT) |                       \
	 (1u << COMMAND_CATALOG))
#define ALLOW_RESTORE (1u << COMMAND_RESTORE)
#define ALLOW_DRY_RUN ((1u << COMMAND_RESTORE) | (1u << COMMAND_PRUNE))
#define ALLOW_WAIT                                                             \
	((1u << COMMAND_BACKUP) | (1u << COMMAND_PRUNE) |                      \
	 (1u << COMMAND_DRILL) | (1u << COMMAND_CATALOG) |                     \
	 (1u << COMMAND_COPY) | (1u << COMMAND_REKEY))

static const struct {
	const char *name;
	enum command command;
	size_t min_args;
	size_t max_args; /* (size_t)-1: any */
} commands[] = {
	{"backup", COMMAND_BACKUP, 0, (size_t)-1},
	{"list", COMMAND_LIST, 0, 0},
	{"show", COMMAND_SHOW, 1, 1},
	{"cat", COMMAND_CAT, 2, 2},
	{"restore", COMMAND_RESTORE, 1, 1},
	{"verify", COMMAND_VERIFY, 0, (size_t)-1},
	{"prune", COMMAND_PRUNE, 0, 0},
	{"drill", COMMAND_DRILL, 0, (size_t)-1},
	{"check", COMMAND_CHECK, 0, (size_t)-1},
	{"plugins", COMMAND_PLUGINS, 0, 0},
	{"catalog", COMMAND_CATALOG, 1, 1},
	{"copy", COMMAND_COPY, 0, (size_t)-1},
	{"key", COMMAND_KEY, 1, 2},
	{"rekey", COMMAND_REKEY, 0, (size_t)-1},
	{"version", COMMAND_VERSION, 0, 0},
	{"help", COMMAND_HELP, 0, 0},
};

const char *
options_usage(void)
{
	return "usage: cairn [-c FILE] [-r DIR] [-q|-v] [--json] "
	       "[--no-progress] COMMAND [ARGS]\n"
	       "\n"
	       "Back up, restore, verify and prune the stateful parts of a "
	       "platform.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE   configuration file (default: "
	       "$CAIRN_CONFIG, else " SYSCONFDIR "/cairn/cairn.conf)\n"
	       "  -r, --repo DIR      repository, instead of [repository] "
	       "path\n"
	       "  -q, --quiet         errors only\n"
	       "  -v, --verbose       informational lines too (twice: "
	       "debugging)\n"
	       "      --json          one JSON document on stdout\n"
	       "      --no-progress   no progress display\n"
	       "  -h, --help          this text\n"
	       "\n"
	       "Commands:\n"
	       "  backup [JOB...]       run jobs (default: all), one archive "
	       "each\n"
	       "      --wait SECONDS      wait for the repository lock\n"
	       "  list [--job JOB]      the catalogue, newest first\n"
	       "  show ID               an archive's manifest and entries\n"
	       "  cat ID ENTRY          one entry's content on stdout\n"
	       "  restore ID [--to TARGET] [--only NAME]... [--dry-run] "
	       "[--force]\n"
	       "                        restore an archive (into its own "
	       "source only with --force)\n"
	       "  verify [ID...]        check every checksum (default: all "
	       "archives)\n"
	       "  prune [--job JOB] [--dry-run]\n"
	       "                        apply the retention policy\n"
	       "  drill [JOB...]        restore the newest archives into a "
	       "scratch target and check them\n"
	       "  check [JOB...]        health of sources and repository\n"
	       "  plugins               the plugins found\n"
	       "  catalog rebuild [--from NAME]\n"
	       "                        rebuild the catalogue from the "
	       "archives (local, or on target NAME)\n"
	       "  copy [--to NAME]... [--job JOB] [ID...]\n"
	       "                        copy archives an offsite target "
	       "lacks, each verified\n"
	       "  list, verify [--deep], prune take --remote NAME; restore "
	       "and cat take --from NAME\n"
	       "                        to work on the copies of offsite "
	       "target NAME\n"
	       "  key generate [FILE]   a new age identity (FILE mode 0600); "
	       "prints its public key\n"
	       "  key recipient FILE    the public keys of an identity file\n"
	       "  rekey [ID...]         re-wrap encrypted archives' file keys "
	       "for today's recipients\n"
	       "  version               program version\n"
	       "\n"
	       "ID is an archive id, a unique prefix of at least 6 "
	       "characters, 'latest' or 'JOB:latest'.\n"
	       "Exit status: 0 ok, 1 a job failed, 64 usage, 65 damaged data, "
	       "66 no such archive,\n"
	       "entry or job, 75 repository locked, 77 no identity opens the "
	       "archive,\n78 configuration error.\n"
	       "See cairn(8) and cairn.conf(5).\n";
}

static int
find_command(const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(commands[i].name, name) == 0) {
			*index = i;
			return 0;
		}
	return -1;
}

static int
parse_seconds(const char *text, int *out)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (end == text || *end != '\0' || n < 0 || n > 86400 * 7)
		return -1;
	*out = (int)n;
	return 0;
}

int
options_parse(struct options *o, int argc, char **argv, struct cairn_error *err)
{
	static const struct option long_options[] = {
		{"config", required_argument, NULL, 'c'},
		{"repo", required_argument, NULL, 'r'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, OPT_JSON},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"job", required_argument, NULL, OPT_JOB},
		{"to", required_argument, NULL, OPT_TO},
		{"only", required_argument, NULL, OPT_ONLY},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"force", no_argument, NULL, OPT_FORCE},
		{"wait", required_argument, NULL, OPT_WAIT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"remote", required_argument, NULL, OPT_REMOTE},
		{"from", required_argument, NULL, OPT_FROM},
		{"deep", no_argument, NULL, OPT_DEEP},
		{NULL, 0, NULL, 0},
	};
	/* Command-specific options seen, one bit per kind of option. */
	int used_job = 0, used_restore = 0, used_dry_run = 0, used_wait = 0;
	int used_to = 0;
	size_t index, i;
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	/* 0, not 1: glibc then forgets where an earlier parse stopped inside
	 * an argument (its scan pointer would point into that argv). */
	optind = 0;
	while ((c = getopt_long(argc, argv, "c:r:qvh", long_options, NULL)) !=
	       -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'r':
			o->repository = optarg;
			break;
		case 'q':
			o->verbosity = -1;
			break;
		case 'v':
			o->verbosity = o->verbosity < 0 ? 1 : o->verbosity + 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_NO_PROGRESS:
			o->no_progress = 1;
			break;
		case OPT_JOB:
			o->job = optarg;
			used_job = 1;
			break;
		case OPT_TO:
			o->to = optarg;
			o->targets = xrealloc(o->targets,
					      (o->target_count + 1) *
						      sizeof(*o->targets));
			o->targets[o->target_count++] = optarg;
			used_to = 1;
			break;
		case OPT_REMOTE:
			o->remote = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_DEEP:
			o->deep = 1;
			break;
		case OPT_ONLY:
			o->only = xrealloc(o->only, (o->only_count + 1) *
							    sizeof(*o->only));
			o->only[o->only_count++] = optarg;
			used_restore = 1;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			used_dry_run = 1;
			break;
		case OPT_FORCE:
			o->force = 1;
			used_restore = 1;
			break;
		case OPT_WAIT:
			if (parse_seconds(optarg, &o->wait) != 0) {
				error_set(err,
					  "--wait takes a number of "
					  "seconds, not '%s'",
					  optarg);
				return -1;
			}
			used_wait = 1;
			break;
		case 'h':
			o->command = COMMAND_HELP;
			return 0;
		case OPT_VERSION:
			o->command = COMMAND_VERSION;
			return 0;
		default:
			if (optopt != 0 && optopt < 256)
				error_set(err, "option '-%c' %s", optopt,
					  strchr("cr", optopt)
						  ? "needs an argument"
						  : "is unknown");
			else
				error_set(err,
					  "option '%s' is unknown or "
					  "lacks its argument",
					  argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		error_set(err, "no command given");
		return -1;
	}
	if (find_command(argv[optind], &index) != 0) {
		error_set(err, "unknown command '%s'", argv[optind]);
		return -1;
	}
	o->command = commands[index].command;
	o->command_name = commands[index].name;
	o->args = argv + optind + 1;
	o->arg_count = (size_t)(argc - optind - 1);
	if (o->arg_count < commands[index].min_args ||
	    o->arg_count > commands[index].max_args) {
		error_set(err, "wrong number of arguments for '%s'",
			  o->command_name);
		return -1;
	}
	if (used_job && !(ALLOW_JOB & (1u << o->command))) {
		error_set(err, "--job does not apply to '%s'", o->command_name);
		return -1;
	}
	if (used_restore && !(ALLOW_RESTORE & (1u << o->command))) {
		error_set(err, "--only and --force apply to 'restore' only");
		return -1;
	}
	if (used_to && !(ALLOW_TO & (1u << o->command))) {
		error_set(err, "--to applies to 'restore' and 'copy' only");
		return -1;
	}
	if (o->command == COMMAND_RESTORE && o->target_count > 1) {
		error_set(err, "restore takes one --to");
		return -1;
	}
	if (o->remote != NULL && !(ALLOW_REMOTE & (1u << o->command))) {
		error_set(err, "--remote applies to 'list', 'verify' and "
			       "'prune' only");
		return -1;
	}
	if (o->from != NULL && !(ALLOW_FROM & (1u << o->command))) {
		error_set(err, "--from applies to 'restore', 'cat' and "
			       "'catalog rebuild' only");
		return -1;
	}
	if (o->deep && (o->command != COMMAND_VERIFY || o->remote == NULL)) {
		error_set(err, "--deep applies to 'verify --remote NAME' only");
		return -1;
	}
	if (used_dry_run && !(ALLOW_DRY_RUN & (1u << o->command))) {
		error_set(err, "--dry-run does not apply to '%s'",
			  o->command_name);
		return -1;
	}
	if (used_wait && !(ALLOW_WAIT & (1u << o->command))) {
		error_set(err, "--wait does not apply to '%s'",
			  o->command_name);
		return -1;
	}
	if (o->command == COMMAND_KEY && strcmp(o->args[0], "generate") != 0 &&
	    (strcmp(o->args[0], "recipient") != 0 || o->arg_count != 2)) {
		error_set(err,
			  "unknown key command '%s' (try 'generate "
			  "[FILE]' or 'recipient FILE')",
			  o->args[0]);
		return -1;
	}
	if (o->command == COMMAND_CATALOG &&
	    strcmp(o->args[0], "rebuild") != 0) {
		error_set(err, "unknown catalog command '%s' (try 'rebuild')",
			  o->args[0]);
		return -1;
	}
	for (i = 0; i < o->only_count; i++)
		if (o->only[i][0] == '\0') {
			error_set(err, "--only needs a name");
			return -1;
		}
	return 0;
}

void
options_release(struct options *o)
{
	free(o->only);
	o->only = NULL;
	free(o->targets);
	o->targets = NULL;
}
