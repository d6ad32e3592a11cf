/* A main() for a harness without libFuzzer: feeds it the committed seeds and regression inputs,
 * so 'make check' (gcc, and the ASan+UBSan build in CI) holds every property on every input that
 * ever crashed or hung, with no clang needed. Files named on the command line replace the
 * directories. */
#include "autoconfig.h"
#include <dirent.h>
#include <errno.h>
#include "fuzz_util.h"

#ifndef FUZZ_ROOM
#error "FUZZ_ROOM must name the harness's room"
#endif

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long size;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* Exactly size bytes (one for an empty file), as libFuzzer hands them over. */
	buf = malloc(size ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return 0;
}

/* Returns the number of files replayed, or -1. A missing directory holds nothing. */
static int replay_dir(const char *top, const char *kind)
{
	char dir[2048], path[4096];
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/%s/%s", top, kind, FUZZ_ROOM);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (replay_file(path) < 0) {
			closedir(d);
			return -1;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const char *top = getenv("HT_FUZZDIR");
	int seeds, regs;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (replay_file(argv[i]) < 0)
				return 1;
		return 0;
	}
	if (!top) {
		fprintf(stderr, "HT_FUZZDIR is not set (the fuzz/ directory of the source tree)\n");
		return 1;
	}
	seeds = replay_dir(top, "corpus");
	regs = replay_dir(top, "regressions");
	if (seeds <= 0 || regs < 0) {
		fprintf(stderr, "%s: no seed corpus under %s/corpus/%s\n", FUZZ_ROOM, top, FUZZ_ROOM);
		return 1;
	}
	printf("%s: %d seeds and %d regression inputs hold every property\n", FUZZ_ROOM, seeds, regs);
	return 0;
}
