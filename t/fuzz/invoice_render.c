/*
 * The invoice renderers (src/core/evb_invoice_ubl.c, evb_invoice_html.c)
 * on documents built from the input: any text (control characters,
 * broken UTF-8, markup), any amount, quantity, rate, time and count.
 * Both outputs must stay well-formed text: every '<' a tag's (as many
 * '>' as '<', text escaped), no control character but tab, LF and CR,
 * valid UTF-8 throughout.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_invoice.h"


typedef struct {
    const uint8_t  *p;
    size_t          n;
} evb_fuzz_in_t;


static uint64_t
take_u64(evb_fuzz_in_t *in, size_t bytes)
{
    uint64_t  v;

    v = 0;

    while (bytes-- && in->n) {
        v = v << 8 | *in->p++;
        in->n--;
    }

    return v;
}


static evb_str_t
take_str(evb_fuzz_in_t *in)
{
    size_t     len;
    evb_str_t  s;

    len = (size_t) take_u64(in, 1) % 48;
    len = len < in->n ? len : in->n;
    s.data = (const char *) in->p;
    s.len = len;
    in->p += len;
    in->n -= len;

    return s;
}


static void
take_party(evb_fuzz_in_t *in, evb_party_t *p)
{
    p->name = take_str(in);
    p->address.street = take_str(in);
    p->address.city = take_str(in);
    p->address.postal_code = take_str(in);
    p->address.country = take_str(in);
    p->vat_id = take_str(in);
    p->registration = take_str(in);
    p->iban = take_str(in);
    p->bic = take_str(in);
    p->email = take_str(in);
    p->phone = take_str(in);
    p->vat_exemption_reason = take_str(in);
}


static void
check_text(const evb_buf_t *b)
{
    size_t          i, lt, gt, k, n;
    unsigned char   c;

    evb_fuzz_check(!b->oom);
    lt = gt = 0;
    i = 0;

    while (i < b->len) {
        c = (unsigned char) b->data[i];

        if (c < 0x80) {
            evb_fuzz_check(c >= 0x20 || c == '\t' || c == '\n'
                           || c == '\r');
            lt += c == '<';
            gt += c == '>';
            i++;
            continue;
        }

        n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        evb_fuzz_check(c >= 0xc2 && c <= 0xf4 && i + n <= b->len);

        for (k = 1; k < n; k++) {
            evb_fuzz_check(((unsigned char) b->data[i + k] & 0xc0) == 0x80);
        }

        /* no U+FFFE or U+FFFF */
        evb_fuzz_check(!(n == 3 && c == 0xef
                         && (unsigned char) b->data[i + 1] == 0xbf
                         && (unsigned char) b->data[i + 2] >= 0xbe));
        i += n;
    }

    evb_fuzz_check(lt == gt);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                i;
    evb_buf_t             b;
    evb_fuzz_in_t         in;
    evb_invoice_t         inv;
    evb_doc_line_t        lines[6];
    evb_doc_vat_t         vat[4];
    evb_str_t             cns[2];
    evb_invoice_status_t  st;
    static const char     cats[] = "SZEX";

    in.p = data;
    in.n = size;

    memset(&inv, 0, sizeof(inv));
    memset(lines, 0, sizeof(lines));
    memset(vat, 0, sizeof(vat));
    memset(&st, 0, sizeof(st));

    inv.kind = take_u64(&in, 1) & 1 ? EVB_DOC_CREDIT_NOTE : EVB_DOC_INVOICE;
    inv.number = take_str(&in);
    inv.issue_date = take_str(&in);
    inv.due_date = take_str(&in);
    inv.language = take_str(&in);

    for (i = 0; i < 3; i++) {
        inv.currency[i] = (char) take_u64(&in, 1);
    }

    inv.exponent = (int) (take_u64(&in, 1) % 9) - 1;
    take_party(&in, &inv.seller);
    take_party(&in, &inv.buyer);
    inv.buyer_ad_hoc = take_u64(&in, 1) & 1;
    inv.customer_id = take_str(&in);
    inv.payment_terms_days = (unsigned) take_u64(&in, 2);

    inv.session.charger_id = take_str(&in);
    inv.session.session_id = take_str(&in);
    inv.session.cdr_id = take_str(&in);
    inv.session.location_name = take_str(&in);
    inv.session.location_address.street = take_str(&in);
    inv.session.location_address.country = take_str(&in);
    inv.session.evse_uid = take_str(&in);
    inv.session.connector = take_str(&in);
    inv.session.time_zone = take_str(&in);
    inv.session.start = (evb_msec_t) take_u64(&in, 6);
    inv.session.end = (evb_msec_t) take_u64(&in, 6);
    inv.session.energy = (int64_t) take_u64(&in, 8);

    inv.nlines = (size_t) take_u64(&in, 1) % 7;

    for (i = 0; i < inv.nlines; i++) {
        lines[i].id = (uint32_t) take_u64(&in, 4);
        lines[i].dim = (evb_dim_e) (take_u64(&in, 1) % 5);
        lines[i].reservation = take_u64(&in, 1) & 1;
        lines[i].vat_category = cats[take_u64(&in, 1) % 4];
        lines[i].vat = (int64_t) take_u64(&in, 8);
        lines[i].quantity = (int64_t) take_u64(&in, 8);
        lines[i].price = (int64_t) take_u64(&in, 8);
        lines[i].amount = (int64_t) take_u64(&in, 8);
        lines[i].session = take_str(&in);
    }

    inv.lines = lines;
    inv.nvat = (size_t) take_u64(&in, 1) % 5;

    for (i = 0; i < inv.nvat; i++) {
        vat[i].vat_category = cats[take_u64(&in, 1) % 4];
        vat[i].vat = (int64_t) take_u64(&in, 8);
        vat[i].allowance = (int64_t) take_u64(&in, 8);
        vat[i].charge = (int64_t) take_u64(&in, 8);
        vat[i].taxable = (int64_t) take_u64(&in, 8);
        vat[i].amount = (int64_t) take_u64(&in, 8);
    }

    inv.vat = vat;
    inv.allowance_total = (int64_t) take_u64(&in, 8);
    inv.charge_total = (int64_t) take_u64(&in, 8);
    inv.prepaid = (int64_t) take_u64(&in, 8);
    inv.payable = (int64_t) take_u64(&in, 8);
    inv.invoice_number = take_str(&in);
    inv.invoice_issue_date = take_str(&in);
    inv.reason = take_str(&in);

    st.state = (evb_pay_state_e) (take_u64(&in, 1) % 3);
    st.paid = (int64_t) take_u64(&in, 8);
    st.credited = (int64_t) take_u64(&in, 8);
    st.ncredit_notes = (size_t) take_u64(&in, 1) % 3;
    cns[0] = take_str(&in);
    cns[1] = take_str(&in);
    st.credit_notes = cns;

    evb_buf_init(&b);

    evb_invoice_render_ubl(&b, &inv);
    check_text(&b);
    evb_buf_reset(&b);

    evb_invoice_render_html(&b, &inv, take_u64(&in, 1) & 1 ? NULL : &st);
    check_text(&b);

    evb_buf_free(&b);

    return 0;
}
