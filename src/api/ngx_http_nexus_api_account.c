/*
 * The account endpoints that are one SQL function each (see
 * ngx_http_nexus_api_call.c): profile, export, address book, store
 * applications and staff, and the operators' store and user management.
 * Here they are just their body's field lists; the SQL filters by the
 * caller, which is where object-level authorization happens.
 */

#include "ngx_http_nexus.h"


#define STRING    NGX_HTTP_NEXUS_FIELD_STRING
#define EMAIL     NGX_HTTP_NEXUS_FIELD_EMAIL
#define SLUG      NGX_HTTP_NEXUS_FIELD_SLUG
#define UPPER     NGX_HTTP_NEXUS_FIELD_UPPER
#define ENUM      NGX_HTTP_NEXUS_FIELD_ENUM
#define URL       NGX_HTTP_NEXUS_FIELD_URL
#define BOOL      NGX_HTTP_NEXUS_FIELD_BOOL
#define OBJECT    NGX_HTTP_NEXUS_FIELD_OBJECT
#define REQUIRED  NGX_HTTP_NEXUS_FIELD_REQUIRED


static const ngx_http_nexus_field_t  ngx_http_nexus_profile_fields[] = {
    { "name",        STRING, 0, 1, 200, NULL },
    { "phone",       STRING, 0, 3, 40, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

#define NGX_HTTP_NEXUS_ADDRESS_FIELDS(req)                                    \
    { "kind",        ENUM,   req, 1, 20, "shipping\0billing\0" },            \
    { "is_default",  BOOL,   0, 0, 0, NULL },                                \
    { "full_name",   STRING, req, 1, 200, NULL },                            \
    { "company",     STRING, 0, 1, 200, NULL },                              \
    { "line1",       STRING, req, 1, 200, NULL },                            \
    { "line2",       STRING, 0, 1, 200, NULL },                              \
    { "city",        STRING, req, 1, 100, NULL },                            \
    { "region",      STRING, 0, 1, 100, NULL },                              \
    { "postal_code", STRING, 0, 1, 20, NULL },                               \
    { "country",     UPPER,  req, 2, 2, NULL },                              \
    { "phone",       STRING, 0, 3, 40, NULL },                               \
    { NULL, 0, 0, 0, 0, NULL }

static const ngx_http_nexus_field_t  ngx_http_nexus_address_new_fields[] = {
    NGX_HTTP_NEXUS_ADDRESS_FIELDS(REQUIRED)
};

static const ngx_http_nexus_field_t  ngx_http_nexus_address_fields[] = {
    NGX_HTTP_NEXUS_ADDRESS_FIELDS(0)
};

static const ngx_http_nexus_field_t  ngx_http_nexus_store_fields[] = {
    { "name",           STRING, REQUIRED, 1, 200, NULL },
    { "slug",           SLUG,   REQUIRED, 3, 100, NULL },
    { "description",    STRING, 0, 1, 2000, NULL },
    { "website",        URL,    0, 10, 500, NULL },
    { "country",        UPPER,  REQUIRED, 2, 2, NULL },
    { "contact_email",  EMAIL,  REQUIRED, 3, 254, NULL },
    { "currency",       UPPER,  0, 3, 3, NULL },
    { "payout_method",  ENUM,   REQUIRED, 1, 20,
      "bank_transfer\0paypal\0stripe\0chapa\0" },
    { "payout_details", OBJECT, 0, 0, 10, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_staff_fields[] = {
    { "email",       EMAIL,  REQUIRED, 3, 254, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_reason_fields[] = {
    { "reason",      STRING, REQUIRED, 1, 500, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_user_admin_fields[] = {
    { "status",      ENUM,   0, 1, 20, "active\0disabled\0" },
    { "admin",       BOOL,   0, 0, 0, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

static const ngx_http_nexus_field_t  ngx_http_nexus_settings_fields[] = {
    { "store_name",        STRING, 0, 1, 100, NULL },
    { "support_email",     EMAIL,  0, 3, 254, NULL },
    { "registration_open", BOOL,   0, 0, 0, NULL },
    { "default_currency",  UPPER,  0, 3, 3, NULL },
    { NULL, 0, 0, 0, 0, NULL }
};

/* no members at all */
static const ngx_http_nexus_field_t  ngx_http_nexus_no_fields[] = {
    { NULL, 0, 0, 0, 0, NULL }
};


NGX_HTTP_NEXUS_SQL_ENDPOINT(me_get, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(me_update, ngx_http_nexus_profile_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(me_export, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(me_verify_email, ngx_http_nexus_no_fields)

NGX_HTTP_NEXUS_SQL_ENDPOINT(addresses_list, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(address_get, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(address_create, ngx_http_nexus_address_new_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(address_update, ngx_http_nexus_address_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(address_delete, ngx_http_nexus_no_fields)

NGX_HTTP_NEXUS_SQL_ENDPOINT(store_apply, ngx_http_nexus_store_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(seller_stores, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(staff_list, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(staff_add, ngx_http_nexus_staff_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(staff_remove, ngx_http_nexus_no_fields)

NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_stores, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_store_approve, ngx_http_nexus_no_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_store_reject, ngx_http_nexus_reason_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_store_suspend, ngx_http_nexus_reason_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_users, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_user_update,
                            ngx_http_nexus_user_admin_fields)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_audit, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_settings, NULL)
NGX_HTTP_NEXUS_SQL_ENDPOINT(admin_settings_update,
                            ngx_http_nexus_settings_fields)
