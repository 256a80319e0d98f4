/* Private to site/: the site object, per-request context, shared helpers. */
#ifndef KIJI_SITE_INT_H
#define KIJI_SITE_INT_H

#include <pthread.h>

#include "../render/render.h"
#include "site.h"

enum site_route {
	R_FRONT,
	R_ARTICLE,
	R_CATEGORY,
	R_TAG,
	R_STATIC,
	R_MEDIA,
	R_ROBOTS,
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
	struct site_ranked *ranking;
	size_t nranking;
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
};

enum list_kind { LIST_FRONT, LIST_CATEGORY, LIST_TAG, LIST__MAX };

const char *site_mime(const char *path);
const char *site_msg(const struct req *q, enum msg_id id);
const char *site_abs(const struct req *q, const char *path);
void site_render(struct req *q, const char *name, int status);
void site_error(struct req *q, int status);

/* Builds q->root with what every page shows: site, msg, nav, ranking,
 * canonical URL (path NULL: none), page title. */
void site_view_base(struct req *q, const char *title, const char *path);

void site_page_article(struct req *q, int64_t id);
void site_page_listing(struct req *q, enum list_kind kind, const char *slug);
void site_ranking_free(site *s);

#endif
