// SPDX-License-Identifier: GPL-2.0-or-later
/* vfctld's log (the journal with priorities under systemd, else stderr) and
 * the test stop hook. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "vfctld.h"

static bool use_journal;
static const char *stop_step;

void log_init(bool journal, const char *test_stop_step)
{
	use_journal = journal;
	stop_step = test_stop_step;
}

void log_msg(int prio, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (use_journal)
		sd_journal_print(prio, "%s", buf);
	else
		fprintf(stderr, "vfctld: %s\n", buf);
}

void test_stop(const char *step)
{
	if (stop_step && !strcmp(stop_step, step)) {
		log_msg(LOG_WARNING, "test hook: stopping at %s", step);
		raise(SIGSTOP);
	}
}
