// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl's command line: the global options, then the command word, then
 * the command's own options (and the global ones again) mixed with its
 * arguments, as GNU getopt would permute them. Each command takes only
 * the options it lists in commands.c; any other is a usage error naming
 * the command.
 *
 * Our own scanner rather than getopt_long: a negative number ("set VF
 * vlan -5", "create PF -1") is an argument for the command to judge, not
 * a cluster of short options, and the options given before the command
 * word have to be handed to the command they belong to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

#ifndef VFCTL_VERSION
#define VFCTL_VERSION "0.1"
#endif

#define EXIT_STATUS_DOC \
	"Exit status: 0 ok or nothing to do, 1 error, 2 usage, 3 not found, 4 busy,\n" \
	"5 refused, 6 no free VF, 7 vfctld unreachable.\n"

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

struct cli_option {
	int id;			/* enum cli_opt */
	const char *flag;	/* "--all" */
	const char *letter;	/* "-a", or NULL */
	const char *value;	/* the value's name in usages; NULL: takes none */
	const char *doc;	/* global options: their line in the overview */
};

static const struct cli_option global_opts[] = {
	{ OPT_JSON, "--json", "-j", NULL, "JSON output" },
	{ OPT_QUIET, "--quiet", "-q", NULL, "no progress lines or notes on stderr (errors only)" },
	{ OPT_VERBOSE, "--verbose", "-v", NULL, "progress of long operations as lines on stderr,\n"
	  "also when it is no terminal" },
	{ OPT_SYSFS_ROOT, "--sysfs-root", NULL, "DIR", "read DIR instead of /sys (env VFCTL_SYSFS_ROOT)" },
	{ OPT_DEV_ROOT, "--dev-root", NULL, "DIR", "read DIR instead of /dev (env VFCTL_DEV_ROOT)" },
	{ OPT_RUN_DIR, "--run-dir", NULL, "DIR", "locks and saved state under DIR, not /run/vfctl\n"
	  "(env VFCTL_RUN_DIR)" },
	{ OPT_HELP, "--help", "-h", NULL, "this overview; after a command, its usage" },
	{ OPT_VERSION, "--version", "-V", NULL, "version" },
};

static const struct cli_option command_opts[] = {
	{ OPT_ALL, "--all", "-a", NULL, NULL },
	{ OPT_BRIEF, "--brief", "-b", NULL, NULL },
	{ OPT_DRIVER, "--driver", NULL, "NAME", NULL },
	{ OPT_LEASED, "--leased", NULL, NULL, NULL },
	{ OPT_FREE, "--free", NULL, NULL, NULL },
	{ OPT_NO_AUTOPROBE, "--no-autoprobe", NULL, NULL, NULL },
	{ OPT_FORCE, "--force", NULL, NULL, NULL },
	{ OPT_TIMEOUT, "--timeout", NULL, "SEC", NULL },
	{ OPT_DRY_RUN, "--dry-run", NULL, NULL, NULL },
	{ OPT_CONFIG, "--config", NULL, "FILE", NULL },
	{ OPT_SKIP_ABSENT, "--skip-absent", NULL, NULL, NULL },
	{ OPT_PF, "--pf", NULL, "DEV", NULL },
	{ OPT_POOL, "--pool", NULL, "POOL", NULL },
	{ OPT_NUMA, "--numa", NULL, "N", NULL },
	{ OPT_OWNER, "--owner", NULL, "TAG", NULL },
	{ OPT_PID, "--pid", NULL, "PID", NULL },
	{ OPT_TTL, "--ttl", NULL, "DURATION", NULL },
	{ OPT_SOCKET, "--socket", NULL, "PATH", NULL },
	{ OPT_LEASE, "--lease", NULL, "ID", NULL },
	{ OPT_INTERFACE, "--interface", NULL, NULL, NULL },
	{ OPT_IOMMUFD, "--iommufd", NULL, NULL, NULL },
};

#define N_OPTS (ARRAY_SIZE(global_opts) + ARRAY_SIZE(command_opts))

static const struct cli_option *opt_by_id(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(global_opts); i++)
		if (global_opts[i].id == id)
			return &global_opts[i];
	for (size_t i = 0; i < ARRAY_SIZE(command_opts); i++)
		if (command_opts[i].id == id)
			return &command_opts[i];
	return NULL;
}

/* The options one scan knows: the global ones and a command's own, or
 * (before the command word) every command's. */
struct optset {
	const struct cli_option *v[N_OPTS];
	size_t n;
};

static void optset_make(struct optset *s, const struct cli_cmd *c)
{
	s->n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(global_opts); i++)
		s->v[s->n++] = &global_opts[i];
	if (!c) {
		for (size_t i = 0; i < ARRAY_SIZE(command_opts); i++)
			s->v[s->n++] = &command_opts[i];
		return;
	}
	for (size_t i = 0; i < CLI_MAX_OPTS && c->opts[i].id; i++)
		s->v[s->n++] = opt_by_id(c->opts[i].id);
}

/* "--name" or a prefix of one name only, as getopt_long takes them.
 * Returns it, or NULL with *ambiguous set when more than one fits. */
static const struct cli_option *optset_find(const struct optset *s, const char *name, size_t len,
					    bool *ambiguous)
{
	const struct cli_option *found = NULL;

	*ambiguous = false;
	if (!len)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const char *f = s->v[i]->flag + 2;

		if (strncmp(f, name, len))
			continue;
		if (!f[len])
			return s->v[i];		/* exact */
		if (found)
			*ambiguous = true;
		found = s->v[i];
	}
	return *ambiguous ? NULL : found;
}

static const struct cli_option *optset_short(const struct optset *s, char ch)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->letter && s->v[i]->letter[1] == ch)
			return s->v[i];
	return NULL;
}

/* A scan over argv[i..argc): options and arguments in their order. */
struct scan {
	int argc;
	char **argv;
	int i;			/* the next argument */
	const char *cluster;	/* inside "-ja": the letters still to read */
	bool no_more_opts;	/* after "--" */
	const char *who;		/* "vfctl" or "vfctl NAME", for messages */
	const struct cli_cmd *cmd;	/* NULL: before the command word */
	struct optset set;
};

enum { SCAN_END, SCAN_OPT, SCAN_ARG, SCAN_ERR };

/* A lone "-" and a negative number are arguments, not options. */
static bool is_option(const char *s)
{
	return s[0] == '-' && s[1] && !(s[1] >= '0' && s[1] <= '9');
}

static int usage_error(const struct scan *s, const char *fmt, const char *what)
{
	fprintf(stderr, "%s: ", s->who);
	fprintf(stderr, fmt, what);
	fprintf(stderr, "; see '%s --help'\n", s->who);
	return SCAN_ERR;
}

/* An option of other commands: this command's own reason, if it has one. */
static int refuse(const struct scan *s, const char *spelling, const char *name, size_t len)
{
	struct optset all;
	const struct cli_option *o;
	bool amb;

	if (s->cmd) {
		optset_make(&all, NULL);
		o = name ? optset_find(&all, name, len, &amb) : optset_short(&all, spelling[1]);
		for (size_t i = 0; o && i < ARRAY_SIZE(s->cmd->refuse); i++)
			if (s->cmd->refuse[i].id == o->id) {
				fprintf(stderr, "%s: %s\n", s->who, s->cmd->refuse[i].why);
				return SCAN_ERR;
			}
	}
	return usage_error(s, "unrecognized option '%s'", spelling);
}

/* The next option (*ret and its value *val) or argument (*val). */
static int scan_next(struct scan *s, const struct cli_option **ret, const char **val)
{
	const char *arg, *eq;
	const struct cli_option *o;
	size_t len;
	bool amb;

	*val = NULL;
	if (s->cluster && *s->cluster) {
		char letter[3] = { '-', *s->cluster++, 0 };

		o = optset_short(&s->set, letter[1]);
		if (!o)
			return refuse(s, letter, NULL, 0);
		*ret = o;
		if (o->value) {	/* "-tVALUE" or "-t VALUE" */
			if (*s->cluster)
				*val = s->cluster;
			else if (s->i < s->argc)
				*val = s->argv[s->i++];
			else
				return usage_error(s, "option '%s' needs a value", o->letter);
			s->cluster = NULL;
		}
		return SCAN_OPT;
	}
	s->cluster = NULL;
	if (s->i >= s->argc)
		return SCAN_END;
	arg = s->argv[s->i++];
	if (s->no_more_opts || !is_option(arg)) {
		*val = arg;
		return SCAN_ARG;
	}
	if (!strcmp(arg, "--")) {
		s->no_more_opts = true;
		return scan_next(s, ret, val);
	}
	if (arg[1] != '-') {	/* -a, -ja */
		s->cluster = arg + 1;
		return scan_next(s, ret, val);
	}
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
	o = optset_find(&s->set, arg + 2, len, &amb);
	if (!o) {
		char name[64];

		/* as written, without its value ("--=x" whole) */
		snprintf(name, sizeof(name), "%.*s", len ? (int)(len > 60 ? 62 : len + 2) : 62, arg);
		if (amb)
			return usage_error(s, "option '%s' is ambiguous", name);
		return refuse(s, name, arg + 2, len);
	}
	*ret = o;
	if (!o->value) {
		if (eq)
			return usage_error(s, "option '%s' takes no value", o->flag);
		return SCAN_OPT;
	}
	if (eq) {
		*val = eq + 1;
	} else if (s->i < s->argc) {
		*val = s->argv[s->i++];	/* whatever it is: "--timeout -5" */
	} else {
		return usage_error(s, "option '%s' needs a value", o->flag);
	}
	return SCAN_OPT;
}

static bool parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* A command's option (or a global one) into a. */
static int set_option(const char *who, const struct cli_option *o, const char *val, struct args *a)
{
	long v;

	switch (o->id) {
	case OPT_JSON: a->json = true; break;
	case OPT_QUIET: a->verbosity = -1; break;
	case OPT_VERBOSE: a->verbosity = 1; break;
	case OPT_SYSFS_ROOT: a->sysfs_root = val; break;
	case OPT_DEV_ROOT: a->dev_root = val; break;
	case OPT_RUN_DIR: a->run_dir = val; break;
	case OPT_ALL: a->all = true; break;
	case OPT_BRIEF: a->brief = true; break;
	case OPT_DRIVER: a->driver = val; break;
	case OPT_LEASED: a->leased = 1; break;
	case OPT_FREE: a->leased = 0; break;
	case OPT_NO_AUTOPROBE: a->no_autoprobe = true; break;
	case OPT_FORCE: a->force = true; break;
	case OPT_DRY_RUN: a->dry_run = true; break;
	case OPT_CONFIG: a->config = val; break;
	case OPT_SKIP_ABSENT: a->skip_absent = true; break;
	case OPT_PF: a->pfs[a->n_pfs++] = val; break;
	case OPT_POOL: a->pool = val; break;
	case OPT_OWNER: a->owner = val; break;
	case OPT_SOCKET: a->socket = val; break;
	case OPT_LEASE: a->lease = val; break;
	case OPT_INTERFACE: a->interface = true; break;
	case OPT_IOMMUFD: a->iommufd = true; break;
	case OPT_NUMA:
		if (!parse_long(val, 0, 1023, &v)) {
			fprintf(stderr, "%s: --numa '%s': expected a NUMA node number (0-1023)\n",
				who, val);
			return EXIT_USAGE;
		}
		a->numa = (int)v;
		break;
	case OPT_PID:
		if (!parse_long(val, 1, 4194304, &v)) {
			fprintf(stderr, "%s: --pid '%s': expected a process id\n", who, val);
			return EXIT_USAGE;
		}
		a->pid = (int)v;
		break;
	case OPT_TTL:
		if (vfctl_duration_parse(val, &a->ttl) < 0) {
			fprintf(stderr, "%s: --ttl '%s': expected seconds or a number with s, m, h "
				"or d (90, 10m, 2h), from 1 s to 366 d\n", who, val);
			return EXIT_USAGE;
		}
		break;
	case OPT_TIMEOUT: {
		char *end;

		errno = 0;
		a->timeout_s = strtod(val, &end);
		if (errno || *end || !(a->timeout_s > 0) || a->timeout_s > 86400) {
			fprintf(stderr, "%s: --timeout '%s': expected seconds, more than 0 and at "
				"most 86400\n", who, val);
			return EXIT_USAGE;
		}
		break;
	}
	}
	return EXIT_OK;
}

/* Before the command word: the global options into a, the arguments
 * that hold any other option (as written, with a separate value) into fwd
 * for the command to judge. Returns CLI_RUN with *ret_word the command
 * word's index (argc: none), or an exit status. */
static int parse_global(int argc, char **argv, struct args *a, char **fwd, int *n_fwd,
			bool *help, int *ret_word)
{
	struct scan s = { .argc = argc, .argv = argv, .i = 1, .who = "vfctl" };
	const struct cli_option *o;
	const char *val;
	int r, start, next_fwd = 1;

	optset_make(&s.set, NULL);
	for (;;) {
		/* where this option starts: a new argument or the cluster's */
		start = s.cluster && *s.cluster ? s.i - 1 : s.i;
		r = scan_next(&s, &o, &val);
		if (r != SCAN_OPT)
			break;
		switch (o->id) {
		case OPT_HELP:
			*help = true;
			break;
		case OPT_VERSION:
			printf("vfctl %s\n", VFCTL_VERSION);
			return EXIT_OK;
		case OPT_JSON: case OPT_SYSFS_ROOT: case OPT_DEV_ROOT: case OPT_RUN_DIR:
		case OPT_QUIET: case OPT_VERBOSE:
			set_option(s.who, o, val, a);
			break;
		default:
			/* "-ja": the command reads the whole cluster again; j is its too */
			for (int k = start > next_fwd ? start : next_fwd; k < s.i; k++)
				fwd[(*n_fwd)++] = argv[k];
			next_fwd = s.i;
		}
	}
	if (r == SCAN_ERR)
		return EXIT_USAGE;
	*ret_word = r == SCAN_ARG ? s.i - 1 : argc;
	return CLI_RUN;
}

/* After the command word: argv[0..argc) are the options handed on from
 * before it and then everything after it. */
static int parse_command(const struct cli_cmd *c, int argc, char **argv, struct args *a)
{
	char who[32];
	struct scan s = { .argc = argc, .argv = argv, .who = who, .cmd = c };
	const struct cli_option *o;
	const char *val;
	int r;

	snprintf(who, sizeof(who), "vfctl %s", c->name);
	optset_make(&s.set, c);
	while ((r = scan_next(&s, &o, &val)) != SCAN_END) {
		if (r == SCAN_ERR)
			return EXIT_USAGE;
		if (r == SCAN_ARG) {
			a->argv[a->argc++] = (char *)val;
			if (c->args_end_opts)
				s.no_more_opts = true;
			continue;
		}
		if (o->id == OPT_HELP) {
			cli_usage(c, stdout);
			return EXIT_OK;
		}
		if (o->id == OPT_VERSION) {
			printf("vfctl %s\n", VFCTL_VERSION);
			return EXIT_OK;
		}
		if (set_option(who, o, val, a) != EXIT_OK)
			return EXIT_USAGE;
	}
	return CLI_RUN;
}

int cli_parse(int argc, char **argv, struct args *a, const struct cli_cmd **ret)
{
	char *cargv[argc > 0 ? argc : 1];	/* each argument at most once */
	const struct cli_cmd *c;
	bool help = false;
	int n = 0, word, r;

	r = parse_global(argc, argv, a, cargv, &n, &help, &word);
	if (r != CLI_RUN)
		return r;
	if (word >= argc) {
		cli_usage(NULL, help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	c = cli_cmd_find(argv[word]);
	if (!c) {
		fprintf(stderr, "vfctl: unknown command '%s'; see 'vfctl --help'\n", argv[word]);
		return EXIT_USAGE;
	}
	if (help) {	/* "vfctl --help list" */
		cli_usage(c, stdout);
		return EXIT_OK;
	}
	for (int i = word + 1; i < argc; i++)
		cargv[n++] = argv[i];
	r = parse_command(c, n, cargv, a);
	if (r != CLI_RUN)
		return r;
	*ret = c;
	return CLI_RUN;
}

/* "  -a, --all" / "      --timeout SEC" and its text from column 25 on. */
static void usage_opt(FILE *out, const struct cli_option *o, const char *doc)
{
	int n;

	if (o->letter)
		n = fprintf(out, "  %s, %s", o->letter, o->flag);
	else
		n = fprintf(out, "      %s", o->flag);
	if (o->value)
		n += fprintf(out, " %s", o->value);
	for (const char *p = doc; *p;) {
		size_t len = strcspn(p, "\n");

		fprintf(out, "%*s%.*s\n", n < 24 ? 25 - n : 1, "", (int)len, p);
		n = 0;
		p += len + (p[len] == '\n');
	}
}

void cli_usage(const struct cli_cmd *c, FILE *out)
{
	if (!c) {
		fputs("Usage: vfctl [OPTIONS] COMMAND [ARGS]\n"
		      "       vfctl help [COMMAND]\n"
		      "\n"
		      "Commands:\n", out);
		for (size_t i = 0; i < cli_n_cmds; i++)
			fprintf(out, "  %-9s %s\n", cli_cmds[i].name, cli_cmds[i].summary);
		fputs("\nOptions (before or after the command):\n", out);
		for (size_t i = 0; i < ARRAY_SIZE(global_opts); i++)
			usage_opt(out, &global_opts[i], global_opts[i].doc);
		fputs("\nA command's own arguments and options: 'vfctl COMMAND --help' or\n"
		      "'vfctl help COMMAND'.\n" EXIT_STATUS_DOC, out);
		return;
	}
	fprintf(out, "Usage: vfctl [OPTIONS] %s%s%s\n\n%s", c->name, c->synopsis[0] ? " " : "",
		c->synopsis, c->help);
	if (c->opts[0].id) {
		fputs("\nOptions:\n", out);
		for (size_t i = 0; i < CLI_MAX_OPTS && c->opts[i].id; i++)
			usage_opt(out, opt_by_id(c->opts[i].id), c->opts[i].doc);
	}
	fputs("\nGlobal options, before or after the command: -j/--json, -q/--quiet,\n"
	      "-v/--verbose, --sysfs-root DIR, --dev-root DIR, --run-dir DIR (see\n"
	      "'vfctl --help').\n" EXIT_STATUS_DOC, out);
}
