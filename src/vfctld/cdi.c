// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --cdi-dir: the CDI spec of the pools' VFs and the leases (src/shared/cdi.c,
 * the writer 'vfctl cdi' uses), rewritten after each alloc and release so a
 * container engine finds the lease it was given by its id.
 */
#include <stdlib.h>
#include <syslog.h>

#include "basic.h"
#include "cdi.h"
#include "vfctld.h"

void daemon_cdi_update(struct daemon *d)
{
	_cleanup_free_ struct vfctl_cdi_dev *devs = NULL;
	_cleanup_free_ char *text = NULL;
	const struct vfctl_host *h = NULL;
	size_t n = 0;
	int r = 0;

	if (!d->cdi_dir)
		return;
	/* the shared view, scanned again: the pools' VFs as they are now */
	host_view_drop(d);
	if (d->cfg && host_view(d, HOST_VIEW_USEC, true, &h) >= 0)
		for (size_t i = 0; i < d->cfg->n_pfs && r >= 0; i++)
			for (size_t j = 0; j < d->cfg->pfs[i].n_pools && r >= 0; j++) {
				const struct vfctl_conf_pool *p = &d->cfg->pfs[i].pools[j];
				struct vfctl_func *pf = NULL;

				if (pool_pf(d, h, &d->cfg->pfs[i], &pf) < 0)
					continue;
				for (size_t k = 0; k < p->n_vfs && r >= 0; k++)
					if (p->vfs[k] < pf->n_vfs && pf->vfs[p->vfs[k]])
						r = vfctl_cdi_add(&devs, &n, pf->vfs[p->vfs[k]]->addr,
								  "%s-%u", p->name, p->vfs[k]);
			}
	for (size_t i = 0; i < d->life.store.n && r >= 0; i++)
		r = vfctl_cdi_add(&devs, &n, d->life.store.v[i]->vf, "%s", d->life.store.v[i]->id);
	if (r >= 0)
		r = vfctl_cdi_spec(d->ctx, devs, n, &text);
	if (r >= 0)
		r = vfctl_cdi_write(d->ctx, d->cdi_dir, text);
	if (r < 0)
		log_msg(LOG_WARNING, "%s", vfctl_ctx_error(d->ctx));
}
