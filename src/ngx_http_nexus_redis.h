/*
 * The asynchronous Redis core: hiredis contexts attached to nginx events by
 * the module's own adapter, with per-command timeouts on nginx timers.
 */

#ifndef _NGX_HTTP_NEXUS_REDIS_H_INCLUDED_
#define _NGX_HTTP_NEXUS_REDIS_H_INCLUDED_


#include "ngx_http_nexus.h"
#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef struct ngx_http_nexus_redis_cmd_s  ngx_http_nexus_redis_cmd_t;

/* reply is NULL when Redis failed or timed out */
typedef void (*ngx_http_nexus_redis_reply_pt)(void *data, redisReply *reply);


ngx_int_t ngx_http_nexus_redis_init_process(ngx_cycle_t *cycle,
    ngx_http_nexus_main_conf_t *nmcf);
void ngx_http_nexus_redis_exit_process(void);

/*
 * Sends a command. Returns the command (to cancel it if the caller goes
 * away first), or NULL when Redis is not configured or known to be down:
 * the caller then goes on without it. handler may be NULL (fire and forget).
 */
ngx_http_nexus_redis_cmd_t *ngx_http_nexus_redis_command(
    ngx_http_nexus_redis_reply_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
void ngx_http_nexus_redis_cancel(ngx_http_nexus_redis_cmd_t *cmd);


#endif /* _NGX_HTTP_NEXUS_REDIS_H_INCLUDED_ */
