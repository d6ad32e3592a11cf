#include "autoconfig.h"
#include <string.h>
#include "healthtop/core/health_class.h"

static const char *const class_names[HT_CLASS_COUNT] = { "healthy", "degraded", "down" };

const char *ht_class_name(enum ht_class c)
{
	if ((unsigned)c >= HT_CLASS_COUNT)
		return "unknown";
	return class_names[c];
}

int ht_class_parse(const char *s, enum ht_class *out)
{
	for (int i = 0; i < HT_CLASS_COUNT; i++) {
		if (strcmp(s, class_names[i]) == 0) {
			*out = (enum ht_class)i;
			return 0;
		}
	}
	return -1;
}
