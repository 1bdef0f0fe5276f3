/*
 * cmd_sweep.c — `ndpsim sweep`: what-if sweeps over any config keys.
 *
 * The parent validates the whole grid (cli/sweep.h) before any point runs,
 * then runs each point by calling the subcommand's own function in a forked
 * child (`-j N` at a time), exactly as `ndpsim <command> --config BASE --set
 * ... --out DIR/points/<hash> --quiet` would.  Fork isolates a crashing point
 * and any state a subcommand keeps.  Only the parent writes results.jsonl:
 * one write() of one complete line on an O_APPEND descriptor, then fsync, so
 * a SIGKILL at any moment leaves every finished point in the file once and
 * at most one partial last line, which the next run truncates away.  An
 * exclusive flock() on results.jsonl keeps two sweeps out of one directory.
 *
 * Built with `make MPI=1` (-DNDPSIM_MPI), rank 0 decides which points are
 * still to run and broadcasts the list; rank r runs the points at positions
 * r, r + size, ... of it (with its own fork workers) and sends each result
 * line to rank 0 with MPI_Send; rank 0 checks the line's hash and is the only
 * writer.  With one rank the MPI build behaves as the local one.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef NDPSIM_MPI
#include <mpi.h>
#endif

#include "cli/cli.h"
#include "cli/cmds.h"
#include "cli/sweep.h"
#include "core/file.h"
#include "core/outdir.h"
#include "core/report.h"
#include "core/util.h"

static const char help[] =
	"usage: ndpsim sweep --grid GRID.json [--config BASE] [--set KEY=VALUE]... [--seed N]\n"
	"                    [--out DIR] [-j N] [--list] [--quiet]\n"
	"Runs every point of a grid of config values through one subcommand (the grid's\n"
	"\"command\": %s) and collects the results.  A grid is JSON:\n"
	"  {\"command\": \"ssd\", \"set\": {\"workload.count\": 50000},\n"
	"   \"grid\": {\"ssd.channels\": [4, 8, 16],\n"
	"            \"ssd.channel.rate_mts\": {\"from\": 400, \"to\": 1200, \"step\": 400}},\n"
	"   \"zip\": [{\"ssd.nand.t_read_ns\": [50000, 75000], \"ssd.nand.t_prog_ns\": [600000, 1200000]}]}\n"
	"\"grid\" keys form a cartesian product (a list of values, or a range with \"step\" or\n"
	"\"times\"); the keys of one \"zip\" object move together; \"set\" is fixed; \"args\" adds\n"
	"options (e.g. [\"--model\", \"m.bnn\"]).  Every key, value and point is checked before\n"
	"anything runs.  Each finished point is appended to DIR/results.jsonl (hash of the\n"
	"resolved config, the point, the config, the metrics) and its files are kept in\n"
	"DIR/points/<hash>/; DIR/summary.csv has one row per point.  Running the same sweep\n"
	"again skips the points already in results.jsonl (also after a kill).\n"
	"  --grid FILE      the grid (examples in configs/sweeps/)\n"
	"  --config FILE    base config of every point (before \"set\" and the grid)\n"
	"  --set KEY=VALUE  fixed override of every point (repeatable)\n"
	"  --seed N         seed of every point (same as --set seed=N; sweep \"seed\" in a grid\n"
	"                   for repetitions)\n"
	"  --out DIR        sweep directory (default results/sweep-<grid name>)\n"
	"  -j N             points run at once on this machine (default: online CPUs)\n"
	"  --list           check the grid and list its points (hash, done/pending); run nothing\n"
	"  --quiet          no progress on stderr, no summary on stdout\n"
	"Under MPI (built with 'make MPI=1'): mpirun -n N ndpsim sweep ... spreads the points\n"
	"over the ranks (each with -j workers); rank 0 writes the results.  This build: %s.\n"
	"Then: ndpsim plot DIR --x KEY --y METRIC [--series KEY].\n";

#ifdef NDPSIM_MPI
#define SWEEP_MPI_BUILT "MPI yes"
#else
#define SWEEP_MPI_BUILT "MPI no"
#endif

/* ------------------------------------------------------------------ */
/* MPI, or its one-rank stand-in                                       */

enum { TAG_RESULT = 1, TAG_FAIL = 2, TAG_DONE = 3 };

static int mp_rank, mp_size = 1;

#ifdef NDPSIM_MPI
static int mp_on;

/* Started by a launcher (mpirun / mpiexec / srun)?  Without one the MPI
 * build skips MPI_Init (an OpenMPI singleton start costs ~0.5 s) and runs
 * exactly as the local build. */
static int mp_launched(void)
{
	static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
	for (size_t i = 0; i < ND_ARRAY_LEN(vars); i++)
		if (getenv(vars[i]))
			return 1;
	return 0;
}
#endif

static void mp_init(void)
{
#ifdef NDPSIM_MPI
	if (!mp_launched())
		return;
	int up = 0;
	MPI_Initialized(&up);
	if (!up)
		MPI_Init(NULL, NULL);
	mp_on = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &mp_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &mp_size);
#endif
}

static void mp_fini(void)
{
#ifdef NDPSIM_MPI
	if (mp_on)
		MPI_Finalize();
#endif
}

/* The largest v over all ranks (a collective: every rank must call it). */
static int mp_max(int v)
{
#ifdef NDPSIM_MPI
	if (!mp_on)
		return v;
	int out = v;
	MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return out;
#else
	return v;
#endif
}

/* Rank 0's rc and list of point indices to every rank. */
static int mp_bcast_list(int rc, long **list, long *n)
{
#ifdef NDPSIM_MPI
	if (!mp_on)
		return rc;
	long hdr[2] = { rc, *n };
	MPI_Bcast(hdr, 2, MPI_LONG, 0, MPI_COMM_WORLD);
	rc = (int)hdr[0];
	if (rc)
		return rc;
	if (mp_rank) {
		*n = hdr[1];
		*list = xcalloc((size_t)*n + 1, sizeof **list);
	}
	if (*n)
		MPI_Bcast(*list, (int)*n, MPI_LONG, 0, MPI_COMM_WORLD);
#else
	(void)list;
	(void)n;
#endif
	return rc;
}

/* Sends "<index>\n<text>" to rank 0. */
static void mp_send(int tag, size_t idx, const char *text)
{
#ifdef NDPSIM_MPI
	size_t n = strlen(text) + 32;
	char *buf = xmalloc(n);
	int len = snprintf(buf, n, "%zu\n%s", idx, text);
	MPI_Send(buf, len + 1, MPI_CHAR, 0, tag, MPI_COMM_WORLD);
	free(buf);
#else
	(void)tag;
	(void)idx;
	(void)text;
#endif
}

/* Rank 0: takes one waiting message if there is one (returns 1; *text is
 * malloc'ed) or returns 0. */
static int mp_poll(int *tag, int *src, size_t *idx, char **text)
{
#ifdef NDPSIM_MPI
	int flag = 0;
	MPI_Status st;
	MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
	if (!flag)
		return 0;
	int count = 0;
	MPI_Get_count(&st, MPI_CHAR, &count);
	char *buf = xmalloc((size_t)count + 1);
	MPI_Recv(buf, count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	buf[count] = '\0';
	*tag = st.MPI_TAG;
	*src = st.MPI_SOURCE;
	char *nl = strchr(buf, '\n');
	*idx = (size_t)strtoull(buf, NULL, 10);
	*text = xstrdup(nl ? nl + 1 : "");
	free(buf);
	return 1;
#else
	(void)tag;
	(void)src;
	(void)idx;
	(void)text;
	return 0;
#endif
}

/* ------------------------------------------------------------------ */

struct slot {
	pid_t pid;
	size_t point;
	double t0;
};

struct sw {
	struct cli_common c;
	const char *grid_path;
	const char *sets[CLI_MAX_SETS + 1];   /* --set ... and seed=N, in order */
	int nsets;
	char out[4096];
	int jobs;
	int list;
	struct sweep_grid g;
	int res_fd;                 /* rank 0: DIR/results.jsonl, O_APPEND, flock'ed */
	int lock_fd;                /* rank 0: DIR.lock (rep_out_lock), -1 if not held */
	int extra_fd;               /* the calling command's lock, closed in workers, or -1 */
	char res_path[4200];
	off_t res_len;              /* bytes of complete lines in results.jsonl */
	size_t total, done_before, finished, failed;
	int stop;                   /* results.jsonl cannot be written, or points do not run
				       the config they were given: start nothing more */
	struct nd_err err;
};

static int say(const struct nd_err *e)
{
	if (mp_rank == 0)
		return cli_error(e);
	return nd_err_exit_code(e);
}

static void point_dir(const struct sw *s, size_t i, char *buf, size_t n)
{
	char hex[17];
	sweep_hash_hex(s->g.pts[i].hash, hex);
	snprintf(buf, n, "%s/points/%s", s->out, hex);
}

/* Rank 0: appends one complete line with a single write, then fsync. */
static int append_line(struct sw *s, const char *line)
{
	size_t len = strlen(line);
	ssize_t w;
	do
		w = write(s->res_fd, line, len);
	while (w < 0 && errno == EINTR);
	if (w != (ssize_t)len) {
		int e = w < 0 ? errno : ENOSPC;
		/* take a short write back out, so the file still ends in a full line */
		const char *undo = ftruncate(s->res_fd, s->res_len)
			? " (the partial line stays; the next run drops it)" : "";
		return nd_errf(&s->err, -e, "%s: write: %s%s", s->res_path, strerror(e), undo);
	}
	if (fsync(s->res_fd) && errno != EINVAL)
		return nd_errf(&s->err, -errno, "%s: fsync: %s", s->res_path, strerror(errno));
	s->res_len += (off_t)len;
	return 0;
}

/* Rank 0: a result line for point i, from this rank (secs >= 0) or another. */
static void took_result(struct sw *s, size_t i, const char *line, double secs, int src)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *h = j ? cJSON_GetObjectItemCaseSensitive(j, "hash") : NULL;
	uint64_t hv = 0;
	int ok = i < s->g.npoints && cJSON_IsString(h) && !sweep_hash_parse(h->valuestring, &hv) &&
		 hv == s->g.pts[i].hash;
	cJSON_Delete(j);
	s->finished++;
	if (!ok) {
		s->failed++;
		fprintf(stderr, "ndpsim: sweep: point %zu from rank %d: result line does not match the point (different grid or base config on that rank?)\n",
			i, src);
		return;
	}
	if (s->stop) {
		s->failed++;   /* not recorded: the next run redoes it */
		return;
	}
	if (append_line(s, line)) {
		s->failed++;
		s->stop = 1;
		cli_error(&s->err);
		return;
	}
	if (!s->c.quiet) {
		if (secs >= 0)
			fprintf(stderr, "sweep: [%zu/%zu] %s  (%.1f s)\n", s->finished, s->total,
				sweep_point_label(&s->g, i), secs);
		else
			fprintf(stderr, "sweep: [%zu/%zu] %s  (rank %d)\n", s->finished, s->total,
				sweep_point_label(&s->g, i), src);
	}
}

static void took_failure(struct sw *s, size_t i, const char *msg, int src)
{
	s->finished++;
	s->failed++;
	if (i < s->g.npoints)
		fprintf(stderr, "ndpsim: sweep: point %zu (%s)%s%.0d failed: %s\n", i,
			sweep_point_label(&s->g, i), src ? " on rank " : "", src, msg);
}

/* The last non-empty line of a point's log.txt, for failure messages. */
static void log_tail(const char *dir, char *buf, size_t n)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/log.txt", dir);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f) {
		/* a point killed before its log was moved into place */
		snprintf(path, sizeof path, "%s.log", dir);
		f = fopen(path, "r");
	}
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		size_t l = strlen(line);
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (l)
			snprintf(buf, n, "%s", line);
	}
	fclose(f);
}

/* A point's child ended: build its line from its report.json. */
static void point_ended(struct sw *s, size_t i, int status, double secs)
{
	char dir[4200], msg[9000];
	point_dir(s, i, dir, sizeof dir);
	char *line = NULL;
	int fatal = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		char path[4300];
		snprintf(path, sizeof path, "%s/report.json", dir);
		char *text = NULL;
		if (nd_read_file(path, (size_t)1 << 30, &text, NULL, NULL))
			text = NULL;
		cJSON *rep = text ? cJSON_Parse(text) : NULL;
		free(text);
		struct nd_err e = { 0 };
		if (!rep) {
			snprintf(msg, sizeof msg, "%s: missing or not JSON", path);
		} else if (!(line = sweep_result_line(&s->g, i, rep, &e))) {
			snprintf(msg, sizeof msg, "%s/%s", dir, e.msg);
			fatal = e.code == -EBADMSG;   /* every point would fail the same way */
		}
		cJSON_Delete(rep);
	} else {
		char tail[1024];
		log_tail(dir, tail, sizeof tail);
		if (WIFEXITED(status))
			snprintf(msg, sizeof msg, "exit %d: %s (log: %s/log.txt)", WEXITSTATUS(status),
				 tail[0] ? tail : "no message", dir);
		else
			snprintf(msg, sizeof msg, "killed by signal %d (log: %s/log.txt)",
				 WIFSIGNALED(status) ? WTERMSIG(status) : 0, dir);
	}
	if (mp_rank == 0) {
		if (line)
			took_result(s, i, line, secs, 0);
		else
			took_failure(s, i, msg, 0);
	} else {
		mp_send(line ? TAG_RESULT : TAG_FAIL, i, line ? line : msg);
	}
	if (fatal && !s->stop) {
		s->stop = 1;
		if (mp_rank == 0)
			fprintf(stderr, "ndpsim: sweep: stopping: the points do not run the config they were given\n");
	}
	free(line);
}

/* In the forked child: run point i through the subcommand, as a single run
 * would, with stdout and stderr in DIR/points/<hash>/log.txt. */
static void point_child(struct sw *s, size_t i, int threads, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a killed sweep leaves no orphans */
	if (getppid() != parent)
		_exit(111);
	if (s->res_fd >= 0)
		close(s->res_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->extra_fd >= 0)
		close(s->extra_fd);
	char dir[4200], path[4300];
	point_dir(s, i, dir, sizeof dir);
	struct nd_err e = { 0 };
	if (rep_mkdir_p(dir, &e)) {
		fprintf(stderr, "ndpsim: %s\n", e.msg);
		_exit(1);
	}
	/* This sweep holds DIR's lock, so whoever still holds the point's own
	 * lock is a worker of a killed sweep that has not finished dying (its
	 * SIGKILL is delivered, its files not yet closed): wait for it (up to
	 * 5 s) instead of failing the point with "another ndpsim run". */
	snprintf(path, sizeof path, "%s.lock", dir);
	int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	for (int t = 0; lfd >= 0 && t < 500 && flock(lfd, LOCK_EX | LOCK_NB); t++) {
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	if (lfd >= 0)
		close(lfd);   /* the command takes it again */
	snprintf(path, sizeof path, "%s/report.json", dir);
	unlink(path);   /* never take a stale report for this run's */
	/* The log is written beside the point's directory and moved into it
	 * when the command returns: commands replace their --out directory as
	 * a whole (core/outdir.h), which would take a log inside it along. */
	char logp[4300];
	snprintf(logp, sizeof logp, "%s.log", dir);
	int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
#ifdef _OPENMP
	omp_set_num_threads(threads);   /* the point's own run.threads still wins */
#else
	(void)threads;
#endif
	rep_set_plots(0);   /* per-point figures cost a gnuplot run each; plot the sweep instead */
	int argc;
	char **argv = sweep_point_argv(&s->g, i, s->c.config_path, dir, &argc);
	int rc = s->g.cmd->fn(argc, argv);
	fflush(NULL);
	snprintf(path, sizeof path, "%s/log.txt", dir);
	if (rep_mkdir_p(dir, &e) == 0)
		rename(logp, path);
	_exit(rc & 0xff);
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Runs this rank's points (mine[0..n)) with up to s->jobs children; rank 0
 * also takes the lines of the other ranks until all of them are done. */
static void run_points(struct sw *s, const long *mine, size_t n)
{
	int jobs = s->jobs > 0 ? s->jobs : online_cpus();
	struct slot *slots = xcalloc((size_t)jobs, sizeof *slots);
	int running = 0, peers = mp_rank == 0 ? mp_size - 1 : 0;
	int workers = (int)((size_t)jobs < n ? (size_t)jobs : n);
	int threads = workers > 0 ? online_cpus() / workers : 1;
	if (threads < 1)
		threads = 1;
	size_t next = 0;
	pid_t me = getpid();
	while ((next < n && !s->stop) || running || peers) {
		while (running < jobs && next < n && !s->stop) {
			int k = 0;
			while (slots[k].pid)
				k++;
			size_t i = (size_t)mine[next++];
			fflush(NULL);
			pid_t pid = fork();
			if (pid < 0) {
				fprintf(stderr, "ndpsim: sweep: fork: %s\n", strerror(errno));
				s->stop = 1;
				break;
			}
			if (pid == 0)
				point_child(s, i, threads, me);
			slots[k] = (struct slot){ pid, i, nd_wall_s() };
			running++;
		}
		int progressed = 0;
		if (running) {
			int st;
			pid_t pid = waitpid(-1, &st, peers ? WNOHANG : 0);
			if (pid > 0) {
				for (int k = 0; k < jobs; k++)
					if (slots[k].pid == pid) {
						slots[k].pid = 0;
						running--;
						point_ended(s, slots[k].point, st, nd_wall_s() - slots[k].t0);
						break;
					}
				progressed = 1;
			} else if (pid < 0 && errno != EINTR) {
				fprintf(stderr, "ndpsim: sweep: waitpid: %s\n", strerror(errno));
				break;
			}
		}
		int tag, src;
		size_t idx;
		char *text;
		while (peers && mp_poll(&tag, &src, &idx, &text)) {
			if (tag == TAG_DONE)
				peers--;
			else if (tag == TAG_RESULT)
				took_result(s, idx, text, -1, src);
			else
				took_failure(s, idx, text, src);
			free(text);
			progressed = 1;
		}
		if (!progressed && peers) {
			struct timespec ts = { 0, 2000000 };
			nanosleep(&ts, NULL);
		}
	}
	if (mp_rank)
		mp_send(TAG_DONE, 0, "");
	free(slots);
}

/* ------------------------------------------------------------------ */
/* The sweep directory (rank 0)                                        */

static int check_manifest(struct sw *s)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/sweep.json", s->out);
	FILE *f = fopen(path, "rb");
	if (f) {
		char buf[65536];
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		cJSON *m = cJSON_Parse(buf);
		const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
		const cJSON *args = cJSON_GetObjectItemCaseSensitive(m, "args");
		int same = cJSON_IsString(cmd) && !strcmp(cmd->valuestring, s->g.cmd->sweep_as) &&
			   cJSON_IsArray(args) && cJSON_GetArraySize(args) == s->g.nargs;
		for (int a = 0; same && a < s->g.nargs; a++) {
			const cJSON *v = cJSON_GetArrayItem(args, a);
			same = cJSON_IsString(v) && !strcmp(v->valuestring, s->g.args[a]);
		}
		cJSON_Delete(m);
		if (!same)
			return nd_errf(&s->err, -EINVAL, "%s: this directory holds a sweep with another command or args than %s; use another --out",
				       path, s->g.src);
	}
	if (s->list)
		return 0;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "description", "ndpsim sweep directory: results.jsonl has one line per finished point");
	cJSON_AddStringToObject(m, "command", s->g.cmd->sweep_as);
	cJSON *a = cJSON_AddArrayToObject(m, "args");
	for (int k = 0; k < s->g.nargs; k++)
		cJSON_AddItemToArray(a, cJSON_CreateString(s->g.args[k]));
	cJSON_AddStringToObject(m, "grid", s->g.src);
	if (s->c.config_path)
		cJSON_AddStringToObject(m, "config", s->c.config_path);
	cJSON *fx = cJSON_AddArrayToObject(m, "set");
	for (int k = 0; k < s->g.nfixed; k++)
		cJSON_AddItemToArray(fx, cJSON_CreateString(s->g.fixed[k]));
	cJSON *ks = cJSON_AddArrayToObject(m, "swept");
	for (int k = 0; k < s->g.nkeys; k++)
		cJSON_AddItemToArray(ks, cJSON_CreateString(s->g.keys[k].path));
	rep_add_u64(m, "points", s->g.npoints);
	int rc = rep_write_json(s->out, "sweep.json", m, &s->err);
	cJSON_Delete(m);
	return rc;
}

/* Opens and locks results.jsonl, drops a partial last line, and lists the
 * points still to run.  With --list it only reads (and creates nothing). */
static int prepare_dir(struct sw *s, long **todo, long *ntodo)
{
	int rc;
	snprintf(s->res_path, sizeof s->res_path, "%s/results.jsonl", s->out);
	if (!s->list) {
		if ((rc = rep_mkdir_p(s->out, &s->err)))
			return rc;
		/* the same per---out lock as every other command (core/outdir.h);
		 * the directory itself grows point by point, so it is not swapped */
		if ((rc = rep_out_lock(s->out, &s->lock_fd, &s->err)))
			return rc;
		s->res_fd = open(s->res_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s->res_fd < 0)
			return nd_errf(&s->err, -errno, "%s: %s", s->res_path, strerror(errno));
		if (flock(s->res_fd, LOCK_EX | LOCK_NB)) {
			if (errno == EWOULDBLOCK)
				return nd_errf(&s->err, -EBUSY, "%s: another sweep is running in this directory",
					       s->res_path);
			return nd_errf(&s->err, -errno, "%s: flock: %s", s->res_path, strerror(errno));
		}
	}
	if ((rc = check_manifest(s)))
		return rc;
	struct sweep_results r;
	if ((rc = sweep_results_read(s->res_path, s->res_fd, &r, &s->err)))
		return rc;
	if (r.good_len < r.file_len && !s->list) {
		if (ftruncate(s->res_fd, (off_t)r.good_len) || fsync(s->res_fd)) {
			sweep_results_free(&r);
			return nd_errf(&s->err, -errno, "%s: truncate: %s", s->res_path, strerror(errno));
		}
		if (!s->c.quiet)
			fprintf(stderr, "sweep: %s: dropped a partial last line (%zu bytes) of an interrupted run\n",
				s->res_path, r.file_len - r.good_len);
	}
	s->res_len = (off_t)r.good_len;
	*todo = xcalloc(s->g.npoints + 1, sizeof **todo);
	*ntodo = 0;
	for (size_t p = 0; p < s->g.npoints; p++) {
		if (s->g.pts[p].dup_of >= 0)
			continue;
		if (sweep_results_find(&r, s->g.pts[p].hash) >= 0)
			s->done_before++;
		else
			(*todo)[(*ntodo)++] = (long)p;
	}
	sweep_results_free(&r);
	return 0;
}

struct cols {
	char **name;
	int n;
};

static void add_col(const char *name, const cJSON *v, void *arg)
{
	struct cols *c = arg;
	(void)v;
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return;
	c->name = xrealloc(c->name, sizeof *c->name * (size_t)(c->n + 1));
	c->name[c->n++] = xstrdup(name);
}

static void csv_field(char *buf, size_t n, const cJSON *v)
{
	char t[1024];
	sweep_fmt_scalar(v, t, sizeof t);
	if (strpbrk(t, ",\"\n")) {
		size_t u = 0;
		buf[u++] = '"';
		for (const char *p = t; *p && u + 3 < n; p++) {
			if (*p == '"')
				buf[u++] = '"';
			buf[u++] = *p;
		}
		buf[u++] = '"';
		buf[u] = '\0';
	} else {
		snprintf(buf, n, "%s", t);
	}
}

/* summary.csv: one row per grid point present in results.jsonl (grid order):
 * hash, the swept keys, every number of `metrics` by dotted name. */
static int write_summary(struct sw *s, size_t *rows)
{
	struct sweep_results r;
	int rc = sweep_results_read(s->res_path, s->res_fd, &r, &s->err);
	if (rc)
		return rc;
	struct cols cols = { 0 };
	long *li = xcalloc(s->g.npoints + 1, sizeof *li);
	for (size_t p = 0; p < s->g.npoints; p++) {
		li[p] = s->g.pts[p].dup_of >= 0 ? -1 : sweep_results_find(&r, s->g.pts[p].hash);
		if (li[p] >= 0)
			sweep_json_leaves(cJSON_GetObjectItemCaseSensitive(r.line[li[p]], "metrics"), "",
					  add_col, &cols);
	}
	size_t hcap = 64, hl = 0;
	char *hdr = xmalloc(hcap);
	hl = (size_t)snprintf(hdr, hcap, "hash");
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < (pass ? cols.n : s->g.nkeys); k++) {
			const char *nm = pass ? cols.name[k] : s->g.keys[k].path;
			size_t need = hl + strlen(nm) + 2;
			if (need > hcap)
				hdr = xrealloc(hdr, hcap = 2 * need);
			hl += (size_t)snprintf(hdr + hl, hcap - hl, ",%s", nm);
		}
	struct rep_csv *csv = rep_csv_new(hdr);
	free(hdr);
	*rows = 0;
	size_t rcap = 4096;
	char *row = xmalloc(rcap);
	for (size_t p = 0; p < s->g.npoints; p++) {
		if (li[p] < 0)
			continue;
		const cJSON *line = r.line[li[p]];
		const cJSON *met = cJSON_GetObjectItemCaseSensitive(line, "metrics");
		char hex[17], f[1100];
		sweep_hash_hex(s->g.pts[p].hash, hex);
		size_t u = (size_t)snprintf(row, rcap, "%s", hex);
		for (int k = 0; k < s->g.nkeys + cols.n; k++) {
			const cJSON *v = k < s->g.nkeys
				? cJSON_GetObjectItemCaseSensitive(s->g.pts[p].point, s->g.keys[k].path)
				: sweep_json_path(met, cols.name[k - s->g.nkeys]);
			csv_field(f, sizeof f, v);
			if (u + strlen(f) + 2 > rcap)
				row = xrealloc(row, rcap = 2 * (u + strlen(f) + 2));
			u += (size_t)snprintf(row + u, rcap - u, ",%s", f);
		}
		rep_csv_row(csv, "%s", row);
		(*rows)++;
	}
	free(row);
	rc = rep_csv_write(csv, s->out, "summary.csv", &s->err);
	rep_csv_free(csv);
	for (int k = 0; k < cols.n; k++)
		free(cols.name[k]);
	free(cols.name);
	free(li);
	sweep_results_free(&r);
	return rc;
}

static void list_points(struct sw *s, const long *todo, long ntodo)
{
	printf("# %s: %zu points of '%s' (%d swept keys); hash, status, point\n", s->g.src,
	       s->g.npoints, s->g.cmd->sweep_as, s->g.nkeys);
	long t = 0;
	for (size_t p = 0; p < s->g.npoints; p++) {
		char hex[17];
		sweep_hash_hex(s->g.pts[p].hash, hex);
		const char *st;
		char dup[64];
		if (s->g.pts[p].dup_of >= 0) {
			snprintf(dup, sizeof dup, "same as %ld", s->g.pts[p].dup_of);
			st = dup;
		} else if (t < ntodo && todo[t] == (long)p) {
			st = "pending";
			t++;
		} else {
			st = "done";
		}
		printf("%5zu %s %-8s %s\n", p, hex, st, sweep_point_label(&s->g, p));
	}
	printf("# %zu done, %ld pending\n", s->done_before, ntodo);
}

static int run_loaded(struct sw *s);

static int sweep_main(struct sw *s, int argc, char **argv)
{
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			if (mp_rank == 0)
				printf(help, sweep_cmd_names(), SWEEP_MPI_BUILT);
			return 0;
		}
		if (!strcmp(a, "--list")) {
			s->list = 1;
			i++;
			continue;
		}
		if (!strcmp(a, "--grid") || !strcmp(a, "-j") || !strcmp(a, "--jobs") ||
		    !strncmp(a, "-j", 2) || !strncmp(a, "--grid=", 7)) {
			const char *val;
			if (!strncmp(a, "--grid=", 7)) {
				val = a + 7;
				i++;
			} else if (!strncmp(a, "-j", 2) && a[2]) {
				val = a + 2;
				i++;
			} else {
				if (i + 1 >= argc)
					return mp_rank ? 2 : cli_usage_error("sweep", "%s needs a value", a);
				val = argv[i + 1];
				i += 2;
			}
			if (a[1] == 'j' || !strcmp(a, "--jobs")) {
				char *end;
				long j = strtol(val, &end, 10);
				if (end == val || *end || j < 1 || j > 1024)
					return mp_rank ? 2 : cli_usage_error("sweep", "-j: \"%s\" is not a number of jobs in [1, 1024]", val);
				s->jobs = (int)j;
			} else {
				s->grid_path = val;
			}
			continue;
		}
		int k = cli_common_opt(&s->c, argc, argv, &i, &s->err);
		if (k < 0)
			return mp_rank ? 2 : cli_usage_error("sweep", "%s", s->err.msg);
		if (k == 0)
			return mp_rank ? 2 : cli_usage_error("sweep", "unknown option '%s'", a);
	}
	if (!s->grid_path)
		return mp_rank ? 2 : cli_usage_error("sweep", "--grid GRID.json is required");
#ifndef NDPSIM_MPI
	/* n copies of a local sweep would fight over one directory */
	const char *ws = getenv("OMPI_COMM_WORLD_SIZE");
	if (!ws)
		ws = getenv("PMI_SIZE");
	if (ws && atoi(ws) > 1) {
		fprintf(stderr, "ndpsim sweep: started by mpirun with %s ranks, but this ndpsim was built without MPI; build it with 'make MPI=1'\n",
			ws);
		return 2;
	}
#endif
	for (int k = 0; k < s->c.nsets; k++)
		s->sets[s->nsets++] = s->c.sets[k];
	char seedset[64];
	if (s->c.seed_given) {
		snprintf(seedset, sizeof seedset, "seed=%llu", (unsigned long long)s->c.seed);
		s->sets[s->nsets++] = seedset;
	}
	if (s->c.out_dir) {
		snprintf(s->out, sizeof s->out, "%s", s->c.out_dir);
	} else {
		const char *b = strrchr(s->grid_path, '/');
		b = b ? b + 1 : s->grid_path;
		size_t n = strlen(b);
		if (n > 5 && !strcmp(b + n - 5, ".json"))
			n -= 5;
		snprintf(s->out, sizeof s->out, "results/sweep-%.*s", (int)n, b);
	}

	/* Everything is checked on every rank before anything runs. */
	int rc = sweep_grid_load(s->grid_path, s->c.config_path, s->sets, s->nsets, &s->g, &s->err);
	if (rc)
		say(&s->err);
	if ((rc = mp_max(rc ? nd_err_exit_code(&s->err) : 0)))
		return rc;
	return run_loaded(s);
}

/* Runs the loaded grid s->g into s->out (every rank). */
static int run_loaded(struct sw *s)
{
	int rc = 0;
	long *todo = NULL, ntodo = 0;
	if (mp_rank == 0 && (rc = prepare_dir(s, &todo, &ntodo)))
		rc = cli_error(&s->err);
	if ((rc = mp_bcast_list(rc, &todo, &ntodo))) {
		free(todo);
		return rc;
	}
	if (s->list) {
		if (mp_rank == 0)
			list_points(s, todo, ntodo);
		free(todo);
		return 0;
	}
	/* this rank's share: positions rank, rank + size, ... of the list */
	long *mine = xcalloc((size_t)ntodo + 1, sizeof *mine);
	size_t nmine = 0;
	for (long t = mp_rank; t < ntodo; t += mp_size)
		mine[nmine++] = todo[t];
	s->total = (size_t)ntodo;
	if (mp_rank == 0 && !s->c.quiet)
		fprintf(stderr, "sweep: %s: %zu points of '%s', %zu already in %s, %ld to run (%d rank%s x %d jobs)\n",
			s->g.src, s->g.npoints, s->g.cmd->sweep_as, s->done_before, s->res_path, ntodo,
			mp_size, mp_size > 1 ? "s" : "", s->jobs > 0 ? s->jobs : online_cpus());
	run_points(s, mine, nmine);
	free(mine);
	free(todo);
	if (mp_rank)
		return 0;

	size_t rows = 0;
	if ((rc = write_summary(s, &rows)))
		return cli_error(&s->err);
	if (!s->c.quiet) {
		printf("ndpsim sweep — %s: %zu points of '%s', %zu were done before, %zu ran now, %zu failed\n",
		       s->g.src, s->g.npoints, s->g.cmd->sweep_as, s->done_before,
		       s->finished - s->failed, s->failed);
		printf("  %s/results.jsonl (%zu points of this grid), %s/summary.csv, per point %s/points/<hash>/\n",
		       s->out, rows, s->out, s->out);
		if (rows)
			printf("  plot: ndpsim plot %s --x %s --y METRIC%s%s   (METRIC: a column of summary.csv)\n",
			       s->out, s->g.keys[0].path, s->g.nkeys > 1 ? " --series " : "",
			       s->g.nkeys > 1 ? s->g.keys[1].path : "");
	}
	if (s->failed || s->stop) {
		fprintf(stderr, "ndpsim: sweep: %zu point%s failed; run the same command again to retry them\n",
			s->failed, s->failed == 1 ? "" : "s");
		return 1;
	}
	return 0;
}

void sweep_mpi_init(void)
{
	mp_init();
}

void sweep_mpi_fini(void)
{
	mp_fini();
}

int sweep_mpi_rank(void)
{
	return mp_rank;
}

int sweep_mpi_max(int v)
{
	return mp_max(v);
}

int sweep_engine(struct sweep_grid *g, const struct sweep_opts *o)
{
	struct sw *s = xcalloc(1, sizeof *s);
	s->res_fd = -1;
	s->lock_fd = -1;
	s->g = *g;   /* borrowed for the run, handed back below */
	s->c.quiet = o->quiet;
	s->c.config_path = o->config_path;
	s->jobs = o->jobs;
	s->extra_fd = o->child_close_fd;
	snprintf(s->out, sizeof s->out, "%s", o->out);
	int rc = run_loaded(s);
	if (s->res_fd >= 0)
		close(s->res_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	*g = s->g;
	free(s);
	return mp_max(rc);
}

int cmd_sweep(int argc, char **argv)
{
	mp_init();
	struct sw *s = xcalloc(1, sizeof *s);
	s->res_fd = -1;
	s->lock_fd = -1;
	s->extra_fd = -1;
	int rc = sweep_main(s, argc, argv);
	if (s->res_fd >= 0)
		close(s->res_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	sweep_grid_free(&s->g);
	free(s);
	rc = mp_max(rc);
	mp_fini();
	return rc;
}
