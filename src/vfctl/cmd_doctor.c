// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfctl doctor: is this host ready for VFIO passthrough and SR-IOV? One
 * line per check, OK / WARN / FAIL / UNKNOWN with what to do. Everything is
 * read through the rooted accessor: sysfs under the context's sysfs root,
 * /proc, /run and /etc under its parent (/ on a live host, the tree's
 * directory for --sysfs-root TREE/sys), so a golden tree stands for a host.
 * Nothing here needs privileges: what only root may read (a bridge's
 * extended config space) is UNKNOWN, never a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic.h"
#include "cli.h"
#include "print.h"

/* The exit status by the worst result: 0 OK or UNKNOWN, 1 FAIL, 8 WARN */

enum level { LV_OK, LV_UNKNOWN, LV_WARN, LV_FAIL };
static const char *const level_name[] = { "OK", "UNKNOWN", "WARN", "FAIL" };

/* vfkvm's default guest RAM (vfkvm(1) --mem): what its DMA pins by default */
#define VFKVM_DEFAULT_MEM (64ULL << 20)
#define CAP_IPC_LOCK_BIT 14
#define PCI_EXT_CAP_ID_ACS 0x0d
/* ACS Source Validation, P2P Request Redirect, Completion Redirect, Upstream
 * Forwarding: what the kernel's pci_acs_enabled() wants of a downstream port */
#define ACS_NEEDED 0x1d

struct doctor {
	struct vfctl_root sys, host;	/* host: /proc, /run, /etc */
	bool host_ok;
	enum level worst;
};

static void check(struct doctor *d, const char *name, enum level lv, const char *fix,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void check(struct doctor *d, const char *name, enum level lv, const char *fix,
		  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lv > d->worst)
		d->worst = lv;
	pr_obj_begin(NULL);
	pr_str("result", "%-8s", level_name[lv]);
	pr_str("check", "%-20s ", name);
	pr_str("message", "%s\n", msg);
	pr_str("fix", fix ? "         fix: %s\n" : NULL, fix);
	pr_obj_end();
}

/* A host file (under the host root) into buf; -errno when not there. */
static int host_read(const struct doctor *d, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	size_t n = 0;
	ssize_t r;

	if (!d->host_ok)
		return -ENOENT;
	fd = vfctl_root_openat(&d->host, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd;
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	return (int)n;
}

/* Is word (a whole "key=value" or "key") on the command line? */
static bool cmdline_has(const char *cmdline, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = cmdline; (p = strstr(p, word)); p += len)
		if ((p == cmdline || isspace((unsigned char)p[-1])) &&
		    (!p[len] || isspace((unsigned char)p[len])))
			return true;
	return false;
}

#define GRUB_FIX(what) "add " what " to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot"

static void check_cmdline(struct doctor *d, const struct vfctl_host *h)
{
	char cmd[4096];
	const char *off = NULL;

	if (host_read(d, "proc/cmdline", cmd, sizeof(cmd)) < 0) {
		check(d, "cmdline-iommu", LV_UNKNOWN, NULL, "/proc/cmdline is not readable");
		return;
	}
	for (const char *const *w = (const char *const[]){ "intel_iommu=off", "amd_iommu=off",
							    "iommu=off", NULL }; *w; w++)
		if (cmdline_has(cmd, *w))
			off = *w;
	if (off)
		check(d, "cmdline-iommu", LV_FAIL, "remove it from GRUB_CMDLINE_LINUX in "
		      "/etc/default/grub, run update-grub, reboot",
		      "the kernel command line has %s: no DMA remapping, no VFIO", off);
	else if (cmdline_has(cmd, "intel_iommu=on") || cmdline_has(cmd, "amd_iommu=on"))
		check(d, "cmdline-iommu", LV_OK, NULL, "the kernel command line turns the IOMMU on");
	else if (h->iommu)
		check(d, "cmdline-iommu", LV_OK, NULL, "no intel_iommu=on / amd_iommu=on, but the "
		      "kernel turned its IOMMU on by default");
	else
		check(d, "cmdline-iommu", LV_FAIL, GRUB_FIX("intel_iommu=on (Intel) or amd_iommu=on (AMD)"),
		      "neither intel_iommu=on nor amd_iommu=on on the kernel command line");
	if (cmdline_has(cmd, "iommu=pt"))
		check(d, "cmdline-passthrough", LV_OK, NULL, "iommu=pt: host devices bypass DMA "
		      "translation, VFIO devices keep it");
	else
		check(d, "cmdline-passthrough", LV_WARN, GRUB_FIX("iommu=pt"),
		      "no iommu=pt: every host device's DMA goes through the IOMMU (slower)");
}

static void check_iommu(struct doctor *d, const struct vfctl_host *h)
{
	if (!h->iommu)
		check(d, "iommu", LV_FAIL, "enable VT-d / AMD-Vi in the firmware setup, and "
		      "intel_iommu=on or amd_iommu=on (cmdline-iommu)",
		      "no IOMMU in /sys/class/iommu");
	else if (!h->iommu_groups)
		check(d, "iommu", LV_FAIL, "check the kernel log for the IOMMU's driver",
		      "IOMMU %s but no group in /sys/kernel/iommu_groups", h->iommu_units[0]);
	else
		check(d, "iommu", LV_OK, NULL, "IOMMU %s, %zu groups", h->iommu_units[0],
		      h->n_groups);
}

/* Interrupt remapping: without it a device can forge MSIs, and VFIO type1
 * refuses such devices unless allow_unsafe_interrupts. The kernel log says
 * it, but needs privilege; /proc/interrupts names the remapped MSI domain
 * ("IR-PCI-MSI") of every interrupt that goes through it. */
static void check_irq_remap(struct doctor *d, const struct vfctl_host *h)
{
	_cleanup_free_ char *buf = malloc(1 << 20);
	char unsafe[8] = "";
	bool ir, msi;

	if (vfctl_root_read(&d->sys, "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
			    unsafe, sizeof(unsafe)) > 0 && unsafe[0] == 'Y') {
		check(d, "interrupt-remapping", LV_WARN, "remove allow_unsafe_interrupts=1 "
		      "(modprobe.d, kernel command line) and use a platform with interrupt "
		      "remapping", "vfio_iommu_type1 allows unsafe interrupts: a guest's "
		      "device may forge MSIs");
		return;
	}
	if (!buf || host_read(d, "proc/interrupts", buf, 1 << 20) < 0) {
		check(d, "interrupt-remapping", LV_UNKNOWN, NULL, "/proc/interrupts is not readable");
		return;
	}
	ir = strstr(buf, "IR-PCI-MSI") || strstr(buf, "IR-IO-APIC");
	msi = strstr(buf, "PCI-MSI");
	if (ir)
		check(d, "interrupt-remapping", LV_OK, NULL, "on (IR- interrupt domains in "
		      "/proc/interrupts)");
	else if (msi && h->iommu)
		check(d, "interrupt-remapping", LV_FAIL, "enable interrupt remapping in the "
		      "firmware setup (x2APIC / VT-d); do not use intremap=off",
		      "off: MSIs are not remapped, so VFIO refuses devices");
	else
		check(d, "interrupt-remapping", LV_UNKNOWN, NULL, "no MSI in /proc/interrupts "
		      "to tell by");
}

/* A PCI function's config space (all the caller may read: 64 bytes for
 * anyone but root); its length or -errno. */
static int config_read(const struct doctor *d, const char *addr, uint8_t *buf, size_t size)
{
	char rel[PATH_MAX];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/config", addr);
	fd = vfctl_root_openat(&d->sys, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd;
	n = pread(fd, buf, size, 0);
	return n < 0 ? -errno : (int)n;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The ACS control word of a port: >= 0, -ENOENT none, -EACCES the
 * extended config space is not readable */
static int acs_control(const struct doctor *d, const char *addr)
{
	uint8_t cfg[4096];
	int n = config_read(d, addr, cfg, sizeof(cfg));
	unsigned off = 0x100;

	if (n < 0)
		return n;
	if (n < 0x104)
		return -EACCES;
	for (int hops = 0; off >= 0x100 && off + 8 <= (unsigned)n && hops < 512; hops++) {
		uint32_t hdr = le32(cfg + off);

		if (!hdr)
			break;
		if ((hdr & 0xffff) == PCI_EXT_CAP_ID_ACS)
			return cfg[off + 6] | cfg[off + 7] << 8;
		off = hdr >> 20;
	}
	return -ENOENT;
}

/* The ports above f: the PCI functions its sysfs device path passes
 * through (devices/pci0000:00/0000:00:02.0/0000:03:00.0), as the kernel
 * linked them */
static void check_acs_pf(struct doctor *d, const struct vfctl_func *f)
{
	char rel[64], target[PATH_MAX], ports[256] = "", bad[256] = "";
	bool unknown = false;
	size_t n = 0;
	ssize_t len;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", f->addr);
	len = readlinkat(d->sys.fd, rel, target, sizeof(target) - 1);
	if (len < 0) {
		check(d, "acs", LV_UNKNOWN, NULL, "%s: reading /sys/%s: %s", f->addr, rel,
		      strerror(errno));
		return;
	}
	target[len] = '\0';
	for (char *save = NULL, *c = strtok_r(target, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		char addr[VFCTL_ADDR_LEN];
		int ctl;

		if (vfctl_addr_parse(c, addr) < 0 || !strcmp(addr, f->addr))
			continue;
		n++;
		snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%s%s",
			 ports[0] ? ", " : "", addr);
		ctl = acs_control(d, addr);
		if (ctl == -EACCES || (ctl < 0 && ctl != -ENOENT))
			unknown = true;
		else if (ctl == -ENOENT || (ctl & ACS_NEEDED) != ACS_NEEDED)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%s (%s)",
				 bad[0] ? ", " : "", addr, ctl < 0 ? "no ACS" : "ACS not enabled");
	}
	if (bad[0])
		check(d, "acs", LV_WARN, "pass the whole IOMMU group, put the card in a slot "
		      "whose port has ACS, or use a platform with ACS",
		      "%s: upstream port %s: its functions may share an IOMMU group", f->addr, bad);
	else if (unknown)
		check(d, "acs", LV_UNKNOWN, "run vfctl doctor as root to read it",
		      "%s: the extended config space of %s is root's", f->addr, ports);
	else if (!n)
		check(d, "acs", LV_OK, NULL, "%s: on the root complex, no upstream port", f->addr);
	else
		check(d, "acs", LV_OK, NULL, "%s: ACS on upstream port %s", f->addr, ports);
}

static void check_acs(struct doctor *d, const struct vfctl_host *h)
{
	bool any = false;

	for (size_t i = 0; i < h->n_funcs; i++)
		if (h->funcs[i]->kind == VFCTL_FUNC_PF) {
			check_acs_pf(d, h->funcs[i]);
			any = true;
		}
	if (!any)
		check(d, "acs", LV_OK, NULL, "no SR-IOV PF to check");
}

static void check_modules(struct doctor *d)
{
	bool pci = vfctl_root_exists(&d->sys, "module/vfio_pci");
	bool type1 = vfctl_root_exists(&d->sys, "module/vfio_iommu_type1");
	bool iommufd = vfctl_root_exists(&d->sys, "module/iommufd");

	if (!vfctl_root_exists(&d->sys, "module/vfio") || !pci)
		check(d, "vfio-modules", LV_WARN, "modprobe vfio-pci, and name it in "
		      "/etc/modules-load.d/vfio.conf (vfctld needs it loaded)",
		      "vfio-pci is not loaded");
	else if (!type1 && !iommufd)
		check(d, "vfio-modules", LV_FAIL, "modprobe vfio_iommu_type1 (or iommufd)",
		      "vfio-pci without an IOMMU backend (vfio_iommu_type1 or iommufd)");
	else
		check(d, "vfio-modules", LV_OK, NULL, "vfio, vfio-pci%s%s", type1 ?
		      ", vfio_iommu_type1" : "", iommufd ? ", iommufd" : "");
}

static void check_hugepages(struct doctor *d)
{
	_cleanup_closedir_ DIR *dir = NULL;
	unsigned long total = 0, free_ = 0;
	char sizes[128] = "";
	struct dirent *e;

	if (vfctl_root_opendir(&d->sys, "kernel/mm/hugepages", &dir) < 0) {
		check(d, "hugepages", LV_UNKNOWN, NULL, "no /sys/kernel/mm/hugepages (no hugetlbfs?)");
		return;
	}
	while ((e = readdir(dir))) {
		char rel[PATH_MAX];
		long nr = 0, fr = 0;

		if (strncmp(e->d_name, "hugepages-", 10))
			continue;
		snprintf(rel, sizeof(rel), "kernel/mm/hugepages/%s/nr_hugepages", e->d_name);
		if (vfctl_root_read_int(&d->sys, rel, 10, &nr) < 0 || nr <= 0)
			continue;
		snprintf(rel, sizeof(rel), "kernel/mm/hugepages/%s/free_hugepages", e->d_name);
		vfctl_root_read_int(&d->sys, rel, 10, &fr);
		total += (unsigned long)nr;
		free_ += fr > 0 ? (unsigned long)fr : 0;
		snprintf(sizes + strlen(sizes), sizeof(sizes) - strlen(sizes), "%s%ld x %s",
			 sizes[0] ? ", " : "", nr, e->d_name + 10);
	}
	if (!total)
		check(d, "hugepages", LV_WARN, "reserve them: vm.nr_hugepages=N in "
		      "/etc/sysctl.d, or hugepages=N on the kernel command line",
		      "none reserved (DPDK and hugepage-backed guests need them)");
	else
		check(d, "hugepages", LV_OK, NULL, "%s reserved, %lu free", sizes, free_);
}

/* "Max locked memory  8388608  8388608  bytes" of /proc/self/limits (of this
 * process: the limit the operator's VMMs start with), and CAP_IPC_LOCK. */
static void check_memlock(struct doctor *d)
{
	char buf[4096], soft[32];
	unsigned long long cap = 0, lim;
	const char *p;

	if (host_read(d, "proc/self/status", buf, sizeof(buf)) > 0 &&
	    (p = strstr(buf, "\nCapEff:")) && (cap = strtoull(p + 8, NULL, 16)) &
	    (1ULL << CAP_IPC_LOCK_BIT)) {
		check(d, "memlock", LV_OK, NULL, "CAP_IPC_LOCK: no RLIMIT_MEMLOCK bound");
		return;
	}
	if (host_read(d, "proc/self/limits", buf, sizeof(buf)) < 0 ||
	    !(p = strstr(buf, "Max locked memory")) ||
	    sscanf(p + strlen("Max locked memory"), "%31s", soft) != 1) {
		check(d, "memlock", LV_UNKNOWN, NULL, "/proc/self/limits is not readable");
		return;
	}
	if (!strcmp(soft, "unlimited")) {
		check(d, "memlock", LV_OK, NULL, "RLIMIT_MEMLOCK unlimited");
		return;
	}
	lim = strtoull(soft, NULL, 10);
	if (lim < VFKVM_DEFAULT_MEM)
		check(d, "memlock", LV_WARN, "raise it for the users that run VMMs: memlock in "
		      "/etc/security/limits.conf, LimitMEMLOCK= in a unit, ulimit -l",
		      "RLIMIT_MEMLOCK %llu KiB: VFIO pins all guest RAM (vfkvm's default "
		      "%llu KiB, QEMU's -m)", lim >> 10, VFKVM_DEFAULT_MEM >> 10);
	else
		check(d, "memlock", LV_OK, NULL, "RLIMIT_MEMLOCK %llu KiB: guests of up to that "
		      "much RAM", lim >> 10);
}

/* A netdev manager that runs (its /run directory) would take the VFs'
 * netdevs unless udev marks them (udev/85-vfctl-vf.rules). */
static void check_netmgr(struct doctor *d)
{
	static const char *const rules[] = { "etc/udev/rules.d/85-vfctl-vf.rules",
					     "usr/lib/udev/rules.d/85-vfctl-vf.rules",
					     "lib/udev/rules.d/85-vfctl-vf.rules" };
	bool nm = d->host_ok && vfctl_root_exists(&d->host, "run/NetworkManager");
	bool nd = d->host_ok && vfctl_root_exists(&d->host, "run/systemd/netif");
	const char *who = nm && nd ? "NetworkManager and systemd-networkd" :
			  nm ? "NetworkManager" : "systemd-networkd";
	bool rule = false;

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		rule |= d->host_ok && vfctl_root_exists(&d->host, rules[i]);
	if (!nm && !nd)
		check(d, "network-managers", LV_OK, NULL, "neither NetworkManager nor "
		      "systemd-networkd runs");
	else if (rule)
		check(d, "network-managers", LV_OK, NULL, "%s runs; 85-vfctl-vf.rules keeps it off "
		      "the VFs' netdevs", who);
	else
		check(d, "network-managers", LV_WARN, "install udev/85-vfctl-vf.rules (make "
		      "install), then udevadm trigger -s net",
		      "%s runs and would manage the VFs' netdevs", who);
}

static void check_daemon(struct doctor *d, const struct args *a)
{
	const char *path = a->socket ? a->socket : VFCTL_CLIENT_SOCKET;
	struct vfctl_client *c = NULL;
	struct vfctl_pool **pools = NULL;
	size_t n = 0;
	int r = vfctl_client_connect(a->socket, &c);

	if (r >= 0)
		r = vfctl_client_pools(c, &pools, &n);
	if (r < 0)
		check(d, "vfctld", LV_WARN, "systemctl enable --now vfctld.socket (needed for "
		      "alloc, pools, leases)", "not reachable at %s: %s", path,
		      c ? vfctl_client_error(c) : strerror(-r));
	else
		check(d, "vfctld", LV_OK, NULL, "reachable at %s, %zu pools", path, n);
	vfctl_pool_list_free(pools);
	vfctl_client_free(c);
}

int cmd_doctor(struct vfctl_ctx *ctx, struct vfctl_host *host, const struct args *a)
{
	const char *sys = vfctl_ctx_sysfs_root(ctx);
	char hostdir[PATH_MAX];
	struct doctor d = { .sys = { .fd = -1 }, .host = { .fd = -1 } };
	int r;

	if (a->argc) {
		fprintf(stderr, "vfctl doctor: unexpected argument '%s'\n", a->argv[0]);
		return EXIT_USAGE;
	}
	r = vfctl_root_open(&d.sys, sys);
	if (r < 0) {
		fprintf(stderr, "vfctl doctor: opening %s: %s\n", sys, strerror(-r));
		return EXIT_ERR;
	}
	/* /proc, /run, /etc: beside the sysfs root (/ for /sys) */
	snprintf(hostdir, sizeof(hostdir), "%s/..", sys);
	d.host_ok = vfctl_root_open(&d.host, hostdir) >= 0;

	pr_obj_begin(NULL);
	pr_arr_begin("checks");
	check_cmdline(&d, host);
	check_iommu(&d, host);
	check_irq_remap(&d, host);
	check_acs(&d, host);
	check_modules(&d);
	check_hugepages(&d);
	check_memlock(&d);
	check_netmgr(&d);
	check_daemon(&d, a);
	pr_arr_end();
	pr_str("result", NULL, level_name[d.worst]);
	pr_obj_end();

	vfctl_root_close(&d.sys);
	vfctl_root_close(&d.host);
	return d.worst == LV_FAIL ? EXIT_ERR : d.worst == LV_WARN ? EXIT_WARN : EXIT_OK;
}
