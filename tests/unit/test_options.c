/*
 * Unit tests of the command line: global options before and after the
 * command, `--` ending options, each command's own options refused
 * elsewhere, argument counts, `--wait` values, `catalog rebuild`, and
 * the messages of usage errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "options.h"
#include "test_helpers.h"

#define MAX_ARGS 32

/* A command line split on spaces, in writable strings as main gets. */
struct argv_copy {
	int argc;
	char *argv[MAX_ARGS + 1];
	char *text;
};

static void
argv_make(struct argv_copy *a, const char *line)
{
	char *token, *save = NULL;

	memset(a, 0, sizeof(*a));
	a->text = xstrdup(line);
	a->argv[a->argc++] = xstrdup("cairn");
	for (token = strtok_r(a->text, " ", &save); token != NULL;
	     token = strtok_r(NULL, " ", &save)) {
		assert_true(a->argc < MAX_ARGS);
		/* "''" stands for an empty argument. */
		a->argv[a->argc++] = xstrdup(strcmp(token, "''") ? token : "");
	}
	a->argv[a->argc] = NULL;
}

static void
argv_release(struct argv_copy *a)
{
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->text);
}

/* Parses `line`; the argv copy must outlive o (it points into it). */
static int
parse(struct argv_copy *a, struct options *o, const char *line,
      struct cairn_error *err)
{
	argv_make(a, line);
	memset(err, 0, sizeof(*err));
	return options_parse(o, a->argc, a->argv, err);
}

static void
expect_usage_error(const char *line, const char *message)
{
	struct argv_copy a;
	struct options o;
	struct cairn_error err;

	if (parse(&a, &o, line, &err) == 0)
		fail_msg("'cairn %s' was accepted", line);
	assert_contains(err.message, message);
	options_release(&o);
	argv_release(&a);
}

static void
expect_ok(struct argv_copy *a, struct options *o, const char *line)
{
	struct cairn_error err;

	if (parse(a, o, line, &err) != 0)
		fail_msg("'cairn %s' refused: %s", line, err.message);
}

static void
test_global_before(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o,
		  "-c /etc/c.conf -r /srv/repo -v --json --no-progress "
		  "backup db volumes");
	assert_string_equal(o.config, "/etc/c.conf");
	assert_string_equal(o.repository, "/srv/repo");
	assert_int_equal(o.verbosity, 1);
	assert_int_equal(o.json, 1);
	assert_int_equal(o.no_progress, 1);
	assert_int_equal(o.command, COMMAND_BACKUP);
	assert_string_equal(o.command_name, "backup");
	assert_int_equal(o.arg_count, 2);
	assert_string_equal(o.args[0], "db");
	assert_string_equal(o.args[1], "volumes");
	assert_int_equal(o.wait, 0);
	options_release(&o);
	argv_release(&a);

	expect_ok(&a, &o, "--config=/c --repo=/r list");
	assert_string_equal(o.config, "/c");
	assert_string_equal(o.repository, "/r");
	assert_int_equal(o.command, COMMAND_LIST);
	assert_int_equal(o.arg_count, 0);
	options_release(&o);
	argv_release(&a);
}

static void
test_global_after(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "show 0a1b2c --json -c /c");
	assert_int_equal(o.command, COMMAND_SHOW);
	assert_int_equal(o.json, 1);
	assert_string_equal(o.config, "/c");
	assert_int_equal(o.arg_count, 1);
	assert_string_equal(o.args[0], "0a1b2c");
	options_release(&o);
	argv_release(&a);

	/* Mixed between the arguments. */
	expect_ok(&a, &o, "backup db -q volumes --wait 30 -r /r");
	assert_int_equal(o.command, COMMAND_BACKUP);
	assert_int_equal(o.verbosity, -1);
	assert_int_equal(o.wait, 30);
	assert_string_equal(o.repository, "/r");
	assert_int_equal(o.arg_count, 2);
	assert_string_equal(o.args[0], "db");
	assert_string_equal(o.args[1], "volumes");
	options_release(&o);
	argv_release(&a);
}

static void
test_verbosity(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "-v -v list");
	assert_int_equal(o.verbosity, 2);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "-q list");
	assert_int_equal(o.verbosity, -1);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "-qv list");
	assert_int_equal(o.verbosity, 1);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "list");
	assert_int_equal(o.verbosity, 0);
	options_release(&o);
	argv_release(&a);
}

static void
test_double_dash(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	/* An entry whose name starts with a dash. */
	expect_ok(&a, &o, "cat latest -- --weird-name");
	assert_int_equal(o.command, COMMAND_CAT);
	assert_int_equal(o.arg_count, 2);
	assert_string_equal(o.args[0], "latest");
	assert_string_equal(o.args[1], "--weird-name");
	options_release(&o);
	argv_release(&a);
}

static void
test_restore_options(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o,
		  "restore db:latest --to postgresql://u@h:5432 "
		  "--only payment_gateway --only merchant --dry-run "
		  "--force");
	assert_int_equal(o.command, COMMAND_RESTORE);
	assert_int_equal(o.arg_count, 1);
	assert_string_equal(o.args[0], "db:latest");
	assert_string_equal(o.to, "postgresql://u@h:5432");
	assert_int_equal(o.only_count, 2);
	assert_string_equal(o.only[0], "payment_gateway");
	assert_string_equal(o.only[1], "merchant");
	assert_int_equal(o.dry_run, 1);
	assert_int_equal(o.force, 1);
	options_release(&o);
	assert_null(o.only);
	argv_release(&a);
}

static void
test_command_options(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "list --job db");
	assert_string_equal(o.job, "db");
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "prune --job db --dry-run --wait 5");
	assert_int_equal(o.command, COMMAND_PRUNE);
	assert_string_equal(o.job, "db");
	assert_int_equal(o.dry_run, 1);
	assert_int_equal(o.wait, 5);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "drill --wait 0 db");
	assert_int_equal(o.command, COMMAND_DRILL);
	options_release(&o);
	argv_release(&a);
}

static void
test_offsite_options(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "copy --to s3 --to vault --job db latest");
	assert_int_equal(o.command, COMMAND_COPY);
	assert_int_equal(o.target_count, 2);
	assert_string_equal(o.targets[0], "s3");
	assert_string_equal(o.targets[1], "vault");
	assert_string_equal(o.job, "db");
	assert_int_equal(o.arg_count, 1);
	options_release(&o);
	argv_release(&a);

	expect_ok(&a, &o, "verify --remote s3 --deep");
	assert_string_equal(o.remote, "s3");
	assert_int_equal(o.deep, 1);
	options_release(&o);
	argv_release(&a);

	expect_ok(&a, &o, "restore latest --from s3 --to /tmp/x");
	assert_string_equal(o.from, "s3");
	assert_string_equal(o.to, "/tmp/x");
	options_release(&o);
	argv_release(&a);
}

static void
test_options_refused_elsewhere(void **state)
{
	(void)state;
	expect_usage_error("backup --job db",
			   "--job does not apply to 'backup'");
	expect_usage_error("show latest --job db", "--job does not apply");
	expect_usage_error("list --to /tmp/x",
			   "--to applies to 'restore' and 'copy' only");
	expect_usage_error("backup --remote s3", "--remote applies to");
	expect_usage_error("list --from s3", "--from applies to");
	expect_usage_error("verify --deep", "--deep applies to");
	expect_usage_error("restore latest --to /a --to /b",
			   "restore takes one --to");
	expect_usage_error("backup --only x", "apply to 'restore' only");
	expect_usage_error("verify --force", "apply to 'restore' only");
	expect_usage_error("verify --dry-run",
			   "--dry-run does not apply to 'verify'");
	expect_usage_error("backup --dry-run", "--dry-run does not apply");
	expect_usage_error("restore latest --to /x --wait 5",
			   "--wait does not apply to 'restore'");
	expect_usage_error("list --wait 5", "--wait does not apply to 'list'");
	expect_usage_error("verify --wait 5", "--wait does not apply");
}

static void
test_argument_counts(void **state)
{
	(void)state;
	expect_usage_error("show", "wrong number of arguments for 'show'");
	expect_usage_error("show a b", "wrong number of arguments for 'show'");
	expect_usage_error("cat latest", "wrong number of arguments for 'cat'");
	expect_usage_error("cat a b c", "wrong number of arguments for 'cat'");
	expect_usage_error("restore",
			   "wrong number of arguments for 'restore'");
	expect_usage_error("restore a b --to /x",
			   "wrong number of arguments for 'restore'");
	expect_usage_error("list db", "wrong number of arguments for 'list'");
	expect_usage_error("prune db", "wrong number of arguments for 'prune'");
	expect_usage_error("plugins x", "wrong number of arguments");
	expect_usage_error("version 2", "wrong number of arguments");
	expect_usage_error("catalog",
			   "wrong number of arguments for 'catalog'");
	expect_usage_error("catalog rebuild now", "wrong number of arguments");
}

static void
test_many_arguments(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "verify");
	assert_int_equal(o.command, COMMAND_VERIFY);
	assert_int_equal(o.arg_count, 0);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "verify a1b2c3 latest db:latest x y z");
	assert_int_equal(o.arg_count, 6);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "check db redis kong");
	assert_int_equal(o.command, COMMAND_CHECK);
	assert_int_equal(o.arg_count, 3);
	options_release(&o);
	argv_release(&a);
}

static void
test_wait(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "backup --wait 600");
	assert_int_equal(o.wait, 600);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "backup --wait=0");
	assert_int_equal(o.wait, 0);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "backup --wait 604800");
	assert_int_equal(o.wait, 604800);
	options_release(&o);
	argv_release(&a);

	expect_usage_error("backup --wait abc",
			   "--wait takes a number of seconds, not 'abc'");
	expect_usage_error("backup --wait -1", "not '-1'");
	expect_usage_error("backup --wait 10s", "not '10s'");
	expect_usage_error("backup --wait 1.5", "not '1.5'");
	expect_usage_error("backup --wait ''", "not ''");
	expect_usage_error("backup --wait 604801", "not '604801'");
	expect_usage_error("backup --wait 99999999999999999999",
			   "--wait takes a number");
	expect_usage_error("backup --wait", "'--wait'");
}

static void
test_catalog_rebuild(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "catalog rebuild");
	assert_int_equal(o.command, COMMAND_CATALOG);
	assert_string_equal(o.args[0], "rebuild");
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "-r /srv/repo catalog rebuild --wait 10");
	assert_int_equal(o.wait, 10);
	options_release(&o);
	argv_release(&a);
	expect_usage_error("catalog show",
			   "unknown catalog command 'show' (try 'rebuild')");
}

static void
test_usage_errors(void **state)
{
	(void)state;
	expect_usage_error("", "no command given");
	expect_usage_error("-v --json", "no command given");
	expect_usage_error("frobnicate", "unknown command 'frobnicate'");
	expect_usage_error("BACKUP", "unknown command 'BACKUP'");
	expect_usage_error("-x list", "option '-x' is unknown");
	expect_usage_error("list -c", "option '-c' needs an argument");
	expect_usage_error("list -r", "option '-r' needs an argument");
	expect_usage_error("--bogus list", "option '--bogus' is unknown");
	expect_usage_error("list --job", "'--job'");
	expect_usage_error("restore latest --to /x --only ''",
			   "--only needs a name");
}

static void
test_help_and_version(void **state)
{
	struct argv_copy a;
	struct options o;

	(void)state;
	expect_ok(&a, &o, "--help");
	assert_int_equal(o.command, COMMAND_HELP);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "list -h");
	assert_int_equal(o.command, COMMAND_HELP);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "--version");
	assert_int_equal(o.command, COMMAND_VERSION);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "version");
	assert_int_equal(o.command, COMMAND_VERSION);
	options_release(&o);
	argv_release(&a);
	expect_ok(&a, &o, "help");
	assert_int_equal(o.command, COMMAND_HELP);
	options_release(&o);
	argv_release(&a);
}

static void
test_usage_text(void **state)
{
	const char *usage = options_usage();
	static const char *const commands[] = {
		"backup",
		"list",
		"show",
		"cat",
		"restore",
		"verify",
		"prune",
		"drill",
		"check",
		"plugins",
		"catalog rebuild",
		"version",
		"--wait",
		"--json",
		"--no-progress",
	};
	size_t i;

	(void)state;
	assert_contains(usage, "usage: cairn [-c FILE] [-r DIR] [-q|-v]");
	for (i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		assert_contains(usage, commands[i]);
	assert_contains(usage, "64 usage");
	assert_contains(usage, "75 repository locked");
}

static void
test_every_command(void **state)
{
	static const struct {
		const char *line;
		enum command command;
	} cases[] = {
		{"backup", COMMAND_BACKUP},
		{"list", COMMAND_LIST},
		{"show latest", COMMAND_SHOW},
		{"cat latest x", COMMAND_CAT},
		{"restore latest", COMMAND_RESTORE},
		{"verify", COMMAND_VERIFY},
		{"prune", COMMAND_PRUNE},
		{"drill", COMMAND_DRILL},
		{"check", COMMAND_CHECK},
		{"plugins", COMMAND_PLUGINS},
		{"catalog rebuild", COMMAND_CATALOG},
		{"copy", COMMAND_COPY},
		{"version", COMMAND_VERSION},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct argv_copy a;
		struct options o;

		expect_ok(&a, &o, cases[i].line);
		assert_int_equal(o.command, cases[i].command);
		options_release(&o);
		argv_release(&a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_before),
		cmocka_unit_test(test_global_after),
		cmocka_unit_test(test_verbosity),
		cmocka_unit_test(test_double_dash),
		cmocka_unit_test(test_restore_options),
		cmocka_unit_test(test_command_options),
		cmocka_unit_test(test_offsite_options),
		cmocka_unit_test(test_options_refused_elsewhere),
		cmocka_unit_test(test_argument_counts),
		cmocka_unit_test(test_many_arguments),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_catalog_rebuild),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_usage_text),
		cmocka_unit_test(test_every_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
