/*
 * Password checks off the event loops. An Argon2id check takes tens of
 * milliseconds and as much memory as a small site; done on an HTTP thread
 * it would stall every reader on that thread, so a stream of login
 * attempts from many addresses could slow the whole site. The login
 * handler defers its request (http_defer) and queues the check here; one
 * of ACCOUNT_HASH_SLOTS threads runs it and resumes the request, whose
 * answer is then finished on its own thread.
 */
#include "admin_int.h"

#include <pthread.h>
#include <stdlib.h>

/* Checks waiting at most; past it a login is told to come back (a burst
 * of attempts queues no more work than a few seconds of hashing). */
#define VERIFY_QUEUE_MAX 32

struct admin_verify {
	struct admin_verify *next;
	store *st;
	const char *name, *password;
	arena *a;
	struct store_user *user;   /* filled on ACCOUNT_OK */
	enum account_err *result;
	void *deferred;            /* http_defer handle to resume */
};

struct admin_verifier {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct admin_verify *head, *tail;
	unsigned len;
	bool stopping;
	pthread_t th[ACCOUNT_HASH_SLOTS];
	int nth;
};

static void *
verifier_main(void *arg)
{
	struct admin_verifier *v = arg;
	pthread_setname_np(pthread_self(), "kiji-login"); /* top -H, perf */

	pthread_mutex_lock(&v->mu);
	for (;;) {
		while (v->head == NULL && !v->stopping)
			pthread_cond_wait(&v->cv, &v->mu);
		if (v->head == NULL)
			break; /* stopping and drained */
		struct admin_verify *j = v->head;
		v->head = j->next;
		if (v->head == NULL)
			v->tail = NULL;
		v->len--;
		pthread_mutex_unlock(&v->mu);
		/* The request is suspended: its arena is ours until resumed. */
		*j->result = account_verify(j->st, j->name, j->password, j->a,
		    j->user);
		http_resume(j->deferred);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

struct admin_verifier *
admin_verifier_new(void)
{
	struct admin_verifier *v = xcalloc(1, sizeof(*v));
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	for (int i = 0; i < ACCOUNT_HASH_SLOTS; i++)
		if (pthread_create(&v->th[v->nth], NULL, verifier_main, v) == 0)
			v->nth++;
	return v;
}

/* Finishes what is queued (every deferred login gets its answer), then
 * stops the threads. Before http_stop: the requests must still exist. */
void
admin_verifier_stop(struct admin_verifier *v)
{
	if (v == NULL || v->stopping)
		return;
	pthread_mutex_lock(&v->mu);
	v->stopping = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	for (int i = 0; i < v->nth; i++)
		pthread_join(v->th[i], NULL);
	v->nth = 0;
}

void
admin_verifier_free(struct admin_verifier *v)
{
	if (v == NULL)
		return;
	admin_verifier_stop(v);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

/*
 * Defers the request and queues account_verify(st, name, password, a,
 * user) into *result; finish(ctx) then runs on the request's own thread.
 * VERIFY_QUEUED, VERIFY_BUSY (too many waiting: answer 429), or
 * VERIFY_INLINE when the request cannot be deferred or the pool is
 * stopping: the caller checks synchronously instead.
 */
enum admin_verify_res
admin_verify_async(struct admin_verifier *v, struct http_req *r, store *st,
    const char *name, const char *password, struct store_user *user,
    enum account_err *result, void (*finish)(void *ctx), void *ctx)
{
	if (v == NULL || v->nth == 0)
		return VERIFY_INLINE;
	struct admin_verify *j = arena_alloc(r->a, sizeof(*j));
	pthread_mutex_lock(&v->mu);
	if (v->stopping) {
		pthread_mutex_unlock(&v->mu);
		return VERIFY_INLINE;
	}
	if (v->len >= VERIFY_QUEUE_MAX) {
		pthread_mutex_unlock(&v->mu);
		return VERIFY_BUSY;
	}
	j->deferred = http_defer(r, finish, ctx);
	if (j->deferred == NULL) {
		pthread_mutex_unlock(&v->mu);
		return VERIFY_INLINE;
	}
	j->st = st;
	j->name = name;
	j->password = password;
	j->a = r->a;
	j->user = user;
	j->result = result;
	if (v->tail)
		v->tail->next = j;
	else
		v->head = j;
	v->tail = j;
	v->len++;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mu);
	return VERIFY_QUEUED;
}
