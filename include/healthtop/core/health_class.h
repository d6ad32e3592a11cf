/* The three classes a check ends in. Ordered: worse is greater. */
#ifndef HEALTHTOP_CLASS_H
#define HEALTHTOP_CLASS_H

enum ht_class {
	HT_HEALTHY = 0,
	HT_DEGRADED = 1,
	HT_DOWN = 2,
};

#define HT_CLASS_COUNT 3

const char *ht_class_name(enum ht_class c);
/* Returns 0 and sets *out for "healthy" | "degraded" | "down", -1 otherwise. */
int ht_class_parse(const char *s, enum ht_class *out);

#endif
