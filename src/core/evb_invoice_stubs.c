/*
 * Placeholders for the HTML and UBL renderers until the render branch
 * (src/core/evb_invoice_html.c, evb_invoice_ubl.c) is merged; the lead
 * deletes this file then.  They print a minimal valid page or document
 * head so the endpoints answer.
 */

#include "evb_invoice.h"


void
evb_invoice_render_html(evb_buf_t *b, const evb_invoice_t *inv,
    const evb_invoice_status_t *status)
{
    evb_buf_appends(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                    "<title>");
    evb_buf_append(b, inv->number.data, inv->number.len);
    evb_buf_appends(b, "</title></head><body><h1>");
    evb_buf_append(b, inv->number.data, inv->number.len);
    evb_buf_appends(b, "</h1></body></html>\n");
}


void
evb_invoice_render_ubl(evb_buf_t *b, const evb_invoice_t *inv)
{
    evb_buf_appends(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");

    if (inv->kind == EVB_DOC_CREDIT_NOTE) {
        evb_buf_appends(b, "<CreditNote xmlns=\"urn:oasis:names:"
                        "specification:ubl:schema:xsd:CreditNote-2\"/>\n");

    } else {
        evb_buf_appends(b, "<Invoice xmlns=\"urn:oasis:names:"
                        "specification:ubl:schema:xsd:Invoice-2\"/>\n");
    }
}
