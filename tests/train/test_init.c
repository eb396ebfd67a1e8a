/* test_init.c — hn_init_params: each tensor kind gets PyTorch's (or weaver's) initialisation, the same
 * seed gives the same bytes and another seed other values. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <hepnc/init.h>

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { ++failures; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static const hn_param_desc params[] = {
    { "fc1.weight", 0, 64 * 32, 2, { 64, 32 }, 1 },
    { "fc1.bias", 2048, 64, 1, { 64 }, 1 },
    { "norm.weight", 2112, 32, 1, { 32 }, 1 },
    { "norm.bias", 2144, 32, 1, { 32 }, 1 },
    { "bn.running_mean", 2176, 32, 1, { 32 }, 0 },
    { "bn.running_var", 2208, 32, 1, { 32 }, 0 },
    { "blocks.0.attn.in_proj.weight", 2240, 96 * 32, 2, { 96, 32 }, 1 },
    { "blocks.0.attn.in_proj.bias", 5312, 96, 1, { 96 }, 1 },
    { "blocks.0.c_attn", 5408, 4, 1, { 4 }, 1 },
    { "cls_blocks.cls_token", 5412, 512, 1, { 512 }, 1 },
};
enum { N = sizeof params / sizeof *params, FLOATS = 5924 };

int main(void)
{
    static float a[FLOATS], b[FLOATS], c[FLOATS];
    hn_init_params(params, N, a, 42);
    hn_init_params(params, N, b, 42);
    hn_init_params(params, N, c, 43);
    CHECK(!memcmp(a, b, sizeof a), "the same seed gives different parameters");
    CHECK(memcmp(a, c, sizeof a), "another seed gives the same parameters");
    double mx = 0, mn = 0;
    for (int i = 0; i < 2048; ++i) { mx = fmax(mx, a[i]); mn = fmin(mn, a[i]); }
    CHECK(mx <= 1 / sqrt(32.0) && mn >= -1 / sqrt(32.0) && mx > 0.9 / sqrt(32.0), "linear weight range [%g, %g]", mn, mx);
    for (int i = 2048; i < 2112; ++i) CHECK(fabs(a[i]) <= 1 / sqrt(32.0), "linear bias %g", a[i]);
    for (int i = 2112; i < 2144; ++i) CHECK(a[i] == 1.0f, "norm weight %g", a[i]);
    for (int i = 2144; i < 2176; ++i) CHECK(a[i] == 0.0f, "norm bias %g", a[i]);
    for (int i = 2176; i < 2208; ++i) CHECK(a[i] == 0.0f, "running_mean %g", a[i]);
    for (int i = 2208; i < 2240; ++i) CHECK(a[i] == 1.0f, "running_var %g", a[i]);
    mx = 0;
    for (int i = 2240; i < 5312; ++i) mx = fmax(mx, fabs(a[i]));
    CHECK(mx <= sqrt(6.0 / 128) && mx > 0.9 * sqrt(6.0 / 128), "xavier bound %g", mx);
    for (int i = 5312; i < 5408; ++i) CHECK(a[i] == 0.0f, "in_proj bias %g", a[i]);
    for (int i = 5408; i < 5412; ++i) CHECK(a[i] == 1.0f, "c_attn %g", a[i]);
    double s = 0, s2 = 0;
    for (int i = 5412; i < 5924; ++i) { s += a[i]; s2 += (double)a[i] * a[i]; }
    double sd = sqrt(s2 / 512 - (s / 512) * (s / 512));
    CHECK(sd > 0.017 && sd < 0.023 && fabs(s / 512) < 0.004, "cls_token mean %g sd %g (N(0, 0.02²))", s / 512, sd);
    printf("%s\n", failures ? "FAILED" : "init: all checks passed");
    return failures != 0;
}
