/* Private to site/: the site object, per-request context, shared helpers. */
#ifndef KIJI_SITE_INT_H
#define KIJI_SITE_INT_H

#include <pthread.h>

#include "../cache/cache.h"
#include "../render/render.h"
#include "guard.h"
#include "site.h"

enum site_route {
	R_FRONT,
	R_ARTICLE,
	R_CATEGORY,
	R_TAG,
	R_STATIC,
	R_MEDIA,
	R_ROBOTS,
	R_POST_COMMENT,
	R_LIKE,
	R_UNLIKE,
	R_API_COMMENTS,
	R_API_POST_COMMENT,
	R_COMMENT_FEED,
	R__MAX
};

struct site_static {
	char *name;       /* path below static/ */
	char *data;
	size_t len;
	const char *type;
	char etag[24];
};

/* The popular ranking, recomputed at most once a minute. */
struct site_ranked {
	int64_t id;
	char *title;
	char *cat_name;
	char *cat_slug;
};

struct site {
	store *st;
	tmpl_set *tmpl;
	struct site_static *statics;
	size_t nstatics;
	char static_v[16]; /* changes when any static file changes */
	pthread_mutex_t mu; /* guards conf, retired, ranking */
	struct site_conf *conf;
	struct site_conf **retired;
	size_t nretired;
	guard_ngwords *ng;  /* compiled from the current conf */
	guard_ngwords **retired_ng;
	size_t nretired_ng;
	unsigned char key[GUARD_KEY_BYTES]; /* site secret: cookies, tokens */
	guard_limiter *lim_comment;
	guard_limiter *lim_like;
	struct site_ranked *ranking;
	size_t nranking;
	cache *cache;
	pthread_mutex_t sync_mu; /* guards change_seq, next_publish */
	int64_t change_seq;      /* last change_log row acted on */
	int64_t pruned_seq;
	int64_t next_publish;    /* when a scheduled article goes live */
	int64_t ranking_at;
};

/* One request as the handlers see it. */
struct req {
	site *s;
	struct http_req *r;
	struct http_resp *w;
	const struct site_conf *c;
	enum msg_lang lang;
	tv *root; /* the view model being built */
	bool nocache;         /* a handler says: this answer must not be cached */
	int64_t tags[96];     /* cache tags of the page being built */
	size_t ntags;
};

/* Cache tags: a page showing article X's comments or likes, and a listing
 * or feed showing X (its comment count). */
#define TAG_ARTICLE(x) ((int64_t)(x) * 2)
#define TAG_LISTED(x) ((int64_t)(x) * 2 + 1)
void site_tag(struct req *q, int64_t tag);
/* Acts on the change log now (after this thread's own writes). */
void site_sync(site *s, bool force);

enum list_kind { LIST_FRONT, LIST_CATEGORY, LIST_TAG, LIST__MAX };

const char *site_mime(const char *path);
const char *site_msg(const struct req *q, enum msg_id id);
const char *site_abs(const struct req *q, const char *path);
void site_render(struct req *q, const char *name, int status);
void site_render_as(struct req *q, const char *name, int status,
    const char *content_type);
void site_error(struct req *q, int status);

/* Builds q->root with what every page shows: site, msg, nav, ranking,
 * canonical URL (path NULL: none), page title. */
void site_view_base(struct req *q, const char *title, const char *path);
void site_view_msgs(struct req *q, tv *root);

/* Form fields (token, parent, typed text) into q->root.form. */
void site_view_form(struct req *q, int64_t article_id, int64_t parent,
    const char *nickname, const char *body);
const guard_ngwords *site_ngwords(struct req *q);
/* One comment's view model, for the page and for the API's html field. */
tv *site_comment_node(struct req *q, const struct store_comment *c,
    int64_t article_id, bool liked, buf *scratch);

void site_page_article(struct req *q, int64_t id);
void site_page_listing(struct req *q, enum list_kind kind, const char *slug);
void site_ranking_free(site *s);

/* ---- comments.c ---------------------------------------------------------- */

/* Why a comment was refused. */
enum cerr {
	CE_OK,
	CE_EMPTY_BODY,
	CE_BODY_LONG,
	CE_NICK_LONG,
	CE_BAD_TEXT,      /* control characters, NUL */
	CE_NO_PARENT,     /* unknown, other article, not approved */
	CE_TOKEN_MISSING,
	CE_TOKEN_INVALID,
	CE_TOKEN_EXPIRED,
	CE_TOO_FAST,      /* JS stamp younger than the minimum fill time */
	CE_SPAM,          /* honeypot filled, malformed stamp */
	CE_NG,            /* NG word with ng_action = reject */
	CE_CLOSED,
	CE_RATE,          /* per-IP token bucket empty (Retry-After set) */
	CE_CROSS_ORIGIN,
	CE_BAD_JSON,
	CE_STORE,         /* database busy or failing */
	CE__MAX
};

/* One comment as submitted (form or JSON), before validation. */
struct comment_in {
	const char *nickname;
	const char *body;
	const char *token;
	const char *honeypot;
	const char *opened; /* JS stamp: epoch seconds the form was opened */
	int64_t parent;
};

int cerr_status(enum cerr e);
const char *cerr_message(struct req *q, enum cerr e);
const char *visitor_get(struct req *q, bool create);
bool visitor_has_pending(struct req *q, int64_t article_id);
enum cerr comment_submit(struct req *q, const struct store_article *art,
    const struct comment_in *in, int64_t *cid, enum store_cstatus *status);
void site_post_comment(struct req *q, int64_t article_id);
void site_post_like(struct req *q, int64_t cid, bool like);
void site_api_comments(struct req *q, int64_t article_id);
void site_api_post_comment(struct req *q, int64_t article_id);
void api_error(struct req *q, enum cerr e);
void api_error_status(struct req *q, int status, const char *code,
    const char *msg);
void site_comment_feed(struct req *q, int64_t article_id);

#endif
