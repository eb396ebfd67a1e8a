/* plot.c — see plot.h. The script runs in a child process (fork + execv); its exit status says what
 * happened: 0 written, 3 matplotlib missing (the scripts' convention), anything else a failure. */
#include "plot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HEPNC_TOOLS_DIR
#define HEPNC_TOOLS_DIR "tools"
#endif

static const char *python(void)
{
    const char *env = getenv("HEPNC_PYTHON");
    if (env && *env) return env;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

int hn_plot(const char *cmd, const char *script, const char *const *args)
{
    const char *dir = getenv("HEPNC_TOOLS_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : HEPNC_TOOLS_DIR, script);
    if (access(path, R_OK)) {
        fprintf(stderr, "hepnc %s: warning: %s is missing (set HEPNC_TOOLS_DIR); no PNG\n", cmd, path);
        return -1;
    }
    const char *argv[16] = { python(), path };
    int n = 2;
    for (int i = 0; args[i] && n < 15; ++i) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "hepnc %s: warning: cannot start %s; no PNG\n", cmd, argv[0]);
        return -1;
    }
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) { status = -1; break; }
    int code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 0) return 0;
    if (code == 127)
        fprintf(stderr, "hepnc %s: warning: %s not found (install python3 and python3-matplotlib); no PNG\n", cmd, argv[0]);
    else if (code == 3)
        fprintf(stderr, "hepnc %s: warning: matplotlib is missing for %s (tools/install-deps.sh installs "
                "python3-matplotlib); no PNG\n", cmd, argv[0]);
    else
        fprintf(stderr, "hepnc %s: warning: %s failed (status %d); no PNG\n", cmd, script, code);
    return -1;
}
