/*
 * power.h — the drive's power model and power budget (the "ssd.power.*"
 * keys), public because its parameters live inside struct ssd_params.
 *
 * With power.enable the drive charges, on top of the NAND array, channel,
 * DRAM and link energy it always charges:
 *   - controller dynamic energy per host command and per byte through the
 *     controller datapath (ECC, scrambler, DMA: every flash channel byte);
 *   - the PCIe PHY: line-rate power while the link is in L0, a low-power
 *     (L1.2-style) draw once the drive has had no host command for
 *     phy_lp_entry_ns, and an exit latency on the command that wakes it;
 *   - drive electronics not modelled elsewhere (idle_w) and the power
 *     converter's loss (pmic_eff);
 * and it enforces the cap of NVMe power state `state` (states_w lists the
 * operational states' maximum power, PS0 first) the way drive firmware
 * does: the NAND arrays may draw at once only the current of max_prog_dies
 * dies programming all their planes (derived from the cap when 0; an erase
 * or a read takes only the current it draws), and an energy governor holds
 * back flash operations and host commands until the energy drawn since
 * power-on fits under cap x time.  So the drive's average power over any run, measured from
 * time 0 at its connector, stays at or below the cap.  All powers in W,
 * energies in J unless a key's unit says otherwise, times in ns.
 */
#ifndef ND_SSD_POWER_H
#define ND_SSD_POWER_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"

#define SSD_POWER_MAX_STATES 8

struct ssd_power_params {
	int enable;
	int state;                    /* index into states_w */
	char states_w[CFG_STR_MAX];   /* "8.49,4.48,3.18": operational caps, W */
	int throttle;                 /* enforce the cap (0: report only) */
	int max_prog_dies;            /* 0: derived from the cap */
	double ctrl_nj_per_cmd;
	double ctrl_pj_per_byte;
	double phy_pj_bit;
	double phy_lp_w;
	uint64_t phy_lp_entry_ns;
	uint64_t phy_lp_exit_ns;
	double idle_w;
	double pmic_eff;
};

/* What a run drew, for the report (filled by ssd_power_get()). */
struct ssd_power_report {
	int enabled;
	int state;
	double cap_w;                 /* cap of the power state */
	double avg_w;                 /* drive energy at the connector / time */
	double energy_j;
	uint64_t t_ns;
	int throttle;
	uint32_t max_prog_dies;       /* limit in force */
	uint32_t peak_prog_dies;      /* most dies programming/erasing at once */
	double budget_ma;             /* NAND array current budget */
	double peak_ma;               /* most array current drawn at once */
	uint64_t held_ops;            /* flash operations the budget delayed */
	uint64_t held_op_ns;          /* their summed delay */
	uint64_t held_cmds;           /* host commands the budget delayed */
	uint64_t held_cmd_ns;
	uint64_t phy_l0_ns, phy_lp_ns;/* time in each PHY state */
	uint64_t phy_wakeups;
};

/* Parses a comma-separated list of power-state caps ("8.49,4.48,3.18")
 * into w[] (at most SSD_POWER_MAX_STATES, each > 0).  Returns the count or
 * -EINVAL with err naming ssd.power.states_w. */
int ssd_power_parse_states(const char *s, double *w, struct nd_err *err);

/* Cross-key check of the power keys (called from the ssd section's
 * check).  p is a const struct ssd_params *. */
int ssd_power_check(const void *p, struct nd_err *err);

struct ssd;
/* The run's power figures; call after ssd_account_static(). */
void ssd_power_get(const struct ssd *s, struct ssd_power_report *r);
struct cJSON;
struct cJSON *ssd_power_json(const struct ssd_power_report *r);

/* The key rows of the "ssd" section for the power model (spliced into the
 * section's table in params.c, where CFG_T is struct ssd_params). */
#define SSD_POWER_KEYS \
	CFG_KEY_BOOL("power.enable", pw.enable, 0, \
	  "model controller dynamic, PCIe PHY state and idle power, and enforce the NVMe power state's cap (off: the drive charges NAND, channel, DRAM, link and static power only, as before)"), \
	CFG_KEY_INT("power.state", pw.state, "-", 0, 0, SSD_POWER_MAX_STATES - 1, \
	  "NVMe operational power state the host selected (Set Features, Power Management): index into power.states_w"), \
	CFG_KEY_STR("power.states_w", pw.states_w, "W", "8.49,4.48,3.18", \
	  "maximum power of each operational power state, PS0 first (Samsung 980 PRO: PS0 8.49, PS1 4.48, PS2 3.18 W; AnandTech 980 PRO review, power management page)"), \
	CFG_KEY_BOOL("power.throttle", pw.throttle, 1, \
	  "enforce the cap (die limit + energy governor); false: only report the power drawn"), \
	CFG_KEY_INT("power.max_prog_dies", pw.max_prog_dies, "dies", 0, 0, 65536, \
	  "NAND array current budget, in dies programming all planes at once (an erase or read takes the current it draws); 0 derives it: (cap x pmic_eff - static power) / one die's program power (V x I_prog x planes)"), \
	CFG_KEY_DBL("power.ctrl_nj_per_cmd", pw.ctrl_nj_per_cmd, "nJ", 200, 0, 1e6, \
	  "controller dynamic energy per host command (assumption: ctrl.cycles_per_cmd 800 x ~0.25 nJ/cycle of a Cortex-R5-class core at ~0.1 W, 400 MHz, energy.md)"), \
	CFG_KEY_DBL("power.ctrl_pj_per_byte", pw.ctrl_pj_per_byte, "pJ/byte", 20, 0, 1e5, \
	  "controller datapath energy per flash channel byte: ECC, scrambler, DMA (assumption: ~4 on-chip SRAM buffer passes at ~2.5 pJ/byte (Horowitz 45 nm, energy.md) + ~10 pJ/byte LDPC)"), \
	CFG_KEY_DBL("power.phy_pj_bit", pw.phy_pj_bit, "pJ/bit", 5, 0, 1e3, \
	  "PCIe PHY energy per bit of raw line rate, both directions, drawn whenever the link is in L0 (energy.md: ~5 pJ/bit PHY); link.pj_bit then keeps the per-byte share above the PHY"), \
	CFG_KEY_DBL("power.phy_lp_w", pw.phy_lp_w, "W", 0.002, 0, 10, \
	  "PCIe PHY draw in its low-power link state (L1.2-style; assumption: below the whole 980 PRO's 5 mW in PS4, AnandTech)"), \
	CFG_KEY_U64("power.phy_lp_entry_ns", pw.phy_lp_entry_ns, "ns", 100000, 0, 1e12, \
	  "idle time (no host command outstanding) before the link enters its low-power state (assumption: ASPM L1 entry timers of ~10-100 us)"), \
	CFG_KEY_U64("power.phy_lp_exit_ns", pw.phy_lp_exit_ns, "ns", 20000, 0, 1e10, \
	  "latency the low-power link state adds to the command that wakes it (assumption: L1.2 exit, PLL relock ~10-70 us)"), \
	CFG_KEY_DBL("power.idle_w", pw.idle_w, "W", 0.3, 0, 100, \
	  "drive electronics not modelled elsewhere (clocks, SRAM, sensors, NAND interface PHYs idle) while in an operational state (assumption: active-idle client NVMe drives draw ~0.3-1 W in total)"), \
	CFG_KEY_DBL("power.pmic_eff", pw.pmic_eff, "fraction", 0.88, 0.3, 1, \
	  "efficiency of the drive's power converters from the 3.3 V connector rail (assumption: multi-rail buck PMIC, 85-92 % at load)")

#endif
