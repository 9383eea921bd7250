/*
 * Every case of every .json file in ../shared/conformance/ocpi-tariffs/
 * through the dry run (evb_rate_dry_run), per its MANIFEST:
 *
 * - priced cases (status ok, erratum*, or carrying spec_expected) must
 *   match every total the case states, at its `compare` precision; a
 *   case's refcalc_opts is sent as "policy", except for a case with
 *   spec_expected, which must be met without it;
 * - an expected incl_vat that equals excl_vat is met by an answer that
 *   leaves incl_vat out (no component carried VAT: nothing to add);
 * - the negative-VAT case (status "policy (malformed input)") must be
 *   refused as tariff-negative-price at the vat field;
 * - the GIREVE case (status "non-standard") must be refused as
 *   invalid-tariff naming the extension's field.
 *
 * One TAP line per case, with its id; a diagnostic line per mismatch.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_core.h"
#include "../../src/core/evb_json.h"
#include "../../src/core/evb_money.h"
#include "../../src/core/evb_rate.h"


#define CASE_DIR  EVB_SHARED "/conformance/ocpi-tariffs"


static int  npriced;
static int  npriced_ok;


static char *
slurp(const char *path, size_t *len)
{
    FILE    *f;
    char    *buf;
    long     n;

    f = fopen(path, "rb");

    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    buf = malloc((size_t) n + 1);

    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }

    fclose(f);
    buf[n] = '\0';
    *len = (size_t) n;
    return buf;
}


/* v (at 10^scale) rounded half up to `digits` decimals, same scale. */
static int64_t
round_to(int64_t v, unsigned scale, unsigned digits)
{
    int64_t   f, out;
    unsigned  i;

    f = 1;

    for (i = digits; i < scale; i++) {
        f *= 10;
    }

    if (evb_div_round(v, f, EVB_ROUND_HALF_UP, &out) != 0) {
        return INT64_MIN;
    }

    return out * f;
}


/* Decimals written in an expected string ("5.0" -> 1). */
static unsigned
decimals_of(const char *s)
{
    const char  *dot;

    dot = strchr(s, '.');
    return dot ? (unsigned) strlen(dot + 1) : 0;
}


/*
 * Compare one expected decimal string with the answer's number at path
 * (object, key, sub-key or NULL).  Returns 1 on a match.
 */
static int
compare_one(const char *id, const char *what, const evb_json_t *want,
    const evb_json_t *got, unsigned scale, const char *cmp, int *missing)
{
    int64_t   w, g;
    unsigned  digits;

    *missing = 0;

    if (want == NULL || want->type != EVB_JSON_STRING) {
        return 1;                           /* not a stated total */
    }

    if (got == NULL) {
        *missing = 1;
        return 0;
    }

    if (evb_decimal_parse(want->u.str.data, want->u.str.len, scale, &w)
        != 0)
    {
        printf("# %s: %s: cannot read expected '%s'\n", id, what,
               want->u.str.data);
        return 0;
    }

    if (evb_json_fixed(got, scale, &g) != EVB_NUM_OK) {
        printf("# %s: %s: cannot read answer '%.*s'\n", id, what,
               (int) got->u.str.len, got->u.str.data);
        return 0;
    }

    digits = strcmp(cmp, "2dp") == 0 ? 2
             : strcmp(cmp, "4dp") == 0 ? 4 : decimals_of(want->u.str.data);

    if (digits > scale) {
        digits = scale;
    }

    if (round_to(g, scale, digits) != round_to(w, scale, digits)) {
        printf("# %s: %s: got %.*s, want %s (%s)\n", id, what,
               (int) got->u.str.len, got->u.str.data, want->u.str.data,
               cmp);
        return 0;
    }

    return 1;
}


static int
check_totals(const char *id, const evb_json_t *exp, const evb_json_t *ans,
    const char *cmp)
{
    int          good, missing;
    size_t       i, j;
    char         what[64];
    evb_json_t  *w, *g, *ws, *wi, *we;

    static const char  *prices[] = { "total_cost", "total_energy_cost",
        "total_time_cost", "total_parking_cost", "total_fixed_cost",
        "total_reservation_cost" };
    static const char  *qty[] = { "total_energy", "total_time",
        "total_parking_time" };

    good = 1;

    for (i = 0; i < sizeof(prices) / sizeof(prices[0]); i++) {
        w = evb_json_get(exp, prices[i]);

        if (w == NULL) {
            continue;
        }

        g = evb_json_get(ans, prices[i]);

        for (j = 0; j < 2; j++) {
            const char  *side = j == 0 ? "excl_vat" : "incl_vat";

            ws = evb_json_get(w, side);
            snprintf(what, sizeof(what), "%s.%s", prices[i], side);

            if (compare_one(id, what, ws, evb_json_get(g, side), 6, cmp,
                            &missing))
            {
                continue;
            }

            /* no VAT anywhere: incl_vat is left out, and equals excl */
            if (missing && j == 1) {
                we = evb_json_get(w, "excl_vat");
                wi = ws;

                if (we != NULL && evb_json_get(g, "excl_vat") != NULL
                    && compare_one(id, what, wi,
                                   evb_json_get(g, "excl_vat"), 6, cmp,
                                   &missing)
                    && compare_one(id, what, we,
                                   evb_json_get(g, "excl_vat"), 6, cmp,
                                   &missing))
                {
                    continue;
                }
            }

            if (missing) {
                printf("# %s: %s: missing from the answer\n", id, what);
            }

            good = 0;
        }
    }

    for (i = 0; i < sizeof(qty) / sizeof(qty[0]); i++) {
        if (!compare_one(id, qty[i], evb_json_get(exp, qty[i]),
                         evb_json_get(ans, qty[i]), 9, cmp, &missing))
        {
            if (missing) {
                printf("# %s: %s: missing from the answer\n", id, qty[i]);
            }

            good = 0;
        }
    }

    /* warnings the oracle reported must be reported too */
    w = evb_json_get(exp, "warnings");

    if (w != NULL && w->type == EVB_JSON_ARRAY) {
        g = evb_json_get(ans, "warnings");

        for (i = 0; i < w->u.arr.n; i++) {
            int  found = 0;

            for (j = 0; g != NULL && j < g->u.arr.n; j++) {
                evb_json_t  *code = evb_json_get(g->u.arr.items[j], "code");

                if (code != NULL && w->u.arr.items[i]->type
                                    == EVB_JSON_STRING
                    && strcmp(code->u.str.data,
                              w->u.arr.items[i]->u.str.data) == 0)
                {
                    found = 1;
                }
            }

            if (!found) {
                printf("# %s: warning %s not reported\n", id,
                       w->u.arr.items[i]->type == EVB_JSON_STRING
                       ? w->u.arr.items[i]->u.str.data : "?");
                good = 0;
            }
        }
    }

    return good;
}


static void
run_case(const evb_json_t *c)
{
    int                 priced, good;
    char                detail[256], err[128];
    size_t              nerrors;
    const char         *id, *status, *cmp;
    evb_buf_t           req, out;
    evb_json_t         *v, *spec, *exp, *opts, *reqj, *ans;
    evb_arena_t        *a;
    evb_policy_t        policy;
    evb_problem_e       p;
    evb_tariff_error_t  errors[EVB_TARIFF_ERRORS_MAX];

    v = evb_json_get(c, "id");
    id = v != NULL && v->type == EVB_JSON_STRING ? v->u.str.data : "?";
    v = evb_json_get(c, "status");
    status = v != NULL && v->type == EVB_JSON_STRING ? v->u.str.data : "";
    v = evb_json_get(c, "compare");
    cmp = v != NULL && v->type == EVB_JSON_STRING ? v->u.str.data : "2dp";
    spec = evb_json_get(c, "spec_expected");
    exp = spec != NULL ? spec : evb_json_get(c, "expected");
    opts = evb_json_get(c, "refcalc_opts");

    priced = spec != NULL || strcmp(status, "ok") == 0
             || strncmp(status, "erratum", 7) == 0;

    /* the request: the case's own shape, policy from refcalc_opts */
    evb_buf_init(&req);
    evb_buf_appends(&req, "{\"time_zone\":");
    evb_json_write(&req, evb_json_get(c, "time_zone"));
    evb_buf_appends(&req, ",\"tariffs\":");
    evb_json_write(&req, evb_json_get(c, "tariffs"));
    evb_buf_appends(&req, ",\"session\":");
    evb_json_write(&req, evb_json_get(c, "session"));

    if (opts != NULL && spec == NULL) {
        evb_buf_appends(&req, ",\"policy\":");
        evb_json_write(&req, opts);
    }

    evb_buf_appends(&req, "}");

    a = evb_arena_create(65536);
    evb_buf_init(&out);
    memset(&policy, 0, sizeof(policy));
    policy.rounding = EVB_ROUND_HALF_UP;
    /* the module's default bounds: every case fits in them */
    policy.max_duration = 31LL * 86400 * 1000;
    policy.max_periods = 5000;

    if (a == NULL || req.oom
        || evb_json_parse(a, req.data, req.len, 64, &reqj, err, sizeof(err))
           != EVB_JSON_OK)
    {
        ok(0, "%s: request builds", id);
        goto done;
    }

    p = evb_rate_dry_run(a, reqj, &policy, &out, errors, &nerrors, detail,
                         sizeof(detail));

    if (priced) {
        npriced++;

        if (p != EVB_OK) {
            ok(0, "%s", id);
            printf("# %s: refused: %s: %s\n", id, evb_problem_info(p)->name,
                   detail);
            goto done;
        }

        if (evb_json_parse(a, out.data, out.len, 64, &ans, err, sizeof(err))
            != EVB_JSON_OK)
        {
            ok(0, "%s", id);
            printf("# %s: answer is not JSON: %s\n", id, err);
            goto done;
        }

        good = check_totals(id, exp, ans, cmp);
        npriced_ok += good;
        ok(good, "%s", id);

        if (!good) {
            printf("# answer: %.*s\n", (int) (out.len < 600 ? out.len : 600),
                   out.data);
        }

        goto done;
    }

    if (strncmp(status, "policy", 6) == 0) {
        /* a negative VAT rate is a malformed tariff: refused, not priced */
        good = p == EVB_P_TARIFF_NEGATIVE && nerrors >= 1
               && strcmp(errors[0].pointer,
                         "/tariffs/0/elements/0/price_components/0/vat")
                  == 0;
        ok(good, "%s: refused as tariff-negative-price at the vat", id);

        if (!good) {
            printf("# %s: got %s (%s)\n", id, evb_problem_info(p)->name,
                   detail);
        }

        goto done;
    }

    if (strcmp(status, "non-standard") == 0) {
        /* GIREVE's rounding extension would change the bill: refused */
        good = p == EVB_P_TARIFF_INVALID && strstr(detail, "GIREVE") != NULL
               && strstr(detail, "price_round") != NULL;
        ok(good, "%s: refused as invalid-tariff naming the extension", id);

        if (!good) {
            printf("# %s: got %s (%s)\n", id, evb_problem_info(p)->name,
                   detail);
        }

        goto done;
    }

    ok(0, "%s: status '%s' has no rule in this test", id, status);

done:

    evb_buf_free(&req);
    evb_buf_free(&out);

    if (a != NULL) {
        evb_arena_destroy(a);
    }
}


static int
by_name(const struct dirent **x, const struct dirent **y)
{
    return strcmp((*x)->d_name, (*y)->d_name);
}


static int
is_json(const struct dirent *d)
{
    size_t  n;

    n = strlen(d->d_name);
    return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}


int
main(void)
{
    int              i, nfiles, ncases;
    char             path[512], err[128];
    size_t           j, len;
    char            *text;
    evb_json_t      *root, *cases;
    evb_arena_t     *a;
    struct dirent  **names;

    nfiles = scandir(CASE_DIR, &names, is_json, by_name);

    if (nfiles <= 0) {
        printf("1..1\nnot ok 1 - no case files in %s\n", CASE_DIR);
        return 1;
    }

    ncases = 0;

    for (i = 0; i < nfiles; i++) {
        snprintf(path, sizeof(path), "%s/%s", CASE_DIR, names[i]->d_name);
        text = slurp(path, &len);
        a = evb_arena_create(1 << 20);

        if (text == NULL || a == NULL
            || evb_json_parse(a, text, len, 64, &root, err, sizeof(err))
               != EVB_JSON_OK
            || (cases = evb_json_get(root, "cases")) == NULL
            || cases->type != EVB_JSON_ARRAY)
        {
            ok(0, "%s reads as a case file", names[i]->d_name);
            free(text);

            if (a != NULL) {
                evb_arena_destroy(a);
            }

            continue;
        }

        printf("# %s: %zu cases\n", names[i]->d_name, cases->u.arr.n);

        for (j = 0; j < cases->u.arr.n; j++) {
            run_case(cases->u.arr.items[j]);
            ncases++;
        }

        evb_arena_destroy(a);
        free(text);
        free(names[i]);
    }

    free(names);

    /* the MANIFEST's counts: 43 cases, 41 of them priced */
    is_int(ncases, 43, "43 cases run");
    is_int(npriced, 41, "41 priced cases");
    printf("# conformance: %d/%d priced cases match\n", npriced_ok,
           npriced);

    tap_plan(tap_n);
    return tap_done();
}
