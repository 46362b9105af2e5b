/* A JSON document built with json-c, where any allocation failure is
 * remembered in the builder and jdone() returns NULL (ENOMEM) instead of a
 * document with holes. The documents of report.c and of the bench are built
 * with it. The functions are named j* (jstr, jset...): a document builder
 * calls them on nearly every line, and short names keep those lines
 * readable. */
#ifndef ISOLATED_JSON_H
#define ISOLATED_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

struct jb {
	bool oom;
};

/* o, noting an allocation failure when it is NULL. */
json_object *jb_check(struct jb *b, json_object *o);
/* A string; NULL (JSON null) for NULL. Bytes that are not UTF-8 become
 * '?': the bus carries only UTF-8, and thread names are any bytes. */
json_object *jstr(struct jb *b, const char *s);
json_object *jint(struct jb *b, int64_t v);
/* v, saturated at INT64_MAX. */
json_object *juint(struct jb *b, uint64_t v);
json_object *jbool(struct jb *b, bool v);
/* v written with at most `decimals` decimals (52.3, not 52.299999999999997);
 * NULL (JSON null) when not finite. */
json_object *jnum(struct jb *b, double v, int decimals);
json_object *jobj(struct jb *b);
json_object *jarr(struct jb *b);
/* An array of the strings of a NULL-terminated vector (v may be NULL). */
json_object *jstrv(struct jb *b, char *const *v);
/* o[key] = v (v may be NULL: JSON null). Takes v even when o is NULL. */
void jset(struct jb *b, json_object *o, const char *key, json_object *v);
/* Append v to a; takes v. A NULL v counts as a failure. */
void jpush(struct jb *b, json_object *a, json_object *v);
/* o, or NULL with errno ENOMEM (o freed) when anything failed. */
json_object *jdone(struct jb *b, json_object *o);

#endif
