/* version.h — the program version printed in every report. */
#ifndef ND_VERSION_H
#define ND_VERSION_H
#define NDPSIM_VERSION "0.1.0"
#endif
