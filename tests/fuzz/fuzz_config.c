// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for the config parser (vfctl.conf(5)):
 * vfctl_config_parse() on the input, exactly as long as the input (a copy
 * in its own allocation, so ASan sees any read past the end), then free.
 * A parse that fails must leave a message; one that succeeds must give a
 * config whose VF tables match numvfs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vfctl.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vfctl_ctx *ctx;
	struct vfctl_config *cfg = NULL;
	char *text;
	int r;

	/* the parser needs no host: any directory will do as the sysfs root */
	if (!ctx && vfctl_ctx_new(&ctx, &VFCTL_SIZED(struct vfctl_opts, .sysfs_root = "/",
							       .dev_root = "/",
							       .run_dir = "/nonexistent")) < 0)
		abort();
	text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	r = vfctl_config_parse(ctx, "fuzz.conf", text, size, &cfg);
	if (r < 0) {
		if (cfg || !*vfctl_ctx_error(ctx))
			abort();	/* out-param touched, or no message */
	} else {
		for (size_t i = 0; i < cfg->n_pfs; i++)
			for (unsigned j = 0; j < cfg->pfs[i].numvfs; j++)
				if (cfg->pfs[i].vfs[j].s.mask >> _VFCTL_VF_ATTR_MAX)
					abort();	/* a VF read past its table */
		vfctl_config_free(cfg);
	}
	free(text);
	return 0;
}
