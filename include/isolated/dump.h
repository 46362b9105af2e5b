/* isoctl snapshot DIR: a host copied into a new tree, file by file. */
#ifndef ISOLATED_DUMP_H
#define ISOLATED_DUMP_H

#include <stddef.h>

#include "isolated/host.h"

/* Copy the files host_snapshot reads from h into dir (created if missing,
 * must be empty), so that host_open(dir) gives the same host_state. */
int host_dump(const struct host *h, const char *dir, char *err, size_t errlen);

#endif
