/*
 * The catalog version, kept by each worker from PostgreSQL itself.
 *
 * Triggers on every catalog table bump catalog_version_seq and NOTIFY
 * nexus_catalog with the new value, whoever writes (this module, a later
 * write endpoint, or an operator with psql). Each worker keeps one LISTEN
 * connection; cache keys carry the version, so a change makes every older
 * cached response unreachable. While the LISTEN connection is down the
 * version is unknown and the cache is bypassed: a response is never served
 * from a cache that could be stale.
 */

#include "ngx_http_nexus_pg.h"


#define NGX_HTTP_NEXUS_LISTEN_RETRY  1000


typedef struct {
    ngx_http_nexus_pg_conn_t   *pc;
    ngx_event_t                 retry;
    ngx_http_nexus_main_conf_t *conf;
    ngx_log_t                  *log;
    uint64_t                    version;
    unsigned                    known:1;
    unsigned                    failing:1;
} ngx_http_nexus_listen_t;


static void ngx_http_nexus_listen_connect(ngx_event_t *ev);
static void ngx_http_nexus_listen_on_connect(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_listen_on_result(ngx_http_nexus_pg_conn_t *pc,
    PGresult *res, ngx_int_t rc);
static void ngx_http_nexus_listen_on_input(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_listen_on_close(ngx_http_nexus_pg_conn_t *pc,
    ngx_int_t rc);
static void ngx_http_nexus_listen_lost(void);
static void ngx_http_nexus_listen_set(u_char *text, size_t len);


static ngx_http_nexus_listen_t  ngx_http_nexus_listen;


ngx_int_t
ngx_http_nexus_listen_init(ngx_cycle_t *cycle,
    ngx_http_nexus_main_conf_t *nmcf)
{
    ngx_http_nexus_listen_t  *ls;

    ls = &ngx_http_nexus_listen;
    ngx_memzero(ls, sizeof(ngx_http_nexus_listen_t));

    ls->conf = nmcf;
    ls->log = cycle->log;
    ls->retry.handler = ngx_http_nexus_listen_connect;
    ls->retry.data = ls;
    ls->retry.log = cycle->log;
    ls->retry.cancelable = 1;

    /* connect from the event loop, once the worker is up */
    ngx_add_timer(&ls->retry, 1);

    return NGX_OK;
}


void
ngx_http_nexus_listen_exit(void)
{
    ngx_http_nexus_listen_t  *ls;

    ls = &ngx_http_nexus_listen;

    if (ls->retry.timer_set) {
        ngx_del_timer(&ls->retry);
    }

    if (ls->pc) {
        ngx_http_nexus_pg_conn_close(ls->pc);
        ls->pc = NULL;
    }

    ls->known = 0;
}


ngx_int_t
ngx_http_nexus_catalog_version(uint64_t *version)
{
    if (!ngx_http_nexus_listen.known) {
        return NGX_DECLINED;
    }

    *version = ngx_http_nexus_listen.version;

    return NGX_OK;
}


static void
ngx_http_nexus_listen_connect(ngx_event_t *ev)
{
    ngx_http_nexus_listen_t   *ls;
    ngx_http_nexus_pg_conn_t  *pc;

    ls = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    pc = ngx_http_nexus_pg_conn_open(ngx_http_nexus_pg_keywords(),
                                     ngx_http_nexus_pg_values(),
                                     ls->conf->pg_connect_timeout, ls->log);
    if (pc == NULL) {
        ngx_http_nexus_listen_lost();
        return;
    }

    pc->query_timeout = ls->conf->pg_query_timeout;
    pc->on_connect = ngx_http_nexus_listen_on_connect;
    pc->on_result = ngx_http_nexus_listen_on_result;
    pc->on_idle_input = ngx_http_nexus_listen_on_input;
    pc->on_close = ngx_http_nexus_listen_on_close;
    pc->data = ls;

    ls->pc = pc;
}


static void
ngx_http_nexus_listen_on_connect(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_http_nexus_listen_lost();
        return;
    }

    /*
     * LISTEN first, then read the version: no change can slip between;
     * a sequence never called yet is version 0, its first nextval is 1
     */
    if (ngx_http_nexus_pg_conn_send_simple(pc,
            "LISTEN nexus_catalog; "
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
            "FROM catalog_version_seq")
        != NGX_OK)
    {
        ngx_http_nexus_listen_lost();
    }
}


static void
ngx_http_nexus_listen_on_result(ngx_http_nexus_pg_conn_t *pc, PGresult *res,
    ngx_int_t rc)
{
    ngx_str_t    v;
    const char  *msg;

    if (rc != NGX_OK || res == NULL
        || PQresultStatus(res) != PGRES_TUPLES_OK
        || ngx_http_nexus_pg_value(res, 0, 0, &v) != NGX_OK)
    {
        msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

        /* the feed retries every second: say it once per outage */
        if (msg && !ngx_http_nexus_listen.failing) {
            ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                          "nexus: cannot LISTEN for catalog changes: %s",
                          msg);
        }

        ngx_http_nexus_listen.failing = 1;

        ngx_http_nexus_listen_lost();
        return;
    }

    /*
     * The value read at connect may be taken by a transaction that has not
     * committed yet, whose notification will carry that same number: keep
     * connect-time generations apart by their top bit.
     */
    ngx_http_nexus_listen_set(v.data, v.len);
    ngx_http_nexus_listen.version |= (uint64_t) 1 << 63;
    ngx_http_nexus_listen.known = 1;
    ngx_http_nexus_listen.failing = 0;

    /* notifications may have arrived with the reply */
    ngx_http_nexus_listen_on_input(pc, NGX_OK);
}


static void
ngx_http_nexus_listen_on_input(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    PGnotify  *n;

    while ((n = PQnotifies(pc->conn)) != NULL) {
        ngx_http_nexus_listen_set((u_char *) n->extra,
                                  ngx_strlen(n->extra));
        PQfreemem(n);
    }

    if (PQstatus(pc->conn) != CONNECTION_OK) {
        ngx_http_nexus_listen_lost();
    }
}


static void
ngx_http_nexus_listen_on_close(ngx_http_nexus_pg_conn_t *pc, ngx_int_t rc)
{
    if (rc == NGX_HTTP_NEXUS_PG_TIMEOUT) {
        /* the idle timer: nothing to do, keep listening */
        return;
    }

    ngx_http_nexus_listen_lost();
}


static void
ngx_http_nexus_listen_lost(void)
{
    ngx_http_nexus_listen_t  *ls;

    ls = &ngx_http_nexus_listen;

    if (ls->known) {
        ngx_log_error(NGX_LOG_WARN, ls->log, 0,
                      "nexus: catalog change feed lost; the response cache "
                      "is bypassed until it is back");
    }

    ls->known = 0;

    if (ls->pc) {
        ngx_http_nexus_pg_conn_close(ls->pc);
        ls->pc = NULL;
    }

    if (!ls->retry.timer_set) {
        ngx_add_timer(&ls->retry, NGX_HTTP_NEXUS_LISTEN_RETRY);
    }
}


/*
 * Every notification starts a new generation, even one with a smaller
 * number: sequence values are handed out at nextval, not at commit, so a
 * transaction that took 41 may commit after the one that took 42. All
 * listeners get notifications in commit order, so they agree on the current
 * generation and share cache entries.
 */

static void
ngx_http_nexus_listen_set(u_char *text, size_t len)
{
    off_t  v;

    v = ngx_atoof(text, len);

    if (v == NGX_ERROR) {
        return;
    }

    ngx_http_nexus_listen.version = (uint64_t) v;
}
