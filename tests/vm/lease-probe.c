// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lease-probe LEASE [HOLD_SECONDS]: the VM tests' vfctld client. Opens the
 * lease through libvfctl's vfctl_client_open_lease() and proves the fds it
 * received are the real thing: the container speaks the VFIO API, the group
 * is viable and joins the container, VFIO_GROUP_GET_DEVICE_FD gives the
 * VF's device fd and VFIO_DEVICE_GET_INFO describes a PCI device. Then it
 * holds everything open for HOLD_SECONDS (default 0) so a test can see a
 * held group. One line per step on stdout, errors on stderr, exit 1.
 *
 * lease-probe --send FILE...: raw protocol tests. Each FILE's bytes go as
 * one message on one connection ("+FILE": with an fd attached), and each
 * reply is printed on its own line, so a test sees the connection survive
 * bad messages.
 *
 * lease-probe --notify PATH: be a service manager's notify socket (a
 * datagram socket at PATH) and print the first message vfctld sends.
 *
 * lease-probe --hold N SECONDS: N idle connections (nothing sent on them).
 * Once vfctld has taken them all (one more connection's "leases" reply
 * comes after their accepts) prints "held H refused R" and the first
 * refusal; then holds them for SECONDS, or until vfctld closed them all,
 * and prints "closed by vfctld C".
 *
 * lease-probe --flood [--read]: "list" requests on one connection as fast
 * as they go, never reading a reply (--read: reading each before the next),
 * until killed or the connection ends.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vfctl.h"

static int die(const char *what)
{
	fprintf(stderr, "lease-probe: %s: %s\n", what, strerror(errno));
	return 1;
}

static int send_files(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("VFCTLD_SOCKET");
	static char buf[1 << 20], reply[1 << 18];
	int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path ? path : VFCTL_CLIENT_SOCKET);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("connect");
	for (int i = 0; i < argc; i++) {
		const char *name = argv[i] + (argv[i][0] == '+');
		int fd = open(name, O_RDONLY);
		ssize_t n, len = 0;
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (fd < 0)
			return die(name);
		while ((n = read(fd, buf + len, sizeof(buf) - (size_t)len)) > 0)
			len += n;
		iov = (struct iovec){ .iov_base = buf, .iov_len = (size_t)len };
		if (argv[i][0] == '+') {
			struct cmsghdr *cm;

			mh.msg_control = ctl.b;
			mh.msg_controllen = sizeof(ctl.b);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		}
		if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
			return die("sendmsg");
		close(fd);
		n = recv(s, reply, sizeof(reply) - 1, 0);
		if (n <= 0) {
			printf("closed\n");
			return 1;
		}
		reply[n] = '\0';
		printf("%s\n", reply);
		fflush(stdout);
	}
	close(s);
	return 0;
}

static int connect_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("VFCTLD_SOCKET");
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path ? path : VFCTL_CLIENT_SOCKET);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static int hold(int n, int seconds)
{
	static char reply[4096], first[4096];
	struct rlimit rl;
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int held = 0, refused = 0, closed = 0, sync;
	time_t end;
	ssize_t len;

	if (!p)
		return die("calloc");
	/* the daemon's limits are what is tested, not this process's */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < n; i++) {
		p[i].fd = connect_daemon();
		if (p[i].fd < 0)
			return die("connect");
		p[i].events = POLLIN;
	}
	sync = connect_daemon();
	if (sync < 0 || send(sync, "{\"op\":\"leases\"}", 15, MSG_NOSIGNAL) < 0 ||
	    recv(sync, reply, sizeof(reply), 0) < 0) {
		/* refused too: then the refusal is queued, read it */
		if (sync < 0 || recv(sync, reply, sizeof(reply), MSG_DONTWAIT) < 0)
			return die("sync");
	}
	close(sync);
	first[0] = '\0';
	poll(p, (nfds_t)n, 0);
	for (int i = 0; i < n; i++) {
		if (!p[i].revents) {
			held++;
			continue;
		}
		if (!first[0]) {
			len = recv(p[i].fd, first, sizeof(first) - 1, MSG_DONTWAIT);
			first[len > 0 ? len : 0] = '\0';
		}
		refused++;
		close(p[i].fd);
		p[i].fd = -1;	/* poll ignores it */
	}
	printf("held %d refused %d\n%s\n", held, refused, first);
	fflush(stdout);
	end = time(NULL) + seconds;
	while (closed < held && time(NULL) < end) {
		if (poll(p, (nfds_t)n, 200) < 0)
			break;
		for (int i = 0; i < n; i++)
			if (p[i].fd >= 0 && p[i].revents) {
				closed++;
				close(p[i].fd);
				p[i].fd = -1;
			}
	}
	printf("closed by vfctld %d\n", closed);
	for (int i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	free(p);
	return 0;
}

static int flood(bool read_replies)
{
	static const char req[] = "{\"op\":\"list\"}";
	static char reply[1 << 18];
	int s = connect_daemon();

	if (s < 0)
		return die("connect");
	while (send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) >= 0)
		if (read_replies && recv(s, reply, sizeof(reply), 0) <= 0)
			break;
	return 0;
}

static int notify_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char buf[4096];
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return die("notify socket");
	printf("listening\n");
	fflush(stdout);
	n = recv(s, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return die("recv");
	buf[n] = '\0';
	printf("%s\n", buf);
	close(s);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	struct vfctl_client *c = NULL;
	struct vfctl_lease_fds l = { .size = sizeof(l) };
	const char *sock = getenv("VFCTLD_SOCKET");	/* libvfctl reads no environment */
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	const char *rlimit_mode = NULL;
	int r, dev, api;

	if (argc == 3 && !strcmp(argv[1], "--notify"))
		return notify_listen(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "--hold"))
		return hold(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "--flood"))
		return flood(false);
	if (argc == 3 && !strcmp(argv[1], "--flood") && !strcmp(argv[2], "--read"))
		return flood(true);
	if (argc > 1 && !strcmp(argv[1], "--send"))
		return send_files(argc - 2, argv + 2);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: lease-probe LEASE [HOLD_SECONDS]\n");
		return 2;
	}
	r = vfctl_client_connect(sock && *sock ? sock : NULL, &c);
	if (r < 0) {
		fprintf(stderr, "lease-probe: connect: %s\n", strerror(-r));
		return 1;
	}
	r = vfctl_client_open_lease(c, argv[1], &l);
	if (r < 0) {
		fprintf(stderr, "lease-probe: open %s: %s (errno %d)\n", argv[1],
			vfctl_client_error(c), -r);
		vfctl_client_free(c);
		return 1;
	}
	vfctl_client_free(c);
	printf("received %s group %d container_fd %d group_fd %d iommufd %d device_fd %d\n",
	       l.addr, l.group, l.container_fd, l.group_fd, l.iommufd, l.device_fd);
	if (l.iommufd >= 0) {
		/* struct iommu_option (Linux 6.2 uapi; bookworm's headers are 6.1):
		 * IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET */
		struct { uint32_t size, option_id; uint16_t op, rsvd; uint32_t object_id;
			 uint64_t val64; } o = { .size = sizeof(o), .option_id = 0, .op = 1 };

		if (ioctl(l.iommufd, _IO(';', 0x87), &o) < 0)
			return die("IOMMU_OPTION get RLIMIT_MODE");
		rlimit_mode = o.val64 ? "process" : "user";
		/* the rest probes the legacy pair: the cdev is not wanted */
		close(l.iommufd);
		close(l.device_fd);
		l.iommufd = l.device_fd = -1;
	}
	api = ioctl(l.container_fd, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION)
		return die("VFIO_GET_API_VERSION on the container fd");
	printf("container api %d\n", api);
	if (ioctl(l.group_fd, VFIO_GROUP_GET_STATUS, &gs) < 0)
		return die("VFIO_GROUP_GET_STATUS");
	printf("group viable %d\n", !!(gs.flags & VFIO_GROUP_FLAGS_VIABLE));
	if (ioctl(l.group_fd, VFIO_GROUP_SET_CONTAINER, &l.container_fd) < 0)
		return die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(l.container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		return die("VFIO_SET_IOMMU");
	dev = ioctl(l.group_fd, VFIO_GROUP_GET_DEVICE_FD, l.addr);
	if (dev < 0)
		return die("VFIO_GROUP_GET_DEVICE_FD");
	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) < 0)
		return die("VFIO_DEVICE_GET_INFO");
	printf("device %s pci %d regions %u irqs %u\n", l.addr, !!(di.flags & VFIO_DEVICE_FLAGS_PCI),
	       di.num_regions, di.num_irqs);
	if (rlimit_mode)
		printf("iommufd rlimit mode %s\n", rlimit_mode);
	fflush(stdout);
	if (argc == 3)
		sleep((unsigned)atoi(argv[2]));
	close(dev);
	vfctl_lease_fds_close(&l);
	return 0;
}
