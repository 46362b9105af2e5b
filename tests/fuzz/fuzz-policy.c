/* Fuzz the policy language through the real loaders: host.conf (variables,
 * ${name} expansion and its cycle detection) and a policy (parse, expand,
 * validate). Input: host.conf, "\n----\n", policy; without the separator the
 * whole input is the policy, with a fixed host.conf. The files are memfds
 * opened by their /proc/self/fd name, so the loaders read them as they read
 * any file, and nothing on disk is touched. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "isolated/policy.h"
#include "isolated/util.h"

static const char default_hostconf[] = "rt_cpus = 2-15\n"
				       "rt_nic = eth0\n"
				       "rt_vm = guest\n"
				       "rt_vcpus = 0-3\n"
				       "rtnet_prio = 50\n";

/* A memfd holding data, its name in ret_path. -1 on failure. */
static int memfd_with(const void *data, size_t size, char *ret_path, size_t pathlen)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -1;
	/* A memfd is 0777; as root the loaders refuse group-writable files. */
	if (fchmod(fd, 0644) < 0)
		goto fail;
	while (off < size) {
		ssize_t n = write(fd, (const char *)data + off, size - off);

		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	snprintf(ret_path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
fail:
	close(fd);
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpuset online = CPUSET_INIT;
	struct hostconf *hc = NULL;
	struct policy *p = NULL;
	struct diag d = {0};
	const uint8_t *pol, *hconf;
	size_t pol_len, hconf_len;
	char hpath[64], ppath[64];
	int hfd, pfd, r;

	if (size > 2 * 1024 * 1024) /* twice the loaders' limit */
		return 0;
	hconf_len = fuzz_split(data, size, "\n----\n", &pol, &pol_len);
	hconf = data;
	if (!pol) {
		pol = data, pol_len = size;
		hconf = (const uint8_t *)default_hostconf, hconf_len = sizeof(default_hostconf) - 1;
	}
	if (cpuset_set_range(&online, 0, 15) < 0)
		abort();

	hfd = memfd_with(hconf, hconf_len, hpath, sizeof(hpath));
	pfd = memfd_with(pol, pol_len, ppath, sizeof(ppath));
	if (hfd < 0 || pfd < 0)
		abort();

	r = hostconf_load(hpath, &online, &hc, &d);
	if (r < 0) {
		if (hc || (r == -EINVAL && d.n == 0))
			abort(); /* untouched on failure; every error is a diag line */
		/* Still validate the policy, against built-in variables only. */
		if (hostconf_from_strv(NULL, &online, &hc, NULL) < 0)
			abort();
	}
	diag_free(&d);

	r = policy_load(ppath, hc, &online, &p, &d);
	if (r < 0) {
		if (p || (r == -EINVAL && d.n == 0))
			abort();
	} else {
		policy_free(p);
	}
	diag_free(&d);
	hostconf_free(hc);
	cpuset_free(&online);
	close(hfd);
	close(pfd);
	return 0;
}
