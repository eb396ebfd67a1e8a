/* plot.h — PNG plots drawn by the Python scripts in tools/ (matplotlib), for `hepnc train`
 * (RUN/curves.png) and `hepnc eval --roc-png`. Plots are an extra: when Python 3 or matplotlib is
 * missing the command warns once on stderr and goes on (tools/install-deps.sh installs Debian's
 * python3-matplotlib). */
#ifndef HN_PLOT_H
#define HN_PLOT_H

/* Runs tools/<script> with args (NULL-terminated) through Python 3: $HEPNC_PYTHON, else /usr/bin/python3
 * (Debian's, where python3-matplotlib lives), else python3 on PATH. The scripts live in
 * $HEPNC_TOOLS_DIR, else the source tree's tools/. Returns 0 when the script succeeded, else warns
 * ("hepnc CMD: warning: ...; no PNG") and returns -1. Never exits. */
int hn_plot(const char *cmd, const char *script, const char *const *args);

#endif
