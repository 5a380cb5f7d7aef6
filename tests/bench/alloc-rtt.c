// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * alloc-rtt: vfctld's bench and concurrency client (tests/bench/vfctld-alloc,
 * tests/bats/vfctld-lease.bats), at $VFCTLD_SOCKET.
 *
 * alloc-rtt --rtt POOL N: N alloc+release round trips on one connection
 * (libvfctl's vfctl_client_alloc/release), one more first to warm up;
 * prints "rtt N median_us M p99_us P".
 *
 * alloc-rtt --clients POOL K SECONDS: K processes, each with its own
 * connection, making round trips for SECONDS; prints "clients K
 * round_trips T per_s R".
 *
 * alloc-rtt --grants K POOL...: K connections at once, each sending one
 * alloc (the pools in turn) before any reply is read, every lease held
 * until all are answered; then the daemon's "leases" read on another
 * connection, and every lease released. Prints "grants K granted G
 * no_free F double D unlisted U ms T" and exits 1 on a VF granted twice, a
 * grant "leases" does not list, or any reply but a lease or "no free VF"
 * (-ENOSPC).
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "vfctl.h"

static const char *sock_path(void)
{
	const char *p = getenv("VFCTLD_SOCKET");

	return p ? p : VFCTL_CLIENT_SOCKET;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One alloc and its release on c: 0, or 1 with the reason printed. */
static int round_trip(struct vfctl_client *c, const char *pool)
{
	struct vfctl_lease *l = NULL;
	int r = vfctl_client_alloc(c, &(struct vfctl_alloc_req){ .size = sizeof(struct
					   vfctl_alloc_req), .pool = pool }, &l);

	if (r < 0) {
		fprintf(stderr, "alloc-rtt: alloc from %s: %s\n", pool, vfctl_client_error(c));
		return 1;
	}
	r = vfctl_client_release(c, l->id, 0, NULL);
	if (r < 0)
		fprintf(stderr, "alloc-rtt: release %s: %s\n", l->id, vfctl_client_error(c));
	vfctl_lease_free(l);
	return r < 0;
}

static int client_new(struct vfctl_client **c)
{
	int r = vfctl_client_connect(sock_path(), c);

	if (r < 0)
		fprintf(stderr, "alloc-rtt: connecting to %s: %s\n", sock_path(), strerror(-r));
	return r < 0;
}

static int do_rtt(const char *pool, long n)
{
	struct vfctl_client *c = NULL;
	double *t = calloc((size_t)n, sizeof(*t));
	int ret = 1;

	if (!t || client_new(&c) || round_trip(c, pool))
		goto out;
	for (long i = 0; i < n; i++) {
		double t0 = now_us();

		if (round_trip(c, pool))
			goto out;
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("rtt %ld median_us %.0f p99_us %.0f\n", n, t[n / 2], t[(n * 99) / 100]);
	ret = 0;
out:
	vfctl_client_free(c);
	free(t);
	return ret;
}

static int do_clients(const char *pool, long k, double secs)
{
	long total = 0;
	int p[2], ret = 0;

	if (pipe(p) < 0)
		return 1;
	for (long i = 0; i < k; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			struct vfctl_client *c = NULL;
			double stop = now_us() + secs * 1e6;
			long n = 0;

			close(p[0]);
			if (client_new(&c))
				_exit(1);
			while (now_us() < stop) {
				if (round_trip(c, pool))
					_exit(1);
				n++;
			}
			if (write(p[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	for (long i = 0; i < k; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			ret = 1;
	}
	for (long n; read(p[0], &n, sizeof(n)) == sizeof(n);)
		total += n;
	close(p[0]);
	if (ret)
		return 1;
	printf("clients %ld round_trips %ld per_s %.1f\n", k, total, (double)total / secs);
	return 0;
}

/* One request on fd (SOCK_SEQPACKET: one message each way). */
static int send_text(int fd, const char *text)
{
	return send(fd, text, strlen(text), MSG_NOSIGNAL) == (ssize_t)strlen(text) ? 0 : -errno;
}

/* The reply on fd, parsed; NULL on a failure (printed). */
static json_object *recv_reply(int fd)
{
	static char buf[1 << 18];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		fprintf(stderr, "alloc-rtt: reading a reply: %s\n", n < 0 ? strerror(errno) :
			"connection closed");
		return NULL;
	}
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

static const char *str_at(json_object *o, const char *k1, const char *k2)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k1, &v) || (k2 && !json_object_object_get_ex(v, k2, &v)))
		return NULL;
	return json_object_get_string(v);
}

static int connect_one(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path());
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "alloc-rtt: connecting to %s: %s\n", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct grant {
	int fd;
	char vf[VFCTL_ADDR_LEN];
	char lease[32];
};

/* The leases "leases" lists: is g's among them, on g's VF? */
static bool listed(json_object *leases, const struct grant *g)
{
	for (size_t i = 0; i < json_object_array_length(leases); i++) {
		json_object *l = json_object_array_get_idx(leases, i);
		const char *id = str_at(l, "id", NULL), *vf = str_at(l, "vf", NULL);

		if (id && vf && !strcmp(id, g->lease) && !strcmp(vf, g->vf))
			return true;
	}
	return false;
}

static int do_grants(long k, char **pools, int n_pools)
{
	struct grant *g = calloc((size_t)k, sizeof(*g));
	long granted = 0, no_free = 0, dbl = 0, unlisted = 0;
	struct rlimit rl;
	json_object *o, *leases;
	char req[256];
	double t0;
	int ret = 1, fd;

	/* one fd a connection */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!g)
		return 1;
	for (long i = 0; i < k; i++)
		g[i].fd = -1;
	t0 = now_us();
	for (long i = 0; i < k; i++)
		if ((g[i].fd = connect_one()) < 0)
			goto out;
	/* every alloc sent before any reply is read: the daemon has them all
	 * queued at once */
	for (long i = 0; i < k; i++) {
		snprintf(req, sizeof(req), "{\"op\":\"alloc\",\"pool\":\"%s\"}", pools[i % n_pools]);
		if (send_text(g[i].fd, req) < 0) {
			fprintf(stderr, "alloc-rtt: sending alloc %ld: %s\n", i, strerror(errno));
			goto out;
		}
	}
	for (long i = 0; i < k; i++) {
		const char *vf, *id, *msg;

		o = recv_reply(g[i].fd);
		if (!o)
			goto out;
		vf = str_at(o, "lease", "vf");
		id = str_at(o, "lease", "id");
		if (vf && id) {
			snprintf(g[i].vf, sizeof(g[i].vf), "%s", vf);
			snprintf(g[i].lease, sizeof(g[i].lease), "%s", id);
			granted++;
			for (long j = 0; j < i; j++)
				if (g[j].vf[0] && !strcmp(g[j].vf, g[i].vf)) {
					fprintf(stderr, "alloc-rtt: %s granted twice: leases %s and "
						"%s\n", g[i].vf, g[j].lease, g[i].lease);
					dbl++;
				}
		} else if (json_object_object_get_ex(o, "error", &leases) &&
			   json_object_get_int(json_object_object_get(leases, "errno")) == ENOSPC) {
			no_free++;
		} else {
			msg = json_object_to_json_string(o);
			fprintf(stderr, "alloc-rtt: alloc %ld: unexpected reply %s\n", i, msg);
			json_object_put(o);
			goto out;
		}
		json_object_put(o);
	}
	/* the daemon's own account agrees: every grant is a lease it lists */
	fd = connect_one();
	if (fd < 0 || send_text(fd, "{\"op\":\"leases\"}") < 0 || !(o = recv_reply(fd))) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (!json_object_object_get_ex(o, "leases", &leases)) {
		fprintf(stderr, "alloc-rtt: leases: %s\n", json_object_to_json_string(o));
		json_object_put(o);
		goto out;
	}
	for (long i = 0; i < k; i++)
		if (g[i].vf[0] && !listed(leases, &g[i])) {
			fprintf(stderr, "alloc-rtt: lease %s on %s is not in 'leases'\n", g[i].lease,
				g[i].vf);
			unlisted++;
		}
	json_object_put(o);
	for (long i = 0; i < k; i++) {
		if (!g[i].vf[0])
			continue;
		snprintf(req, sizeof(req), "{\"op\":\"release\",\"lease\":\"%s\"}", g[i].lease);
		if (send_text(g[i].fd, req) < 0)
			goto out;
	}
	for (long i = 0; i < k; i++) {
		if (!g[i].vf[0])
			continue;
		o = recv_reply(g[i].fd);
		if (!o || !str_at(o, "lease", "id")) {
			fprintf(stderr, "alloc-rtt: release %s: %s\n", g[i].lease,
				o ? json_object_to_json_string(o) : "no reply");
			json_object_put(o);
			goto out;
		}
		json_object_put(o);
	}
	printf("grants %ld granted %ld no_free %ld double %ld unlisted %ld ms %.1f\n", k, granted,
	       no_free, dbl, unlisted, (now_us() - t0) / 1e3);
	ret = dbl || unlisted;
out:
	for (long i = 0; i < k; i++)
		if (g[i].fd >= 0)
			close(g[i].fd);
	free(g);
	return ret;
}

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0) {
		fprintf(stderr, "alloc-rtt: '%s': expected a positive number\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--rtt"))
		return do_rtt(argv[2], num(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "--clients"))
		return do_clients(argv[2], num(argv[3]), (double)num(argv[4]));
	if (argc >= 4 && !strcmp(argv[1], "--grants"))
		return do_grants(num(argv[2]), argv + 3, argc - 3);
	fprintf(stderr, "usage: alloc-rtt --rtt POOL N | --clients POOL K SECONDS | "
		"--grants K POOL...\n");
	return 2;
}
