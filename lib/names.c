// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Vendor, device and class names, looked up once per id and kept in the
 * context (vfctld keeps its context, so its cache outlives a request).
 * systemd's hwdb (hwdb.bin, mmap'd, built by udev from the same pci.ids)
 * answers without parsing anything; pci.ids through libpci, parsed on first
 * use only, answers what the hwdb does not (no hwdb.bin, an id it lacks).
 * The hwdb is read through libudev, which libpci links already: libsystemd's
 * sd_hwdb reads the same file, but linking libsystemd (and its libgcrypt,
 * lzma, zstd, lz4, libcap) cost every vfctl process about 5 ms of start.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <pci/pci.h>
#include <libudev.h>

#include "internal.h"

struct name_entry {
	uint32_t key;		/* kind << 24 ^ id: a vendor, vendor:device or class */
	uint32_t id2;
	char *name;		/* NULL: neither source knows it */
};

struct vfctl_names {
	struct udev *udev;
	struct udev_hwdb *hwdb;
	bool hwdb_tried;
	struct pci_access *ids;	/* libpci for pci.ids, made on first use */
	bool ids_failed;
	struct name_entry *v;
	size_t n, cap;
};

static __thread jmp_buf *ids_jmp;

/* libpci's error callback must not return: a broken pci.ids unwinds here */
__attribute__((noreturn)) static void ids_on_error(char *msg, ...)
{
	(void)msg;
	if (ids_jmp)
		longjmp(*ids_jmp, 1);
	abort();	/* unreachable: every lookup runs under ids_jmp */
}

static void ids_on_warning(char *msg, ...)
{
	(void)msg;
}

void vfctl_names_free(struct vfctl_names *nm)
{
	if (!nm)
		return;
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i].name);
	free(nm->v);
	udev_hwdb_unref(nm->hwdb);
	udev_unref(nm->udev);
	if (nm->ids)
		pci_cleanup(nm->ids);
	free(nm);
}

/* The value of property prop for key in the hwdb, or NULL; the hwdb's
 * list, valid until its next lookup. */
static const char *hwdb_get(struct vfctl_names *nm, const char *key, const char *prop)
{
	struct udev_list_entry *e;

	e = udev_hwdb_get_properties_list_entry(nm->hwdb, key, 0);
	e = udev_list_entry_get_by_name(e, prop);
	return e ? udev_list_entry_get_value(e) : NULL;
}

/* The hwdb's name (a copy) or NULL when the hwdb does not know it. */
static char *hwdb_name(struct vfctl_names *nm, int kind, unsigned a, unsigned b)
{
	const char *v;
	char key[64], *s;

	if (!nm->hwdb_tried) {
		nm->hwdb_tried = true;
		nm->udev = udev_new();
		nm->hwdb = nm->udev ? udev_hwdb_new(nm->udev) : NULL;
	}
	if (!nm->hwdb)
		return NULL;
	/* the keys and properties libpci's own hwdb lookup uses */
	switch (kind) {
	case PCI_LOOKUP_VENDOR:
		snprintf(key, sizeof(key), "pci:v%08X", a);
		v = hwdb_get(nm, key, "ID_VENDOR_FROM_DATABASE");
		break;
	case PCI_LOOKUP_DEVICE:
		snprintf(key, sizeof(key), "pci:v%08Xd%08X", a, b);
		v = hwdb_get(nm, key, "ID_MODEL_FROM_DATABASE");
		break;
	default:
		snprintf(key, sizeof(key), "pci:v*d*sv*sd*bc%02Xsc%02X*", a >> 8, a & 0xff);
		v = hwdb_get(nm, key, "ID_PCI_SUBCLASS_FROM_DATABASE");
		if (v)
			break;
		/* a subclass pci.ids does not name: libpci gives the base class's
		 * name and the number even with PCI_LOOKUP_NO_NUMBERS; answered
		 * here, such a function no longer costs a parse of pci.ids */
		v = hwdb_get(nm, key, "ID_PCI_CLASS_FROM_DATABASE");
		if (!v)
			return NULL;
		return asprintf(&s, "%s [%04x]", v, a) < 0 ? NULL : s;
	}
	return v ? strdup(v) : NULL;
}

static char *ids_name(struct vfctl_names *nm, int kind, unsigned a, unsigned b)
{
	char buf[256], *s = NULL;
	jmp_buf jb;

	if (nm->ids_failed)
		return NULL;
	ids_jmp = &jb;
	if (setjmp(jb)) {
		ids_jmp = NULL;
		nm->ids_failed = true;
		return NULL;
	}
	if (!nm->ids) {
		nm->ids = pci_alloc();
		if (!nm->ids) {
			ids_jmp = NULL;
			nm->ids_failed = true;
			return NULL;
		}
		nm->ids->error = ids_on_error;
		nm->ids->warning = ids_on_warning;
		nm->ids->debug = ids_on_warning;
	}
	s = pci_lookup_name(nm->ids, buf, sizeof(buf),
			    kind | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, (int)a, (int)b);
	ids_jmp = NULL;
	return s ? strdup(s) : NULL;
}

/* A copy of the name (the caller frees it), or NULL when no source knows it. */
char *vfctl_name_lookup(struct vfctl_ctx *ctx, int kind, unsigned a, unsigned b)
{
	struct vfctl_names *nm = ctx->names;
	uint32_t key = (uint32_t)kind << 24 ^ a;
	struct name_entry *e;

	if (!nm) {
		nm = ctx->names = calloc(1, sizeof(*nm));
		if (!nm)
			return NULL;
	}
	for (size_t i = 0; i < nm->n; i++)
		if (nm->v[i].key == key && nm->v[i].id2 == b)
			return nm->v[i].name ? strdup(nm->v[i].name) : NULL;
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 32;
		struct name_entry *v = realloc(nm->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		nm->v = v;
		nm->cap = cap;
	}
	e = &nm->v[nm->n];
	e->key = key;
	e->id2 = b;
	e->name = hwdb_name(nm, kind, a, b);
	if (!e->name)
		e->name = ids_name(nm, kind, a, b);
	nm->n++;
	return e->name ? strdup(e->name) : NULL;
}
