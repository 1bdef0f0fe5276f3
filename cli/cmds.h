/* cmds.h — the subcommands of `ndpsim` (one line each; see cli/main.c). */
#ifndef ND_CMDS_H
#define ND_CMDS_H
int cmd_ssd(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_io(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_xbar(int argc, char **argv);
int cmd_xbar_cnn(int argc, char **argv);   /* cmd_xcnn.c: `xbar cnn` */
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_train(int argc, char **argv);
#endif
