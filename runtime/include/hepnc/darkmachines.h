/* darkmachines.h — streaming reader of the DarkMachines event CSV format:
 *   event ID; process ID; event weight; MET; METphi; obj1, E1, pt1, eta1, phi1; obj2, …
 * objects j, b, e-, e+, m-, m+, g; energies and momenta in MeV (converted to GeV here). One event per
 * line; a malformed line stops the reader with its line number and the offending field. */
#ifndef HEPNC_DARKMACHINES_H
#define HEPNC_DARKMACHINES_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { HN_DM_JET, HN_DM_BJET, HN_DM_EMINUS, HN_DM_EPLUS, HN_DM_MUMINUS, HN_DM_MUPLUS, HN_DM_PHOTON, HN_DM_KINDS };

typedef struct hn_dm_object {
    int kind;                   /* HN_DM_* */
    float e, pt, eta, phi;      /* GeV, GeV, -, rad */
} hn_dm_object;

typedef struct hn_dm_event {
    char id[64];
    char process[64];
    double weight;
    float met, met_phi;         /* GeV, rad */
    int nobjects;
    hn_dm_object objects[64];   /* in file order */
} hn_dm_event;

typedef struct hn_dm_reader hn_dm_reader;

hn_dm_reader *hn_dm_open(const char *path, char *err, size_t errlen);
/* 1: an event was read; 0: end of file; -1: error (message names the file, line and field). */
int hn_dm_next(hn_dm_reader *r, hn_dm_event *ev, char *err, size_t errlen);
long hn_dm_line(const hn_dm_reader *r);
void hn_dm_close(hn_dm_reader *r);
const char *hn_dm_kind_name(int kind);     /* "j", "b", "e-", … */

#ifdef __cplusplus
}
#endif

#endif
