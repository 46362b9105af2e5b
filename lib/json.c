/* The JSON builder (json.h): json-c calls that remember an allocation
 * failure, so a document is whole or not at all. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolated/json.h"
#include "isolated/util.h"

json_object *jb_check(struct jb *b, json_object *o)
{
	if (!o)
		b->oom = true;
	return o;
}

json_object *jstr(struct jb *b, const char *s)
{
	const char *p;
	json_object *o;
	char *fixed;
	size_t n;

	if (!s)
		return NULL;
	for (p = s; *p; p += n)
		if (!(n = util_utf8_seq(p)))
			break;
	if (!*p)
		return jb_check(b, json_object_new_string(s));
	fixed = strdup(s);
	if (!fixed)
		return jb_check(b, NULL);
	for (char *q = fixed; *q; q += n)
		if (!(n = util_utf8_seq(q))) {
			*q = '?';
			n = 1;
		}
	o = jb_check(b, json_object_new_string(fixed));
	free(fixed);
	return o;
}

json_object *jint(struct jb *b, int64_t v)
{
	return jb_check(b, json_object_new_int64(v));
}

json_object *juint(struct jb *b, uint64_t v)
{
	return jb_check(b, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

json_object *jbool(struct jb *b, bool v)
{
	return jb_check(b, json_object_new_boolean(v));
}

json_object *jnum(struct jb *b, double v, int decimals)
{
	char buf[64], *dot;

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	dot = strchr(buf, '.');
	if (dot) {
		char *e = buf + strlen(buf) - 1;

		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
	return jb_check(b, json_object_new_double_s(strtod(buf, NULL), buf));
}

json_object *jobj(struct jb *b)
{
	return jb_check(b, json_object_new_object());
}

json_object *jarr(struct jb *b)
{
	return jb_check(b, json_object_new_array());
}

json_object *jstrv(struct jb *b, char *const *v)
{
	json_object *a = jarr(b);

	for (size_t i = 0; v && v[i]; i++)
		jpush(b, a, jstr(b, v[i]));
	return a;
}

void jset(struct jb *b, json_object *o, const char *key, json_object *v)
{
	if (!o || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

void jpush(struct jb *b, json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

json_object *jdone(struct jb *b, json_object *o)
{
	if (b->oom) {
		json_object_put(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}
