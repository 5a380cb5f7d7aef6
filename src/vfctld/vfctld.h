/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfctld: pools of VFs handed out as leases over a unix socket (vfctld(8)). */
#ifndef VFCTLD_H
#define VFCTLD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "internal.h"
#include "config.h"
#include "proto.h"

enum lease_state { LEASE_ALLOCATING, LEASE_ACTIVE, LEASE_RELEASING };

struct lease {
	char id[PROTO_LEASE_MAX + 1];
	enum lease_state state;
	char pool[PROTO_NAME_MAX + 1];
	char vf[VFCTL_ADDR_LEN];
	char pf[VFCTL_ADDR_LEN];
	int vf_index;
	int group;		/* IOMMU group, -1 until bound */
	unsigned uid;		/* who allocated it */
	char owner[PROTO_NAME_MAX + 1];
	int pid;		/* owner process, 0 none */
	unsigned long long pid_start;	/* its start time (/proc/PID/stat field 22) */
	int64_t created;	/* unix time */
	bool bound;		/* the daemon bound it to vfio-pci: restore on release */

	/* not persisted */
	int pidfd;
	sd_event_source *pid_src;
	void *daemon;		/* for the pidfd callback */
	char pending[256];	/* why a release waits */
};

struct lease_store {
	int dfd;		/* the run directory */
	char *dir;
	uint64_t next;		/* the next lease number */
	size_t n;
	struct lease **v;
};

/* lease.c: RUN_DIR/leases.json, rewritten whole and atomically on every change */
const char *lease_state_name(enum lease_state s);
int lease_store_open(struct vfctl_ctx *ctx, struct lease_store *st);
void lease_store_close(struct lease_store *st);
int lease_store_save(struct vfctl_ctx *ctx, struct lease_store *st);
/* A new lease (id assigned, state allocating), not yet saved. */
int lease_store_add(struct lease_store *st, struct lease **ret);
void lease_store_remove(struct lease_store *st, struct lease *l);
struct lease *lease_store_find(const struct lease_store *st, const char *id);
struct lease *lease_store_find_vf(const struct lease_store *st, const char *vf);
/* The start time of a process (for pid reuse), 0 when it does not exist. */
unsigned long long proc_start_time(int pid);

#endif
