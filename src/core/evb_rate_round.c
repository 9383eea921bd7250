/*
 * The billing rule (docs/rating.md, "The billing rule"): from the
 * engine's exact totals to the rounded bill that EN 16931 documents
 * print.  Each billed line is rounded to the minor unit, dimensions and
 * the net total are sums of lines, VAT is computed once per rate, and
 * min/max adjustments are spread over the rates.
 */

#include <stddef.h>
#include <string.h>

#include "evb_rate.h"
#include "evb_rate_int.h"


/* Rounded half up (away from zero) or half even: q plus the fraction
 * r / d (0 <= |r| < d, r of q's sign). */
static int64_t
evb_round_qr(int64_t q, evb_i128_t r, evb_i128_t d, int neg,
    evb_rounding_e mode)
{
    if (r < 0) {
        r = -r;
    }

    if (2 * r > d || (2 * r == d && (mode == EVB_ROUND_HALF_UP || (q & 1))))
    {
        q += neg ? -1 : 1;
    }

    return q;
}


/*
 * A V amount both to 10^-6 and to the currency's minor unit, each
 * rounded once from the exact value, with a single 128-bit division (the
 * hot path of a live reading).
 */
static int
evb_v_round2(evb_i128_t v, int exponent, evb_rounding_e mode,
    int64_t *micro, int64_t *minor)
{
    int         i, neg;
    int64_t     q, f, q2;
    evb_i128_t  r, r2;

    if (v == 0) {
        *micro = 0;
        *minor = 0;
        return 0;
    }

    neg = v < 0;
    r = v % EVB_V_PER_MICRO;
    v = v / EVB_V_PER_MICRO;

    if (v > INT64_MAX / 2 || v < INT64_MIN / 2) {
        return -1;
    }

    q = (int64_t) v;
    *micro = evb_round_qr(q, r, EVB_V_PER_MICRO, neg, mode);

    f = 1;

    for (i = exponent; i < 6; i++) {
        f *= 10;
    }

    /* v / (D f) = q / f + (q % f + r / D) / f */
    q2 = q / f;
    r2 = (evb_i128_t) (q % f) * EVB_V_PER_MICRO + r;
    *minor = evb_round_qr(q2, r2, EVB_V_PER_MICRO * f, neg, mode) * f;

    return 0;
}


/* An exact amount at 10^-6 under the policy's mode. */
int
evb_rate_exact(evb_i128_t excl, evb_i128_t incl, int has_incl,
    evb_rounding_e mode, evb_amount_t *exact)
{
    int64_t  minor;

    exact->has_incl = has_incl ? 1 : 0;

    if (evb_v_round2(excl, 6, mode, &exact->excl, &minor) != 0
        || evb_v_round2(incl, 6, mode, &exact->incl, &minor) != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * amount spread over n parts in proportion to the weights w (>= 0, sum
 * > 0), exactly: each part gets the floor of its share, and the units
 * left over go one each to the largest remainders, ties to the lower
 * index.  A negative amount is spread as its absolute value.
 */
static int
evb_spread(int64_t amount, const int64_t *w, size_t n, int64_t *out)
{
    size_t      k, best;
    int64_t     a, left;
    evb_i128_t  sum, prod, rem[EVB_RATE_LINES_MAX + 1];

    if (n > EVB_RATE_LINES_MAX + 1) {
        return -1;
    }

    sum = 0;

    for (k = 0; k < n; k++) {
        sum += w[k];
    }

    if (sum <= 0 || amount == INT64_MIN) {
        return -1;
    }

    a = amount < 0 ? -amount : amount;
    left = a;

    for (k = 0; k < n; k++) {
        prod = (evb_i128_t) a * w[k];
        out[k] = (int64_t) (prod / sum);
        rem[k] = prod % sum;
        left -= out[k];
    }

    while (left > 0) {
        best = 0;

        for (k = 1; k < n; k++) {
            if (rem[k] > rem[best]) {
                best = k;
            }
        }

        out[best]++;
        rem[best] = -1;
        left--;
    }

    if (amount < 0) {
        for (k = 0; k < n; k++) {
            out[k] = -out[k];
        }
    }

    return 0;
}


/* The VAT group of (has_vat, vat) in d, added if absent. */
static size_t
evb_vat_group(evb_bill_detail_t *d, int has_vat, int64_t vat)
{
    size_t  k;

    for (k = 0; k < d->nvat; k++) {
        if (d->vat[k].has_vat == (unsigned) has_vat
            && (!has_vat || d->vat[k].vat == vat))
        {
            return k;
        }
    }

    memset(&d->vat[k], 0, sizeof(evb_bill_vat_t));
    d->vat[k].has_vat = has_vat ? 1 : 0;
    d->vat[k].vat = has_vat ? vat : 0;
    d->nvat++;

    return k;
}


/* VAT of a net amount (minor units) at vat (10^-6 %). */
static int
evb_vat_of(int64_t net, int64_t vat, evb_rounding_e mode, int64_t *out)
{
    return evb_div_round((evb_i128_t) net * vat, 100000000, mode, out);
}


/*
 * The rounded bill (docs/rating.md, "Exactness and rounding"), in minor
 * units inside, 10^-6 outside: lines, dimensions as sums of lines, VAT
 * per rate on the rate's net sum, min/max as a net adjustment spread
 * over the rates and an incl. adjustment spread over their VAT.
 */
int
evb_rate_round(const evb_rate_totals_t *v, const evb_tariff_t *t,
    const evb_policy_t *policy, int exponent, evb_rate_result_t *out,
    evb_bill_detail_t *d)
{
    int                      c, k, has_incl, cat[EVB_RATE_LINES_MAX];
    size_t                   i, j, n, g, grp[EVB_RATE_LINES_MAX];
    int64_t                  f, net, incl, lo, hi, w[EVB_RATE_LINES_MAX + 1],
                             sh[EVB_RATE_LINES_MAX + 1], dex[EVB_CAT_N],
                             din[EVB_CAT_N];
    evb_bill_vat_t           tmp;
    evb_bill_line_t         *bl;
    evb_rounding_e           mode;
    const evb_rate_vline_t  *vl;
    const evb_price_limit_t *pl;

    mode = policy->rounding;
    f = 1;

    for (k = exponent; k < 6; k++) {
        f *= 10;
    }

    /* lines in category order, each rounded from its exact amount */
    n = 0;
    d->nvat = 0;

    for (c = 0; c < EVB_CAT_N; c++) {
        for (i = 0; i < v->nlines; i++) {
            vl = &v->line[i];

            if (vl->cat != c) {
                continue;
            }

            bl = &d->lines[n];
            memset(bl, 0, sizeof(evb_bill_line_t));
            cat[n] = c;
            bl->dim = vl->pc->type;
            bl->reservation = c == EVB_CAT_RES_TIME || c == EVB_CAT_RES_FLAT;
            bl->has_vat = vl->pc->has_vat;
            bl->tax_included = vl->tax_included ? 1 : 0;
            bl->price = vl->pc->price;
            bl->vat = vl->pc->has_vat ? vl->pc->vat : 0;
            bl->quantity = vl->qty;

            if (evb_rate_exact(vl->excl, vl->incl, vl->pc->has_vat, mode,
                          &bl->cost) != 0
                || evb_div_round(vl->excl_num, vl->excl_den * f, mode,
                                 &bl->amount) != 0)
            {
                return -1;
            }

            grp[n] = evb_vat_group(d, vl->pc->has_vat, vl->pc->vat);

            if (__builtin_add_overflow(d->vat[grp[n]].lines, bl->amount,
                                       &d->vat[grp[n]].lines))
            {
                return -1;
            }

            n++;
        }
    }

    d->nlines = n;

    /* rates highest first, lines without VAT last: the order ties go by */
    for (i = 0; i < d->nvat; i++) {
        for (j = i + 1; j < d->nvat; j++) {
            if ((!d->vat[i].has_vat && d->vat[j].has_vat)
                || (d->vat[i].has_vat && d->vat[j].has_vat
                    && d->vat[j].vat > d->vat[i].vat))
            {
                tmp = d->vat[i];
                d->vat[i] = d->vat[j];
                d->vat[j] = tmp;

                for (k = 0; k < (int) n; k++) {
                    grp[k] = grp[k] == i ? j : grp[k] == j ? i : grp[k];
                }
            }
        }
    }

    /* each rate's VAT on its lines' sum, shared over those lines in
     * proportion to their amounts: a dimension's incl. is its lines'
     * amounts plus their shares */
    for (g = 0; g < d->nvat; g++) {
        if (!d->vat[g].has_vat || d->vat[g].lines == 0) {
            continue;
        }

        if (evb_vat_of(d->vat[g].lines, d->vat[g].vat, mode, &net) != 0) {
            return -1;
        }

        for (i = 0, j = 0; i < n; i++) {
            w[j++] = grp[i] == g ? d->lines[i].amount : 0;
        }

        if (evb_spread(net, w, n, sh) != 0) {
            return -1;
        }

        for (i = 0; i < n; i++) {
            if (grp[i] == g) {
                d->lines[i].vat_amount = sh[i];
            }
        }
    }

    for (c = 0; c < EVB_CAT_N; c++) {
        dex[c] = 0;
        din[c] = 0;
    }

    net = 0;

    for (i = 0; i < n; i++) {
        bl = &d->lines[i];

        if (__builtin_add_overflow(dex[cat[i]], bl->amount, &dex[cat[i]])
            || __builtin_add_overflow(din[cat[i]], bl->amount + bl->vat_amount,
                                      &din[cat[i]])
            || __builtin_add_overflow(net, bl->amount, &net))
        {
            return -1;
        }
    }

    /* min_price / max_price: the net total, then the incl. total */
    has_incl = v->vat_in != 0;

    if (!policy->ignore_min_max && (t->has_min_price || t->has_max_price)) {
        lo = INT64_MIN;
        hi = INT64_MAX;

        if (t->has_min_price && t->min_price.has_excl
            && evb_div_round(t->min_price.excl, f, mode, &lo) != 0)
        {
            return -1;
        }

        if (t->has_max_price && t->max_price.has_excl
            && evb_div_round(t->max_price.excl, f, mode, &hi) != 0)
        {
            return -1;
        }

        incl = net < lo ? lo : net > hi ? hi : net;

        if (incl != net) {
            if (net > 0) {
                for (g = 0; g < d->nvat; g++) {
                    w[g] = d->vat[g].lines;
                }

                if (evb_spread(incl - net, w, d->nvat, sh) != 0) {
                    return -1;
                }

            } else {
                /* nothing priced: no rate to carry, no VAT */
                g = evb_vat_group(d, 0, 0);

                for (j = 0; j < d->nvat; j++) {
                    sh[j] = j == g ? incl - net : 0;
                }
            }

            for (g = 0; g < d->nvat; g++) {
                d->vat[g].adjustment = sh[g];
            }

            net = incl;
        }
    }

    incl = net;

    for (g = 0; g < d->nvat; g++) {
        d->vat[g].taxable = d->vat[g].lines + d->vat[g].adjustment;
        d->vat[g].amount = 0;

        if (d->vat[g].has_vat
            && (evb_vat_of(d->vat[g].taxable, d->vat[g].vat, mode,
                           &d->vat[g].amount) != 0
                || __builtin_add_overflow(incl, d->vat[g].amount, &incl)))
        {
            return -1;
        }
    }

    if (!policy->ignore_min_max) {
        for (k = 0; k < 2; k++) {
            pl = k == 0 ? &t->min_price : &t->max_price;

            if (!(k == 0 ? t->has_min_price : t->has_max_price)
                || !pl->has_incl
                || evb_div_round(pl->incl, f, mode, &lo) != 0)
            {
                continue;
            }

            if ((k == 0 && incl >= lo) || (k == 1 && incl <= lo)) {
                continue;
            }

            /* the difference is tax: spread over the rates' VAT, or, with
             * no VAT to carry it, tax that no rate explains */
            for (g = 0, hi = 0; g < d->nvat; g++) {
                w[g] = d->vat[g].has_vat && d->vat[g].amount > 0
                       ? d->vat[g].amount : 0;
                hi += w[g];
            }

            if (hi > 0) {
                if (evb_spread(lo - incl, w, d->nvat, sh) != 0) {
                    return -1;
                }

            } else {
                g = evb_vat_group(d, 0, 0);

                for (j = 0; j < d->nvat; j++) {
                    sh[j] = j == g ? lo - incl : 0;
                }
            }

            for (g = 0; g < d->nvat; g++) {
                d->vat[g].amount += sh[g];
            }

            incl = lo;
            has_incl = 1;
        }
    }

    /* to 10^-6 */
    for (i = 0; i < n; i++) {
        d->lines[i].amount *= f;
        d->lines[i].vat_amount *= f;
    }

    for (g = 0; g < d->nvat; g++) {
        d->vat[g].lines *= f;
        d->vat[g].adjustment *= f;
        d->vat[g].taxable *= f;
        d->vat[g].amount *= f;
    }

#define EVB_SET(a, c1, c2)                                                   \
    (a).excl = (dex[c1] + ((c2) >= 0 ? dex[c2] : 0)) * f;                   \
    (a).incl = (din[c1] + ((c2) >= 0 ? din[c2] : 0)) * f;                   \
    (a).has_incl = ((v->vat_in >> (c1)) & 1)                                 \
                   || ((c2) >= 0 && ((v->vat_in >> (c2)) & 1))

    EVB_SET(out->rounded_energy_cost, EVB_CAT_ENERGY, -1);
    EVB_SET(out->rounded_time_cost, EVB_CAT_TIME, -1);
    EVB_SET(out->rounded_parking_cost, EVB_CAT_PARKING, -1);
    EVB_SET(out->rounded_fixed_cost, EVB_CAT_FLAT, -1);
    EVB_SET(out->rounded_reservation_cost, EVB_CAT_RES_TIME,
            EVB_CAT_RES_FLAT);

#undef EVB_SET

    out->rounded_cost.excl = net * f;
    out->rounded_cost.incl = incl * f;
    out->rounded_cost.has_incl = has_incl ? 1 : 0;

    return 0;
}
