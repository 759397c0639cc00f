/*
 * Inventory endpoints (issue 4): a seller's stock adjustments, bulk stock
 * updates, low-stock list, the stock ledger and low-stock thresholds. Each
 * is one SQL function (sql/migrations/0014_inventory.sql, operators added
 * by 0016_admin_products.sql) that filters by the caller's stores; the
 * bulk update's items are checked there, so every bad item is reported as
 * items[i].
 */

#include "ngx_http_nexus.h"


#define STRING    NGX_HTTP_NEXUS_FIELD_STRING
#define ENUM      NGX_HTTP_NEXUS_FIELD_ENUM
#define INT       NGX_HTTP_NEXUS_FIELD_INT
#define ARRAY     NGX_HTTP_NEXUS_FIELD_ARRAY
#define REQUIRED  NGX_HTTP_NEXUS_FIELD_REQUIRED

#define NGX_HTTP_NEXUS_STOCK_MAX  1000000000
#define NGX_HTTP_NEXUS_ID_MAX     0x7fffffff


static const ngx_http_nexus_field_t  ngx_http_nexus_stock_adjust_fields[] = {
    /* min is a size_t: the check reads it back as a signed integer */
    { "delta",   INT,    0, (size_t) -NGX_HTTP_NEXUS_STOCK_MAX,
                            NGX_HTTP_NEXUS_STOCK_MAX, NULL },
    { "set",     INT,    0, 0, NGX_HTTP_NEXUS_STOCK_MAX, NULL },
    { "reason",  ENUM,   REQUIRED, 1, 20,
      "received\0sold\0returned\0adjusted\0" },
    { "note",    STRING, 0, 1, 1000, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_stock_bulk_fields[] = {
    { "items",   ARRAY,  REQUIRED, 1, 1000, NULL },
    /* which store's SKUs: an operator names one (0016_admin_products) */
    { "store_id", INT,   0, 1, NGX_HTTP_NEXUS_ID_MAX, NULL },
    { "reason",  ENUM,   0, 1, 20, "received\0returned\0adjusted\0" },
    { "note",    STRING, 0, 1, 1000, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_threshold_fields[] = {
    { "low_stock_threshold", INT, REQUIRED, 0, 1000000, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

/* null sets the variant back to its store's threshold */
static const ngx_http_nexus_field_t
    ngx_http_nexus_variant_threshold_fields[] =
{
    { "low_stock_threshold", INT, 0, 0, 1000000, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};


NGX_HTTP_NEXUS_SQL_ENDPOINT(stock_adjust, ngx_http_nexus_stock_adjust_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(stock_bulk, ngx_http_nexus_stock_bulk_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(stock_low, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(stock_movements, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(store_inventory, ngx_http_nexus_threshold_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(variant_inventory,
                            ngx_http_nexus_variant_threshold_fields)
