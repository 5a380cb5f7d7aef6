// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "basic.h"
#include "cdi.h"

int vfctl_cdi_add(struct vfctl_cdi_dev **v, size_t *n, const char *addr, const char *fmt, ...)
{
	struct vfctl_cdi_dev *nv = realloc(*v, (*n + 1) * sizeof(**v));
	va_list ap;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	va_start(ap, fmt);
	vsnprintf(nv[*n].name, sizeof(nv[*n].name), fmt, ap);
	va_end(ap);
	snprintf(nv[*n].addr, sizeof(nv[*n].addr), "%s", addr);
	(*n)++;
	return 0;
}

static void add_node(json_object *nodes, const char *path)
{
	json_object *o = json_object_new_object();

	/* the same path in the container: QEMU and DPDK look for them there */
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "type", json_object_new_string("c"));
	json_object_object_add(o, "permissions", json_object_new_string("rw"));
	json_object_array_add(nodes, o);
}

int vfctl_cdi_spec(struct vfctl_ctx *ctx, const struct vfctl_cdi_dev *devs, size_t n, char **ret)
{
	json_object *spec = json_object_new_object(), *arr = json_object_new_array();
	char *text;

	json_object_object_add(spec, "cdiVersion", json_object_new_string(VFCTL_CDI_VERSION));
	json_object_object_add(spec, "kind", json_object_new_string(VFCTL_CDI_KIND));
	for (size_t i = 0; i < n; i++) {
		json_object *d, *edits, *nodes, *env;
		char path[64], cdev[32], var[128];
		int group;

		if (vfctl_vfio_group_of(ctx, devs[i].addr, &group) < 0)
			continue;
		d = json_object_new_object();
		edits = json_object_new_object();
		nodes = json_object_new_array();
		env = json_object_new_array();
		json_object_object_add(d, "name", json_object_new_string(devs[i].name));
		add_node(nodes, "/dev/vfio/vfio");
		snprintf(path, sizeof(path), "/dev/vfio/%d", group);
		add_node(nodes, path);
		if (vfctl_vfio_cdev_name(ctx, devs[i].addr, cdev, sizeof(cdev)) >= 0) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
			add_node(nodes, path);
			add_node(nodes, "/dev/iommu");
		}
		/* what the program in the container passes to QEMU or DPDK */
		snprintf(var, sizeof(var), "VFCTL_VF=%s", devs[i].addr);
		json_object_array_add(env, json_object_new_string(var));
		snprintf(var, sizeof(var), "VFCTL_VF_GROUP=%d", group);
		json_object_array_add(env, json_object_new_string(var));
		json_object_object_add(edits, "env", env);
		json_object_object_add(edits, "deviceNodes", nodes);
		json_object_object_add(d, "containerEdits", edits);
		json_object_array_add(arr, d);
	}
	json_object_object_add(spec, "devices", arr);
	text = strdup(json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(spec);
	if (!text)
		return vfctl_ctx_set_error(ctx, -ENOMEM, "CDI spec: out of memory");
	*ret = text;
	return 0;
}

int vfctl_cdi_write(struct vfctl_ctx *ctx, const char *dir, const char *text)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (dfd < 0)
		return vfctl_ctx_set_error(ctx, -errno, "CDI spec: opening %s: %s; create it or "
					   "name another directory", dir, strerror(errno));
	/* container engines run as other users read it too */
	r = vfctl_file_write_atomic_mode(dfd, VFCTL_CDI_FILE, text, 0644);
	if (r < 0)
		return vfctl_ctx_set_error(ctx, r, "CDI spec: writing %s/%s: %s", dir,
					   VFCTL_CDI_FILE, strerror(-r));
	return 0;
}
