/*
 * XML-RPC as Pingback 1.0 uses it (pingback.ping with two strings, a
 * string or a fault back), and TrackBack's <response> answers. Input is
 * capped at 64 KiB and refused outright when it carries a DOCTYPE or an
 * ENTITY declaration, so no entity is ever declared, let alone expanded
 * (billion laughs, external entities); libxml2 then parses with network
 * access off and a SAX hook that stops it should an internal subset get
 * through anyway. Output is written by escaping helpers only.
 */
#include "net.h"

#include <errno.h>
#include <limits.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NET_XMLRPC_MAX (64 * 1024)
#define NET_METHOD_MAX 128
#define NET_XML_OPTIONS                                                    \
	(XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |          \
	    XML_PARSE_NOWARNING)

static pthread_once_t xr_once = PTHREAD_ONCE_INIT;

/* ---- reading ------------------------------------------------------------ */

/* What libxml2 may see: within the cap, an ASCII-compatible encoding
 * (no NUL, so no UTF-16/32 that would hide a DOCTYPE from the scan
 * below; the first thing after a BOM and blanks is '<') and no markup
 * declaration at all. */
static bool
xr_precheck(const char *s, size_t n, size_t max)
{
	size_t i = 0;

	if (n == 0 || n > max || memchr(s, '\0', n) != NULL)
		return false;
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
	    s[i] == '\n'))
		i++;
	if (i == n || s[i] != '<')
		return false;
	for (; i + 2 < n; i++)
		if (s[i] == '<' && s[i + 1] == '!' &&
		    (strncasecmp(s + i + 2, "DOCTYPE", n - i - 2 < 7 ?
		    n - i - 2 : 7) == 0 ||
		    strncasecmp(s + i + 2, "ENTITY", n - i - 2 < 6 ?
		    n - i - 2 : 6) == 0))
			return false;
	return true;
}

/* A DTD got past the scan: stop right there. */
static void
xr_no_dtd(void *ctx, const xmlChar *name, const xmlChar *ext,
    const xmlChar *sys)
{
	xmlStopParser((xmlParserCtxtPtr)ctx);
}

/* Parses s into a tree; NULL unless well-formed and free of any DTD. */
static xmlDocPtr
xr_read(const char *s, size_t n, size_t max)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if (!xr_precheck(s, n, max))
		return NULL;
	pthread_once(&xr_once, xmlInitParser);
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return NULL;
	ctxt->sax->internalSubset = xr_no_dtd;
	ctxt->sax->externalSubset = xr_no_dtd;
	doc = xmlCtxtReadMemory(ctxt, s, (int)n, NULL, NULL, NET_XML_OPTIONS);
	if (doc != NULL && (!ctxt->wellFormed || ctxt->disableSAX ||
	    doc->intSubset != NULL || doc->extSubset != NULL)) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

static bool
xr_is(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns == NULL &&
	    strcmp((const char *)n->name, name) == 0;
}

static bool
xr_blank(const xmlChar *s)
{
	for (; s != NULL && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

/* The element children of n, at most max of them, into kids; -1 when n
 * holds text other than white space between them, or more than max. */
static int
xr_kids(xmlNodePtr n, xmlNodePtr *kids, int max)
{
	int k = 0;

	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (k == max)
				return -1;
			kids[k++] = c;
		} else if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) {
			if (!xr_blank(c->content))
				return -1;
		}
	}
	return k;
}

/* The text of n, which must hold no elements: into a, or NULL (also
 * when it holds a control character other than tab and newlines). */
static const char *
xr_text(xmlNodePtr n, arena *a)
{
	buf b;
	const char *r = NULL;

	buf_init(&b, NET_XMLRPC_MAX);
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			goto err;
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
			buf_puts(&b, (const char *)c->content);
	}
	/* XML 1.1 could smuggle C0 controls in as references */
	if (b.err || !text_clean(b.ptr, b.len))
		goto err;
	r = arena_strndup(a, b.len ? b.ptr : "", b.len);
err:
	buf_free(&b);
	return r;
}

/* s without leading and trailing XML white space, in a. */
static const char *
xr_trim(arena *a, const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return arena_strndup(a, s, n);
}

/* An XML-RPC <value>: *type is the name of its type element ("string"
 * for bare text), *text its text (NULL for struct and array, whose
 * element is *inner). false when malformed. */
static bool
xr_value(xmlNodePtr v, arena *a, const char **type, const char **text,
    xmlNodePtr *inner)
{
	xmlNodePtr k[1];

	*inner = NULL;
	*text = NULL;
	if (!xr_is(v, "value"))
		return false;
	for (xmlNodePtr c = v->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			goto typed;
	*type = "string";
	return (*text = xr_text(v, a)) != NULL;
typed:
	if (xr_kids(v, k, 1) != 1 || k[0]->ns != NULL)
		return false;
	*type = (const char *)k[0]->name;
	*inner = k[0];
	if (strcmp(*type, "struct") == 0 || strcmp(*type, "array") == 0)
		return true;
	return (*text = xr_text(k[0], a)) != NULL;
}

/* A method name as XML-RPC allows: letters, digits, _ . : / */
static bool
xr_method_ok(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > NET_METHOD_MAX)
		return false;
	for (; *m; m++)
		if (!((*m >= 'a' && *m <= 'z') || (*m >= 'A' && *m <= 'Z') ||
		    (*m >= '0' && *m <= '9') || *m == '_' || *m == '.' ||
		    *m == ':' || *m == '/'))
			return false;
	return true;
}

int
net_xmlrpc_parse_call(const char *body, size_t len, arena *a,
    const char **method, const char **source, const char **target)
{
	xmlDocPtr doc;
	xmlNodePtr root, top[2], params[3];
	const char *str[2] = {NULL, NULL};
	int ntop, np = 0, rc = NET_XMLRPC_PARSE;

	*method = *source = *target = "";
	if ((doc = xr_read(body, len, NET_XMLRPC_MAX)) == NULL)
		return NET_XMLRPC_PARSE;
	root = xmlDocGetRootElement(doc);
	if (!xr_is(root, "methodCall") || (ntop = xr_kids(root, top, 2)) < 1 ||
	    !xr_is(top[0], "methodName") ||
	    (ntop == 2 && !xr_is(top[1], "params")))
		goto err;
	const char *m = xr_text(top[0], a);
	if (m == NULL || !xr_method_ok(m = xr_trim(a, m)))
		goto err;
	if (ntop == 2 && (np = xr_kids(top[1], params, 3)) < 0)
		goto err;
	for (int i = 0; i < np; i++) {
		xmlNodePtr v[1], inner;
		const char *type, *text;
		if (!xr_is(params[i], "param") ||
		    xr_kids(params[i], v, 1) != 1 ||
		    !xr_value(v[0], a, &type, &text, &inner))
			goto err;
		if (i < 2)
			str[i] = strcmp(type, "string") == 0 ? text : NULL;
	}
	*method = m;
	rc = 0;
	if (strcmp(m, "pingback.ping") == 0) {
		if (np != 2 || str[0] == NULL || str[1] == NULL) {
			rc = NET_XMLRPC_BAD_PARAMS;
			goto err;
		}
		*source = str[0];
		*target = str[1];
	}
err:
	xmlFreeDoc(doc);
	return rc;
}

/* An integer as XML-RPC writes one (optional sign, digits). */
static bool
xr_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+'))
		return false;
	v = strtol(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (errno || *end != '\0' || end == s || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

/* The fault struct of a methodResponse: its code (NET_XMLRPC_APP_FAULT
 * when 0, missing or not an integer) and string; false when malformed. */
static bool
xr_fault(xmlNodePtr st, arena *a, int *codep, const char **message)
{
	int code = NET_XMLRPC_APP_FAULT;
	xmlNodePtr mem[16];
	int nm = xr_kids(st, mem, 16);

	if (nm < 0)
		return false;
	for (int i = 0; i < nm; i++) {
		xmlNodePtr kv[2], inner;
		const char *name, *type, *text;
		if (!xr_is(mem[i], "member") || xr_kids(mem[i], kv, 2) != 2 ||
		    !xr_is(kv[0], "name") ||
		    (name = xr_text(kv[0], a)) == NULL ||
		    !xr_value(kv[1], a, &type, &text, &inner))
			return false;
		name = xr_trim(a, name);
		if (strcmp(name, "faultCode") == 0 && text != NULL &&
		    (strcmp(type, "int") == 0 || strcmp(type, "i4") == 0)) {
			int c;
			if (xr_int(text, &c) && c != 0)
				code = c;
		} else if (strcmp(name, "faultString") == 0 && text != NULL) {
			*message = text;
		}
	}
	*codep = code;
	return true;
}

int
net_xmlrpc_parse_response(const char *body, size_t len, arena *a,
    const char **message)
{
	xmlDocPtr doc;
	xmlNodePtr root, k[1], p[1], v[1], inner;
	const char *type, *text;
	int rc = NET_XMLRPC_PARSE;

	*message = "";
	if ((doc = xr_read(body, len, NET_XMLRPC_MAX)) == NULL)
		return NET_XMLRPC_PARSE;
	root = xmlDocGetRootElement(doc);
	if (!xr_is(root, "methodResponse") || xr_kids(root, k, 1) != 1)
		goto err;
	if (xr_is(k[0], "params")) {
		if (xr_kids(k[0], p, 1) != 1 || !xr_is(p[0], "param") ||
		    xr_kids(p[0], v, 1) != 1 ||
		    !xr_value(v[0], a, &type, &text, &inner))
			goto err;
		*message = text != NULL ? text : "";
		rc = 0;
	} else if (xr_is(k[0], "fault")) {
		if (xr_kids(k[0], v, 1) != 1 ||
		    !xr_value(v[0], a, &type, &text, &inner) ||
		    strcmp(type, "struct") != 0)
			goto err;
		if (!xr_fault(inner, a, &rc, message)) {
			rc = NET_XMLRPC_PARSE;
			*message = "";
		}
	}
err:
	xmlFreeDoc(doc);
	return rc;
}

int
net_trackback_parse_response(const char *body, size_t len, arena *a,
    const char **message)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	const char *err = NULL, *msg = "";
	int rc = -1, code;

	*message = "";
	if ((doc = xr_read(body, len, NET_XMLRPC_MAX)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!xr_is(root, "response"))
		goto err;
	/* other elements (some servers echo an <rss> block) are ignored */
	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		const char *t;
		if (xr_is(c, "error") && err == NULL)
			err = xr_text(c, a);
		else if (xr_is(c, "message") && *msg == '\0' &&
		    (t = xr_text(c, a)) != NULL)
			msg = xr_trim(a, t);
	}
	if (err == NULL || !xr_int(err, &code))
		goto err;
	rc = code != 0;
	if (rc)
		*message = msg;
err:
	xmlFreeDoc(doc);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

void
net_xml_text(buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = 1;
		if (*p >= 0x80) {
			/* the length of a well-formed sequence, else 0 */
			size_t want = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			size_t have = strnlen((const char *)p, want);
			n = have == want && text_utf8_valid((const char *)p,
			    want) ? want : 0;
			if (n == 0) {
				p++; /* an invalid byte: dropped */
				continue;
			}
			buf_put(out, p, n);
		} else if (*p == '&') {
			buf_puts(out, "&amp;");
		} else if (*p == '<') {
			buf_puts(out, "&lt;");
		} else if (*p == '>') {
			buf_puts(out, "&gt;");
		} else if (*p == '"') {
			buf_puts(out, "&quot;");
		} else if (*p == '\'') {
			buf_puts(out, "&#39;");
		} else if (*p == '\r') {
			buf_puts(out, "&#13;"); /* survives end-of-line
			                         * normalisation */
		} else if (*p >= 0x20 || *p == '\t' || *p == '\n') {
			buf_putc(out, (char)*p);
		} /* other C0 controls are not XML 1.0 characters */
		p += n;
	}
}

static const char xr_decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

void
net_xmlrpc_success(buf *out, const char *message)
{
	buf_puts(out, xr_decl);
	buf_puts(out, "<methodResponse><params><param><value><string>");
	net_xml_text(out, message);
	buf_puts(out, "</string></value></param></params></methodResponse>\n");
}

void
net_xmlrpc_fault(buf *out, int code, const char *message)
{
	buf_puts(out, xr_decl);
	buf_printf(out, "<methodResponse><fault><value><struct>"
	    "<member><name>faultCode</name><value><int>%d</int></value>"
	    "</member><member><name>faultString</name><value><string>",
	    code);
	net_xml_text(out, message);
	buf_puts(out, "</string></value></member></struct></value></fault>"
	    "</methodResponse>\n");
}

void
net_xmlrpc_pingback_call(buf *out, const char *source, const char *target)
{
	buf_puts(out, xr_decl);
	buf_puts(out, "<methodCall><methodName>pingback.ping</methodName>"
	    "<params><param><value><string>");
	net_xml_text(out, source);
	buf_puts(out, "</string></value></param><param><value><string>");
	net_xml_text(out, target);
	buf_puts(out, "</string></value></param></params></methodCall>\n");
}

void
net_trackback_reply(buf *out, const char *message)
{
	buf_puts(out, xr_decl);
	if (message == NULL) {
		buf_puts(out, "<response><error>0</error></response>\n");
		return;
	}
	buf_puts(out, "<response><error>1</error><message>");
	net_xml_text(out, message);
	buf_puts(out, "</message></response>\n");
}
