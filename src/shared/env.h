/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The environment the programs honour (vfctl(1), vfctld(8)). libvfctl reads
 * none: the programs read it here and pass it in struct vfctl_opts and as
 * vfctl_client_connect()'s path.
 */
#ifndef VFCTL_ENV_H
#define VFCTL_ENV_H

/* opt when given and not empty, else $name when set and not empty, else
 * NULL (the default). */
const char *vfctl_env_or(const char *opt, const char *name);
/* $VFCTL_LOCK_TIMEOUT (seconds, at most 3600) as vfctl_opts.lock_timeout_ms:
 * 0 (the library's default) when unset or not a number, -1 for "0" (do not
 * wait). */
int vfctl_env_lock_timeout_ms(void);

#endif
