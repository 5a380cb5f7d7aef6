// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl metrics / cdi: the host and vfctld's pools and leases for fleet
 * tools. metrics: the Prometheus text exposition for node_exporter's
 * textfile collector; cdi: a Container Device Interface spec (src/shared/
 * cdi.c, which vfctld also rewrites at each alloc and release). Both are
 * file formats of their own, not vfctl's --json documents.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "basic.h"
#include "cdi.h"
#include "cli.h"

/* What vfctld tells root (or the caller): NULL lists when it is not reachable. */
struct daemon_view {
	struct vfctl_pool **pools;
	struct vfctl_lease **leases;
	char error[256];
};

static void daemon_view_get(const struct args *a, struct daemon_view *v)
{
	struct vfctl_client *c = NULL;
	int r = vfctl_client_connect(a->socket, &c);

	if (r >= 0 && (r = vfctl_client_pools(c, &v->pools, NULL)) >= 0)
		r = vfctl_client_leases(c, &v->leases, NULL);
	if (r < 0)
		snprintf(v->error, sizeof(v->error), "vfctld at %s: %s",
			 a->socket ? a->socket : VFCTL_CLIENT_SOCKET,
			 c ? vfctl_client_error(c) : strerror(-r));
	vfctl_client_free(c);
}

static void daemon_view_free(struct daemon_view *v)
{
	vfctl_pool_list_free(v->pools);
	vfctl_lease_list_free(v->leases);
}

/* Replace path atomically with text, readable by all (node_exporter, podman
 * run as other users read it). */
static int write_file(const char *path, const char *text)
{
	_cleanup_free_ char *d1 = strdup(path), *d2 = strdup(path);
	_cleanup_close_ int dfd = -1;
	const char *name;

	if (!d1 || !d2)
		return -ENOMEM;
	name = basename(d2);
	dfd = open(dirname(d1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	return vfctl_file_write_atomic_mode(dfd, name, text, 0644);
}

/* ---- metrics -------------------------------------------------------------- */

struct buf {
	char *s;
	size_t len;
	FILE *f;
};

#define M(b, ...) fprintf((b)->f, __VA_ARGS__)

static void metric_head(struct buf *b, const char *name, const char *type, const char *help)
{
	M(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *vf_state(const struct vfctl_func *vf)
{
	if (!vf->driver)
		return "unbound";
	return vfctl_driver_is_vfio(vf->driver) ? "vfio" : "host";
}

static void metrics_host(struct buf *b, const struct vfctl_host *h)
{
	static const char *const states[] = { "vfio", "host", "unbound" };

	metric_head(b, "vfctl_pf_total_vfs", "gauge", "VFs the PF supports (sriov_totalvfs)");
	for (size_t i = 0; i < h->n_funcs; i++)
		if (h->funcs[i]->kind == VFCTL_FUNC_PF && h->funcs[i]->totalvfs >= 0)
			M(b, "vfctl_pf_total_vfs{pf=\"%s\"} %d\n", h->funcs[i]->addr,
			  h->funcs[i]->totalvfs);
	metric_head(b, "vfctl_vfs", "gauge", "VFs of a PF by state: on vfio-pci (vfio), on "
		    "another driver (host), on none (unbound)");
	for (size_t i = 0; i < h->n_funcs; i++) {
		const struct vfctl_func *pf = h->funcs[i];

		if (pf->kind != VFCTL_FUNC_PF)
			continue;
		for (size_t s = 0; s < ARRAY_SIZE(states); s++) {
			unsigned n = 0;

			for (size_t k = 0; k < pf->n_vfs; k++)
				n += pf->vfs[k] && !strcmp(vf_state(pf->vfs[k]), states[s]);
			M(b, "vfctl_vfs{pf=\"%s\",state=\"%s\"} %u\n", pf->addr, states[s], n);
		}
	}
	metric_head(b, "vfctl_iommu_groups", "gauge", "IOMMU groups on the host");
	M(b, "vfctl_iommu_groups %zu\n", h->n_groups);
}

/* A label value: \ " and newline escaped as the exposition format wants */
static void label(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			M(b, "\\%c", *s);
		else if (*s == '\n')
			M(b, "\\n");
		else
			fputc(*s, b->f);
	}
}

static void metrics_daemon(struct buf *b, const struct daemon_view *v)
{
	time_t now = time(NULL);

	metric_head(b, "vfctl_vfctld_up", "gauge", "1 when vfctld answered");
	M(b, "vfctl_vfctld_up %d\n", v->pools != NULL);
	if (!v->pools)
		return;
	metric_head(b, "vfctl_pool_vfs", "gauge", "VFs of a vfctld pool, free or leased");
	for (struct vfctl_pool **p = v->pools; *p; p++) {
		unsigned leased = 0;

		for (size_t i = 0; i < (*p)->n_vfs; i++)
			leased += (*p)->vfs[i]->lease != NULL;
		M(b, "vfctl_pool_vfs{pool=\"");
		label(b, (*p)->name);
		M(b, "\",state=\"free\"} %u\n", (*p)->n_free);
		M(b, "vfctl_pool_vfs{pool=\"");
		label(b, (*p)->name);
		M(b, "\",state=\"leased\"} %u\n", leased);
	}
	metric_head(b, "vfctl_pool_error", "gauge", "1 when the pool cannot be used (its PF is "
		    "missing, ...)");
	for (struct vfctl_pool **p = v->pools; *p; p++) {
		M(b, "vfctl_pool_error{pool=\"");
		label(b, (*p)->name);
		M(b, "\"} %d\n", (*p)->error != NULL);
	}
	metric_head(b, "vfctl_lease_age_seconds", "gauge", "How long ago each lease was made");
	for (struct vfctl_lease **l = v->leases; l && *l; l++) {
		M(b, "vfctl_lease_age_seconds{lease=\"");
		label(b, (*l)->id);
		M(b, "\",pool=\"");
		label(b, (*l)->pool);
		M(b, "\",vf=\"%s\",state=\"%s\"} %lld\n", (*l)->vf ? (*l)->vf : "",
		  vfctl_lease_state_str((*l)->state),
		  (long long)(now > (*l)->created ? now - (*l)->created : 0));
	}
}

/* vfctld's counters, as it last wrote them (RUN_DIR/vfctld-stats, at each
 * SIGUSR1 and at exit): "name value" lines, each a counter */
static void metrics_stats(struct buf *b, struct vfctl_ctx *ctx)
{
	char line[128], name[64], path[4096];
	unsigned long long val;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vfctld-stats", vfctl_run_dir_path(ctx));
	f = fopen(path, "re");
	if (!f)
		return;
	metric_head(b, "vfctl_vfctld_events_total", "counter", "vfctld's counters by kind "
		    "(refusals, errors, requests) as of its last SIGUSR1");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[a-z_] %llu", name, &val) == 2)
			M(b, "vfctl_vfctld_events_total{kind=\"%s\"} %llu\n", name, val);
	fclose(f);
}

int cmd_metrics(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	struct daemon_view v = { 0 };
	struct buf b = { 0 };
	int r;

	if (a->argc > 1) {
		fprintf(stderr, "vfctl metrics: expected at most one FILE\n");
		return EXIT_USAGE;
	}
	b.f = open_memstream(&b.s, &b.len);
	if (!b.f) {
		fprintf(stderr, "vfctl metrics: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	daemon_view_get(a, &v);
	metrics_host(&b, host);
	metrics_daemon(&b, &v);
	metrics_stats(&b, ctx);
	daemon_view_free(&v);
	if (fclose(b.f) == EOF) {
		free(b.s);
		fprintf(stderr, "vfctl metrics: %s\n", strerror(errno));
		return EXIT_ERR;
	}
	if (a->argc) {
		r = write_file(a->argv[0], b.s);
		if (r < 0)
			fprintf(stderr, "vfctl metrics: writing %s: %s; is its directory there and "
				"yours?\n", a->argv[0], strerror(-r));
	} else {
		r = fputs(b.s, stdout) < 0 ? -EIO : 0;
	}
	free(b.s);
	return r < 0 ? EXIT_ERR : EXIT_OK;
}

/* ---- cdi ------------------------------------------------------------------ */

int cmd_cdi(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	const char *dir = a->argc ? a->argv[0] : VFCTL_CDI_DIR;
	_cleanup_free_ struct vfctl_cdi_dev *devs = NULL;
	_cleanup_free_ char *text = NULL;
	struct daemon_view v = { 0 };
	size_t n = 0;
	int r = 0;

	(void)host;
	if (a->argc > 1) {
		fprintf(stderr, "vfctl cdi: expected at most one DIR (or -)\n");
		return EXIT_USAGE;
	}
	daemon_view_get(a, &v);
	if (!v.pools) {
		fprintf(stderr, "vfctl cdi: %s; is it running ('systemctl status vfctld.socket')?\n",
			v.error);
		daemon_view_free(&v);
		return EXIT_ERR;
	}
	for (struct vfctl_pool **p = v.pools; *p && r >= 0; p++)
		for (size_t i = 0; i < (*p)->n_vfs && r >= 0; i++)
			if ((*p)->vfs[i]->address)
				r = vfctl_cdi_add(&devs, &n, (*p)->vfs[i]->address, "%s-%u",
						  (*p)->name, (*p)->vfs[i]->index);
	for (struct vfctl_lease **l = v.leases; l && *l && r >= 0; l++)
		if ((*l)->vf)
			r = vfctl_cdi_add(&devs, &n, (*l)->vf, "%s", (*l)->id);
	daemon_view_free(&v);
	if (r >= 0)
		r = vfctl_cdi_spec(ctx, devs, n, &text);
	if (r >= 0 && !strcmp(dir, "-"))
		r = puts(text) < 0 ? -EIO : 0;
	else if (r >= 0)
		r = vfctl_cdi_write(ctx, dir, text);
	if (r < 0) {
		fprintf(stderr, "vfctl cdi: %s\n", vfctl_ctx_error(ctx)[0] ? vfctl_ctx_error(ctx) :
			strerror(-r));
		return EXIT_ERR;
	}
	return EXIT_OK;
}
