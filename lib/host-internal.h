/* Shared between the read side (host.c) and the write side (host-write.c) of
 * the host seam; not part of the engine's API. */
#ifndef ISOLATED_HOST_INTERNAL_H
#define ISOLATED_HOST_INTERNAL_H

#include "isolated/host.h"

/* Drop the faults set by host_set_faults (host_free does this). */
void host_faults_free(struct host *h);

#endif
