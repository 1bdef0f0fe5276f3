/*
 * registry.h — every config section of ndpsim, for commands that need the
 * whole configuration (config --dump, sweeps).
 */
#ifndef ND_REGISTRY_H
#define ND_REGISTRY_H
#include "core/cfg.h"
/* Fills b with every section, each with freshly allocated params (free with
 * cli_bundle_free). */
void cli_bundle_all(struct cfg_bundle *b);
void cli_bundle_free(struct cfg_bundle *b);
#endif
