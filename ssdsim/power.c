/*
 * power.c — the drive's power model and power budget: controller dynamic
 * energy, PCIe PHY states, idle electronics, converter loss, and the NVMe
 * power state's cap enforced by a program/erase die limit and an energy
 * governor.  See power.h for the model and power_int.h for the bound.
 */
#include "ssdsim/power_int.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/report.h"
#include "core/util.h"

struct ssd_power {
	ssd *s;
	int state, throttle;
	double cap_w, eff;
	double p_static_w;            /* inside the converter, PHY in L0 */
	double head_w;                /* cap x eff - p_static_w */
	uint32_t max_prog, n_prog, peak_prog;
	double budget_ma, held_ma, peak_ma;   /* NAND array current (mA) */
	double i_read_ma, i_prog_ma, i_erase_ma;
	/* prices (J per action / byte) */
	double j_read, j_prog, j_erase, j_chan, j_ctrl, j_dram, j_link;
	/* ledger handles of the power model */
	int e_cmd, e_ctrl, e_phy_l0, e_phy_lp, e_idle, e_pmic;
	int dyn[8], ndyn;             /* the drive's dynamic entries */
	int all[16], nall;            /* every entry of the drive */
	/* admitted, not yet charged */
	uint64_t pend_link, pend_dram, pend_chan;
	/* dies the budget holds, FIFO */
	uint32_t *ring;
	uint8_t *held;
	uint64_t *t_held;             /* first hold, UINT64_MAX: not held */
	uint32_t r_head, r_n, n_dies;
	struct evq_event wake;
	/* PCIe PHY */
	uint64_t n_out;               /* host commands outstanding */
	uint64_t t_edge;              /* last busy <-> idle change */
	uint64_t l0_ns, lp_ns, wakeups;
	/* statistics */
	uint64_t held_ops, held_op_ns, held_cmds, held_cmd_ns;
	uint64_t t_acc;
};

int ssd_power_parse_states(const char *str, double *w, struct nd_err *err)
{
	int n = 0;
	const char *p = str;
	for (;;) {
		while (*p == ' ')
			p++;
		char *end;
		double v = strtod(p, &end);
		if (end == p || !isfinite(v) || v <= 0 || v > 1000)
			return nd_errf(err, -EINVAL,
				       "ssd.power.states_w: \"%s\": expected a comma-separated list of "
				       "powers in W, each in (0, 1000]", str);
		if (n == SSD_POWER_MAX_STATES)
			return nd_errf(err, -EINVAL, "ssd.power.states_w: \"%s\": more than %d states",
				       str, SSD_POWER_MAX_STATES);
		w[n++] = v;
		p = end;
		while (*p == ' ')
			p++;
		if (!*p)
			return n;
		if (*p != ',')
			return nd_errf(err, -EINVAL,
				       "ssd.power.states_w: \"%s\": expected a comma-separated list of "
				       "powers in W, each in (0, 1000]", str);
		p++;
	}
}

/* Raw line rate of the host link, bits/s per direction. */
static double line_bps(const struct ssd_params *p)
{
	if (p->iface == SSD_IF_SATA)
		return 6e9;
	return ssd_link_bytes_per_s(p) / p->link_eff * 8.0;
}

static double phy_l0_w(const struct ssd_params *p)
{
	return p->pw.phy_pj_bit * 1e-12 * line_bps(p) * 2.0;
}

static double static_w(const struct ssd_params *p)
{
	double n_dies = (double)p->channels * p->ways * p->dies;
	return p->ctrl_core_w * p->ctrl_cores + p->dram_static_w +
	       p->vcc * p->i_standby_ua * 1e-6 * n_dies + phy_l0_w(p) + p->pw.idle_w;
}

/* One die programming: every plane of a multi-plane program draws I_prog
 * (the ledger charges V x I x tPROG per page). */
static double prog_die_w(const struct ssd_params *p)
{
	return p->vcc * p->i_prog_ma * 1e-3 * (p->multiplane ? p->planes : 1);
}

int ssd_power_check(const void *vp, struct nd_err *err)
{
	const struct ssd_params *p = vp;
	if (!p->pw.enable)
		return 0;
	double caps[SSD_POWER_MAX_STATES];
	int n = ssd_power_parse_states(p->pw.states_w, caps, err);
	if (n < 0)
		return n;
	if (p->pw.state >= n)
		return nd_errf(err, -EINVAL,
			       "ssd.power.state: %d, but ssd.power.states_w lists %d state%s (PS0-PS%d)",
			       p->pw.state, n, n == 1 ? "" : "s", n - 1);
	double cap = caps[p->pw.state], in = cap * p->pw.pmic_eff, st = static_w(p);
	if (in <= st)
		return nd_errf(err, -EINVAL,
			       "ssd.power.state: PS%d allows %.4g W (%.4g W after the converter), not "
			       "above the drive's static power %.4g W (controller cores, DRAM, NAND "
			       "standby, PHY in L0, power.idle_w)", p->pw.state, cap, in, st);
	double pd = prog_die_w(p);
	if (p->pw.throttle && !p->pw.max_prog_dies && pd > 0 && (in - st) < pd)
		return nd_errf(err, -EINVAL,
			       "ssd.power.state: PS%d leaves %.4g W above static power, less than one "
			       "die programming (%.4g W); set ssd.power.max_prog_dies or choose "
			       "another state", p->pw.state, in - st, pd);
	return 0;
}

static double committed_j(const ssd *s)
{
	const struct ssd_power *w = s->pw;
	double d = 0;
	for (int i = 0; i < w->ndyn; i++)
		d += en_entry_j(&s->led->e[w->dyn[i]]);
	return d + (double)w->pend_link * w->j_link + (double)w->pend_dram * w->j_dram +
	       (double)w->pend_chan * w->j_chan;
}

/* Earliest time (ns) at which committed energy d fits the budget. */
static uint64_t t_fits(const struct ssd_power *w, double d)
{
	double t = ceil(d / w->head_w * 1e9);
	return t >= 1.8e19 ? UINT64_MAX / 2 : (uint64_t)t;
}

static void on_wake(evq *q, struct evq_event *ev);

void power_create(ssd *s)
{
	const struct ssd_params *p = &s->p;
	if (!p->pw.enable || !s->q)
		return;
	struct ssd_power *w = xcalloc(1, sizeof *w);
	s->pw = w;
	w->s = s;
	double caps[SSD_POWER_MAX_STATES];
	struct nd_err err;
	int n = ssd_power_parse_states(p->pw.states_w, caps, &err);
	ND_ASSERT(n > p->pw.state);   /* ssd_power_check() ran */
	w->state = p->pw.state;
	w->throttle = p->pw.throttle;
	w->cap_w = caps[p->pw.state];
	w->eff = p->pw.pmic_eff;
	w->p_static_w = static_w(p);
	w->head_w = w->cap_w * w->eff - w->p_static_w;
	ND_ASSERT(w->head_w > 0);
	w->n_dies = s->n_dies;
	if (p->pw.max_prog_dies)
		w->max_prog = (uint32_t)p->pw.max_prog_dies;
	else if (prog_die_w(p) > 0 && floor(w->head_w / prog_die_w(p)) < (double)s->n_dies)
		w->max_prog = (uint32_t)floor(w->head_w / prog_die_w(p));
	else
		w->max_prog = s->n_dies;
	if (w->max_prog > s->n_dies)
		w->max_prog = s->n_dies;
	if (w->max_prog < 1)
		w->max_prog = 1;
	/* The die limit is kept as a current budget: a program of all planes
	 * takes one die's share, an erase or a read only what it draws. */
	w->i_read_ma = p->i_read_ma;
	w->i_prog_ma = p->i_prog_ma;
	w->i_erase_ma = p->i_erase_ma;
	w->budget_ma = (double)w->max_prog * p->i_prog_ma * (p->multiplane ? p->planes : 1);

	struct energy_ledger *led = s->led;
	w->j_read = led->e[s->e_read].j_per_action;
	w->j_prog = led->e[s->e_prog].j_per_action;
	w->j_erase = led->e[s->e_erase].j_per_action;
	w->j_chan = led->e[s->e_chan].j_per_action;
	w->j_dram = led->e[s->e_dram].j_per_action;
	w->j_link = led->e[s->e_link].j_per_action;
	w->j_ctrl = p->pw.ctrl_pj_per_byte * 1e-12;
	w->e_cmd = en_action(led, "controller", "host_command", p->pw.ctrl_nj_per_cmd * 1e-9);
	w->e_ctrl = en_action(led, "controller", "datapath_byte", w->j_ctrl);
	w->e_phy_l0 = en_static(led, "static", "pcie_phy_l0", phy_l0_w(p));
	w->e_phy_lp = en_static(led, "static", "pcie_phy_low_power", p->pw.phy_lp_w);
	w->e_idle = en_static(led, "static", "drive_idle_electronics", p->pw.idle_w);
	w->e_pmic = en_action(led, "power_conversion", "loss_j", 1.0);
	int dyn[] = { s->e_read, s->e_prog, s->e_erase, s->e_chan, s->e_dram, s->e_link,
		      w->e_cmd, w->e_ctrl };
	memcpy(w->dyn, dyn, sizeof dyn);
	w->ndyn = (int)ND_ARRAY_LEN(dyn);
	int all[] = { s->e_read, s->e_prog, s->e_erase, s->e_chan, s->e_dram, s->e_link,
		      w->e_cmd, w->e_ctrl, s->e_st_nand, s->e_st_ctrl, s->e_st_dram,
		      w->e_phy_l0, w->e_phy_lp, w->e_idle, w->e_pmic };
	memcpy(w->all, all, sizeof all);
	w->nall = (int)ND_ARRAY_LEN(all);

	w->ring = xmalloc(s->n_dies * sizeof *w->ring);
	w->held = xcalloc(s->n_dies, 1);
	w->t_held = xmalloc(s->n_dies * sizeof *w->t_held);
	for (uint32_t i = 0; i < s->n_dies; i++)
		w->t_held[i] = UINT64_MAX;
}

void power_destroy(ssd *s)
{
	struct ssd_power *w = s->pw;
	if (!w)
		return;
	if (evq_pending(&w->wake))
		evq_cancel(s->q, &w->wake);
	free(w->ring);
	free(w->held);
	free(w->t_held);
	free(w);
	s->pw = NULL;
}

void power_reset(ssd *s)
{
	struct ssd_power *w = s->pw;
	if (!w)
		return;
	uint64_t now = evq_now(s->q);
	w->peak_prog = w->n_prog;
	w->peak_ma = w->held_ma;
	w->held_ops = w->held_op_ns = w->held_cmds = w->held_cmd_ns = 0;
	w->l0_ns = w->lp_ns = w->wakeups = 0;
	if (!w->n_out || now > w->t_edge)
		w->t_edge = now;
}

static void hold(ssd *s, uint32_t di, uint64_t now)
{
	struct ssd_power *w = s->pw;
	if (w->t_held[di] == UINT64_MAX)
		w->t_held[di] = now;
	if (w->held[di])
		return;
	w->held[di] = 1;
	w->ring[(w->r_head + w->r_n) % w->n_dies] = di;
	w->r_n++;
}

static void schedule_wake(ssd *s, uint64_t t)
{
	struct ssd_power *w = s->pw;
	uint64_t now = evq_now(s->q);
	if (t <= now)
		t = now + 1;
	if (evq_pending(&w->wake)) {
		if (w->wake.t_ns <= t)
			return;
		evq_cancel(s->q, &w->wake);
	}
	int rc = evq_schedule(s->q, &w->wake, t, on_wake);
	ND_ASSERT(rc == 0);
}

static void kick_held(ssd *s)
{
	struct ssd_power *w = s->pw;
	uint32_t n = w->r_n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t di = w->ring[w->r_head];
		w->r_head = (w->r_head + 1) % w->n_dies;
		w->r_n--;
		w->held[di] = 0;
		flash_kick(s, di);
	}
}

static void on_wake(evq *q, struct evq_event *ev)
{
	struct ssd_power *w = container_of(ev, struct ssd_power, wake);
	(void)q;
	kick_held(w->s);
}

/* NAND array current of an operation while it runs (mA). */
static double op_ma(const struct ssd_power *w, const struct fop *f)
{
	if (f->kind == OP_READ)
		return w->i_read_ma * f->npages;
	if (f->kind == OP_PROG)
		return w->i_prog_ma * f->npages;
	return w->i_erase_ma;
}

int power_may_start(ssd *s, uint32_t di, struct fop *f)
{
	struct ssd_power *w = s->pw;
	if (!f)
		return 1;
	uint64_t now = evq_now(s->q);
	int slot = f->kind != OP_READ;
	double ma = op_ma(w, f);
	if (w->throttle) {
		/* An operation drawing more than the whole budget runs alone. */
		if (w->held_ma > 0 && w->held_ma + ma > w->budget_ma * (1 + 1e-12)) {
			hold(s, di, now);
			return 0;
		}
		double e;
		if (f->kind == OP_READ)
			e = f->npages * w->j_read;
		else if (f->kind == OP_PROG)
			e = f->npages * w->j_prog;
		else
			e = w->j_erase;
		e += (double)f->xfer_bytes * (w->j_chan + w->j_ctrl);
		uint64_t t_ok = t_fits(w, committed_j(s) + e);
		if (t_ok > now) {
			hold(s, di, now);
			schedule_wake(s, t_ok);
			return 0;
		}
	}
	if (w->t_held[di] != UINT64_MAX) {
		w->held_ops++;
		w->held_op_ns += now - w->t_held[di];
		w->t_held[di] = UINT64_MAX;
	}
	if (slot && ++w->n_prog > w->peak_prog)
		w->peak_prog = w->n_prog;
	w->held_ma += ma;
	if (w->held_ma > w->peak_ma)
		w->peak_ma = w->held_ma;
	en_add_units(s->led, w->e_ctrl, (double)f->xfer_bytes);
	if (f->kind == OP_READ)
		w->pend_chan += f->xfer_bytes;   /* charged when the page is read out */
	return 1;
}

void power_op_end(ssd *s, struct fop *f)
{
	struct ssd_power *w = s->pw;
	if (f->kind == OP_READ) {
		ND_ASSERT(w->pend_chan >= f->xfer_bytes);
		w->pend_chan -= f->xfer_bytes;
	} else {
		ND_ASSERT(w->n_prog > 0);
		w->n_prog--;
	}
	w->held_ma -= op_ma(w, f);
	if (w->held_ma < 1e-9)
		w->held_ma = 0;
	if (w->r_n)
		kick_held(s);
}

/* DRAM bytes a host command will charge: its map units through the
 * buffer, and for reads the data passing through on its way out. */
static uint64_t cmd_dram_bytes(const ssd *s, const struct ssd_req *r)
{
	uint64_t ub = (uint64_t)s->p.map_unit_bytes;
	uint64_t units = (r->off_bytes + r->len_bytes - 1) / ub - r->off_bytes / ub + 1;
	return units * ub + (r->is_write ? 0 : r->len_bytes);
}

uint64_t power_cmd_begin(ssd *s, struct ssd_req *r)
{
	struct ssd_power *w = s->pw;
	const struct ssd_power_params *pp = &s->p.pw;
	uint64_t now = evq_now(s->q), extra = 0;
	if (w->n_out == 0) {
		uint64_t gap = now - w->t_edge;
		if (gap > pp->phy_lp_entry_ns) {
			w->l0_ns += pp->phy_lp_entry_ns;
			w->lp_ns += gap - pp->phy_lp_entry_ns;
			w->wakeups++;
			extra = pp->phy_lp_exit_ns;
		} else {
			w->l0_ns += gap;
		}
		w->t_edge = now;
	}
	w->n_out++;
	en_add(s->led, w->e_cmd, 1);
	w->pend_link += r->len_bytes;
	w->pend_dram += cmd_dram_bytes(s, r);
	if (w->throttle) {
		uint64_t t_ok = t_fits(w, committed_j(s));
		if (t_ok > now + extra) {
			w->held_cmds++;
			w->held_cmd_ns += t_ok - now - extra;
			extra = t_ok - now;
		}
	}
	return extra;
}

void power_cmd_end(ssd *s, struct ssd_req *r)
{
	struct ssd_power *w = s->pw;
	uint64_t dram = cmd_dram_bytes(s, r);
	ND_ASSERT(w->n_out > 0 && w->pend_link >= r->len_bytes && w->pend_dram >= dram);
	w->pend_link -= r->len_bytes;
	w->pend_dram -= dram;
	if (--w->n_out == 0) {
		uint64_t now = evq_now(s->q);
		w->l0_ns += now - w->t_edge;
		w->t_edge = now;
	}
}

void power_account(ssd *s, uint64_t t_ns)
{
	struct ssd_power *w = s->pw;
	if (!w)
		return;
	uint64_t l0 = w->l0_ns, lp = w->lp_ns;
	uint64_t tail = t_ns > w->t_edge ? t_ns - w->t_edge : 0;
	uint64_t entry = s->p.pw.phy_lp_entry_ns;
	if (w->n_out || tail <= entry) {
		l0 += tail;
	} else {
		l0 += entry;
		lp += tail - entry;
	}
	en_set_time(s->led, w->e_phy_l0, l0);
	en_set_time(s->led, w->e_phy_lp, lp);
	en_set_time(s->led, w->e_idle, t_ns);
	double in = 0;
	for (int i = 0; i < w->nall; i++)
		if (w->all[i] != w->e_pmic)
			in += en_entry_j(&s->led->e[w->all[i]]);
	s->led->e[w->e_pmic].units = in * (1.0 / w->eff - 1.0);
	w->t_acc = t_ns;
}

void ssd_power_get(const ssd *s, struct ssd_power_report *r)
{
	memset(r, 0, sizeof *r);
	const struct ssd_power *w = s->pw;
	if (!w)
		return;
	r->enabled = 1;
	r->state = w->state;
	r->cap_w = w->cap_w;
	r->throttle = w->throttle;
	for (int i = 0; i < w->nall; i++)
		r->energy_j += en_entry_j(&s->led->e[w->all[i]]);
	r->t_ns = w->t_acc;
	r->avg_w = w->t_acc ? r->energy_j / ((double)w->t_acc * 1e-9) : 0;
	r->max_prog_dies = w->max_prog;
	r->peak_prog_dies = w->peak_prog;
	r->budget_ma = w->budget_ma;
	r->peak_ma = w->peak_ma;
	r->held_ops = w->held_ops;
	r->held_op_ns = w->held_op_ns;
	r->held_cmds = w->held_cmds;
	r->held_cmd_ns = w->held_cmd_ns;
	r->phy_l0_ns = (uint64_t)s->led->e[w->e_phy_l0].count;
	r->phy_lp_ns = (uint64_t)s->led->e[w->e_phy_lp].count;
	r->phy_wakeups = w->wakeups;
}

cJSON *ssd_power_json(const struct ssd_power_report *r)
{
	cJSON *o = cJSON_CreateObject();
	rep_add_u64(o, "state", (uint64_t)r->state);
	rep_add_dbl(o, "cap_w", r->cap_w);
	rep_add_dbl(o, "avg_w", r->avg_w);
	rep_add_dbl(o, "energy_j", r->energy_j);
	rep_add_u64(o, "time_ns", r->t_ns);
	cJSON_AddBoolToObject(o, "throttle", r->throttle);
	rep_add_u64(o, "max_prog_dies", r->max_prog_dies);
	rep_add_u64(o, "peak_prog_dies", r->peak_prog_dies);
	rep_add_dbl(o, "array_budget_ma", r->budget_ma);
	rep_add_dbl(o, "array_peak_ma", r->peak_ma);
	rep_add_u64(o, "held_flash_ops", r->held_ops);
	rep_add_u64(o, "held_flash_op_ns", r->held_op_ns);
	rep_add_u64(o, "held_host_cmds", r->held_cmds);
	rep_add_u64(o, "held_host_cmd_ns", r->held_cmd_ns);
	rep_add_u64(o, "phy_l0_ns", r->phy_l0_ns);
	rep_add_u64(o, "phy_low_power_ns", r->phy_lp_ns);
	rep_add_u64(o, "phy_wakeups", r->phy_wakeups);
	return o;
}
