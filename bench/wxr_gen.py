#!/usr/bin/python3
"""Writes a synthetic WordPress export (WXR 1.2) of any size to stdout, for
`make bench` (bench/import.sh) and for trying `kiji import-wxr` on a big
site. Deterministic for a given --seed.

  bench/wxr_gen.py --posts 10000 --comments 200000 [--seed 1] > big.xml

What it holds, like a long-lived Japanese news blog: 2 authors, 40
categories (some nested), 300 tags, posts with wpautop-style HTML bodies of
a few paragraphs (with a [caption] now and then), 3 tags and a category
each, dates over ten years; comments spread unevenly over the posts (a few
posts get hundreds), a third of them replies to an earlier comment of the
same post (threads several deep), 2% trackbacks and 1% pingbacks, 3%
pending. Streams as it goes: memory stays small whatever the size.
"""

import argparse
import random
import sys
import time

WORDS = ("政府 発表 記事 速報 経済 市場 円安 株価 選挙 与党 野党 首相 会見 国会 "
         "予算 税制 物価 賃金 企業 決算 技術 開発 研究 大学 医療 病院 地震 台風 "
         "気象 交通 鉄道 空港 観光 文化 映画 音楽 野球 サッカー 五輪 外交 "
         "安全保障 条約 裁判 判決 警察 事件 事故 調査 報告 世論 批判 賛成 反対").split()
NICKS = ("名無しさん 通りすがり 匿名希望 ななし 読者A 東京都民 大阪の人 "
         "元記者 経済通 ウォッチャー 野次馬 常連 初心者 古参").split()


def cdata(s):
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sentence(rnd, n):
    return "".join(rnd.choice(WORDS) + rnd.choice(("が", "の", "を", "に", "は", "と"))
                   for _ in range(n)).rstrip("がのをにはと") + "。"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--comments", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    out = sys.stdout
    w = out.write
    base = "https://news.example.jp"
    w('<?xml version="1.0" encoding="UTF-8" ?>\n'
      '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
      'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
      'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
      '<title>ベンチ速報</title>\n<link>%s</link>\n<description>generated</description>\n'
      '<language>ja</language>\n<wp:wxr_version>1.2</wp:wxr_version>\n'
      '<wp:base_site_url>%s</wp:base_site_url>\n<wp:base_blog_url>%s</wp:base_blog_url>\n'
      % (base, base, base))
    for i, (login, name) in enumerate((("editor", "編集部"), ("reporter", "記者"))):
        w("<wp:author><wp:author_id>%d</wp:author_id><wp:author_login>%s</wp:author_login>"
          "<wp:author_email>%s@news.example.jp</wp:author_email>"
          "<wp:author_display_name>%s</wp:author_display_name></wp:author>\n"
          % (i + 1, cdata(login), login, cdata(name)))
    cats = []
    for i in range(40):
        slug = "cat-%d" % i
        parent = cats[i % 8] if i >= 8 else ""
        cats.append(slug)
        w("<wp:category><wp:term_id>%d</wp:term_id><wp:category_nicename>%s"
          "</wp:category_nicename><wp:category_parent>%s</wp:category_parent>"
          "<wp:cat_name>%s</wp:cat_name></wp:category>\n"
          % (i + 1, slug, parent, cdata("%s%d" % (rnd.choice(WORDS), i))))
    tags = ["%s%d" % (rnd.choice(WORDS), i) for i in range(300)]
    for i, t in enumerate(tags):
        w("<wp:tag><wp:term_id>%d</wp:term_id><wp:tag_slug>tag-%d</wp:tag_slug>"
          "<wp:tag_name>%s</wp:tag_name></wp:tag>\n" % (1000 + i, i, cdata(t)))

    # Comments per post: a skewed split of the total (some posts are hot).
    weights = [rnd.paretovariate(1.2) for _ in range(a.posts)]
    total = sum(weights)
    per = [int(a.comments * x / total) for x in weights]
    short = a.comments - sum(per)
    for i in range(short):
        per[i % a.posts] += 1
    t0 = int(time.mktime((2015, 1, 1, 0, 0, 0, 0, 0, 0)))
    span = 10 * 365 * 86400
    cid = 1
    for p in range(a.posts):
        pid = 10 + p
        t = t0 + span * p // max(a.posts, 1)
        d = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
        title = sentence(rnd, 3)[:-1]
        paras = ["<p>" + "".join(sentence(rnd, rnd.randint(4, 9)) for _ in range(rnd.randint(2, 5))) + "</p>"
                 for _ in range(rnd.randint(2, 6))]
        if p % 17 == 0:
            paras.insert(1, '[caption id="attachment_%d" align="aligncenter" width="640"]'
                         '<img src="%s/wp-content/uploads/2020/01/p%d.jpg" width="640" height="360" /> '
                         '出典：%s[/caption]' % (pid, base, p, rnd.choice(WORDS)))
        body = "\n\n".join(paras)
        w("<item>\n<title>%s</title>\n<link>%s/archives/%d</link>\n"
          "<pubDate>%s</pubDate>\n<dc:creator>%s</dc:creator>\n"
          "<guid isPermaLink=\"false\">%s/?p=%d</guid>\n<description></description>\n"
          "<content:encoded>%s</content:encoded>\n<excerpt:encoded><![CDATA[]]></excerpt:encoded>\n"
          "<wp:post_id>%d</wp:post_id>\n<wp:post_date>%s</wp:post_date>\n"
          "<wp:post_date_gmt>%s</wp:post_date_gmt>\n<wp:comment_status>open</wp:comment_status>\n"
          "<wp:ping_status>open</wp:ping_status>\n<wp:post_name>post-%d</wp:post_name>\n"
          "<wp:status>publish</wp:status>\n<wp:post_parent>0</wp:post_parent>\n"
          "<wp:menu_order>0</wp:menu_order>\n<wp:post_type>post</wp:post_type>\n"
          "<wp:post_password></wp:post_password>\n<wp:is_sticky>0</wp:is_sticky>\n"
          % (cdata(title), base, pid, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t)),
             cdata("editor" if p % 3 else "reporter"), base, pid, cdata(body), pid, d, d, p))
        c = cats[rnd.randrange(len(cats))]
        w('<category domain="category" nicename="%s">%s</category>\n' % (c, cdata(c)))
        for k in rnd.sample(range(len(tags)), 3):
            w('<category domain="post_tag" nicename="tag-%d">%s</category>\n' % (k, cdata(tags[k])))
        mine = []
        for j in range(per[p]):
            ct = t + 60 * (j + 1)
            cd = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ct))
            r = rnd.random()
            ctype, nick, url = "", rnd.choice(NICKS), ""
            if r < 0.02:
                ctype, nick, url = "trackback", "ブログ%d" % rnd.randrange(500), \
                    "https://blog%d.example.com/entry/%d" % (rnd.randrange(500), cid)
            elif r < 0.03:
                ctype, nick, url = "pingback", "別のブログ", \
                    "https://ping%d.example.org/%d/" % (rnd.randrange(500), cid)
            parent = 0
            if not ctype and mine and rnd.random() < 0.33:
                parent = rnd.choice(mine)
            approved = "0" if rnd.random() < 0.03 else "1"
            w("<wp:comment>\n<wp:comment_id>%d</wp:comment_id>\n"
              "<wp:comment_author>%s</wp:comment_author>\n"
              "<wp:comment_author_email>%s</wp:comment_author_email>\n"
              "<wp:comment_author_url>%s</wp:comment_author_url>\n"
              "<wp:comment_author_IP>192.0.2.%d</wp:comment_author_IP>\n"
              "<wp:comment_date>%s</wp:comment_date>\n<wp:comment_date_gmt>%s</wp:comment_date_gmt>\n"
              "<wp:comment_content>%s</wp:comment_content>\n"
              "<wp:comment_approved>%s</wp:comment_approved>\n<wp:comment_type>%s</wp:comment_type>\n"
              "<wp:comment_parent>%d</wp:comment_parent>\n<wp:comment_user_id>0</wp:comment_user_id>\n"
              "</wp:comment>\n"
              % (cid, cdata(nick), "" if ctype else "r%d@example.net" % rnd.randrange(50000),
                 url, rnd.randrange(1, 255), cd, cd,
                 cdata("".join(sentence(rnd, rnd.randint(2, 6)) for _ in range(rnd.randint(1, 3)))),
                 approved, ctype, parent))
            if not ctype:
                mine.append(cid)
            cid += 1
        w("</item>\n")
    w("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
