/* Replays fuzz inputs through one harness's LLVMFuzzerTestOneInput without
 * libFuzzer (linked with the normal build, so `make check` needs no clang):
 * each argument is a file, or a directory whose files are replayed. A crash
 * is the failure; otherwise prints nothing and exits 0. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "isolated/util.h"

/* Inputs larger than this are no fuzz input (libFuzzer's -max_len is 20000). */
#define REPLAY_MAX_INPUT (64 * 1024 * 1024)

static int replay_file(const char *path)
{
	char *buf = NULL;
	uint8_t *exact;
	size_t len = 0;
	int r = util_read_at(AT_FDCWD, path, REPLAY_MAX_INPUT, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return -1;
	}
	/* An exact-size copy, so reads past the end are caught under ASan. */
	exact = malloc(len ? len : 1);
	if (!exact)
		abort();
	if (len)
		memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, size_t *ret_n)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *dp = opendir(dir);
	int r = 0;

	if (!dp) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(dp))) {
		char **v;

		if (de->d_name[0] == '.')
			continue;
		v = realloc(names, (n + 1) * sizeof(*v));
		if (!v)
			abort();
		names = v;
		names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (!names[n])
			abort();
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (replay_file(names[i]) < 0)
			r = -1;
		free(names[i]);
	}
	free(names);
	*ret_n += n;
	return r;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	int r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			r = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &n) < 0)
				r = -1;
		} else {
			if (replay_file(argv[i]) < 0)
				r = -1;
			n++;
		}
	}
	if (n == 0) {
		fprintf(stderr, "no inputs to replay\n");
		r = -1;
	}
	return r < 0 ? 1 : 0;
}
