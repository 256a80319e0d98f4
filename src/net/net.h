/*
 * net: traffic kiji starts itself (verifying incoming pings, sending
 * outgoing ones; later CDN purges and mail). Every fetch goes through
 * net_fetch: libcurl with size, time and redirect limits, http and https
 * only, and the peer address checked when each socket is opened
 * (CURLOPT_OPENSOCKETFUNCTION), on every redirect hop, so a name that
 * resolves to a private, link-local or loopback address is refused even
 * when it changed since the last lookup (DNS rebinding).
 *
 * The parsers here see bytes from other sites: endpoint discovery, the
 * "does the source link to the target" check and XML-RPC. Each bounds
 * its input before parsing and has a libFuzzer target.
 */
#ifndef KIJI_NET_H
#define KIJI_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../text/text.h"

/* ---- fetching (fetch.c) ------------------------------------------------------- */

struct net_limits {
	size_t max_bytes;        /* body cap; more is NET_TOO_BIG (0: 1 MiB) */
	long timeout_ms;         /* the whole transfer (0: 10,000) */
	long connect_timeout_ms; /* (0: 5,000) */
	int max_redirects;       /* (0: 5; -1: none followed) */
	int per_host_minute;     /* fetches per host per minute across the
	                          * process, counted on the host of the URL
	                          * asked for (0: 6; -1: no limit) */
	bool allow_loopback;     /* tests only (setting net.allow_loopback):
	                          * 127.0.0.0/8 and ::1 allowed; private and
	                          * link-local ranges stay refused */
	const char *user_agent;  /* NULL: "kiji/VERSION (+site URL unknown)" */
};

enum net_err {
	NET_OK,
	NET_BAD_URL,   /* not http(s), no host, too long (> 2048 bytes), or
	                * user:password@ in it */
	NET_REFUSED,   /* an address kiji must not connect to */
	NET_RATE,      /* the host's per-minute budget is spent */
	NET_TOO_BIG,   /* body larger than max_bytes */
	NET_TIMEOUT,
	NET_FAILED,    /* DNS, connect, TLS, protocol, too many redirects */
	NET__MAX
};

struct net_response {
	long status;              /* HTTP status of the last hop */
	const char *url;          /* effective URL (after redirects) */
	const char *content_type; /* "" when none */
	const char *link;         /* every Link header of the last hop,
	                           * joined with ", " ("" when none) */
	const char *x_pingback;   /* X-Pingback header ("" when none) */
	const char *body;         /* NUL-terminated, in the caller's arena */
	size_t len;
};

/* GET url (body NULL) or POST body with content_type (NULL: form
 * urlencoded). lim NULL: every default. out's strings are in a (all ""
 * unless NET_OK). err (may be NULL) gets a one-line reason for anything
 * but NET_OK (a non-2xx status is NET_OK: look at out->status).
 * Thread-safe. */
enum net_err net_fetch(const struct net_limits *lim, const char *url,
    const char *content_type, const char *body, size_t len, arena *a,
    struct net_response *out, buf *err);

/* Whether kiji may connect to this address (sockaddr_in / sockaddr_in6):
 * false for loopback (unless allow_loopback), private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT
 * (100.64/10), unspecified, multicast, broadcast, 0/8, and IPv4-mapped
 * forms of these. */
struct sockaddr;
bool net_addr_allowed(const struct sockaddr *sa, bool allow_loopback);

#ifdef KIJI_TEST_HOOKS
/* Test builds only: 127.0.0.1 on this port counts as a public address
 * (0: off), so a loopback server can play a remote site whose redirect
 * to loopback must be refused. */
void net_test_public_port(int port);
#endif

/* Called once at start (curl_global_init) and at exit. */
bool net_init(void);
void net_cleanup(void);

/* ---- discovery (discover.c) ---------------------------------------------------- */

/* The ping endpoints a fetched page announces, absolute URLs in a, "" when
 * none: Webmention (Link header rel="webmention", then the first <link> or
 * <a> with rel~=webmention in document order; href="" is the page itself),
 * Pingback (X-Pingback header, then <link rel="pingback">) and TrackBack
 * (an RDF block whose dc:identifier is the page's URL, else the first
 * one, its trackback:ping). Relative URLs resolve against the page's
 * effective URL (and <base href>). Reads at most the first 1 MiB. */
struct net_endpoints {
	const char *webmention;
	const char *pingback;
	const char *trackback;
};
void net_discover(const struct net_response *page, arena *a,
    struct net_endpoints *out);

/* Absolute http(s) links (<a href>) in an HTML body, resolved against
 * base (and <base href>), fragment dropped, each once, in order, at most
 * max; links to base's own origin (our own site) left out. Returns the
 * count. For sending: what an article links to. */
size_t net_links(const char *html, size_t len, const char *base, arena *a,
    const char **out, size_t max);

/* Whether an HTML (or, for text/plain, plain text) source links to target:
 * an <a href>, <img src>, <link href>, <video src>, <audio src> equal to
 * target after resolving against base and normalising (scheme and host
 * case, default port, empty path as "/", percent-escape case; fragment
 * ignored). text/plain: target occurs in the text. HTML, XHTML or no
 * content type: parsed (first 1 MiB); any other type: false. */
bool net_links_to(const char *body, size_t len, const char *content_type,
    const char *base, const char *target);

/* The source page's title (<title>, bounded to 200 characters) and an
 * excerpt of its text around the link to target (bounded to 300
 * characters), plain UTF-8 text, "" when none. For showing a pingback or
 * webmention in the trackback list. */
void net_source_summary(const char *body, size_t len, const char *base,
    const char *target, arena *a, const char **title, const char **excerpt);

/* ---- XML-RPC (xmlrpc.c) -------------------------------------------------------- */

/* Pingback 1.0 fault codes (and XML-RPC's parse error). */
enum {
	NET_PB_GENERIC = 0,
	NET_PB_SOURCE_MISSING = 16,      /* source URI does not exist */
	NET_PB_NO_LINK = 17,             /* source does not link to target */
	NET_PB_TARGET_MISSING = 32,      /* target URI does not exist */
	NET_PB_TARGET_INVALID = 33,      /* target cannot be used */
	NET_PB_ALREADY = 48,             /* already registered */
	NET_PB_DENIED = 49,              /* access denied */
	NET_PB_UPSTREAM = 50,            /* could not talk to the upstream */
	NET_XMLRPC_PARSE = -32700,
	NET_XMLRPC_NO_METHOD = -32601,
	NET_XMLRPC_BAD_PARAMS = -32602,
	NET_XMLRPC_APP_FAULT = -32500,   /* net_xmlrpc_parse_response: a fault
	                                  * whose code is 0 or unreadable (0
	                                  * means success there) */
};

/* Parses a methodCall (at most 64 KiB, no DTD, no entities): sets
 * *method and, for pingback.ping, *source and *target (strings in a;
 * all three "" when not set).
 * Returns 0, or a fault code: NET_XMLRPC_PARSE for anything not a
 * well-formed methodCall, NET_XMLRPC_BAD_PARAMS when pingback.ping does
 * not have exactly two string params. */
int net_xmlrpc_parse_call(const char *body, size_t len, arena *a,
    const char **method, const char **source, const char **target);
/* A methodResponse with one string, or a fault; appended to out. */
void net_xmlrpc_success(buf *out, const char *message);
void net_xmlrpc_fault(buf *out, int code, const char *message);
/* For sending: a pingback.ping methodCall. */
void net_xmlrpc_pingback_call(buf *out, const char *source, const char *target);
/* Reads a methodResponse: 0 on success (a string), the fault code on a
 * fault (*message its string; NET_XMLRPC_APP_FAULT for code 0),
 * NET_XMLRPC_PARSE when unreadable. */
int net_xmlrpc_parse_response(const char *body, size_t len, arena *a,
    const char **message);

/* TrackBack 1.2 answers: parses <response><error>N</error>[<message>]:
 * 0 on success, 1 (with *message) on an error, -1 when unreadable. */
int net_trackback_parse_response(const char *body, size_t len, arena *a,
    const char **message);
/* A TrackBack answer: <error>0</error> when message is NULL, else error 1
 * with message. Appended to out. */
void net_trackback_reply(buf *out, const char *message);

/* Appends s as XML text or attribute value: & < > " ' escaped, C0
 * controls that XML 1.0 forbids and invalid UTF-8 bytes dropped. */
void net_xml_text(buf *out, const char *s);

#endif
