#include "autoconfig.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "healthtop/core/config.h"
#include "healthtop/core/paths.h"

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

int config_load(const char *path, struct ht_config *cfg, struct ht_err *err)
{
	FILE *f = fopen(path, "rb");
	char *text;
	size_t len;

	memset(cfg, 0, sizeof(*cfg));
	if (!f) {
		ht_err_set(err, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(HT_CONFIG_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		ht_err_set(err, "%s: out of memory", path);
		return -1;
	}
	len = fread(text, 1, HT_CONFIG_MAX_BYTES + 1, f);
	if (ferror(f) || len > HT_CONFIG_MAX_BYTES) {
		ht_err_set(err, "%s: %s", path, ferror(f) ? strerror(errno) : "larger than 16 MiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[len] = '\0';
	int rc = config_parse(text, len, path, env_lookup, cfg, err);
	for (size_t i = 0; rc == 0 && i < cfg->ntargets; i++) {
		const struct ht_target *t = &cfg->targets[i];
		if (t->probe.ca_file && access(t->probe.ca_file, R_OK) != 0) {
			ht_err_set(err, "%s:%d: targets[%zu].ca_file: \"%s\" is not readable: %s", path,
				   t->probe.ca_file_line, i, t->probe.ca_file, strerror(errno));
			config_free(cfg);
			rc = -1;
		}
	}
	free(text);
	return rc;
}

char *config_default_path(char *buf, size_t size)
{
	return paths_xdg(PATHS_CONFIG, "config.json", buf, size);
}
