// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctld: hands out the VFs of the pools in vfctl.conf(5) as leases over a
 * unix SOCK_SEQPACKET socket, and the VFIO fds of a lease with SCM_RIGHTS.
 * One sd-event loop; the kernel writes (alloc's bind, a restore) run in
 * worker processes (worker.c), so a stuck device holds up its own client
 * only, and they are bounded (lib's vfctl_root_write_bounded), so it costs
 * that client seconds. Every lease change is on disk before the kernel is touched,
 * so a restart can finish or roll back whatever a crash interrupted.
 * This file: options, the event loop, the listening socket, signals and
 * device events; vfctld.h says where the rest is.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>

#include <systemd/sd-daemon.h>

#include "env.h"
#include "vfctld.h"

#define DEFAULT_CONFIG "/etc/vfctl/vfctl.conf"

/* ---- host events, signals ------------------------------------------------------ */

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	if (lease_any_unsettled(&d->life))
		lease_reconcile(&d->life);
	/* a time source fires once: re-arm it */
	sd_event_source_set_time(s, usec + RETRY_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static int on_device(sd_device_monitor *m, sd_device *dev, void *userdata)
{
	struct daemon *d = userdata;
	sd_device_action_t a;
	const char *name;

	(void)m;
	/* whatever changed, the shared view of the host is old now */
	host_view_drop(d);
	if (sd_device_get_action(dev, &a) < 0 || sd_device_get_sysname(dev, &name) < 0)
		return 0;
	if ((a == SD_DEVICE_REMOVE || a == SD_DEVICE_UNBIND) && lease_store_find_vf(&d->life.store, name)) {
		log_msg(LOG_INFO, "%s: %s event; reconciling", name,
			a == SD_DEVICE_REMOVE ? "remove" : "unbind");
		lease_reconcile(&d->life);
	}
	return 0;
}

static int config_load(struct daemon *d)
{
	struct vfctl_config *cfg = NULL;
	int r;

	if (!d->config_explicit && access(d->config_path, F_OK) < 0 && errno == ENOENT) {
		log_msg(LOG_WARNING, "%s does not exist: no pools (see vfctl.conf(5))", d->config_path);
		vfctl_config_free(d->cfg);
		d->cfg = NULL;
		return 0;
	}
	r = vfctl_config_load(d->ctx, d->config_path, &cfg);
	if (r < 0) {
		log_msg(LOG_ERR, "%s", vfctl_ctx_error(d->ctx));
		return r;
	}
	vfctl_config_free(d->cfg);
	d->cfg = cfg;
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	(void)si;
	sd_notify(0, "RELOADING=1");
	if (config_load(d) < 0)
		log_msg(LOG_ERR, "reload: keeping the pools of the previous config");
	else
		log_msg(LOG_INFO, "reloaded %s", d->config_path);
	conn_limits_set(d);
	host_view_drop(d);
	lease_reconcile(&d->life);
	sd_notify(0, "READY=1");
	return 0;
}

static int on_sigusr1(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)s;
	(void)si;
	conn_log_stats(userdata);
	return 0;
}

static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	(void)si;
	/* libvfctl's sysfs writers that outlived their timeout, now unstuck:
	 * the library reaps its own (by pidfd), never another child; the
	 * workers that ended after their result (worker.c) are the daemon's */
	vfctl_ctx_reap(d->ctx);
	vfctl_reaper_reap(&d->reaper);
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	(void)s;
	log_msg(LOG_INFO, "%s: exiting; leases stay in %s/leases.json", strsignal((int)si->ssi_signo),
		d->life.store.dir);
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->ev, 0);
}

/* ---- start-up --------------------------------------------------------------------- */

static int listen_socket(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = sd_listen_fds(1), fd, r;
	mode_t old_mask;

	if (n > 1) {
		log_msg(LOG_ERR, "socket activation passed %d sockets, expected one (vfctld.socket)", n);
		return -EINVAL;
	}
	if (n == 1) {
		fd = SD_LISTEN_FDS_START;
		if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, NULL, 0) <= 0) {
			log_msg(LOG_ERR, "the socket systemd passed is not a listening unix "
				"SOCK_SEQPACKET socket: check ListenSequentialPacket= in vfctld.socket");
			return -EINVAL;
		}
		d->listen_fd = fd;
		d->activated = true;
		return 0;
	}
	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "socket path %s is too long", d->sock_path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a stale socket of a dead daemon; a live one answers connect() */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		log_msg(LOG_ERR, "%s: another vfctld is listening there", d->sock_path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(d->sock_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* clients of every uid must reach a socket in the run directory; what is
	 * private in it stays so (state/ and lock/ 0700, leases.json 0600). The
	 * directory is ours: vfctl_run_dir_open() refused one that is not. */
	if (!strncmp(d->sock_path, d->life.store.dir, strlen(d->life.store.dir)) &&
	    !strchr(d->sock_path + strlen(d->life.store.dir) + 1, '/'))
		fchmod(d->life.store.dfd, 0755);
	/* Bound and listening under a temporary name, then renamed: a client
	 * that sees the path never finds a socket that refuses connections. */
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", d->sock_path) >=
	    (int)sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "socket path %s is too long", d->sock_path);
		close(fd);
		return -ENAMETOOLONG;
	}
	unlink(sa.sun_path);
	/* created 0666 by bind itself: a chmod by name afterwards would follow
	 * whatever sits at that name by then (a --socket in /tmp) */
	old_mask = umask(0111);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (r < 0 || listen(fd, SOMAXCONN) < 0 || rename(sa.sun_path, d->sock_path) < 0) {
		r = -errno;
		log_msg(LOG_ERR, "%s: bind/listen: %s", d->sock_path, strerror(-r));
		unlink(sa.sun_path);
		close(fd);
		return r;
	}
	d->listen_fd = fd;
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: vfctld [OPTIONS]\n"
	      "\n"
	      "Hands out the VFs of the pools in vfctl.conf(5) as leases; see vfctld(8).\n"
	      "\n"
	      "  -c, --config FILE      pools from FILE (default /etc/vfctl/vfctl.conf)\n"
	      "  -s, --socket PATH      listen on PATH (default RUN_DIR/vfctld.sock) unless\n"
	      "                         started by socket activation\n"
	      "      --sysfs-root DIR   read DIR instead of /sys (env VFCTL_SYSFS_ROOT)\n"
	      "      --dev-root DIR     read DIR instead of /dev (env VFCTL_DEV_ROOT)\n"
	      "      --run-dir DIR      leases, saved state and locks under DIR, not\n"
	      "                         /run/vfctl (env VFCTL_RUN_DIR)\n"
	      "      --timeout SEC      bound on each sysfs write (default 10)\n"
	      "      --cdi-dir DIR      keep DIR/vfctl.json, a CDI spec of the pools' VFs\n"
	      "                         and the leases, current at each alloc and release\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version\n", out);
}

int main(int argc, char **argv)
{
	enum { OPT_SYSFS = 256, OPT_DEV, OPT_RUN, OPT_TIMEOUT, OPT_CDI };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ "dev-root", required_argument, NULL, OPT_DEV },
		{ "run-dir", required_argument, NULL, OPT_RUN },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "cdi-dir", required_argument, NULL, OPT_CDI },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct daemon d = { .config_path = DEFAULT_CONFIG, .listen_fd = -1, .timeout_ms = 10000,
			    .life = { .store = { .dfd = -1 }, .ops = &host_ops }, .sys = { .fd = -1 } };
	const char *sys = NULL, *dev = NULL, *run = NULL, *sock = NULL;
	char errbuf[512] = "";
	sigset_t mask;
	struct rlimit rl;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_path = optarg; d.config_explicit = true; break;
		case 's': sock = optarg; break;
		case OPT_SYSFS: sys = optarg; break;
		case OPT_DEV: dev = optarg; break;
		case OPT_RUN: run = optarg; break;
		case OPT_CDI: d.cdi_dir = optarg; break;
		case OPT_TIMEOUT: {
			char *end;
			double t = strtod(optarg, &end);

			if (*end || !(t > 0) || t > 3600) {
				fprintf(stderr, "vfctld: --timeout '%s': expected seconds, more than 0 "
					"and at most 3600\n", optarg);
				return 2;
			}
			d.timeout_ms = (unsigned)(t * 1000);
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("vfctld %s\n", VFCTL_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vfctld: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	/* under systemd stderr is a journal stream: log with priorities */
	log_init(getenv("JOURNAL_STREAM") != NULL, getenv("VFCTLD_TEST_STOP"));
	signal(SIGPIPE, SIG_IGN);
	/* every fd the hard limit allows (systemd's soft 1024 is for select()
	 * users): the connection limits are sized from it (conn_limits_set) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_msg(LOG_WARNING, "raising RLIMIT_NOFILE to %llu: %s; serving fewer "
				"connections", (unsigned long long)rl.rlim_cur, strerror(errno));
	}

	/* libvfctl reads no environment: what vfctld(8) honours is passed in */
	r = vfctl_ctx_new(&d.ctx, &(struct vfctl_opts){
		.size = sizeof(struct vfctl_opts),
		.sysfs_root = vfctl_env_or(sys, "VFCTL_SYSFS_ROOT"),
		.dev_root = vfctl_env_or(dev, "VFCTL_DEV_ROOT"),
		.run_dir = vfctl_env_or(run, "VFCTL_RUN_DIR"),
		.errbuf = errbuf, .errlen = sizeof(errbuf),
		.lock_timeout_ms = vfctl_env_lock_timeout_ms() });
	if (r < 0) {
		log_msg(LOG_ERR, "%s", errbuf[0] ? errbuf : strerror(-r));
		return 1;
	}
	r = vfctl_root_open(&d.sys, vfctl_ctx_sysfs_root(d.ctx));
	if (r < 0) {
		log_msg(LOG_ERR, "%s: %s; pass the sysfs root vfctld is to use (--sysfs-root)",
			vfctl_ctx_sysfs_root(d.ctx), strerror(-r));
		goto fail;
	}
	if (asprintf(&d.sock_path, "%s/vfctld.sock", vfctl_run_dir_path(d.ctx)) < 0)
		goto fail;
	if (sock) {
		free(d.sock_path);
		d.sock_path = strdup(sock);
	}
	d.life.ctx = d.ctx;
	d.life.userdata = &d;
	r = lease_store_open(d.ctx, &d.life.store);
	if (r < 0) {
		log_msg(LOG_ERR, "%s", vfctl_ctx_error(d.ctx));
		goto fail;
	}
	if (config_load(&d) < 0)
		goto fail;
	conn_limits_set(&d);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&d.ev);
	if (r < 0)
		goto fail;
	if (sd_event_add_signal(d.ev, NULL, SIGCHLD, on_sigchld, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGHUP, on_sighup, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGTERM, on_exit_signal, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGINT, on_exit_signal, &d) < 0 ||
	    sd_event_add_signal(d.ev, NULL, SIGUSR1, on_sigusr1, &d) < 0)
		goto fail;

	/* settle what a previous run left half done before taking requests */
	lease_reconcile(&d.life);

	r = listen_socket(&d);
	if (r < 0)
		goto fail;
	if (sd_event_add_io(d.ev, &d.accept_src, d.listen_fd, EPOLLIN, conn_on_accept, &d) < 0 ||
	    sd_event_add_time_relative(d.ev, &d.retry, CLOCK_MONOTONIC, RETRY_USEC, 0, on_retry,
				       &d) < 0 ||
	    sd_event_source_set_enabled(d.retry, SD_EVENT_ON) < 0)
		goto fail;
	/* PF/VF changes: udev's events (no udev, as in a bare initramfs: none come,
	 * and vanished VFs are found at the next reconcile) */
	if (vfctl_ctx_is_live(d.ctx)) {
		if (sd_device_monitor_new(&d.mon) < 0 ||
		    sd_device_monitor_filter_add_match_subsystem_devtype(d.mon, "pci", NULL) < 0 ||
		    sd_device_monitor_attach_event(d.mon, d.ev) < 0 ||
		    sd_device_monitor_start(d.mon, on_device, &d) < 0) {
			log_msg(LOG_WARNING, "no device monitor (udev events); VF changes are "
				"noticed at the next reconcile");
			d.mon = sd_device_monitor_unref(d.mon);
		}
	}
	log_msg(LOG_INFO, "listening on %s%s; %zu lease(s), config %s", d.activated ?
		"the socket systemd passed" : d.sock_path, "", d.life.store.n, d.config_path);
	sd_notifyf(0, "READY=1\nSTATUS=%zu lease(s)\nMAINPID=%d", d.life.store.n, (int)getpid());
	d.serving = true;
	r = sd_event_loop(d.ev);

	worker_stop_all(&d);
	while (d.conns)
		conn_free(d.conns);
	host_view_drop(&d);
	sd_event_source_disable_unref(d.accept_src);
	sd_event_source_disable_unref(d.accept_retry);
	sd_device_monitor_unref(d.mon);
	sd_event_source_disable_unref(d.retry);
	sd_event_source_disable_unref(d.expiry);
	lease_store_close(&d.life.store);
	if (!d.activated) {
		close(d.listen_fd);
		unlink(d.sock_path);
	}
	sd_event_unref(d.ev);
	vfctl_config_free(d.cfg);
	vfctl_root_close(&d.sys);
	vfctl_ctx_free(d.ctx);
	free(d.sock_path);
	return r < 0 ? 1 : 0;
fail:
	sd_event_source_disable_unref(d.expiry);
	lease_store_close(&d.life.store);
	vfctl_config_free(d.cfg);
	vfctl_root_close(&d.sys);
	vfctl_ctx_free(d.ctx);
	free(d.sock_path);
	return 1;
}
