// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int vfctl_ctx_set_error(struct vfctl_ctx *ctx, int r, const char *fmt, ...)
{
	va_list ap;

	if (ctx) {
		va_start(ap, fmt);
		vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
		va_end(ap);
	}
	return r;
}

const char *vfctl_ctx_error(const struct vfctl_ctx *ctx)
{
	return ctx ? ctx->err : "";
}

const char *vfctl_ctx_sysfs_root(const struct vfctl_ctx *ctx)
{
	return ctx->sys.path;
}

bool vfctl_ctx_is_live(const struct vfctl_ctx *ctx)
{
	return ctx->live;
}

/* How long vfctl_ctx_free() waits for killed workers to end, in all. */
#define CTX_FREE_REAP_MS 1000

void vfctl_ctx_reap(struct vfctl_ctx *ctx)
{
	if (ctx)
		vfctl_reaper_reap(&ctx->children);
}

void vfctl_ctx_free(struct vfctl_ctx *ctx)
{
	if (!ctx)
		return;
	/* A worker stuck in the kernel outlives this (vfctl.h says what then). */
	vfctl_reaper_free(&ctx->children, CTX_FREE_REAP_MS);
	vfctl_root_close(&ctx->sys);
	vfctl_root_close(&ctx->dev);
	vfctl_names_free(ctx->names);
	free(ctx->run_path);
	free(ctx);
}

int vfctl_sized_in(void *dst, size_t dst_size, const void *src)
{
	const unsigned char *s = src;
	size_t size;

	memcpy(&size, src, sizeof(size));
	if (size < sizeof(size))
		return -EINVAL;
	for (size_t i = dst_size; i < size; i++)
		if (s[i])
			return -E2BIG;
	memset(dst, 0, dst_size);
	memcpy(dst, src, size < dst_size ? size : dst_size);
	return 0;
}

void vfctl_sized_out(void *dst, const void *src, size_t src_size)
{
	size_t size;

	memcpy(&size, dst, sizeof(size));
	if (size > src_size)
		size = src_size;
	if (size > sizeof(size))
		memcpy((char *)dst + sizeof(size), (const char *)src + sizeof(size),
		       size - sizeof(size));
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int vfctl_ctx_new(struct vfctl_ctx **ret, const struct vfctl_opts *opts)
{
	struct vfctl_opts o = { .size = sizeof(o) };
	const char *sys, *dev, *run;
	_cleanup_free_ char *sibling = NULL;
	char real[PATH_MAX];
	struct vfctl_ctx *ctx;
	int r;

	/* No ctx yet for a message: a bad size is only its errno. */
	if (opts) {
		r = vfctl_sized_in(&o, sizeof(o), opts);
		if (r < 0)
			return r;
	}
	sys = nonempty(o.sysfs_root);
	dev = nonempty(o.dev_root);
	run = nonempty(o.run_dir);

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->sys.fd = ctx->dev.fd = ctx->lock.fd = -1;
	ctx->lock_timeout_ms = o.lock_timeout_ms;
	ctx->progress = o.progress;
	ctx->progress_data = o.progress_data;
	if (!sys)
		sys = "/sys";
	ctx->run_path = strdup(run ? run : "/run/vfctl");
	if (!ctx->run_path) {
		vfctl_ctx_free(ctx);
		return -ENOMEM;
	}

	r = vfctl_root_open(&ctx->sys, sys);
	if (r < 0) {
		/* There is no ctx to ask yet: the message goes to the caller's buffer. */
		if (o.errbuf && o.errlen)
			snprintf(o.errbuf, o.errlen,
				 "sysfs root %s: %s; pass an existing sysfs tree to "
				 "--sysfs-root or VFCTL_SYSFS_ROOT", sys, strerror(-r));
		vfctl_ctx_free(ctx);
		return r;
	}
	ctx->live = realpath(sys, real) && strcmp(real, "/sys") == 0;

	/* A golden tree keeps its /dev next to its sys/: ROOT/sys and ROOT/dev. */
	if (!dev) {
		if (ctx->live) {
			dev = "/dev";
		} else {
			char *s;

			/* asprintf leaves s undefined when it fails */
			if (asprintf(&s, "%s/../dev", sys) >= 0)
				dev = sibling = s;
		}
	}
	/* A missing dev tree only means no device nodes: VFIO reads as absent. */
	if (dev)
		(void)vfctl_root_open(&ctx->dev, dev);

	*ret = ctx;
	return 0;
}

/* n hex digits, checked to be hex digits by the caller */
static unsigned hex_n(const char *s, size_t n)
{
	unsigned v = 0;

	while (n--) {
		char c = *s++;

		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

static char *hex_put(char *p, unsigned v, int digits)
{
	static const char x[] = "0123456789abcdef";

	while (digits--)
		*p++ = x[(v >> (4 * digits)) & 0xf];
	return p;
}

int vfctl_addr_parse(const char *s, char out[VFCTL_ADDR_LEN])
{
	unsigned dom = 0, bus, dev, fn;
	size_t len;
	char *p;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	/* Only the two exact shapes; anything else (paths, spaces, signs) is refused. */
	if (len != 12 && len != 7)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		bool sep = (len == 12) ? (i == 4 || i == 7) : (i == 2);
		bool dot = (len == 12) ? (i == 10) : (i == 5);

		if (sep ? s[i] != ':' : dot ? s[i] != '.' : !isxdigit((unsigned char)s[i]))
			return -EINVAL;
	}
	/* the shape is checked: the digits are where they must be (every scan
	 * parses each function's address twice: sscanf and snprintf were a
	 * tenth of list's own instructions) */
	if (len == 12) {
		dom = hex_n(s, 4);
		s += 5;
	}
	bus = hex_n(s, 2);
	dev = hex_n(s + 3, 2);
	fn = hex_n(s + 6, 1);
	if (dev > 0x1f || fn > 7)
		return -EINVAL;
	p = hex_put(out, dom, 4);
	*p++ = ':';
	p = hex_put(p, bus, 2);
	*p++ = ':';
	p = hex_put(p, dev, 2);
	*p++ = '.';
	p = hex_put(p, fn, 1);
	*p = '\0';
	return 0;
}

bool vfctl_ifname_valid(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strlen(s);
	if (len == 0 || len >= VFCTL_IFNAME_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return true;
}

const char *vfctl_vf_link_state_str(int link_state)
{
	switch (link_state) {
	case 0: return "auto";
	case 1: return "enable";
	case 2: return "disable";
	default: return NULL;
	}
}

const char *vfctl_vlan_proto_str(uint16_t proto)
{
	switch (proto) {
	case 0x8100: return "802.1Q";
	case 0x88a8: return "802.1ad";
	default: return NULL;
	}
}
