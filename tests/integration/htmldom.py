"""A small DOM over the standard library's html.parser, with the CSS
selector subset the tests need: tag, #id, .class, [attr], [attr=v],
[attr~=v], [attr^=v], [attr$=v], [attr*=v], and the descendant (' ') and
child ('>') combinators, plus ',' lists. Stdlib only, so the suite needs
nothing beyond Debian's python3."""

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
# Elements whose start tag implicitly closes an open one of these.
IMPLIED_END = {"p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"},
               "option": {"option"}, "tr": {"tr"}, "td": {"td", "th"},
               "th": {"td", "th"}}
BLOCK_CLOSES_P = {"address", "article", "aside", "blockquote", "div", "dl",
                  "fieldset", "figure", "footer", "form", "h1", "h2", "h3",
                  "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p",
                  "pre", "section", "table", "ul", "figcaption"}


class Node:
    __slots__ = ("tag", "attrs", "children", "parent", "data", "index")

    def __init__(self, tag, attrs=None, parent=None, data=None):
        self.tag = tag          # None for text nodes
        self.attrs = attrs or {}
        self.children = []
        self.parent = parent
        self.data = data        # text for text nodes
        self.index = 0          # document order

    # ---- navigation -------------------------------------------------------
    def elements(self):
        """Every descendant element in document order."""
        stack = list(reversed(self.children))
        while stack:
            n = stack.pop()
            if n.tag is None:
                continue
            yield n
            stack.extend(reversed(n.children))

    def child_elements(self):
        return [c for c in self.children if c.tag is not None]

    def ancestors(self):
        p = self.parent
        while p is not None:
            yield p
            p = p.parent

    def closest(self, selector):
        """Nearest ancestor (not self) matching selector, or None."""
        groups = parse_selector(selector)
        for a in self.ancestors():
            if a.tag and a.tag != "#document" and any(_match(a, g, len(g) - 1) for g in groups):
                return a
        return None

    def matches(self, selector):
        return any(_match(self, g, len(g) - 1) for g in parse_selector(selector))

    def select(self, selector):
        groups = parse_selector(selector)
        return [e for e in self.elements()
                if any(_match(e, g, len(g) - 1, self) for g in groups)]

    def select_one(self, selector):
        r = self.select(selector)
        return r[0] if r else None

    def get(self, name, default=None):
        return self.attrs.get(name, default)

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    @property
    def id(self):
        return self.attrs.get("id")

    def text(self):
        out = []
        stack = [self]
        while stack:
            n = stack.pop()
            if n.tag is None:
                out.append(n.data)
            else:
                stack.extend(reversed(n.children))
        return "".join(out)

    def text_norm(self):
        """Text with whitespace runs collapsed and ends stripped."""
        return re.sub(r"\s+", " ", self.text()).strip()

    def __repr__(self):
        if self.tag is None:
            return "Text(%r)" % self.data[:30]
        a = "".join(' %s="%s"' % kv for kv in self.attrs.items())
        return "<%s%s>" % (self.tag, a)


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]
        self.count = 0

    def _add(self, node):
        self.count += 1
        node.index = self.count
        node.parent = self.stack[-1]
        self.stack[-1].children.append(node)

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        closes = IMPLIED_END.get(tag, set())
        if tag in BLOCK_CLOSES_P:
            closes = closes | {"p"}
        if closes and self.stack[-1].tag in closes:
            self.stack.pop()
        d = {}
        for k, v in attrs:
            d.setdefault(k.lower(), v if v is not None else "")
        n = Node(tag, d)
        self._add(n)
        if tag not in VOID:
            self.stack.append(n)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag.lower() not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        tag = tag.lower()
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return
        # stray end tag: ignored, as browsers do

    def handle_data(self, data):
        if not data:
            return
        self._add(Node(None, data=data))


def parse(html):
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    b = _Builder()
    b.feed(html)
    b.close()
    return b.root


# ---- selectors ----------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s*>\s*|\s+)
  | (?P<tag>\*|[a-zA-Z][a-zA-Z0-9-]*)
  | \#(?P<id>[A-Za-z0-9_-]+)
  | \.(?P<cls>[A-Za-z0-9_-]+)
  | \[\s*(?P<an>[A-Za-z_:][-A-Za-z0-9_:.]*)\s*
        (?:(?P<op>[~^$*|]?=)\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\]\s]+))\s*)?\]
""", re.X)

_cache = {}


def parse_selector(sel):
    """'a b > c.d, e' -> [[(None, cmp_a), (' ', cmp_b), ('>', cmp_cd)], [...]]"""
    if sel in _cache:
        return _cache[sel]
    groups = []
    for part in sel.split(","):
        part = part.strip()
        seq = []
        comb = None
        cur = None
        pos = 0
        while pos < len(part):
            m = _TOKEN.match(part, pos)
            if not m:
                raise ValueError("bad selector %r at %d" % (sel, pos))
            pos = m.end()
            if m.group("ws") is not None:
                if cur is not None:
                    seq.append((comb, cur))
                    cur = None
                comb = ">" if ">" in m.group("ws") else " "
                continue
            if cur is None:
                cur = {"tag": None, "id": None, "cls": [], "attrs": []}
            if m.group("tag"):
                cur["tag"] = m.group("tag").lower()
            elif m.group("id"):
                cur["id"] = m.group("id")
            elif m.group("cls"):
                cur["cls"].append(m.group("cls"))
            else:
                val = m.group("dq")
                if val is None:
                    val = m.group("sq")
                if val is None:
                    val = m.group("uq")
                cur["attrs"].append((m.group("an").lower(), m.group("op"), val))
        if cur is not None:
            seq.append((comb, cur))
        if not seq:
            raise ValueError("empty selector %r" % sel)
        seq[0] = (None, seq[0][1])
        groups.append(seq)
    _cache[sel] = groups
    return groups


def _compound(n, c):
    if n.tag is None or n.tag == "#document":
        return False
    if c["tag"] and c["tag"] != "*" and n.tag != c["tag"]:
        return False
    if c["id"] and n.attrs.get("id") != c["id"]:
        return False
    if c["cls"]:
        have = n.classes
        if any(x not in have for x in c["cls"]):
            return False
    for name, op, val in c["attrs"]:
        if name not in n.attrs:
            return False
        v = n.attrs[name]
        if op is None:
            continue
        if op == "=" and v != val:
            return False
        if op == "~=" and val not in v.split():
            return False
        if op == "^=" and not v.startswith(val):
            return False
        if op == "$=" and not v.endswith(val):
            return False
        if op == "*=" and val not in v:
            return False
        if op == "|=" and not (v == val or v.startswith(val + "-")):
            return False
    return True


def _match(n, seq, i, scope=None):
    comb, comp = seq[i]
    if not _compound(n, comp):
        return False
    if i == 0:
        return True
    if comb == ">":
        p = n.parent
        return p is not None and _match(p, seq, i - 1, scope)
    for a in n.ancestors():
        if _match(a, seq, i - 1, scope):
            return True
    return False
