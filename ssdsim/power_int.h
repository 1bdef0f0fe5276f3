/*
 * power_int.h — the power model's hooks into the SSD model (ssdsim/ only).
 *
 * s->pw is NULL unless ssd.power.enable is set; every call site tests it,
 * so a drive without the power model runs exactly the code it ran before.
 *
 * Budget accounting.  Let P_s be the drive's static power inside the
 * converter (controller cores, DRAM background, NAND standby, PHY in L0,
 * idle electronics) and C = cap x pmic_eff.  D is the dynamic energy
 * committed so far: everything the drive's ledger entries hold plus the
 * link, DRAM and channel bytes of work already admitted but not charged
 * yet (priced the same way).  A flash operation of energy E may start at
 * time t only if D + E <= (C - P_s) t; a host command is fetched no earlier
 * than the t at which that holds for its own link/DRAM energy.  Since every
 * dynamic charge is committed at such a gate, at the end of a run at T,
 * E_drive <= (C - P_s) T + P_s T = C T inside, C T / pmic_eff = cap x T at
 * the connector.
 */
#ifndef ND_SSD_POWER_INT_H
#define ND_SSD_POWER_INT_H

#include "ssdsim/ssd_int.h"

/* Creates s->pw when s->p.pw.enable (after the ledger handles of ssd.c
 * exist); no-op otherwise. */
void power_create(ssd *s);
void power_destroy(ssd *s);
/* Statistics restart (after preconditioning). */
void power_reset(ssd *s);

/* Die di is about to start f (its next operation; NULL: none).  Returns 1
 * when f may start now (its budget is then taken), 0 when the budget holds
 * it: the die is remembered and kicked again when budget frees up. */
int power_may_start(ssd *s, uint32_t di, struct fop *f);
/* f has finished: releases its budget, kicks held dies. */
void power_op_end(ssd *s, struct fop *f);

/* A host command arrives now: charges its controller energy, wakes the
 * link; returns the extra delay (ns) before its fetch may start (PHY exit
 * latency, budget). */
uint64_t power_cmd_begin(ssd *s, struct ssd_req *r);
/* A host command completes. */
void power_cmd_end(ssd *s, struct ssd_req *r);

/* Sets the power model's static entries for a run that lasted t_ns. */
void power_account(ssd *s, uint64_t t_ns);

/* ---- flash.c: lets the budget restart a die it held. */
void flash_kick(ssd *s, uint32_t die);

#endif
