/* trainer_log.c — RUN/log.csv: a header and one row per finished epoch, appended and flushed to disk
 * as each epoch ends. A resumed run keeps the rows of the epochs its checkpoint has finished and drops
 * any later ones (an epoch logged before a crash but not checkpointed is trained again). Numbers are
 * printed with %.9g (lr, losses, accuracies, AUC: enough to tell float32 values apart). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trainer_internal.h"

const char hn_log_header[] = "epoch,step,lr,train_loss,train_acc,val_loss,val_acc,val_auc,jets_per_s,seconds";

static int fail(char *err, size_t errlen, const char *path)
{
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return -1;
}

static int finish(FILE *f, const char *path, char *err, size_t errlen)
{
    int bad = fflush(f) || ferror(f) || fsync(fileno(f));
    if (fclose(f) || bad) return fail(err, errlen, path);
    return 0;
}

int hn_log_start(const char *path, int keep, char *err, size_t errlen)
{
    char *kept = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&kept, &len);
    if (!mem) return fail(err, errlen, path);
    fprintf(mem, "%s\n", hn_log_header);
    FILE *old = keep > 0 ? fopen(path, "r") : NULL;
    if (old) {
        char line[4096];
        int first = 1;
        while (fgets(line, sizeof line, old)) {
            if (first) { first = 0; continue; }      /* the header: written anew */
            int epoch = atoi(line);
            if (epoch >= 1 && epoch <= keep && strchr(line, '\n')) fputs(line, mem);
        }
        fclose(old);
    }
    fclose(mem);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) { free(kept); return fail(err, errlen, path); }
    fwrite(kept, 1, len, f);
    free(kept);
    if (finish(f, tmp, err, errlen) || rename(tmp, path)) {
        unlink(tmp);
        return fail(err, errlen, path);
    }
    return 0;
}

int hn_log_append(const char *path, const hn_epoch_record *r, char *err, size_t errlen)
{
    FILE *f = fopen(path, "a");
    if (!f) return fail(err, errlen, path);
    fprintf(f, "%d,%" PRId64 ",%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.1f,%.3f\n", r->epoch, r->step, r->lr, r->train_loss,
            r->train_acc, r->val_loss, r->val_acc, r->val_auc, r->jets_per_s, r->seconds);
    return finish(f, path, err, errlen);
}
