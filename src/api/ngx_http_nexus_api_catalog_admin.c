/*
 * Catalog management: sellers' products and variants, operators'
 * approvals, categories, tags and attributes. Each endpoint is one SQL
 * function (sql/migrations/0012_catalog_management.sql); here are the
 * bodies' top-level field lists. Nested members (variants, attributes,
 * categories given by id or slug) are checked in SQL, which answers 422
 * with every invalid_params path (variants[1].price).
 */

#include "ngx_http_nexus.h"


#define STRING    NGX_HTTP_NEXUS_FIELD_STRING
#define SLUG      NGX_HTTP_NEXUS_FIELD_SLUG
#define ENUM      NGX_HTTP_NEXUS_FIELD_ENUM
#define BOOL      NGX_HTTP_NEXUS_FIELD_BOOL
#define INT       NGX_HTTP_NEXUS_FIELD_INT
#define OBJECT    NGX_HTTP_NEXUS_FIELD_OBJECT
#define ARRAY     NGX_HTTP_NEXUS_FIELD_ARRAY
#define REQUIRED  NGX_HTTP_NEXUS_FIELD_REQUIRED

#define NGX_HTTP_NEXUS_ID_MAX  0x7fffffff


#define NGX_HTTP_NEXUS_PRODUCT_FIELDS(req)                                    \
    { "name",        STRING, req, 1, 300, NULL },                            \
    { "slug",        SLUG,   0, 1, 200, NULL },                              \
    { "description", STRING, 0, 0, 20000, NULL },                            \
    { "status",      ENUM,   0, 1, 20, "draft\0active\0archived\0" },        \
    { "categories",  ARRAY,  0, 0, 20, NULL },                               \
    { "tags",        ARRAY,  0, 0, 50, NULL },                               \
    { "attributes",  OBJECT, 0, 0, 50, NULL },                               \
    { "options",     ARRAY,  0, 0, 5, NULL }

static const ngx_http_nexus_field_t  ngx_http_nexus_product_new_fields[] = {
    NGX_HTTP_NEXUS_PRODUCT_FIELDS(REQUIRED),
    { "store_id",    INT,    0, 1, NGX_HTTP_NEXUS_ID_MAX, NULL },
    { "variants",    ARRAY,  0, 0, 100, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_product_fields[] = {
    NGX_HTTP_NEXUS_PRODUCT_FIELDS(0),
    { NULL, 0, 0, 0, 0, NULL }
};

/* a variant's members are checked in SQL, with its paths */
static const ngx_http_nexus_field_t  ngx_http_nexus_variant_fields[] = {
    { "sku",              STRING, 0, 0, 1000, NULL },
    { "title",            STRING, 0, 0, 1000, NULL },
    { "options",          OBJECT, 0, 0, 5, NULL },
    { "price",            INT,    0, 0, 100000000000LL, NULL },
    { "compare_at_price", INT,    0, 0, 100000000000LL, NULL },
    { "weight_grams",     INT,    0, 0, 1000000000, NULL },
    { "stock",            INT,    0, 0, 1000000000, NULL },
    { "status",           ENUM,   0, 1, 20, "active\0inactive\0" },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_variant_patch_fields[] = {
    { "sku",              STRING, 0, 0, 1000, NULL },
    { "title",            STRING, 0, 0, 1000, NULL },
    { "options",          OBJECT, 0, 0, 5, NULL },
    { "price",            INT,    0, 0, 100000000000LL, NULL },
    { "compare_at_price", INT,    0, 0, 100000000000LL, NULL },
    { "weight_grams",     INT,    0, 0, 1000000000, NULL },
    { "status",           ENUM,   0, 1, 20, "active\0inactive\0" },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_reject_fields[] = {
    { "reason",      STRING, REQUIRED, 1, 500, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

#define NGX_HTTP_NEXUS_CATEGORY_FIELDS(req)                                   \
    { "name",        STRING, req, 1, 200, NULL },                            \
    { "slug",        SLUG,   0, 1, 100, NULL },                              \
    { "description", STRING, 0, 0, 2000, NULL },                             \
    { "parent_id",   INT,    0, 1, NGX_HTTP_NEXUS_ID_MAX, NULL },            \
    { "position",    INT,    0, 0, 100000, NULL },                           \
    { NULL, 0, 0, 0, 0, NULL }

static const ngx_http_nexus_field_t  ngx_http_nexus_category_new_fields[] = {
    NGX_HTTP_NEXUS_CATEGORY_FIELDS(REQUIRED)
};

static const ngx_http_nexus_field_t  ngx_http_nexus_category_fields[] = {
    NGX_HTTP_NEXUS_CATEGORY_FIELDS(0)
};

static const ngx_http_nexus_field_t  ngx_http_nexus_tag_new_fields[] = {
    { "name",        STRING, REQUIRED, 1, 100, NULL },
    { "slug",        SLUG,   0, 1, 100, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_tag_fields[] = {
    { "name",        STRING, 0, 1, 100, NULL },
    { "slug",        SLUG,   0, 1, 100, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

/* attribute slugs may hold "_" as well: the schema checks their format */
#define NGX_HTTP_NEXUS_ATTRIBUTE_FIELDS(req)                                  \
    { "name",        STRING, req, 1, 100, NULL },                            \
    { "slug",        STRING, 0, 1, 100, NULL },                              \
    { "type",        ENUM,   req, 1, 20, "text\0number\0boolean\0choice\0" }, \
    { "choices",     ARRAY,  0, 0, 100, NULL },                              \
    { "filterable",  BOOL,   0, 0, 0, NULL },                                \
    { "position",    INT,    0, 0, 100000, NULL },                           \
    { NULL, 0, 0, 0, 0, NULL }

static const ngx_http_nexus_field_t  ngx_http_nexus_attribute_new_fields[] = {
    NGX_HTTP_NEXUS_ATTRIBUTE_FIELDS(REQUIRED)
};

static const ngx_http_nexus_field_t  ngx_http_nexus_attribute_fields[] = {
    NGX_HTTP_NEXUS_ATTRIBUTE_FIELDS(0)
};

static const ngx_http_nexus_field_t  ngx_http_nexus_no_fields[] = {
    { NULL, 0, 0, 0, 0, NULL }
};


#define NGX_HTTP_NEXUS_SQL_ENDPOINT(name, fields)                            \
    ngx_int_t                                                                 \
    ngx_http_nexus_api_##name(ngx_http_nexus_ctx_t *ctx)                      \
    {                                                                         \
        return ngx_http_nexus_call_checked(ctx, #name, fields);               \
    }


NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_products, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_product_create,
                            ngx_http_nexus_product_new_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_product_get, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_product_update,
                            ngx_http_nexus_product_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_variant_create,
                            ngx_http_nexus_variant_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_variant_update,
                            ngx_http_nexus_variant_patch_fields)

NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_products, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_product_approve, ngx_http_nexus_no_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_product_reject,
                            ngx_http_nexus_reject_fields)

NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_category_create,
                            ngx_http_nexus_category_new_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_category_update,
                            ngx_http_nexus_category_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_category_delete, ngx_http_nexus_no_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_tag_create, ngx_http_nexus_tag_new_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_tag_update, ngx_http_nexus_tag_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_tag_delete, ngx_http_nexus_no_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_attribute_create,
                            ngx_http_nexus_attribute_new_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_attribute_update,
                            ngx_http_nexus_attribute_fields)
