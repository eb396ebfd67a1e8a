/* main.c — the hepnc command line: dispatch and help. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
    const char *help;
} command;

static const command commands[] = {
    { "check", hn_cmd_check, "hepnc check SPEC [--dump=PASS]",
      "Validates a spec and prints its inputs, outputs, parameter count, multiply-accumulates per event, the\n"
      "inference workspace (C and GPU) and the training step's memory per event (activations, gradients,\n"
      "saved state). Errors are reported as SPEC:LINE:COL with the source line and a caret.\n"
      "  --dump=PASS   print the IR after PASS (lower, fold, fuse, plan) to stdout\n" },
    { "compile", hn_cmd_compile, "hepnc compile SPEC -o DIR [--target c] [--weights W.safetensors] [--embed-weights] [--blas openblas|none] [--train] [--aot sm_80,sm_90] [--dump=PASS] [--no-validate]",
      "Emits specialised C for the spec into DIR: NAME.h (the API), NAME.c (inference: libc and libm only,\n"
      "or cblas with --blas openblas), NAME_load.c (safetensors loader, links libhepnc), NAME_entry.c (generic\n"
      "entry point) and, with --embed-weights, NAME_weights.c (the folded weights as static const data).\n"
      "The output is parsed with libclang and must produce no diagnostic.\n"
      "  -o DIR            output directory (created if needed)\n"
      "  --target T        c (default), or cuda: NAME.cu (device kernels, validated by NVRTC for sm_80 and\n"
      "                    sm_90 with no register spills in the hot kernels), NAME_cuda.{h,c} (the C API with\n"
      "                    device pointers), NAME_cuda_source.c, NAME_cuda_entry.c (docs/cuda.md)\n"
      "  --aot ARCHS       with --target cuda: nvcc builds NAME.cu for ARCHS (e.g. sm_80,sm_90; the newest\n"
      "                    also as PTX) and NAME_cuda_source.c embeds the image, loaded without NVRTC\n"
      "  --weights W       weights file, needed for --embed-weights (checked against the spec)\n"
      "  --embed-weights   write NAME_weights.c\n"
      "  --blas B          openblas: linear layers through cblas_sgemm; none (default): generated loops\n"
      "  --train           also NAME_train.c: the training step (forward in training mode, loss, backward)\n"
      "                    and hepnc_train_entry (hepnc/train_entry.h), built by `hepnc train`; with --target\n"
      "                    cuda also NAME_train.cu and NAME_cuda_train.c, the step on the GPU\n"
      "  --dump=PASS       print the IR after PASS to stdout (without -o: only print)\n"
      "  --no-validate     skip the libclang check\n" },
    { "infer", hn_cmd_infer, "hepnc infer SPEC --weights W.safetensors --data X.h5 --out SCORES.h5 [--batch N] [--blas openblas|none] [--threads T] [--gpu]",
      "Builds the spec's code with the system compiler (cached by the hash of the generated code under\n"
      "$HEPNC_CACHE, default ~/.cache/hepnc), runs it over an HDF5 dataset (layout: docs/data.md) and writes\n"
      "one dataset per output, plus the labels when the input has them, to SCORES.h5 (atomically).\n"
      "  --batch N     events per call (default 256)\n"
      "  --blas B      openblas (default) or none\n"
      "  --threads T   spread each batch's events over T OpenMP threads (default 1)\n"
      "  --gpu         score on the GPU with the spec's GPU object (hepnc compile --target cuda: its kernels\n"
      "                compiled by NVRTC at load, cached; docs/cuda.md): device 0, or the emulated GPU with\n"
      "                HEPNC_GPU_EMULATE=1; HEPNC_GPU_TF32=1 / HEPNC_GPU_BF16=1 for tensor-core GEMMs\n" },
    { "split", hn_cmd_split, "hepnc split IN.h5 -o PREFIX [--fractions 0.7,0.15,0.15] [--seed S]",
      "Divides a dataset into PREFIX_train.h5, PREFIX_val.h5 and PREFIX_test.h5 by a seeded shuffle of its\n"
      "events (each part keeps the file's order). Every dataset whose first extent is the number of events\n"
      "is split by rows, attributes included; the others are copied whole. Written atomically.\n"
      "  --fractions A,B,C   shares of train, validation and test (normalised; default 0.7,0.15,0.15)\n"
      "  --seed S            the shuffle's seed (default 1): the same seed gives the same files\n" },
    { "train", hn_cmd_train, "hepnc train SPEC --data TRAIN.h5 --val VAL.h5 -o RUN/ [--epochs N] [--batch N] [--lr X] [--seed S] [--threads T] [--resume RUN/] [--max-steps N] [--init W.safetensors] [--event-weights] [--trim] [--gpu] [--quiet]",
      "Trains the spec's network with its generated training step (hepnc compile --train; built and cached as\n"
      "for infer) on a labelled dataset (docs/data.md), with the settings of the spec's train: section (loss,\n"
      "optimizer, schedule, warm-up, batch, epochs, seed, clip_grad; defaults: weaver's ParT recipe, Ranger,\n"
      "flat+decay) and these flags on top. Every epoch shuffles the training events (seeded), takes one\n"
      "optimiser step per batch and evaluates the validation events through the inference code. RUN/ gets\n"
      "log.csv (epoch,step,lr,train_loss,train_acc,val_loss,val_acc,val_auc,jets_per_s,seconds),\n"
      "last.safetensors (every epoch, at --max-steps, on Ctrl-C), best.safetensors (lowest validation loss) and\n"
      "curves.png. Checkpoints are weights files for infer/eval with the optimiser state inside. Ctrl-C ends\n"
      "the current step, saves last.safetensors and exits with status 130. Details: docs/training.md.\n"
      "  --epochs N, --batch N, --lr X, --seed S   override the spec's train: values\n"
      "  --resume RUN/        continue from RUN/last.safetensors, exactly as if never stopped (same data, seed\n"
      "                       and batch; another --epochs changes the schedule from there on)\n"
      "  --max-steps N        stop once N optimiser steps are done in all, saving last.safetensors\n"
      "  --init W             start from these weights instead of fresh ones\n"
      "  --threads T          OpenMP threads of the training step (default: one per core); each GEMM inside is one-threaded\n"
      "  --signal-class K, --background-class J   classes of the validation AUC (default 1 against 0)\n"
      "  --preload-mb M       datasets up to M MiB are read into memory first (default 2048), larger per batch\n"
      "  --quiet              no progress on stderr (a bar on a terminal, lines otherwise)\n"
      "  --event-weights      weight each training event's loss by the dataset's /weights (weighted batch mean;\n"
      "                       e.g. DarkMachines cross-section weights); validation stays unweighted\n"
      "  --trim               weaver's SequenceTrimmer (ParT's trim=True): after 5 steps each batch is cut to a\n"
      "                       random quantile of its lengths, longer jets keep random particles, and the batch\n"
      "                       statistics count that many slots (off by default: weaver's trim=False)\n"
      "  --gpu                train on the GPU (device 0; HEPNC_GPU_EMULATE=1: the emulated one): the same step as the\n"
      "                       C one, clipping and optimiser there too, parameters kept on the device between steps\n"
      "                       (docs/cuda.md, \"Training on the GPU\"); validation and checkpoints on the host\n" },
    { "gradcheck", hn_cmd_gradcheck, "hepnc gradcheck SPEC --weights W.safetensors --data X.h5 [--events N] [--reference R.safetensors] [--steps K --optimizer adamw|ranger] [--fd K] [--loss cross_entropy|bce] [--slots S]",
      "Checks the generated training step on the first N events (default 32) of a labelled dataset: the\n"
      "gradient of every parameter tensor against central finite differences of the generated loss and,\n"
      "with --reference, against PyTorch's (tensors grad.<name>, loss, bn1.<name>: tests/train/models).\n"
      "  --events N              batch size (default 32)\n"
      "  --label-smoothing E     cross-entropy label smoothing (default 0.1, as the fixtures)\n"
      "  --loss L                cross_entropy (default) or bce (BCEWithLogits against the label's one-hot; one logit:\n"
      "                          against the label 0/1), also with --reference\n"
      "  --slots S               the batch as weaver's SequenceTrimmer leaves it at length S (each jet's first S\n"
      "                          particles; batch statistics over S slots per jet)\n"
      "  --tolerance T           per-tensor ||g - g_ref|| / ||g_ref|| (default 1e-3)\n"
      "  --fd K                  finite-difference coordinates per tensor (default 4; 0: none)\n"
      "  --steps K               also K optimiser steps on the batch, compared with <optimizer><K>.<name>\n"
      "  --optimizer O           adamw (torch defaults) or ranger (weaver's), --lr (1e-3), --weight-decay (0.01)\n"
      "  --trajectory-tolerance  max|dp| / max|p| per tensor after the steps (default 1e-5)\n" },
    { "eval", hn_cmd_eval, "hepnc eval SPEC --weights W.safetensors --data TEST.h5 [--signal-class K] [--background-class J] [--signal-label L] [--output NAME] [--roc ROC.csv] [--roc-png ROC.png] [--signal-yield S] [--background-yield B] [--bkg-uncertainty D] [--batch N] [--gpu] [--lines N] [--json FILE]",
      "Runs the spec's code over a labelled dataset (/labels) and prints the accuracy, the AUC of signal class\n"
      "K against background class J with the discriminant p_K / (p_K + p_J), and the background rejection\n"
      "1/eps_B at signal efficiencies 0.3, 0.5 and 0.7, with the expected significance of each working point:\n"
      "s/sqrt(b) and s/sqrt(b + (D b)^2), s = eps_S S and b = eps_B B the signal and background events that pass\n"
      "(docs/training.md, \"Evaluation\").\n"
      "  --signal-class K, --background-class J   output indices (default 0 and 1)\n"
      "  --signal-label L   the /labels value of signal events (default K; 1 for a one-wide output, which is read\n"
      "                     as P(label 1), BCE's target); other labels are background\n"
      "  --output NAME      which output holds the probabilities (default 'scores')\n"
      "  --roc FILE.csv     write the ROC (eff_signal, eff_background)\n"
      "  --roc-png FILE.png draw it: 1/eps_B against eps_S (Python 3 + matplotlib; skipped with a warning without)\n"
      "  --signal-yield S, --background-yield B   expected events before the cut (sigma x L x preselection);\n"
      "                     default: the dataset's own signal and background counts\n"
      "  --bkg-uncertainty D   relative background uncertainty delta (default 0.2, as the ttH/four-top study)\n"
      "  --batch N          events per call (default 256)\n"
      "  --gpu              score on the GPU, as hepnc infer --gpu\n"
      "A SPANet spec (with topology:) is evaluated as upstream's test.py does instead: the decoded assignments\n"
      "against /TARGETS/<particle>/<product>, per jet-multiplicity slice and event type, the event purity and\n"
      "each cluster's purity (docs/spanet.md).\n"
      "  --lines N          slices == n_min .. == n_min + N - 1, then >= n_min + N, then all (default 2)\n"
      "  --json FILE        also write the numbers as JSON, with upstream's keys (\"2t/event_purity\", ...)\n" },
    { "bench", hn_cmd_bench, "hepnc bench SPEC [--weights W] [--data X.h5] [--n LO:HI] [--batch N] [--reps R] [--blas openblas|none] [--gpu]",
      "Times the spec's generated code here: latency per event at batch 1 (median and p90 over R calls,\n"
      "default 200) and throughput at batch N (default 256). Events from --data, or synthetic with set sizes\n"
      "uniform in LO:HI (default 30:80); weights from --weights, or random ones of the right shapes.\n"
      "OPENBLAS_NUM_THREADS sets the BLAS threads. For comparisons with PyTorch see bench/.\n"
      "  --gpu   time the spec's GPU object instead (as hepnc infer --gpu), on host arrays: what a host program\n"
      "          sees, the copies to and from the device included\n" },
    { "convert", hn_cmd_convert, "hepnc convert darkmachines IN.csv -o OUT.h5 --processes A,B,... [--layout fixed|set] [--max N]\n"
                                 "       hepnc convert iaformer IN.h5 -o OUT.h5 [--set particles] [--max 128] [--signal-label 0]",
      "Converts a DarkMachines event CSV (event ID; process ID; weight; MET; METphi; obj, E, pT, eta, phi; ...,\n"
      "objects j b e- e+ m- m+ g, energies in MeV) into the HDF5 layout of docs/data.md, in GeV: /objects\n"
      "(E, pt, eta, phi and one-hot type flags), /event (met, met_phi), /labels (index of the process in\n"
      "--processes), /weights. Streams the file; a malformed line stops with its line number and field.\n"
      "  --layout fixed   models/fcn.yaml's 12 slots: 4 jets, 4 b-jets, e-, e+, m-, m+ by pT (default)\n"
      "  --layout set     the --max (default 18) hardest objects, pT-ordered, with /objects/mask\n"
      "'iaformer' turns a file of 4-vectors (/<set>/vectors [E, M, 4] px, py, pz, E in GeV; /<set>/mask and\n"
      "/labels when present, e.g. tools/gen/topqcd.py's) into models/iaformer.yaml's input: /particles/features\n"
      "with upstream IAFormer's 11 particle features (the jet = the sum of the constituents), /particles/vectors\n"
      "and /labels as upstream's is_signal (1 for --signal-label, else 0), --max rows per event, no mask\n"
      "(docs/iaformer.md).\n"
      "  --set NAME       the set to read (default particles)\n"
      "  --max N          rows per event, the model's max (default 128): the hardest N when there are more\n"
      "  --signal-label K the input's label of signal events (default 0: tools/gen/topqcd.py's top jets)\n" },
    { "compare", hn_cmd_compare, "hepnc compare SPEC --weights W.safetensors --data X.h5 --reference REF.h5 [--events N] [--tol T]",
      "Runs the spec's code with every layer's output traced and compares each, in graph order and over each\n"
      "event's real rows, with the reference's /layers/<name> datasets (shape [events, ...], padding rows\n"
      "ignored), e.g. dumped by PyTorch forward hooks. Prints max |diff| per layer and the first layer out of\n"
      "tolerance; exit 1 when there is one. Layers fused away (a folded batchnorm) have no output to compare.\n"
      "  --events N   the first N events (default 32)\n"
      "  --tol T      absolute tolerance (default 1e-4)\n" },
    { "import", hn_cmd_import, "hepnc import weaver|spanet|iaformer STATE.pt --spec SPEC -o W.safetensors [--weaver-version 0.4|0.5] [--list]",
      "Converts a weaver-core state_dict (a PyTorch zip checkpoint, read without PyTorch) into a safetensors\n"
      "weights file for SPEC: keys are mapped onto the spec's weight names as tools/weaver_import.py does\n"
      "(a leading 'mod.' dropped, attn.in_proj_weight -> attn.in_proj.weight, Conv1d/Conv2d weights\n"
      "[o, i, 1(, 1)] -> [o, i], cls_token -> cls_blocks.cls_token, fc.0.* -> fc.*, ParticleNet's\n"
      "edge_convs.<b> -> edge_conv<b>, fc.1.* -> out.*; num_batches_tracked dropped), every tensor the spec\n"
      "needs is checked (name and shape; exit 1 naming the first missing or mismatched one) and the file is\n"
      "written atomically. docs/import.md has the details.\n"
      "'spanet' reads SPANet's PyTorch Lightning checkpoint (its 'state_dict'), or a plain state_dict, for a\n"
      "spec with op spanet: the names are kept (the op uses upstream's), num_batches_tracked and the loss's\n"
      "bookkeeping tensors are dropped, and the rest is checked against SPEC as above (docs/spanet.md).\n"
      "'iaformer' reads IAFormer's Lightning checkpoint (or its Transformer's state_dict) for a spec with op\n"
      "iaformer: 'model.' dropped, 1x1 Conv2d weights squeezed, checked as above (docs/iaformer.md).\n"
      "  --spec SPEC              the spec the weights are for (required)\n"
      "  -o W.safetensors         output file (required)\n"
      "  --weaver-version V       0.4 (default: the published ParT/ParticleNet weights) or 0.5: weaver-core\n"
      "                           >= 0.5 scales attention heads without 0.4's channel permutation; the scale\n"
      "                           and the permutation are folded into each block's out_proj (exact)\n"
      "  --list                   print the checkpoint's entries (name, dtype, shape); alone, only that\n" },
    { "ops", hn_cmd_ops, "hepnc ops [--markdown]",
      "Lists every op of the op table with its keys, types, defaults and weights (--markdown: the reference\n"
      "section of docs/spec.md).\n" },
};
#define NCOMMANDS ((int)(sizeof commands / sizeof *commands))

static const command *find(const char *name)
{
    for (int i = 0; i < NCOMMANDS; ++i)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

void hn_print_help(const char *cmd)
{
    const command *c = cmd ? find(cmd) : NULL;
    if (c) {
        printf("usage: %s\n\n%s", c->usage, c->help);
        return;
    }
    printf("hepnc %s — compiles collider-physics network specs (YAML) into specialised C.\n\n", HN_VERSION);
    printf("usage: hepnc COMMAND [options]   (hepnc COMMAND --help for details)\n\n");
    for (int i = 0; i < NCOMMANDS; ++i) printf("  %s\n", commands[i].usage);
    printf("\nExit status: 0 success, 1 error in the input (with a message), 2 usage error.\n"
           "Docs: docs/spec.md (the spec), docs/data.md (datasets), docs/api.md (generated code).\n");
}

int hn_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hepnc %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    const command *c = find(cmd);
    fprintf(stderr, "\nusage: %s\n", c ? c->usage : "hepnc --help");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        hn_print_help(NULL);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        hn_print_help(argc > 2 ? argv[2] : NULL);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("hepnc %s\n", HN_VERSION);
        return 0;
    }
    const command *c = find(cmd);
    if (!c) {
        fprintf(stderr, "hepnc: error: unknown command '%s' (hepnc --help lists them)\n", cmd);
        return 2;
    }
    for (int i = 2; i < argc; ++i)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            hn_print_help(cmd);
            return 0;
        }
    return c->run(argc, argv);
}
