/* Private to the policy module: what policy-validate.c (policy_load, the
 * semantics) takes from policy.c (names and values of a policy). The INI
 * reader they and hostconf.c use is conf (isolated/conf.h). */
#ifndef ISOLATED_POLICY_INTERNAL_H
#define ISOLATED_POLICY_INTERNAL_H

#include <stdbool.h>

#include "isolated/policy.h"

/* A mode name is a name, never a path: [A-Za-z0-9_-]+. */
bool policy_name_valid(const char *s);

#endif
