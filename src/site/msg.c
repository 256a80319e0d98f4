/* The interface strings: one table, Japanese first, English beside it. */
#include "site.h"

#include <string.h>

static const struct {
	const char *key; /* {{msg.KEY}} in templates */
	const char *s[LANG__MAX];
} msgs[MSG__MAX] = {
	[MSG_COMMENTS] = {"comments", {"コメント", "Comments"}},
	[MSG_TRACKBACKS] = {"trackbacks", {"トラックバック", "Trackbacks"}},
	[MSG_NO_TRACKBACKS] = {"no_trackbacks",
	    {"この記事へのトラックバックはありません。",
		"There are no trackbacks to this article."}},
	[MSG_TRACKBACK_URL] = {"trackback_url",
	    {"この記事へのトラックバックURL:", "TrackBack URL of this article: "}},
	[MSG_RELATED] = {"related", {"関連記事", "Related articles"}},
	[MSG_RANKING] = {"ranking", {"人気記事", "Popular"}},
	[MSG_PREV] = {"prev", {"前のページ", "Previous"}},
	[MSG_NEXT] = {"next", {"次のページ", "Next"}},
	[MSG_PAGE_TOP] = {"page_top", {"PAGE TOP", "PAGE TOP"}},
	[MSG_SOURCE] = {"source", {"参考:", "Source: "}},
	[MSG_RELATED_LINK] = {"related_link", {"関連記事:", "Related: "}},
	[MSG_EYECATCH_CREDIT] = {"eyecatch_credit",
	    {"※アイキャッチ画像の出典:", "Header image: "}},
	[MSG_REPLY] = {"reply", {"返信", "Reply"}},
	[MSG_LIKE] = {"like", {"いいね", "Like"}},
	[MSG_LEAVE_COMMENT] = {"leave_comment",
	    {"コメントを書く", "Leave a comment"}},
	[MSG_NICKNAME] = {"nickname", {"名前", "Name"}},
	[MSG_BODY] = {"body", {"コメント本文", "Comment"}},
	[MSG_SUBMIT] = {"submit", {"コメントを送信", "Post comment"}},
	[MSG_LATEST] = {"latest", {"新着記事", "Latest articles"}},
	[MSG_CATEGORY] = {"category", {"カテゴリー", "Category"}},
	[MSG_TAG] = {"tag", {"タグ", "Tag"}},
	[MSG_PAGE_N] = {"page_n", {"ページ", "Page"}},
	[MSG_NEWER] = {"newer", {"新しい記事", "Newer"}},
	[MSG_OLDER] = {"older", {"古い記事", "Older"}},
	[MSG_NOT_FOUND] = {"not_found",
	    {"ページが見つかりません", "Page not found"}},
	[MSG_NOT_FOUND_TEXT] = {"not_found_text",
	    {"お探しのページは存在しないか、移動または削除された可能性があります。",
		"The page you asked for does not exist, or was moved or deleted."}},
	[MSG_BAD_REQUEST] = {"bad_request", {"不正なリクエストです", "Bad request"}},
	[MSG_BAD_REQUEST_TEXT] = {"bad_request_text",
	    {"リクエストの内容を確認してください。", "Please check the request."}},
	[MSG_BACK_HOME] = {"back_home", {"トップページへ戻る", "Back to the front page"}},
	[MSG_NO_COMMENTS] = {"no_comments",
	    {"まだコメントはありません。", "No comments yet."}},
	[MSG_COMMENT_COUNT] = {"comment_count", {"コメント", "comments"}},
	[MSG_READ_MORE] = {"read_more", {"続きを読む", "Read more"}},
	[MSG_HOME] = {"home", {"ホーム", "Home"}},
	[MSG_POSTED_BY] = {"posted_by", {"投稿者:", "By "}},
	[MSG_TOO_MANY] = {"too_many", {"アクセスが集中しています", "Too many requests"}},
	[MSG_TOO_MANY_TEXT] = {"too_many_text",
	    {"しばらく待ってからもう一度お試しください。",
		"Please wait a moment and try again."}},
	[MSG_UNAVAILABLE] = {"unavailable",
	    {"一時的に利用できません", "Temporarily unavailable"}},
	[MSG_UNAVAILABLE_TEXT] = {"unavailable_text",
	    {"少し時間をおいてからもう一度お試しください。",
		"Please try again in a little while."}},
	[MSG_PENDING] = {"pending",
	    {"このコメントは承認待ちです。承認されると他の読者にも表示されます。",
		"This comment is awaiting moderation; others will see it once approved."}},
	[MSG_REPLY_TO] = {"reply_to", {"返信先:", "Replying to "}},
	[MSG_CANCEL_REPLY] = {"cancel_reply", {"返信をやめる", "Cancel reply"}},
	[MSG_UNLIKE] = {"unlike", {"いいねを取り消す", "Unlike"}},
	[MSG_FIX_AND_RESEND] = {"fix_and_resend",
	    {"内容を確認して、もう一度送信してください。",
		"Please correct the comment and send it again."}},
	[MSG_BACK_TO_ARTICLE] = {"back_to_article",
	    {"記事に戻る", "Back to the article"}},
	[MSG_COMMENT_FEED] = {"comment_feed",
	    {"へのコメント", "comments on "}},
	[MSG_COMMENTS_CLOSED] = {"comments_closed",
	    {"この記事へのコメントは締め切られました。",
		"Comments on this article are closed."}},
	[MSG_RANKING_DAY] = {"ranking_day",
	    {"今日よく読まれている記事", "Most read today"}},
	[MSG_RANKING_WEEK] = {"ranking_week",
	    {"過去7日間によく読まれた記事", "Most read in the last 7 days"}},
	[MSG_RANKING_MONTH] = {"ranking_month",
	    {"過去30日間によく読まれた記事", "Most read in the last 30 days"}},
	[MSG_VIEWS] = {"views", {"閲覧数", "Views"}},
	[MSG_RANKING_MORE] = {"ranking_more",
	    {"ランキングをもっと見る", "More of the ranking"}},
	[MSG_NO_RANKING] = {"no_ranking",
	    {"まだ集計中です。", "Nothing counted yet."}},
	[MSG_ARTICLES_OF] = {"articles_of", {"の記事一覧", ": articles"}},
	[MSG_FEED] = {"feed", {"フィード", "Feed"}},
	[MSG_SEARCH] = {"search", {"検索", "Search"}},
	[MSG_SEARCH_LABEL] = {"search_label", {"サイト内検索", "Search this site"}},
	[MSG_SEARCH_PLACEHOLDER] = {"search_placeholder",
	    {"キーワードを入力", "Keywords"}},
	[MSG_SEARCH_RESULTS] = {"search_results", {"検索結果", "Search results"}},
	[MSG_SEARCH_COUNT] = {"search_count", {"件の記事が見つかりました", " articles found"}},
	[MSG_SEARCH_ENTER] = {"search_enter",
	    {"検索したい言葉を入力してください（1文字から検索できます）。",
		"Please enter a word to search for (one character is enough)."}},
	[MSG_SEARCH_NONE] = {"search_none",
	    {"該当する記事は見つかりませんでした。別の言葉でお試しください。",
		"No articles matched. Please try other words."}},
	[MSG_SEARCH_TRIMMED] = {"search_trimmed",
	    {"検索語が長すぎるため、先頭の100文字で検索しました。",
		"The search was too long; its first 100 characters were used."}},
	[MSG_SEARCH_ORDER] = {"search_order", {"並び順", "Order"}},
	[MSG_SEARCH_NEWEST] = {"search_newest", {"新しい順", "Newest first"}},
	[MSG_SEARCH_RELEVANCE] = {"search_relevance",
	    {"関連度順", "Best match first"}},
	[MSG_SEARCH_COUNT_MORE] = {"search_count_more",
	    {"件以上の記事が見つかりました", "+ articles found"}},
	[MSG_DELETED] = {"deleted", {"削除されました", "Deleted"}},
	[MSG_PREVIEW_BANNER] = {"preview_banner",
	    {"プレビュー（保存・公開されていません）",
		"Preview (not saved or published)"}},
	[MSG_BREADCRUMBS] = {"breadcrumbs", {"現在位置", "You are here"}},
	[MSG_SUBPAGES] = {"subpages", {"このページの下層ページ", "Pages under this one"}},
	[MSG_RECENT_COMMENTS] = {"recent_comments",
	    {"最近のコメント", "Recent comments"}},
	[MSG_RECENT_ON] = {"recent_on", {"より", "on"}},
	[MSG_RECENT_MORE] = {"recent_more",
	    {"コメントをもっと見る", "More comments"}},
	[MSG_CSORT] = {"csort", {"コメントの並び順", "Order of comments"}},
	[MSG_CSORT_OLD] = {"csort_old", {"古い順", "Oldest first"}},
	[MSG_CSORT_NEW] = {"csort_new", {"新しい順", "Newest first"}},
	[MSG_CSORT_LIKES] = {"csort_likes", {"いいね順", "Most liked first"}},
	[MSG_CPAGES] = {"cpages", {"コメントのページ", "Comment pages"}},
	[MSG_CPAGE_PREV] = {"cpage_prev", {"前のコメント", "Previous comments"}},
	[MSG_CPAGE_NEXT] = {"cpage_next", {"次のコメント", "Next comments"}},
};

const char *
msg_get(enum msg_lang lang, enum msg_id id)
{
	if (lang >= LANG__MAX)
		lang = LANG_JA;
	return msgs[id].s[lang] ? msgs[id].s[lang] : msgs[id].s[LANG_JA];
}

const char *
msg_key(enum msg_id id)
{
	return msgs[id].key;
}

enum msg_lang
msg_lang_of(const char *code)
{
	return code && strcmp(code, "en") == 0 ? LANG_EN : LANG_JA;
}
