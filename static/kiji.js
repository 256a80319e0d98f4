/* kiji: progressive enhancement only; every control works without this. */
(function () {
	"use strict";

	function $(sel, root) { return (root || document).querySelector(sel); }

	/* A static copy (kiji render): data-kiji-live names the live kiji
	 * its forms, likes and view counts go to; data-kiji-static marks a
	 * read-only copy (no forms, nothing sent). */
	var live = document.body.getAttribute("data-kiji-live") || "";
	var readonly = document.body.hasAttribute("data-kiji-static");

	var respond = document.getElementById("respond");
	var form = document.getElementById("comment-form");
	var home = respond && respond.parentNode;
	var homeNext = respond && respond.nextSibling;

	function say(text) {
		var p = $(".form-error", respond);
		if (!p) {
			p = document.createElement("p");
			p.className = "form-error";
			p.setAttribute("role", "alert");
			form.parentNode.insertBefore(p, form);
		}
		p.textContent = text;
		p.hidden = !text;
	}

	function replyTo(id, name) {
		var li = document.getElementById("comment-" + id);
		if (!li || !respond) return false;
		$(".comment-box", li).after(respond);
		form.elements.parent.value = id;
		var note = $(".reply-to", respond);
		if (!note) {
			note = document.createElement("p");
			note.className = "reply-to";
			form.insertBefore(note, form.firstChild);
		}
		note.textContent = "";
		note.append(document.documentElement.lang === "en" ? "Replying to " : "返信先: ");
		var b = document.createElement("strong");
		b.textContent = name;
		note.append(b, " ");
		var cancel = document.createElement("a");
		cancel.href = "#respond";
		cancel.className = "cancel-reply";
		cancel.textContent = document.documentElement.lang === "en" ? "Cancel reply" : "返信をやめる";
		cancel.addEventListener("click", function (ev) {
			ev.preventDefault();
			resetReply();
		});
		note.append(cancel);
		form.elements.body.focus();
		return true;
	}

	function resetReply() {
		if (!respond) return;
		home.insertBefore(respond, homeNext);
		form.elements.parent.value = "0";
		var note = $(".reply-to", respond);
		if (note) note.remove();
	}

	/* The comment count in the heading, kept equal to the comments shown
	 * (pending ones and placeholders are not counted, as on the server). */
	function bumpCount(d) {
		var c = $("#comments-h .count");
		if (c) c.textContent = String(Math.max(0, (Number(c.textContent) || 0) + d));
	}
	function counted(li) {
		return !li.classList.contains("pending") && !li.classList.contains("deleted");
	}

	/* Shows comment id (html: its <li>, rendered and escaped by the
	 * server) under its parent, or at the top when the parent is not
	 * shown; replies past the display depth go under the deepest ancestor
	 * with room, as the server places them. A comment already shown gets
	 * the new box and keeps its replies. Returns its <li>. */
	function showComment(id, parent, html) {
		var tmp = document.createElement("ol");
		tmp.innerHTML = html; /* rendered and escaped by the server */
		var li = tmp.firstElementChild;
		if (!li || li.id !== "comment-" + id) return null;
		var old = document.getElementById("comment-" + id);
		if (old) {
			var box = $(":scope > .comment-box", old), nbox = $(":scope > .comment-box", li);
			var was = counted(old);
			if (box && nbox) old.replaceChild(nbox, box);
			old.className = li.className;
			if (counted(old) !== was) bumpCount(counted(old) ? 1 : -1);
			return old;
		}
		var section = $("section#comments");
		var max = Number(section && section.dataset.depth) || 5;
		var p = parent ? document.getElementById("comment-" + parent) : null;
		if (p && !p.classList.contains("comment")) p = null;
		while (p && Number(p.dataset.depth || 1) >= max) {
			var up = p.parentNode && p.parentNode.closest ? p.parentNode.closest("li.comment") : null;
			if (!up) break;
			p = up;
		}
		var list;
		if (p && Number(p.dataset.depth || 1) < max) {
			list = $(":scope > ol.children", p);
			if (!list) {
				list = document.createElement("ol");
				list.className = "children";
				p.appendChild(list);
			}
			li.dataset.depth = String(Number(p.dataset.depth || 1) + 1);
		} else {
			list = $("ol.comment-list");
			li.dataset.depth = "1";
		}
		if (!list) return null;
		list.appendChild(li);
		var none = $(".no-comments");
		if (none) none.remove();
		if (counted(li)) bumpCount(1);
		return li;
	}

	/* Takes a comment away; one with replies shown stays as the server
	 * shows it then: a "deleted" placeholder holding them. */
	function removeComment(id) {
		var li = document.getElementById("comment-" + id);
		if (!li) return;
		if (!li.classList.contains("comment")) {
			if (li.classList.contains("trackback")) li.remove();
			return;
		}
		if (respond && li.contains(respond)) resetReply();
		var was = counted(li);
		if ($(":scope > ol.children > li", li)) {
			var box = $(":scope > .comment-box", li);
			if (box) {
				var note = document.createElement("p");
				note.className = "comment-deleted";
				var section = $("section#comments");
				note.textContent = (section && section.dataset.deleted) || "";
				box.textContent = "";
				box.appendChild(note);
			}
			li.classList.add("deleted");
			li.classList.remove("pending");
		} else {
			li.remove();
		}
		if (was) bumpCount(-1);
	}

	document.addEventListener("click", function (ev) {
		var a = ev.target.closest && ev.target.closest("a.reply-link");
		if (!a) return;
		/* the comment's id is its element's: id="comment-N" */
		var li = a.closest("li.comment");
		if (!li) return;
		if (replyTo(li.id.slice(8), $(".comment-author", li).textContent))
			ev.preventDefault();
	});

	if (form) {
		/* The server enforces a minimum fill time from this stamp. */
		form.addEventListener("focusin", function () {
			if (!form.elements.opened.value)
				form.elements.opened.value = String(Math.floor(Date.now() / 1000));
		});
		form.addEventListener("submit", function (ev) {
			/* on a static copy the form posts to the live kiji,
			 * which answers with its own page (303) */
			if (!window.fetch || !window.JSON || live) return;
			ev.preventDefault();
			var id = form.action.match(/\/articles\/(\d+)\/comments/)[1];
			var e = form.elements;
			var parent = e.parent.value;
			var button = $("button[type=submit]", form);
			button.disabled = true;
			var post = {
				nickname: e.nickname.value, body: e.body.value,
				parent: Number(parent) || 0, token: e.token.value,
				url: e.url.value, opened: e.opened.value
			};
			/* reply notifications, when the site sends mail */
			if (e.email) {
				post.email = e.email.value;
				post.notify = !!(e.notify && e.notify.checked);
			}
			fetch("/api/articles/" + id + "/comments", {
				method: "POST",
				credentials: "same-origin",
				headers: { "Content-Type": "application/json", "Accept": "application/json" },
				body: JSON.stringify(post)
			}).then(function (res) {
				return res.json().then(function (j) { return { ok: res.ok, j: j }; });
			}).then(function (r) {
				button.disabled = false;
				if (!r.ok) {
					say(r.j.error ? r.j.error.message : "error");
					return;
				}
				say("");
				var li = showComment(r.j.id, r.j.parent, r.j.html);
				e.body.value = "";
				e.opened.value = "";
				resetReply();
				if (li) li.scrollIntoView({ block: "center" });
			}).catch(function () {
				button.disabled = false;
				form.submit(); /* the server answers the plain form too */
			});
		});
	}

	/* Likes: toggle in place; the count comes from the server. */
	document.addEventListener("submit", function (ev) {
		var f = ev.target;
		if (!f.classList || !f.classList.contains("like-form") || !window.fetch) return;
		ev.preventDefault();
		var button = $("button", f);
		button.disabled = true;
		fetch(f.action, {
			method: "POST",
			/* a static copy's likes count once per address there */
			credentials: live ? "omit" : "same-origin",
			headers: { "Accept": "application/json" }
		}).then(function (res) {
			if (!res.ok) throw new Error(String(res.status));
			return res.json();
		}).then(function (j) {
			button.disabled = false;
			$(".like-count", f).textContent = String(j.count);
			f.action = live + "/comments/" + j.id + (j.liked ? "/unlike" : "/like");
			button.setAttribute("aria-pressed", j.liked ? "true" : "false");
		}).catch(function () {
			button.disabled = false;
		});
	});

	/* Live comments (comments.live): the page says where its stream is
	 * and the change number it was rendered at (data-seq), so a page from
	 * a cache misses nothing; the browser resumes with Last-Event-ID. A
	 * "reset" (the server cannot say what was missed) reloads the comment
	 * list from the page. Without JavaScript the page is as it was. */
	var liveAt = $("section#comments[data-live]");
	if (liveAt && window.EventSource && window.JSON) {
		var es = null, since = liveAt.dataset.seq || "", tries = 0;
		var onComment = function (ev) {
			var j;
			try { j = JSON.parse(ev.data); } catch (err) { return; }
			if (typeof j.id === "number" && typeof j.html === "string")
				showComment(j.id, j.parent, j.html);
			if (ev.lastEventId) since = ev.lastEventId;
		};
		var onRemove = function (ev) {
			var j;
			try { j = JSON.parse(ev.data); } catch (err) { return; }
			if (typeof j.id === "number") removeComment(j.id);
			if (ev.lastEventId) since = ev.lastEventId;
		};
		var connect = function () {
			es = new EventSource(liveAt.dataset.live + (since ? "?since=" + encodeURIComponent(since) : ""));
			es.addEventListener("comment", onComment);
			es.addEventListener("remove", onRemove);
			es.addEventListener("reset", reload);
			es.addEventListener("open", function () { tries = 0; });
			es.addEventListener("error", function () {
				/* The browser retries by itself unless the server said
				 * no (429, 404): then again later, ever more slowly. */
				if (es.readyState !== EventSource.CLOSED || tries >= 8) return;
				tries++;
				setTimeout(connect, Math.min(300, 15 * Math.pow(2, tries)) * 1000);
			});
		};
		var reload = function () {
			if (!window.fetch || !window.DOMParser) return;
			if (es) es.close();
			fetch(location.pathname, { credentials: "same-origin" }).then(function (res) {
				if (!res.ok) throw new Error(String(res.status));
				return res.text();
			}).then(function (text) {
				var doc = new DOMParser().parseFromString(text, "text/html");
				var sec = doc.querySelector("section#comments[data-live]");
				var nlist = sec && sec.querySelector("ol.comment-list");
				var list = $("ol.comment-list", liveAt);
				if (nlist && list) {
					resetReply();
					list.replaceWith(document.importNode(nlist, true));
					var c = $("#comments-h .count"), nc = doc.querySelector("#comments-h .count");
					if (c && nc) c.textContent = nc.textContent;
					since = sec.dataset.seq || "";
				}
				connect();
			}).catch(function () { setTimeout(connect, 30000); });
		};
		connect();
	}

	/* Popular ranking: one beacon per article view, never cached, so
	 * views count when the page itself came from a cache. The server
	 * dedupes per visitor and day and skips bots; <noscript> has an image
	 * doing the same. A prerendered page counts once it is shown. */
	var entry = $("article.entry[data-id]");
	if (entry && navigator.sendBeacon && !readonly) {
		var sendView = function () { navigator.sendBeacon(live + "/views/" + entry.dataset.id); };
		if (document.prerendering)
			document.addEventListener("prerenderingchange", sendView, { once: true });
		else
			sendView();
	}

	/* content.embeds=youtube (data-embeds on the article): an imported
	 * embed link (p.embed, stored as a plain link) to a YouTube video
	 * becomes a youtube-nocookie player in a sandboxed frame, built with
	 * DOM methods; every other link stays a link. The CSP's frame-src
	 * lets in that one origin only while the setting is on. */
	var YT_ID = /^[A-Za-z0-9_-]{11}$/;
	function youtubeId(href) {
		var u, id = null;
		try { u = new URL(href); } catch (err) { return null; }
		if ((u.protocol !== "https:" && u.protocol !== "http:") || u.port ||
		    u.username || u.password)
			return null;
		if (u.hostname === "youtu.be") {
			id = u.pathname.slice(1);
		} else if (u.hostname === "youtube.com" || u.hostname === "www.youtube.com" ||
		    u.hostname === "m.youtube.com") {
			if (u.pathname === "/watch" && u.searchParams.getAll("v").length === 1)
				id = u.searchParams.get("v");
			else if (u.pathname.indexOf("/embed/") === 0)
				id = u.pathname.slice(7);
		}
		return id && YT_ID.test(id) ? id : null;
	}
	var embedsIn = $("article.entry[data-embeds=youtube]");
	if (embedsIn && window.URL) {
		var links = embedsIn.querySelectorAll("p.embed > a[href]");
		for (var i = 0; i < links.length; i++) {
			var id = youtubeId(links[i].getAttribute("href"));
			if (!id) continue;
			var f = document.createElement("iframe");
			f.setAttribute("sandbox", "allow-scripts allow-same-origin allow-presentation allow-popups");
			f.setAttribute("src", "https://www.youtube-nocookie.com/embed/" + id);
			f.setAttribute("title", "YouTube");
			f.setAttribute("loading", "lazy");
			f.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
			f.setAttribute("allow", "encrypted-media; picture-in-picture; fullscreen");
			f.setAttribute("width", "560");
			f.setAttribute("height", "315");
			links[i].parentNode.replaceChild(f, links[i]);
		}
	}
})();
