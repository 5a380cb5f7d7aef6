// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Progress of long operations on stderr. On a terminal one line is
 * rewritten in place ("0000:81:00.0: VF 12 of 63 appeared") and erased
 * before the command prints its result, so what it prints is the same as
 * without it; with -v each step is a line of its own, terminal or not;
 * with -q, or when stderr is no terminal, nothing is shown.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static enum { PROGRESS_OFF, PROGRESS_TTY, PROGRESS_LINES } mode;
static bool shown;	/* a terminal line is up, to erase */

void progress_init(int verbosity)
{
	if (verbosity < 0)
		mode = PROGRESS_OFF;
	else if (verbosity > 0)
		mode = PROGRESS_LINES;
	else
		mode = isatty(STDERR_FILENO) ? PROGRESS_TTY : PROGRESS_OFF;
	shown = false;
}

static void __attribute__((format(printf, 1, 2))) progress_show(const char *fmt, ...)
{
	va_list ap;

	if (mode == PROGRESS_OFF)
		return;
	/* "\r\033[K": back to the line's start and erase it */
	fputs(mode == PROGRESS_TTY ? "\r\033[Kvfctl: " : "vfctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(mode == PROGRESS_TTY ? "" : "\n", stderr);
	fflush(stderr);
	shown = mode == PROGRESS_TTY;
}

void progress_end(void)
{
	if (shown)
		fputs("\r\033[K", stderr);
	shown = false;
}

void progress_lib(void *userdata, const char *dev, const char *event, unsigned done,
		  unsigned total)
{
	(void)userdata;
	if (!strcmp(event, "appeared"))
		progress_show("%s: VF %u of %u appeared", dev, done, total);
	else if (!strcmp(event, "removing"))
		progress_show("%s: removing %u VF%s", dev, total, total == 1 ? "" : "s");
	else
		progress_show("%s: %s %u of %u", dev, event, done, total);
}
